/*
 * serial.c - 16550 UART console. Polled output with a bounded wait per byte
 * (a missing or stuck UART must not hang the kernel), polled input for the
 * console shell. Register layout: PC16550D data sheet.
 */
#include "drivers/serial.h"
#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "kernel/log.h"

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_RBR 0 /* receive buffer (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LSR_DR 0x01   /* data ready */
#define LSR_THRE 0x20 /* transmit holding register empty */

static uint16_t serial_port;

static void serial_putc(char c)
{
	/* 115200 baud sends a byte in ~87 us; give up after ~10 ms. */
	for (unsigned i = 0; i < 100000; i++)
		if (inb(serial_port + UART_LSR) & LSR_THRE)
			break;
	outb(serial_port + UART_THR, (uint8_t)c);
}

static void serial_write(struct console *con, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

static struct console serial_console = {
	.name = "serial",
	.write = serial_write,
};

int serial_init(uint16_t port, uint32_t baud)
{
	/* The scratch register holds what we write on a real 16550; an absent
	 * port floats (reads 0xFF). */
	outb(port + UART_SCR, 0x5A);
	if (inb(port + UART_SCR) != 0x5A)
		return KEEL_ENOENT;
	outb(port + UART_SCR, 0xA5);
	if (inb(port + UART_SCR) != 0xA5)
		return KEEL_ENOENT;

	uint16_t divisor = (uint16_t)(115200 / (baud ? baud : 115200));
	if (!divisor)
		divisor = 1;
	outb(port + UART_IER, 0x00);		 /* no interrupts: polled */
	outb(port + UART_LCR, 0x80);		 /* DLAB */
	outb(port + UART_DLL, divisor & 0xFF);
	outb(port + UART_DLM, divisor >> 8);
	outb(port + UART_LCR, 0x03);		 /* 8N1 */
	outb(port + UART_FCR, 0xC7);		 /* FIFOs on, cleared, 14-byte */
	outb(port + UART_MCR, 0x03);		 /* DTR, RTS */
	serial_port = port;
	console_register(&serial_console);
	return 0;
}

int serial_getc(void)
{
	if (!serial_port || !(inb(serial_port + UART_LSR) & LSR_DR))
		return -1;
	return inb(serial_port + UART_RBR);
}
