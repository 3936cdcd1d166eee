/*
 * uart.c - a 16550-compatible UART at COM1 for guests: what the guest writes
 * to THR becomes its console (vm_console_putc). No interrupts yet (the Linux
 * issue adds them with the PIC/IOAPIC); the line status always says the
 * transmitter is empty, so polled output never waits. Register map: PC16550D.
 */
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/vdev/vdev.h"

#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

/* Returns the byte to print for a THR write, else -1. */
__hot int uart_io(struct uart16550 *u, uint16_t reg, bool in, uint8_t *val)
{
	bool dlab = u->lcr & 0x80;

	switch (reg) {
	case 0: /* RBR / THR / DLL */
		if (dlab) {
			if (in)
				*val = u->dll;
			else
				u->dll = *val;
			return -1;
		}
		if (in) {
			*val = 0; /* no input yet */
			return -1;
		}
		return *val;
	case 1: /* IER / DLM */
		if (dlab) {
			if (in)
				*val = u->dlm;
			else
				u->dlm = *val;
		} else {
			if (in)
				*val = u->ier;
			else
				u->ier = *val & 0x0F;
		}
		return -1;
	case 2: /* IIR (read) / FCR (write) */
		if (in)
			*val = 0xC1; /* FIFOs enabled, no interrupt pending */
		return -1;
	case 3:
		if (in)
			*val = u->lcr;
		else
			u->lcr = *val;
		return -1;
	case 4:
		if (in)
			*val = u->mcr;
		else
			u->mcr = *val & 0x1F;
		return -1;
	case 5: /* LSR */
		if (in)
			*val = UART_LSR_THRE | UART_LSR_TEMT;
		return -1;
	case 6: /* MSR: CTS, DSR, DCD when the guest loops them back */
		if (in)
			*val = 0xB0;
		return -1;
	case 7:
		if (in)
			*val = u->scr;
		else
			u->scr = *val;
		return -1;
	}
	return -1;
}
