/* serial.h - the 16550 UART driver: Keel's serial console (and, through IPMI
 * Serial-over-LAN, usually a server's remote console). */
#ifndef KEEL_SERIAL_H
#define KEEL_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

/* Program the UART at 'port' for baud 8N1 and register it as a console.
 * Returns 0, or KEEL_ENOENT when no UART answers at that port. */
int serial_init(uint16_t port, uint32_t baud);
/* One received byte, or -1 when none is waiting (polled; no interrupts yet). */
int serial_getc(void);
#endif
