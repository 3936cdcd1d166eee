/*
 * printf.c - vsnprintf for the kernel: %d %i %u %x %X %o %p %s %c %%, the flags
 * '-' '0' '+' ' ' '#', width and precision (also '*'), and the length
 * modifiers hh h l ll z j t. No floating point (the kernel has none).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *buf;
	size_t cap; /* bytes we may write, NUL included */
	size_t len; /* bytes the full output needs */
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16 };

static void out_number(struct out *o, uint64_t v, bool neg, unsigned base,
		       bool upper, int flags, int width, int prec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	if (base < 2 || base > 16)
		base = 10;

	if (v == 0 && prec != 0)
		tmp[n++] = '0';
	for (uint64_t rest = v; rest != 0; rest /= base)
		tmp[n++] = digits[rest % base];
	char sign = neg ? '-' : (flags & F_PLUS) ? '+' : (flags & F_SPACE) ? ' ' : 0;
	const char *prefix = "";
	if ((flags & F_ALT) && base == 16)
		prefix = upper ? "0X" : "0x";
	else if ((flags & F_ALT) && base == 8 && (n == 0 || tmp[n - 1] != '0'))
		prefix = "0";
	int zeros = prec > n ? prec - n : 0;
	int body = n + zeros + (sign ? 1 : 0) + (int)strlen(prefix);
	if ((flags & F_ZERO) && !(flags & F_LEFT) && prec < 0 && width > body) {
		zeros += width - body;
		body = width;
	}
	if (!(flags & F_LEFT))
		out_pad(o, ' ', width - body);
	if (sign)
		out_char(o, sign);
	for (const char *p = prefix; *p; p++)
		out_char(o, *p);
	out_pad(o, '0', zeros);
	while (n)
		out_char(o, tmp[--n]);
	if (flags & F_LEFT)
		out_pad(o, ' ', width - body);
}

int vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt,
	      va_list ap)
{
	struct out o = {buf, cap, 0};

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		int flags = 0;
		for (;; fmt++) {
			if (*fmt == '-')
				flags |= F_LEFT;
			else if (*fmt == '0')
				flags |= F_ZERO;
			else if (*fmt == '+')
				flags |= F_PLUS;
			else if (*fmt == ' ')
				flags |= F_SPACE;
			else if (*fmt == '#')
				flags |= F_ALT;
			else
				break;
		}
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		int prec = -1;
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long */
		for (;; fmt++) {
			if (*fmt == 'h')
				lng--;
			else if (*fmt == 'l' || *fmt == 'z' || *fmt == 'j' ||
				 *fmt == 't')
				lng++;
			else
				break;
		}
		if (lng > 0)
			lng = 1; /* long == long long == size_t on x86-64 */

		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng > 0 ? va_arg(ap, long) : va_arg(ap, int);
			if (lng == -1)
				v = (short)v;
			else if (lng <= -2)
				v = (signed char)v;
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			out_number(&o, mag, v < 0, 10, false, flags, width, prec);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uint64_t v = lng > 0 ? va_arg(ap, unsigned long)
					     : va_arg(ap, unsigned int);
			if (lng == -1)
				v = (unsigned short)v;
			else if (lng <= -2)
				v = (unsigned char)v;
			unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			out_number(&o, v, false, base, *fmt == 'X',
				   flags & ~(F_PLUS | F_SPACE), width, prec);
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);
			out_number(&o, v, false, 16, false, F_ALT | F_ZERO,
				   18, -1);
			break;
		}
		case 'c':
			if (!(flags & F_LEFT))
				out_pad(&o, ' ', width - 1);
			out_char(&o, (char)va_arg(ap, int));
			if (flags & F_LEFT)
				out_pad(&o, ' ', width - 1);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = (int)(prec >= 0 ? strnlen(s, prec) : strlen(s));
			if (!(flags & F_LEFT))
				out_pad(&o, ' ', width - n);
			for (int i = 0; i < n; i++)
				out_char(&o, s[i]);
			if (flags & F_LEFT)
				out_pad(&o, ' ', width - n);
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		case 0:
			fmt--; /* a lone '%' at the end */
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = 0;
	return (int)o.len;
}

int snprintf(char *restrict buf, size_t cap, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}
