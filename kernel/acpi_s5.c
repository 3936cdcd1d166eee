/*
 * acpi_s5.c - find the \_S5 sleep type in AML without an AML interpreter:
 * Name(_S5_, Package(){SLP_TYPa, SLP_TYPb, ...}) recognised by its byte
 * pattern (ACPI 6.5 7.4.2, 20.2). Every byte read is bounded by the buffer and
 * by the package's own length; a malformed candidate just means searching on.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/acpi.h"

/* AML opcodes, ACPI 6.5 20.2. */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR 0x5C

/*
 * PkgLength at aml[*pos] (ACPI 6.5 20.2.4): bits 7-6 of the lead byte count
 * the bytes that follow (0-3); with none, bits 5-0 are the length, else bits
 * 3-0 are its low nibble (bits 5-4 must be zero) and each following byte adds
 * 8 more bits. The length counts the PkgLength bytes themselves.
 */
static bool acpi_aml_pkglen(const uint8_t *aml, size_t len, size_t *pos,
			    uint32_t *pkglen)
{
	size_t p = *pos;
	uint8_t lead;
	unsigned extra;
	uint32_t v;

	if (p >= len)
		return false;
	lead = aml[p++];
	extra = lead >> 6;
	if (!extra) {
		v = lead & 0x3F;
	} else {
		if (lead & 0x30)
			return false;
		if (len - p < extra)
			return false;
		v = lead & 0x0F;
		for (unsigned i = 0; i < extra; i++)
			v |= (uint32_t)aml[p++] << (4 + 8 * i);
	}
	*pos = p;
	*pkglen = v;
	return true;
}

/* One package element that must be a small integer (a SLP_TYP value). */
static bool acpi_aml_slp_typ(const uint8_t *aml, size_t end, size_t *pos,
			     uint8_t *val)
{
	size_t p = *pos;
	uint64_t v;
	unsigned n;

	if (p >= end)
		return false;
	switch (aml[p++]) {
	case AML_ZERO_OP:
		v = 0;
		n = 0;
		break;
	case AML_ONE_OP:
		v = 1;
		n = 0;
		break;
	case AML_BYTE_PREFIX:
		n = 1;
		break;
	case AML_WORD_PREFIX:
		n = 2;
		break;
	case AML_DWORD_PREFIX:
		n = 4;
		break;
	default:
		return false; /* a name, an expression, Ones: not for us */
	}
	if (n) {
		if (end - p < n)
			return false;
		v = 0;
		for (unsigned i = 0; i < n; i++)
			v |= (uint64_t)aml[p + i] << (8 * i);
		p += n;
	}
	/* SLP_TYP is a 3-bit field of PM1x_CNT (4.8.3.2.1). */
	if (v > 7)
		return false;
	*val = (uint8_t)v;
	*pos = p;
	return true;
}

/* Name(_S5_, Package(){a, b, ...}) with the NameString starting at s. */
static bool acpi_s5_at(const uint8_t *aml, size_t len, size_t s, uint8_t *a,
		       uint8_t *b)
{
	size_t p = s + 4, pkg, end;
	uint32_t pkglen;
	uint8_t n;

	if (p >= len || aml[p++] != AML_PACKAGE_OP)
		return false;
	pkg = p;
	if (!acpi_aml_pkglen(aml, len, &p, &pkglen))
		return false;
	if (pkglen > len - pkg)
		return false;
	end = pkg + pkglen;
	if (p >= end)
		return false; /* no room for NumElements */
	n = aml[p++];
	if (n == 0)
		return false;
	if (!acpi_aml_slp_typ(aml, end, &p, a))
		return false;
	/* A one-element package: the same value for PM1a and PM1b. */
	if (n == 1)
		*b = *a;
	else if (!acpi_aml_slp_typ(aml, end, &p, b))
		return false;
	return true;
}

bool acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa,
		  uint8_t *slp_typb)
{
	if (!aml || len < 5)
		return false;
	for (size_t i = 1; i + 4 <= len; i++) {
		uint8_t a, b;

		if (memcmp(aml + i, "_S5_", 4) != 0)
			continue;
		/* Only a declaration: NameOp, optionally with a root prefix.
		 * "_S5_" elsewhere (a reference inside a Method) is not it. */
		if (aml[i - 1] != AML_NAME_OP &&
		    !(aml[i - 1] == AML_ROOT_CHAR && i >= 2 &&
		      aml[i - 2] == AML_NAME_OP))
			continue;
		if (acpi_s5_at(aml, len, i, &a, &b)) {
			*slp_typa = a;
			*slp_typb = b;
			return true;
		}
	}
	return false;
}

