/* The loader's few library functions and port I/O. */
#ifndef LOADER_LIB_H
#define LOADER_LIB_H

#include <stddef.h>
#include <stdint.h>

/* The compiler may call these even where the code does not. */
void	*memcpy(void *dst, const void *src, size_t n);
void	*memmove(void *dst, const void *src, size_t n);
void	*memset(void *dst, int c, size_t n);
size_t	strlen(const char *s);
int	strncmp(const char *a, const char *b, size_t n);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#endif
