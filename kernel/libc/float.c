/*
 * float.c - the floating point of the kernel's libc, for cJSON only: strtod,
 * fabs, floor, and sprintf/sscanf with %g / %lg. An FPU island: built
 * without -mgeneral-regs-only (Makefile: FPU_ISLAND_CFLAGS), so only a
 * thread with an FPU context (thread_fpu_enable) may call it.
 *
 * Decimal conversion goes through the x87 80-bit long double (64-bit
 * mantissa): 19 significant digits are read exactly and scaled by powers
 * of ten, which gets within an ulp of the correctly rounded double, and
 * prints the 15 or 17 digits cJSON asks for.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

double fabs(double x)
{
	return __builtin_fabs(x);
}

double floor(double x)
{
	double t;

	/* From 2^52 on every double is an integer (and NaN/inf stay). */
	if (!(__builtin_fabs(x) < 4503599627370496.0))
		return x;
	t = (double)(long long)x;
	return t > x ? t - 1.0 : t;
}

/* 10^n for 0 <= n <= 5000 (inf beyond the range of long double). */
static long double pow10l_int(unsigned n)
{
	long double r = 1.0L, b = 10.0L;

	while (n) {
		if (n & 1)
			r *= b;
		b *= b;
		n >>= 1;
	}
	return r;
}

static bool word_at(const char *p, const char *w)
{
	for (; *w; p++, w++)
		if (tolower((unsigned char)*p) != *w)
			return false;
	return true;
}

double strtod(const char *restrict s, char **restrict end)
{
	const char *p = s;
	uint64_t mant = 0;
	int digits = 0; /* significant digits in mant */
	long exp10 = 0;
	bool neg = false, any = false;
	long double v;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (word_at(p, "inf") || word_at(p, "nan")) {
		bool inf = word_at(p, "inf");

		p += 3;
		if (inf && word_at(p, "inity"))
			p += 5;
		if (end)
			*end = (char *)p;
		v = inf ? INFINITY : NAN;
		return neg ? -(double)v : (double)v;
	}
	for (; isdigit((unsigned char)*p); p++) {
		any = true;
		if (digits < 19) {
			mant = mant * 10 + (uint64_t)(*p - '0');
			digits += mant != 0;
		} else {
			exp10++; /* a digit beyond what mant holds */
		}
	}
	if (*p == '.') {
		const char *q = p + 1;

		for (; isdigit((unsigned char)*q); q++) {
			any = true;
			if (digits < 19) {
				mant = mant * 10 + (uint64_t)(*q - '0');
				digits += mant != 0;
				exp10--;
			}
		}
		if (any)
			p = q;
	}
	if (!any) {
		if (end)
			*end = (char *)s;
		return 0.0;
	}
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		bool eneg = false;
		long e = 0;

		if (*q == '+' || *q == '-')
			eneg = *q++ == '-';
		if (isdigit((unsigned char)*q)) {
			for (; isdigit((unsigned char)*q); q++)
				if (e < 100000)
					e = e * 10 + (*q - '0');
			exp10 += eneg ? -e : e;
			p = q;
		}
	}
	if (end)
		*end = (char *)p;

	if (mant == 0)
		v = 0.0L;
	else if (exp10 > 400)
		v = INFINITY;
	else if (exp10 < -400 - 19)
		v = 0.0L;
	else if (exp10 >= 0)
		v = (long double)mant * pow10l_int((unsigned)exp10);
	else
		v = (long double)mant / pow10l_int((unsigned)-exp10);
	return neg ? -(double)v : (double)v;
}

/* ---------------------------------------------------------- printing -- */

struct spec {
	bool left, plus, space, alt, zero;
	int width, prec; /* prec -1: none */
	int lng;	 /* count of 'l' (also z, j, t) */
	char conv;
};

static char *put_padded(char *out, const char *body, size_t n,
			const struct spec *sp)
{
	size_t pad = sp->width > 0 && (size_t)sp->width > n ? sp->width - n : 0;

	if (!sp->left) {
		memset(out, ' ', pad);
		out += pad;
	}
	memcpy(out, body, n);
	out += n;
	if (sp->left) {
		memset(out, ' ', pad);
		out += pad;
	}
	return out;
}

/*
 * %g (C11 7.21.6.1): P significant digits (P = precision, 6 if none, 1 if
 * 0); style e when the exponent X < -4 or X >= P, else f; trailing zeros
 * removed unless '#'. Writes at most 32 + P bytes to buf.
 */
static size_t format_g(char *buf, double x, const struct spec *sp)
{
	int P = sp->prec < 0 ? 6 : sp->prec == 0 ? 1 : sp->prec;
	char digs[24];
	size_t n = 0;
	long double v;
	uint64_t m, lim;
	int e = 0, i;

	if (P > 17)
		P = 17; /* all a double has */
	if (__builtin_signbit(x))
		buf[n++] = '-';
	else if (sp->plus || sp->space)
		buf[n++] = sp->plus ? '+' : ' ';
	if (__builtin_isnan(x) || __builtin_isinf(x)) {
		const char *w = __builtin_isnan(x) ? "nan" : "inf";

		for (i = 0; i < 3; i++)
			buf[n++] = sp->conv == 'G' ? (char)toupper(w[i]) : w[i];
		return n;
	}
	v = __builtin_fabs(x);
	if (v != 0.0L) {
		uint64_t bits;
		int e2;

		memcpy(&bits, &x, sizeof(bits));
		e2 = (int)((bits >> 52) & 0x7ff) - 1023;
		if (e2 == -1023)
			e2 = -1074; /* subnormal: low estimate, fixed below */
		e = (int)((long)e2 * 30103 / 100000); /* log10(2) */
		v = e >= 0 ? v / pow10l_int(e) : v * pow10l_int(-e);
		while (v >= 10.0L) {
			v /= 10.0L;
			e++;
		}
		while (v < 1.0L) {
			v *= 10.0L;
			e--;
		}
	}
	lim = 1;
	for (i = 0; i < P; i++)
		lim *= 10;
	m = (uint64_t)(v * pow10l_int(P - 1) + 0.5L);
	if (m >= lim) { /* 9.99... rounded up to 10 */
		m /= 10;
		e++;
	}
	for (i = P - 1; i >= 0; i--) {
		digs[i] = (char)('0' + m % 10);
		m /= 10;
	}
	/* Significant digits kept: trailing zeros go unless '#'. */
	int keep = P;
	if (!sp->alt)
		while (keep > 1 && digs[keep - 1] == '0')
			keep--;

	if (e < -4 || e >= P) {
		buf[n++] = digs[0];
		if (keep > 1 || sp->alt)
			buf[n++] = '.';
		for (i = 1; i < keep; i++)
			buf[n++] = digs[i];
		buf[n++] = sp->conv == 'G' ? 'E' : 'e';
		buf[n++] = e < 0 ? '-' : '+';
		int ae = e < 0 ? -e : e;
		if (ae >= 100)
			buf[n++] = (char)('0' + ae / 100);
		buf[n++] = (char)('0' + ae / 10 % 10);
		buf[n++] = (char)('0' + ae % 10);
	} else if (e >= 0) {
		for (i = 0; i <= e; i++)
			buf[n++] = i < keep ? digs[i] : '0';
		if (keep > e + 1 || sp->alt)
			buf[n++] = '.';
		for (i = e + 1; i < keep; i++)
			buf[n++] = digs[i];
	} else {
		buf[n++] = '0';
		buf[n++] = '.';
		for (i = 0; i < -e - 1; i++)
			buf[n++] = '0';
		for (i = 0; i < keep; i++)
			buf[n++] = digs[i];
	}
	return n;
}

/* Reads "%[flags][width][.prec][length]conv" after the '%'. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	memset(sp, 0, sizeof(*sp));
	sp->prec = -1;
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else if (*f == '#')
			sp->alt = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (isdigit((unsigned char)*f))
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		while (isdigit((unsigned char)*f))
			sp->prec = sp->prec * 10 + (*f++ - '0');
	}
	while (*f == 'l' || *f == 'h' || *f == 'z' || *f == 'j' || *f == 't' ||
	       *f == 'L') {
		if (*f != 'h')
			sp->lng++;
		f++;
	}
	sp->conv = *f;
	return f;
}

/*
 * cJSON's formats: "%d", "%1.15g", "%1.17g", "u%04x". Conversions other than
 * g/G go to the kernel's vsnprintf one at a time (it never sees a double);
 * sprintf has no bound, so the one given is just what an int can count.
 */
#define SPRINTF_BOUND ((size_t)INT_MAX)
static int vsprintf_fpu(char *out, const char *fmt, va_list ap0)
{
	char *o = out;
	va_list ap;

	va_copy(ap, ap0);
	for (const char *f = fmt; *f; f++) {
		const char *start = f;
		struct spec sp;
		char one[40];

		if (*f != '%') {
			*o++ = *f;
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		if (sp.conv == 0) {
			f--;
			continue;
		}
		if (sp.conv == 'g' || sp.conv == 'G') {
			char body[64];
			size_t n = format_g(body, va_arg(ap, double), &sp);

			o = put_padded(o, body, n, &sp);
			continue;
		}
		if ((size_t)(f - start + 1) >= sizeof(one))
			break; /* no sane format has such a spec */
		memcpy(one, start, (size_t)(f - start + 1));
		one[f - start + 1] = 0;
		switch (sp.conv) {
		case 'd':
		case 'i':
		case 'u':
		case 'x':
		case 'X':
		case 'o':
		case 'c':
			if (sp.lng)
				o += snprintf(o, SPRINTF_BOUND, one, va_arg(ap, long));
			else
				o += snprintf(o, SPRINTF_BOUND, one, va_arg(ap, int));
			break;
		case 's':
		case 'p':
			o += snprintf(o, SPRINTF_BOUND, one, va_arg(ap, void *));
			break;
		case '%':
			*o++ = '%';
			break;
		default:
			break; /* unsupported: nothing */
		}
	}
	va_end(ap);
	*o = 0;
	return (int)(o - out);
}

int sprintf(char *restrict s, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsprintf_fpu(s, fmt, ap);
	va_end(ap);
	return n;
}

/* ----------------------------------------------------------- scanning -- */

/* C11 7.21.6.2, the conversions cJSON uses (%lg) and the integer ones;
 * returns the number of assigned items, or EOF (-1) when the input ended
 * before the first conversion. */
int sscanf(const char *restrict s, const char *restrict fmt, ...)
{
	const char *p = s;
	int assigned = 0;
	va_list ap;

	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		struct spec sp;
		char *end;

		if (isspace((unsigned char)*f)) {
			while (isspace((unsigned char)*p))
				p++;
			continue;
		}
		if (*f != '%' || f[1] == '%') {
			if (*f == '%')
				f++;
			if (*p != *f)
				break;
			p++;
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		if (!*p) {
			if (!assigned)
				assigned = -1;
			break;
		}
		if (sp.conv == 'g' || sp.conv == 'f' || sp.conv == 'e' ||
		    sp.conv == 'G' || sp.conv == 'E') {
			double d = strtod(p, &end);

			if (end == p)
				break;
			if (sp.lng)
				*va_arg(ap, double *) = d;
			else
				*va_arg(ap, float *) = (float)d;
		} else if (sp.conv == 'd' || sp.conv == 'i' || sp.conv == 'u' ||
			   sp.conv == 'x') {
			int base = sp.conv == 'x' ? 16 : sp.conv == 'i' ? 0 : 10;
			long long v = strtoll(p, &end, base);

			if (end == p)
				break;
			if (sp.lng)
				*va_arg(ap, long *) = (long)v;
			else
				*va_arg(ap, int *) = (int)v;
		} else {
			break;
		}
		p = end;
		assigned++;
	}
	va_end(ap);
	return assigned;
}
