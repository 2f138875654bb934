/*
 * memcpy and friends with the string instructions.  QEMU's TCG runs a
 * "rep" string instruction one iteration at a time, so moving four bytes
 * per iteration instead of one makes the loader's copies (several MiB:
 * the image, its symbols, its zeroed .bss) four times faster there.
 */
#include "lib.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t words = n / 4, bytes = n % 4;

	__asm__ volatile("rep movsl"
			 : "+D"(d), "+S"(src), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb"
			 : "+D"(d), "+S"(src), "+c"(bytes) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	const char *s = src;
	char *d = dst;
	size_t words = n / 4, bytes = n % 4;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlapping with dst above src: copy backwards, the odd bytes at
	 * the end first, then the words from the last one down. */
	s += n - 1;
	d += n - 1;
	__asm__ volatile("std; rep movsb; cld"
			 : "+D"(d), "+S"(s), "+c"(bytes) : : "memory");
	s -= 3;
	d -= 3;
	__asm__ volatile("std; rep movsl; cld"
			 : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	uint32_t v = (uint8_t)c * 0x01010101u;
	size_t words = n / 4, bytes = n % 4;

	__asm__ volatile("rep stosl"
			 : "+D"(d), "+c"(words) : "a"(v) : "memory");
	__asm__ volatile("rep stosb"
			 : "+D"(d), "+c"(bytes) : "a"(v) : "memory");
	return dst;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; a++, b++, n--)
		if (*a != *b || *a == '\0')
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}
