/*
 * stdlib.c - malloc and friends over the kernel heap, integer parsing, and
 * assert() for the third-party libraries of the management agent (mbedTLS,
 * lwIP, cJSON). malloc keeps the size in front of each block so realloc can
 * copy; Keel's own code uses kmalloc/kfree directly.
 */
#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef KEEL_HOST_TEST
#include "kernel/panic.h"
#include "mm/mm.h"
#define libc_alloc kmalloc
#define libc_release kfree
#else
void *libc_host_alloc(size_t n);
void libc_host_release(void *p);
#define libc_alloc libc_host_alloc
#define libc_release libc_host_release
#endif

/* 16 bytes keep the block 16-byte aligned, as kmalloc's are. */
struct libc_block {
	size_t size;
	size_t magic;
};
#define LIBC_BLOCK_MAGIC 0x6b65656c6d616c6cull /* "llamleek" */

void *malloc(size_t n)
{
	struct libc_block *b;

	if (n > SIZE_MAX - sizeof(*b))
		return NULL;
	b = libc_alloc(sizeof(*b) + n);
	if (!b)
		return NULL;
	b->size = n;
	b->magic = LIBC_BLOCK_MAGIC;
	return b + 1;
}

void *calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	p = malloc(nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

void free(void *p)
{
	struct libc_block *b;

	if (!p)
		return;
	b = (struct libc_block *)p - 1;
	/* A pointer malloc never returned is a bug of the caller. */
	assert(b->magic == LIBC_BLOCK_MAGIC);
	b->magic = 0;
	libc_release(b);
}

void *realloc(void *p, size_t n)
{
	struct libc_block *b;
	void *q;

	if (!p)
		return malloc(n);
	if (!n) {
		free(p);
		return NULL;
	}
	b = (struct libc_block *)p - 1;
	assert(b->magic == LIBC_BLOCK_MAGIC);
	q = malloc(n);
	if (!q)
		return NULL; /* p stays valid, as C11 7.22.3.5 says */
	memcpy(q, p, b->size < n ? b->size : n);
	free(p);
	return q;
}

static int digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/*
 * C11 7.22.1.4: white space, a sign, then digits of base (0: decimal, octal
 * after 0, hex after 0x). *neg tells the sign; the magnitude saturates at
 * limit + (neg ? neg_extra : 0) and *overflow says so. No errno here.
 */
static unsigned long long parse_uint(const char *s, char **end, int base,
				     bool *neg, bool *overflow)
{
	const char *p = s;
	unsigned long long v = 0;
	bool any = false;

	*neg = false;
	*overflow = false;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	if (base < 2 || base > 36) {
		if (end)
			*end = (char *)s;
		return 0;
	}
	for (; digit_value(*p) < base; p++) {
		unsigned d = (unsigned)digit_value(*p);

		any = true;
		if (v > (ULLONG_MAX - d) / (unsigned)base) {
			*overflow = true;
			v = ULLONG_MAX;
		} else if (!*overflow) {
			v = v * (unsigned)base + d;
		}
	}
	if (end)
		*end = (char *)(any ? p : s);
	return any ? v : 0;
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
	bool neg, ovf;
	unsigned long long v = parse_uint(s, end, base, &neg, &ovf);

	if (neg)
		return ovf || v > (unsigned long long)LLONG_MAX + 1
			       ? LLONG_MIN
			       : (long long)(0 - v);
	return ovf || v > LLONG_MAX ? LLONG_MAX : (long long)v;
}

unsigned long long strtoull(const char *restrict s, char **restrict end,
			    int base)
{
	bool neg, ovf;
	unsigned long long v = parse_uint(s, end, base, &neg, &ovf);

	if (ovf)
		return ULLONG_MAX;
	return neg ? 0 - v : v; /* C: the negation is in the unsigned type */
}

/* long and long long are both 64 bits on x86-64 (LP64). */
long strtol(const char *restrict s, char **restrict end, int base)
{
	return (long)strtoll(s, end, base);
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	return (unsigned long)strtoull(s, end, base);
}

int atoi(const char *s)
{
	long v = strtol(s, NULL, 10);

	return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

int abs(int v)
{
	return v < 0 ? -v : v;
}

long labs(long v)
{
	return v < 0 ? -v : v;
}

#ifndef KEEL_HOST_TEST
void keel_assert_fail(const char *expr, const char *file, int line)
{
	panic("assertion '%s' failed at %s:%d", expr, file, line);
}
#endif
