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
#define UART_FIFO	16	/* bytes the 16550's transmit FIFO holds */

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

/* Wait (bounded) until the transmitter is empty. */
static void
wait_thre(void)
{
	for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		pause();
}

/*
 * Each port access is an exit to the hypervisor, and the status read
 * costs as much as the write: once THRE says the transmitter is empty,
 * its FIFO (enabled in console_init) takes 16 bytes without another look.
 * A newline goes out as CR LF.
 */
void
console_write(const char *buf, size_t len)
{
	size_t i = 0;
	int cr_done = 0;

	while (i < len) {
		wait_thre();
		for (int room = UART_FIFO; room > 0 && i < len; room--) {
			if (buf[i] == '\n' && !cr_done) {
				outb(COM1 + UART_DATA, '\r');
				cr_done = 1;
				continue;
			}
			outb(COM1 + UART_DATA, (uint8_t)buf[i++]);
			cr_done = 0;
		}
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
