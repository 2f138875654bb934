/* The serial console: a 16550 UART on COM1 (I/O port 0x3f8). */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>

void	console_init(void);
/* Write len bytes; "\n" goes out as "\r\n".  Safe in exception handlers. */
void	console_write(const char *buf, size_t len);
/* Read up to len bytes that have arrived; never blocks.  Returns the count. */
size_t	console_read(char *buf, size_t len);

#endif
