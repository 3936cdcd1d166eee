/*
 * uart.c - a 16550A UART (National PC16550D datasheet) as a pure register
 * model: 16-byte receive FIFO, the five interrupt sources in the
 * datasheet's priority order, loopback, modem status as a connected
 * terminal. What the guest writes to THR leaves at once (THRE never drops).
 */
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/vdev/uart.h"

#define UART_IER_ERBFI 0x01 /* received data available */
#define UART_IER_ETBEI 0x02 /* THR empty */
#define UART_IER_ELSI 0x04  /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */
#define UART_IIR_NONE 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_CTI 0x0C   /* character timeout (FIFO mode) */
#define UART_IIR_FIFO 0xC0  /* FIFOs enabled */
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_STORED 0xC9 /* trigger 7:6, DMA mode 3, enable 0 */
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

static bool uart_fifo_on(const struct uart16550 *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static unsigned uart_rx_capacity(const struct uart16550 *u)
{
	return uart_fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* FCR bits 7:6: the receive FIFO's interrupt trigger level. */
static unsigned uart_rx_trigger(const struct uart16550 *u)
{
	static const uint8_t level[4] = {1, 4, 8, 14};

	return level[u->fcr >> 6];
}

/* The modem inputs: a terminal that is there (CTS, DSR, DCD); in loopback
 * DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (PC16550D, MCR bit 4). */
static uint8_t uart_msr_lines(const struct uart16550 *u)
{
	uint8_t m = u->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	return (uint8_t)((m & UART_MCR_DTR ? UART_MSR_DSR : 0) |
			 (m & UART_MCR_RTS ? UART_MSR_CTS : 0) |
			 (m & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
			 (m & UART_MCR_OUT2 ? UART_MSR_DCD : 0));
}

static void uart_rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* Interrupt identification in the datasheet's priority order (table IV).
 * The character timeout fires as soon as data sits below the trigger level:
 * nothing more arrives while the guest looks, so the 4-character wait of
 * the real chip would end with the same interrupt. */
static uint8_t uart_iir_id(const struct uart16550 *u)
{
	if ((u->ier & UART_IER_ELSI) && (u->lsr_errors & UART_LSR_OE))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_ERBFI) && u->rx_count) {
		if (!uart_fifo_on(u) || u->rx_count >= uart_rx_trigger(u))
			return UART_IIR_RDI;
		return UART_IIR_CTI;
	}
	if ((u->ier & UART_IER_ETBEI) && u->thre_pending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && u->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NONE;
}

void uart_init(struct uart16550 *u)
{
	memset(u, 0, sizeof(*u));
}

unsigned uart_rx_space(const struct uart16550 *u)
{
	return uart_rx_capacity(u) - u->rx_count;
}

unsigned uart_rx_push(struct uart16550 *u, const uint8_t *buf, unsigned len)
{
	unsigned n = 0;

	while (n < len && u->rx_count < uart_rx_capacity(u)) {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = buf[n++];
		u->rx_count++;
	}
	return n;
}

bool uart_irq_level(const struct uart16550 *u)
{
	return uart_iir_id(u) != UART_IIR_NONE && (u->mcr & UART_MCR_OUT2) &&
	       !(u->mcr & UART_MCR_LOOP);
}

static uint8_t uart_rx_pop(struct uart16550 *u)
{
	uint8_t b;

	if (!u->rx_count)
		return 0; /* nothing received */
	b = u->rx[u->rx_head];
	u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO_SIZE);
	u->rx_count--;
	return b;
}

/* The guest transmits: out on the line (returned), or in loopback into the
 * receiver, where a full FIFO loses the byte with an overrun. Either way
 * THR is empty again at once and raises THRE. */
static int uart_transmit(struct uart16550 *u, uint8_t b)
{
	int out = b;

	if (u->mcr & UART_MCR_LOOP) {
		if (!uart_rx_push(u, &b, 1))
			u->lsr_errors |= UART_LSR_OE;
		out = -1;
	}
	u->thre_pending = true;
	return out;
}

static void uart_write_mcr(struct uart16550 *u, uint8_t v)
{
	uint8_t before = uart_msr_lines(u), after, changed;

	u->mcr = v & 0x1F;
	after = uart_msr_lines(u);
	changed = before ^ after;
	if (changed & UART_MSR_CTS)
		u->msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr_delta |= UART_MSR_DDSR;
	if ((before & UART_MSR_RI) && !(after & UART_MSR_RI))
		u->msr_delta |= UART_MSR_TERI; /* trailing edge only */
	if (changed & UART_MSR_DCD)
		u->msr_delta |= UART_MSR_DDCD;
}

static void uart_write_fcr(struct uart16550 *u, uint8_t v)
{
	/* Changing FCR0 clears both FIFOs; the other bits need FCR0 set. */
	if ((v ^ u->fcr) & UART_FCR_ENABLE)
		uart_rx_clear(u);
	if (!(v & UART_FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	if (v & UART_FCR_CLEAR_RX)
		uart_rx_clear(u);
	/* FCR2 clears the transmit FIFO: it is always empty here. */
	u->fcr = v & UART_FCR_STORED;
}

__hot int uart_io(struct uart16550 *u, uint16_t reg, bool in, uint8_t *val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

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
			*val = uart_rx_pop(u);
			return -1;
		}
		return uart_transmit(u, *val);
	case 1: /* IER / DLM */
		if (dlab) {
			if (in)
				*val = u->dlm;
			else
				u->dlm = *val;
			return -1;
		}
		if (in) {
			*val = u->ier;
			return -1;
		}
		/* ETBEI going 0->1 with THR empty raises THRE at once: Linux's
		 * 8250 driver tests for this at startup (UART_BUG_THRE). */
		if (!(u->ier & UART_IER_ETBEI) && (*val & UART_IER_ETBEI))
			u->thre_pending = true;
		u->ier = *val & 0x0F;
		return -1;
	case 2: /* IIR (read) / FCR (write) */
		if (!in) {
			uart_write_fcr(u, *val);
			return -1;
		}
		v = uart_iir_id(u);
		if (v == UART_IIR_THRI)
			u->thre_pending = false; /* reading IIR clears THRE */
		*val = v | (uart_fifo_on(u) ? UART_IIR_FIFO : 0);
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
			uart_write_mcr(u, *val);
		return -1;
	case 5: /* LSR: reading clears the error bits */
		if (in) {
			*val = (uint8_t)((u->rx_count ? UART_LSR_DR : 0) |
					 u->lsr_errors | UART_LSR_THRE |
					 UART_LSR_TEMT);
			u->lsr_errors = 0;
		}
		return -1;
	case 6: /* MSR: reading clears the delta bits */
		if (in) {
			*val = uart_msr_lines(u) | u->msr_delta;
			u->msr_delta = 0;
		}
		return -1;
	case 7:
		if (in)
			*val = u->scr;
		else
			u->scr = *val;
		return -1;
	}
	if (in)
		*val = 0xFF;
	return -1;
}
