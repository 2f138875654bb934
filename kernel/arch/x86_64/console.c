/*
 * The serial console: COM1, a 16550 UART at I/O port 0x3f8, polled.
 * Every waiting loop is bounded, so a machine without the UART still boots.
 */
#include <kernel/console.h>

#include "cpu.h"

#define COM1		0x3f8
#define UART_DATA	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define LSR_DR		0x01	/* data ready */
#define LSR_THRE	0x20	/* transmit holding register empty */

void
console_init(void)
{
	outb(COM1 + UART_IER, 0x00);	/* no interrupts: we poll */
	outb(COM1 + UART_LCR, 0x80);	/* DLAB on: set the divisor */
	outb(COM1 + UART_DATA, 0x01);	/* 115200 baud */
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x03);	/* 8N1, DLAB off */
	outb(COM1 + UART_FCR, 0xc7);	/* FIFOs on and cleared, 14-byte threshold */
	outb(COM1 + UART_MCR, 0x03);	/* DTR, RTS */
}

static void
putc_raw(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		pause();
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void
console_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			putc_raw('\r');
		putc_raw(buf[i]);
	}
}

size_t
console_read(char *buf, size_t len)
{
	size_t n = 0;

	while (n < len && (inb(COM1 + UART_LSR) & LSR_DR))
		buf[n++] = (char)inb(COM1 + UART_DATA);
	return n;
}
