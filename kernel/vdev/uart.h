/*
 * uart.h - the guest's COM1: a 16550A UART as a pure register model
 * (National PC16550D datasheet). Transmission is instant (a THR write hands
 * the byte back to print); received bytes come from uart_rx_push. The IRQ 4
 * line is queried with uart_irq_level.
 */
#ifndef KEEL_VDEV_UART_H
#define KEEL_VDEV_UART_H

#include <stdbool.h>
#include <stdint.h>

#define UART_FIFO_SIZE 16

/* All-zero is the reset state (uart_init does no more than that). */
struct uart16550 {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t fcr;	      /* FIFO enable, DMA mode and RX trigger as written */
	uint8_t lsr_errors;   /* OE until the LSR is read */
	uint8_t msr_delta;    /* DCTS, DDSR, TERI, DDCD until the MSR is read */
	bool thre_pending;    /* THRE interrupt: set when THR empties, cleared by
				 an IIR read that reports it or a THR write */
	uint8_t rx[UART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
};

void uart_init(struct uart16550 *u);
/* Register reg (0-7) at COM1 + reg. Returns the byte to print for a THR
 * write outside loopback mode, else -1. */
int uart_io(struct uart16550 *u, uint16_t reg, bool in, uint8_t *val);
/* Bytes arriving on the line: as many as the receive FIFO has room for (16
 * with FIFOs enabled, else 1) are taken; returns how many. The rest stays
 * with the caller, as behind hardware flow control: nothing is lost, so no
 * overrun (OE comes from a loopback transmit into a full FIFO). */
unsigned uart_rx_push(struct uart16550 *u, const uint8_t *buf, unsigned len);
unsigned uart_rx_space(const struct uart16550 *u);
/* IRQ 4: an interrupt is pending and MCR.OUT2 enables the PC's IRQ driver
 * (the OUT2 pin is held inactive in loopback mode, so the line is low then). */
bool uart_irq_level(const struct uart16550 *u);

#endif
