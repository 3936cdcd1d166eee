/*
 * aml.c - the AML byte-code writer of aml.h: encodings from ACPI 6.5
 * chapter 20 (opcodes 20.3, PkgLength 20.2.4, names 20.2.2) and the resource
 * descriptors of 6.4. Each function bounds its writes by the writer's cap.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/virt/aml.h"

/* Opcodes, ACPI 6.5 20.3. */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_STRING_PREFIX 0x0D
#define AML_QWORD_PREFIX 0x0E
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_DUAL_NAME_PREFIX 0x2E
#define AML_MULTI_NAME_PREFIX 0x2F
#define AML_EXT_OP_PREFIX 0x5B
#define AML_DEVICE_OP 0x82 /* after ExtOpPrefix */
#define AML_ROOT_CHAR 0x5C
#define AML_PARENT_PREFIX 0x5E
#define AML_RETURN_OP 0xA4
#define AML_NULL_NAME 0x00

/* Resource descriptor tags, ACPI 6.5 6.4.2 (small) and 6.4.3 (large). */
#define RES_IRQ_NOFLAGS 0x22 /* type 0x04, length 2 */
#define RES_IO 0x47	     /* type 0x08, length 7 */
#define RES_END_TAG 0x79     /* type 0x0F, length 1 */
#define RES_DWORD_ADDR 0x87
#define RES_WORD_ADDR 0x88
#define RES_DWORD_ADDR_LEN 23 /* bytes after the 3-byte large header */
#define RES_WORD_ADDR_LEN 13
#define RES_IO_DECODE16 0x01
/* Address space descriptors (6.4.3.5): Resource Type, General Flags. */
#define RES_TYPE_MEMORY 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
#define RES_GFLAG_MIF (1u << 2) /* minimum address fixed */
#define RES_GFLAG_MAF (1u << 3) /* maximum address fixed */
#define RES_IO_RNG_ENTIRE 0x03	/* _RNG: ISA and non-ISA ranges */
#define RES_MEM_RW (1u << 0)
#define RES_MEM_CACHEABLE (1u << 1) /* _MEM = 1 */

#define PKGLEN_MAX_1 0x3Fu /* 6 bits */
#define PKGLEN_MAX_2 0xFFFu
#define PKGLEN_MAX_3 0xFFFFFu

void aml_init(struct aml *a, void *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = buf ? cap : 0;
}

bool aml_ok(const struct aml *a)
{
	return !a->overflow && !a->invalid && a->depth == 0;
}

size_t aml_pkglen_encode(uint8_t out[4], uint32_t len)
{
	size_t n;

	if (len <= PKGLEN_MAX_1) {
		out[0] = (uint8_t)len;
		return 1;
	}
	if (len <= PKGLEN_MAX_2)
		n = 2;
	else if (len <= PKGLEN_MAX_3)
		n = 3;
	else if (len <= AML_PKGLEN_MAX)
		n = 4;
	else
		return 0;
	/* 20.2.4: bits 7-6 count the bytes that follow, bits 3-0 are the
	 * low nibble of the length, each following byte 8 more bits. */
	out[0] = (uint8_t)(((n - 1) << 6) | (len & 0x0F));
	for (size_t i = 1; i < n; i++)
		out[i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	return n;
}

uint32_t aml_pkglen_for_body(size_t body)
{
	static const uint32_t max[4] = {PKGLEN_MAX_1, PKGLEN_MAX_2,
					PKGLEN_MAX_3, AML_PKGLEN_MAX};

	for (size_t n = 1; n <= 4; n++)
		if (body <= max[n - 1] - n)
			return (uint32_t)(body + n);
	return 0;
}

void aml_byte(struct aml *a, uint8_t v)
{
	if (!a->overflow && a->len < a->cap)
		a->buf[a->len] = v;
	else
		a->overflow = true;
	a->len++;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		aml_byte(a, b[i]);
}

static void aml_le(struct aml *a, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* 20.2.2: LeadNameChar is 'A'-'Z' or '_', NameChar also '0'-'9'. */
static bool aml_name_char(char c, bool lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!lead && c >= '0' && c <= '9');
}

/* One NameSeg from s (up to '.' or the end), padded with '_'. Returns the
 * characters used, 0 when s does not start a valid segment. */
static size_t aml_name_seg(const char *s, char seg[4])
{
	size_t n = 0;

	while (s[n] && s[n] != '.') {
		if (n == 4 || !aml_name_char(s[n], n == 0))
			return 0;
		seg[n] = s[n];
		n++;
	}
	for (size_t i = n; i < 4; i++)
		seg[i] = '_';
	return n;
}

void aml_name_string(struct aml *a, const char *name)
{
	char segs[AML_MAX_DEPTH * 4][4];
	unsigned count = 0;
	const char *p = name;

	if (*p == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			aml_byte(a, AML_PARENT_PREFIX);
			p++;
		}
	}
	if (!*p) {
		aml_byte(a, AML_NULL_NAME);
		return;
	}
	for (;;) {
		size_t n;

		if (count == sizeof(segs) / sizeof(segs[0])) {
			a->invalid = true;
			return;
		}
		n = aml_name_seg(p, segs[count]);
		if (!n) {
			a->invalid = true;
			return;
		}
		count++;
		p += n;
		if (!*p)
			break;
		p++; /* the '.' */
	}
	if (count == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (count > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)count);
	}
	aml_bytes(a, segs, count * 4);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v <= 0xFF) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xFFFF) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xFFFFFFFFu) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	for (; *s; s++) {
		/* 20.2.3: AsciiChar is 0x01-0x7F. */
		if ((uint8_t)*s > 0x7F)
			a->invalid = true;
		aml_byte(a, (uint8_t)*s);
	}
	aml_byte(a, 0);
}

static int aml_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		a->invalid = true;
		return;
	}
	/* 6.1.5: each letter as 5 bits ('A' = 1), then four hex digits,
	 * the whole 32-bit value stored most significant byte first. */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			a->invalid = true;
			return;
		}
		v |= (uint32_t)(id[i] - '@') << (26 - 5 * i);
	}
	for (int i = 3; i < 7; i++) {
		int d = aml_hex_digit(id[i]);

		if (d < 0) {
			a->invalid = true;
			return;
		}
		v |= (uint32_t)d << (12 - 4 * (i - 3));
	}
	/* Byte-swapped so that the first letters come first in memory. */
	aml_integer(a, ((v & 0xFF) << 24) | ((v & 0xFF00) << 8) |
			       ((v >> 8) & 0xFF00) | (v >> 24));
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

void aml_name_str(struct aml *a, const char *name, const char *s)
{
	aml_name(a, name);
	aml_string(a, s);
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_name(a, name);
	aml_eisaid(a, id);
}

/* Remember where the PkgLength of the object just started goes. */
static void aml_open(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		a->invalid = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_end(struct aml *a)
{
	uint8_t enc[4];
	size_t start, body, n;
	uint32_t v;

	if (!a->depth) {
		a->invalid = true;
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start;
	v = aml_pkglen_for_body(body);
	if (!v) {
		a->invalid = true;
		return;
	}
	n = aml_pkglen_encode(enc, v);
	if (!a->overflow && n <= a->cap - a->len) {
		memmove(a->buf + start + n, a->buf + start, body);
		memcpy(a->buf + start, enc, n);
	} else {
		a->overflow = true;
	}
	a->len += n;
}

void aml_scope_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a);
	aml_name_string(a, name);
}

void aml_device_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_open(a);
	aml_name_string(a, name);
}

void aml_method_begin(struct aml *a, const char *name, unsigned nargs,
		      bool serialized)
{
	if (nargs > 7)
		a->invalid = true;
	aml_byte(a, AML_METHOD_OP);
	aml_open(a);
	aml_name_string(a, name);
	/* MethodFlags: bits 2-0 ArgCount, bit 3 SerializeFlag, SyncLevel 0. */
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
}

void aml_package_begin(struct aml *a, unsigned elements)
{
	if (elements > 0xFF)
		a->invalid = true;
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a);
	aml_byte(a, (uint8_t)elements);
}

void aml_return_integer(struct aml *a, uint64_t v)
{
	aml_byte(a, AML_RETURN_OP);
	aml_integer(a, v);
}

void aml_buffer(struct aml *a, const void *p, size_t n)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a);
	aml_integer(a, n);
	aml_bytes(a, p, n);
	aml_end(a);
}

void aml_res_io(struct aml *r, uint16_t base, uint8_t len)
{
	/* 6.4.2.5 I/O Port Descriptor: information, _MIN, _MAX, _ALN, _LEN. */
	aml_byte(r, RES_IO);
	aml_byte(r, RES_IO_DECODE16);
	aml_le(r, base, 2);
	aml_le(r, base, 2);
	aml_byte(r, 1);
	aml_byte(r, len);
}

void aml_res_irq_noflags(struct aml *r, uint8_t irq)
{
	/* 6.4.2.1 IRQ Descriptor, 2-byte form: a mask of ISA IRQs 0-15. */
	if (irq > 15)
		r->invalid = true;
	aml_byte(r, RES_IRQ_NOFLAGS);
	aml_le(r, 1u << (irq & 15), 2);
}

/* 6.4.3.5.3 Word Address Space Descriptor, producer, fixed min and max. */
static void aml_res_word_addr(struct aml *r, uint8_t type, uint8_t tflags,
			      uint16_t min, uint16_t max)
{
	if (max < min || (uint32_t)max - min + 1 > 0xFFFF)
		r->invalid = true;
	aml_byte(r, RES_WORD_ADDR);
	aml_le(r, RES_WORD_ADDR_LEN, 2);
	aml_byte(r, type);
	aml_byte(r, RES_GFLAG_MIF | RES_GFLAG_MAF);
	aml_byte(r, tflags);
	aml_le(r, 0, 2); /* _GRA */
	aml_le(r, min, 2);
	aml_le(r, max, 2);
	aml_le(r, 0, 2); /* _TRA */
	aml_le(r, (uint16_t)(max - min + 1), 2);
}

void aml_res_word_bus(struct aml *r, uint16_t min, uint16_t max)
{
	aml_res_word_addr(r, RES_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *r, uint16_t min, uint16_t max)
{
	aml_res_word_addr(r, RES_TYPE_IO, RES_IO_RNG_ENTIRE, min, max);
}

void aml_res_dword_mem(struct aml *r, uint32_t min, uint32_t max,
		       bool cacheable)
{
	/* 6.4.3.5.2 DWord Address Space Descriptor; memory type-specific
	 * flags (Table 6.50): _RW bit 0, _MEM bits 2-1. */
	if (max < min || (uint64_t)max - min + 1 > 0xFFFFFFFFu)
		r->invalid = true;
	aml_byte(r, RES_DWORD_ADDR);
	aml_le(r, RES_DWORD_ADDR_LEN, 2);
	aml_byte(r, RES_TYPE_MEMORY);
	aml_byte(r, RES_GFLAG_MIF | RES_GFLAG_MAF);
	aml_byte(r, RES_MEM_RW | (cacheable ? RES_MEM_CACHEABLE : 0));
	aml_le(r, 0, 4); /* _GRA */
	aml_le(r, min, 4);
	aml_le(r, max, 4);
	aml_le(r, 0, 4); /* _TRA */
	aml_le(r, max - min + 1, 4);
}

void aml_resource_template(struct aml *a, const struct aml *r)
{
	if (!aml_ok(r)) {
		a->invalid = true;
		return;
	}
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a);
	aml_integer(a, r->len + 2);
	aml_bytes(a, r->buf, r->len);
	/* 6.4.2.9 End Tag: a checksum of 0 means "treat as valid", which
	 * is what ASL compilers emit. */
	aml_byte(a, RES_END_TAG);
	aml_byte(a, 0);
	aml_end(a);
}
