/* Output on COM1, a 16550 UART: used only to report a fatal error. */
#ifndef LOADER_SERIAL_H
#define LOADER_SERIAL_H

void	serial_init(void);
void	serial_puts(const char *s);

#endif
