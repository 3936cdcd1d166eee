/*
 * lib.c - the test guests' runtime: a printf subset, the COM1 console (one
 * lock so lines of several vCPUs do not interleave), the check protocol of
 * README.md, the payload's GDT/IDT and trap dispatch, and the end of the VM.
 */
#include "tests/guests/guest.h"

/* Stacks for every vCPU (start64.S picks one by the CPUID index). */
uint8_t guest_stacks[GUEST_MAX_CPUS << GUEST_STACK_SHIFT]
	__attribute__((aligned(16)));

unsigned guest_cpu_index(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[1] >> 24;
}

/* ------------------------------------------------------------ memory -- */

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* ------------------------------------------------------------ format -- */

struct fmt_out {
	char *buf;
	size_t size, len;
};

static void fmt_put(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_num(struct fmt_out *o, uint64_t v, unsigned base, bool neg,
		    unsigned width, char pad, bool left, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	unsigned n = 0, len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + neg;
	if (neg && pad == '0')
		fmt_put(o, '-');
	while (!left && width > len) {
		fmt_put(o, pad);
		width--;
	}
	if (neg && pad != '0')
		fmt_put(o, '-');
	while (n)
		fmt_put(o, tmp[--n]);
	while (left && width > len) {
		fmt_put(o, ' ');
		width--;
	}
}

/* %[-0][width][l|ll|z](d|i|u|x|X|p|s|c) and %%. */
int gfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size };

	for (; *fmt; fmt++) {
		bool left = false, is_long = false, alt = false;
		unsigned width = 0;
		char pad = ' ';

		if (*fmt != '%') {
			fmt_put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);

			fmt_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0,
				width, pad, left, false);
			break;
		}
		case 'u':
			fmt_num(&o, is_long ? va_arg(ap, uint64_t) :
				va_arg(ap, unsigned), 10, false, width, pad,
				left, false);
			break;
		case 'x':
		case 'X':
		case 'p': {
			uint64_t v = *fmt == 'p' ? (uint64_t)va_arg(ap, void *) :
				     is_long ? va_arg(ap, uint64_t) :
				     va_arg(ap, unsigned);

			if (alt || *fmt == 'p') {
				fmt_put(&o, '0');
				fmt_put(&o, 'x');
			}
			fmt_num(&o, v, 16, false, width, pad, left, *fmt == 'X');
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t n;

			if (!s)
				s = "(null)";
			n = strlen(s);
			while (!left && width > n) {
				fmt_put(&o, ' ');
				width--;
			}
			while (*s)
				fmt_put(&o, *s++);
			while (left && width > n) {
				fmt_put(&o, ' ');
				width--;
			}
			break;
		}
		case 'c':
			fmt_put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			fmt_put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			fmt_put(&o, '%');
			fmt_put(&o, *fmt);
		}
	}
	if (o.size)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return (int)o.len;
}

int gsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = gfmt(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ----------------------------------------------------------- console -- */

/* 0 when free, else the owner's index + 1: a trap while this vCPU holds
 * it must still be able to print. */
static volatile uint32_t console_owner;

static void serial_putc(char c)
{
	/* LSR bit 5, THR empty (PC16550D): always set under Keel; bounded so
	 * that a missing UART cannot hang the guest. */
	for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

static bool console_lock(void)
{
	uint32_t me = guest_cpu_index() + 1, free = 0;

	if (console_owner == me)
		return false;
	while (!__atomic_compare_exchange_n(&console_owner, &free, me, false,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		free = 0;
		cpu_relax();
	}
	return true;
}

static void console_unlock(bool taken)
{
	if (taken)
		__atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
}

void gprintln(const char *fmt, ...)
{
	char line[160];
	va_list ap;
	bool taken;

	va_start(ap, fmt);
	gfmt(line, sizeof(line), fmt, ap);
	va_end(ap);
	taken = console_lock();
	for (const char *p = line; *p; p++)
		serial_putc(*p);
	serial_putc('\n');
	console_unlock(taken);
}

/* ------------------------------------------------------------ checks -- */

#define CHECK_DETAIL_LINES 8

void check_begin(struct check *c, const char *name)
{
	c->name = name;
	c->fails = 0;
	c->why[0] = '\0';
}

void check_fail(struct check *c, const char *fmt, ...)
{
	char why[sizeof(c->why)];
	va_list ap;

	va_start(ap, fmt);
	gfmt(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!c->fails)
		memcpy(c->why, why, sizeof(why));
	if (c->fails < CHECK_DETAIL_LINES)
		gprintln("  %s: %s", c->name, why);
	c->fails++;
}

bool expect_eq(struct check *c, const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return true;
	check_fail(c, "%s: got %#lx, want %#lx", what, got, want);
	return false;
}

bool expect_true(struct check *c, const char *what, bool ok)
{
	if (!ok)
		check_fail(c, "expected %s", what);
	return ok;
}

unsigned check_end(struct check *c)
{
	if (!c->fails) {
		gprintln("check %s: pass", c->name);
		outl(TESTDEV_RESULT, 0);
		return 0;
	}
	if (c->fails > 1)
		gprintln("check %s: FAIL %s (+%u more)", c->name, c->why,
			 c->fails - 1);
	else
		gprintln("check %s: FAIL %s", c->name, c->why);
	outl(TESTDEV_RESULT, 1);
	return 1;
}

void check_skip(const char *name, const char *why)
{
	gprintln("check %s: skip (%s)", name, why);
}

void guest_exit(unsigned status)
{
	outb(TESTDEV_END, status > 255 ? 255 : (uint8_t)status);
	/* Only reached when the test device is missing (bare QEMU). */
	gprintln("guest: end status %u (no test device stopped this VM)", status);
	for (;;)
		asm volatile("cli; hlt");
}

/* ------------------------------------------------------------- traps -- */

struct gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
};

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint64_t base;
};

extern const uint8_t isr_stubs[];

static uint64_t gdt[3] = {
	0,
	0x00AF9B000000FFFFULL, /* 0x08: 64-bit code */
	0x00CF93000000FFFFULL, /* 0x10: flat data */
};
static struct gate idt[256] __attribute__((aligned(16)));
static void (*trap_handlers[256])(struct trap_frame *f);
static volatile bool idt_ready;

void guest_cpu_init(void)
{
	struct dtr gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	struct dtr idtr = { sizeof(idt) - 1, (uint64_t)idt };

	if (!guest_cpu_index()) {
		for (unsigned v = 0; v < 256; v++) {
			uint64_t a = (uint64_t)isr_stubs + 16 * v;

			idt[v] = (struct gate){
				.off_lo = (uint16_t)a, .sel = SEL_CODE64,
				.type = 0x8E, /* present, DPL 0, interrupt gate */
				.off_mid = (uint16_t)(a >> 16),
				.off_hi = (uint32_t)(a >> 32),
			};
		}
		idt_ready = true;
	}
	while (!idt_ready)
		cpu_relax();
	asm volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "movl %2, %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%eax, %%es\n\t"
		     "movl %%eax, %%ss\n\t"
		     "lidt %3"
		     : : "m"(gdtr), "i"(SEL_CODE64), "i"(SEL_DATA), "m"(idtr)
		     : "rax", "memory");
}

void trap_set(unsigned vector, void (*fn)(struct trap_frame *f))
{
	trap_handlers[vector & 255] = fn;
}

void guest_trap(struct trap_frame *f)
{
	void (*fn)(struct trap_frame *f) = trap_handlers[f->vector & 255];

	if (fn) {
		fn(f);
		return;
	}
	gprintln("guest: unexpected vector %lu error %#lx at rip %#lx on vCPU %u",
		 f->vector, f->error, f->rip, guest_cpu_index());
	guest_exit(254);
}

/* ------------------------------------------------------------- timer -- */

void timer_arm_us(uint32_t us)
{
	outl(TESTDEV_TIMER, us);
}

void timer_set_vector(uint8_t vector)
{
	outb(TESTDEV_VECTOR, vector);
}

/* Images without SMP work keep their other vCPUs out of the way (spinning,
 * not halted: see guest_ap_main in checks.c). */
__attribute__((weak)) void guest_ap_main(unsigned index, void *start_info)
{
	for (;;)
		cpu_relax();
}
