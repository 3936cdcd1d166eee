/*
 * test_acpi_gen.c - the guest's ACPI tables (kernel/virt/acpi_gen.c) and the
 * AML writer (kernel/virt/aml.c), checked against the ACPI 6.5 layouts
 * written out here independently, against Keel's own host table parser
 * (kernel/acpi.c), and, when /usr/bin/iasl exists, against iasl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/acpi.h"
#include "kernel/log.h"
#include "kernel/virt/acpi_gen.h"
#include "kernel/virt/aml.h"
#include "tests/unit/shim/host_shim.h"

#define BASE 0xE0000ULL
#define AREA (128 * 1024) /* 0xE0000-0xFFFFF */
#define IASL "/usr/bin/iasl"

static uint8_t area[AREA];

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Where the last build put things. */
static struct {
	uint64_t base;
	size_t used, rsdp;
	const uint8_t *buf;
} g;

static size_t build_cfg(const struct acpi_gen_config *c, uint64_t base)
{
	g.base = base;
	g.buf = area;
	g.rsdp = (size_t)-1;
	g.used = acpi_gen_build(c, area, sizeof(area), base, &g.rsdp);
	return g.used;
}

static size_t build(unsigned cpus)
{
	struct acpi_gen_config c;

	acpi_gen_defaults(&c, cpus);
	return build_cfg(&c, BASE);
}

/* The bytes at guest-physical pa, which must lie inside what was built. */
static const uint8_t *at(uint64_t pa, size_t len)
{
	assert_true(pa >= g.base);
	assert_true(pa - g.base + len <= g.used);
	return g.buf + (pa - g.base);
}

/* A table by address: checks that its Length fits and its checksum. */
static const uint8_t *table_at(uint64_t pa, const char *sig)
{
	const uint8_t *h = at(pa, 36);
	uint32_t len = rd32(h + 4);

	assert_memory_equal(h, sig, 4);
	assert_true(len >= 36);
	at(pa, len);
	assert_int_equal(sum(h, len), 0);
	return h;
}

static const uint8_t *rsdp(void)
{
	assert_true(g.rsdp < g.used);
	return at(g.base + g.rsdp, 36);
}

/* A table found through the XSDT, or NULL. */
static const uint8_t *find(const char *sig, uint64_t *pa_out)
{
	const uint8_t *x = table_at(rd64(rsdp() + 24), "XSDT");

	for (uint32_t o = 36; o + 8 <= rd32(x + 4); o += 8) {
		uint64_t pa = rd64(x + o);

		if (!memcmp(at(pa, 4), sig, 4)) {
			if (pa_out)
				*pa_out = pa;
			return table_at(pa, sig);
		}
	}
	return NULL;
}

static const uint8_t *memfind(const uint8_t *h, size_t hl, const void *n,
			      size_t nl)
{
	for (size_t i = 0; nl <= hl && i <= hl - nl; i++)
		if (!memcmp(h + i, n, nl))
			return h + i;
	return NULL;
}

static unsigned memcount(const uint8_t *h, size_t hl, const void *n, size_t nl)
{
	unsigned c = 0;

	for (const uint8_t *p = h; (p = memfind(p, hl - (size_t)(p - h), n, nl));
	     p++)
		c++;
	return c;
}

/* PkgLength decoder written from ACPI 6.5 20.2.4, for checking. */
static size_t pkglen_decode(const uint8_t *p, uint32_t *len)
{
	size_t follow = p[0] >> 6;

	if (!follow) {
		*len = p[0] & 0x3F;
		return 1;
	}
	*len = p[0] & 0x0F;
	for (size_t i = 0; i < follow; i++)
		*len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	return 1 + follow;
}

/* ---- the AML writer ---- */

static void test_pkglen_encode_boundaries(void **state)
{
	static const struct {
		uint32_t len;
		size_t n;
		uint8_t b[4];
	} cases[] = {
		{0, 1, {0x00}},
		{63, 1, {0x3F}},
		{64, 2, {0x40, 0x04}},
		{0x123, 2, {0x43, 0x12}},
		{4095, 2, {0x4F, 0xFF}},
		{4096, 3, {0x80, 0x00, 0x01}},
		{0xFFFFF, 3, {0x8F, 0xFF, 0xFF}},
		{0x100000, 4, {0xC0, 0x00, 0x00, 0x01}},
		{0x0FFFFFFF, 4, {0xCF, 0xFF, 0xFF, 0xFF}},
	};
	uint8_t out[4];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t back;

		memset(out, 0xEE, sizeof(out));
		assert_int_equal(aml_pkglen_encode(out, cases[i].len), cases[i].n);
		assert_memory_equal(out, cases[i].b, cases[i].n);
		assert_int_equal(pkglen_decode(out, &back), cases[i].n);
		assert_int_equal(back, cases[i].len);
	}
	assert_int_equal(aml_pkglen_encode(out, 0x10000000), 0);
}

static void test_pkglen_counts_itself(void **state)
{
	/* The value includes its own 1-4 bytes: a 63-byte body needs two. */
	assert_int_equal(aml_pkglen_for_body(0), 1);
	assert_int_equal(aml_pkglen_for_body(62), 63);
	assert_int_equal(aml_pkglen_for_body(63), 65);
	assert_int_equal(aml_pkglen_for_body(4093), 4095);
	assert_int_equal(aml_pkglen_for_body(4094), 4097);
	assert_int_equal(aml_pkglen_for_body(0xFFFFC), 0xFFFFF);
	assert_int_equal(aml_pkglen_for_body(0xFFFFD), 0x100001);
	assert_int_equal(aml_pkglen_for_body(0x0FFFFFFB), 0x0FFFFFFF);
	assert_int_equal(aml_pkglen_for_body(0x0FFFFFFC), 0);
}

/* Buffers whose bodies straddle each PkgLength size: the encoding is
 * inserted in front of the body and the body survives the move. */
static void test_aml_end_inserts_pkglen(void **state)
{
	static const size_t sizes[] = {0, 59, 60, 61, 62, 4000, 4089, 4090, 4091, 4092, 5000};
	static uint8_t data[8192], out[8300];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], hl;
		struct aml a;
		uint32_t len;

		aml_init(&a, out, sizeof(out));
		aml_buffer(&a, data, n);
		assert_true(aml_ok(&a));
		assert_int_equal(out[0], 0x11); /* BufferOp */
		hl = pkglen_decode(out + 1, &len);
		/* PkgLength covers itself, BufferSize and the bytes. */
		assert_int_equal(a.len, 1 + len);
		/* BufferSize: Zero, BytePrefix or WordPrefix here. */
		if (n == 0) {
			assert_int_equal(out[1 + hl], 0x00);
			assert_int_equal(len, hl + 1);
		} else if (n <= 0xFF) {
			assert_int_equal(out[1 + hl], 0x0A);
			assert_int_equal(out[2 + hl], n);
			assert_int_equal(len, hl + 2 + n);
			assert_memory_equal(out + 3 + hl, data, n);
		} else {
			assert_int_equal(out[1 + hl], 0x0B);
			assert_int_equal(rd16(out + 2 + hl), n);
			assert_int_equal(len, hl + 3 + n);
			assert_memory_equal(out + 4 + hl, data, n);
		}
	}
}

static void test_aml_nesting(void **state)
{
	/* Scope(\_SB){Device(DEV0){Name(_UID, 0x2A)}}, as iasl emits it. */
	static const uint8_t want[] = {
		0x10, 0x1B, '\\', '_', 'S', 'B', '_',
		0x5B, 0x82, 0x0C, 'D', 'E', 'V', '0',
		0x08, '_', 'U', 'I', 'D', 0x0A, 0x2A,
		0x14, 0x06, 'M', 'E', 'T', 'H', 0x09, /* 1 arg, Serialized */
	};
	uint8_t out[64];
	struct aml a;

	aml_init(&a, out, sizeof(out));
	aml_scope_begin(&a, "\\_SB");
	aml_device_begin(&a, "DEV0");
	aml_name_integer(&a, "_UID", 0x2A);
	aml_end(&a);
	aml_method_begin(&a, "METH", 1, true);
	aml_end(&a);
	assert_false(aml_ok(&a)); /* the scope is still open */
	aml_end(&a);
	assert_true(aml_ok(&a));
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	aml_end(&a); /* nothing open */
	assert_true(a.invalid);

	aml_init(&a, out, sizeof(out));
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_package_begin(&a, 1);
	assert_true(a.invalid);
}

static void test_aml_names(void **state)
{
	static const struct {
		const char *name;
		size_t n;
		const char *bytes;
	} ok[] = {
		{"_S5", 4, "_S5_"},
		{"PCI0", 4, "PCI0"},
		{"\\_SB", 5, "\\_SB_"},
		{"\\_SB.PCI0", 10, "\\\x2E_SB_PCI0"},
		{"^^C1", 6, "^^C1__"},
		{"\\_SB.PCI0.COM1", 15, "\\\x2F\x03_SB_PCI0COM1"},
		{"\\", 2, "\\\x00"},
	};
	static const char *const bad[] = {"1ABC", "ABCDE", "A..B", "a", "A.",
					  "A-B"};
	uint8_t out[32];
	struct aml a;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		aml_init(&a, out, sizeof(out));
		aml_name_string(&a, ok[i].name);
		assert_true(aml_ok(&a));
		assert_int_equal(a.len, ok[i].n);
		assert_memory_equal(out, ok[i].bytes, ok[i].n);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, out, sizeof(out));
		aml_name_string(&a, bad[i]);
		assert_true(a.invalid);
	}
}

static void test_aml_integers(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t b[9];
	} cases[] = {
		{0, 1, {0x00}},
		{1, 1, {0x01}},
		{2, 2, {0x0A, 0x02}},
		{0xFF, 2, {0x0A, 0xFF}},
		{0x100, 3, {0x0B, 0x00, 0x01}},
		{0xFFFF, 3, {0x0B, 0xFF, 0xFF}},
		{0x10000, 5, {0x0C, 0x00, 0x00, 0x01, 0x00}},
		{0xFEC00000, 5, {0x0C, 0x00, 0x00, 0xC0, 0xFE}},
		{0x100000000ULL, 9, {0x0E, 0, 0, 0, 0, 1, 0, 0, 0}},
	};
	uint8_t out[16];
	struct aml a;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aml_init(&a, out, sizeof(out));
		aml_integer(&a, cases[i].v);
		assert_int_equal(a.len, cases[i].n);
		assert_memory_equal(out, cases[i].b, cases[i].n);
	}
	aml_init(&a, out, sizeof(out));
	aml_string(&a, "ACPI0007");
	assert_int_equal(a.len, 10);
	assert_memory_equal(out, "\x0D" "ACPI0007\0", 10);
}

static void test_aml_eisaid(void **state)
{
	uint8_t out[8];
	struct aml a;

	/* 6.1.5: "PNP0A03" is 0x41D00A03 stored big-endian; iasl's DWord. */
	aml_init(&a, out, sizeof(out));
	aml_eisaid(&a, "PNP0A03");
	assert_int_equal(a.len, 5);
	assert_memory_equal(out, "\x0C\x41\xD0\x0A\x03", 5);
	/* "PNP0000" has a zero high word: iasl emits a Word. */
	aml_init(&a, out, sizeof(out));
	aml_eisaid(&a, "PNP0000");
	assert_int_equal(a.len, 3);
	assert_memory_equal(out, "\x0B\x41\xD0", 3);
	for (const char *const *s = (const char *const[]){"pnp0a03", "PNP0A0",
							   "PNP0A0G", NULL};
	     *s; s++) {
		aml_init(&a, out, sizeof(out));
		aml_eisaid(&a, *s);
		assert_true(a.invalid);
	}
}

static void test_aml_overflow_measures(void **state)
{
	uint8_t big[256], small[10];
	struct aml a, b;

	for (struct aml *w = &a; w; w = (w == &a ? &b : NULL)) {
		if (w == &a)
			aml_init(w, big, sizeof(big));
		else
			aml_init(w, small, sizeof(small));
		aml_scope_begin(w, "\\_SB");
		aml_device_begin(w, "PCI0");
		aml_name_eisaid(w, "_HID", "PNP0A03");
		aml_end(w);
		aml_end(w);
	}
	assert_true(aml_ok(&a));
	assert_true(b.overflow);
	assert_false(aml_ok(&b));
	assert_int_equal(b.len, a.len);

	aml_init(&b, NULL, 0); /* measuring only */
	aml_bytes(&b, big, 100);
	assert_int_equal(b.len, 100);
	assert_true(b.overflow);
}

static void test_aml_resources(void **state)
{
	uint8_t rb[64], out[96];
	struct aml r, a;

	aml_init(&r, rb, sizeof(rb));
	aml_res_io(&r, 0x3F8, 8);
	aml_res_irq_noflags(&r, 4);
	aml_res_word_io(&r, 0x0D00, 0xFFFF);
	aml_res_dword_mem(&r, 0xC0000000, 0xFEBFFFFF, false);
	assert_true(aml_ok(&r));
	/* 6.4.2.5, 6.4.2.1, 6.4.3.5.3, 6.4.3.5.2. */
	assert_memory_equal(rb, "\x47\x01\xF8\x03\xF8\x03\x01\x08", 8);
	assert_memory_equal(rb + 8, "\x22\x10\x00", 3);
	assert_memory_equal(rb + 11,
			    "\x88\x0D\x00\x01\x0C\x03\x00\x00\x00\x0D\xFF\xFF"
			    "\x00\x00\x00\xF3",
			    16);
	assert_memory_equal(rb + 27,
			    "\x87\x17\x00\x00\x0C\x01\x00\x00\x00\x00\x00\x00"
			    "\x00\xC0\xFF\xFF\xBF\xFE\x00\x00\x00\x00\x00\x00"
			    "\xC0\x3E",
			    26);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, &r);
	assert_true(aml_ok(&a));
	/* Buffer(55){descriptors, EndTag 79 00}. */
	assert_memory_equal(out, "\x11\x3A\x0A\x37", 4);
	assert_memory_equal(out + 4, rb, 53);
	assert_memory_equal(out + 57, "\x79\x00", 2);
	assert_int_equal(a.len, 59);

	aml_init(&r, rb, sizeof(rb));
	aml_res_irq_noflags(&r, 16);
	assert_true(r.invalid);
	aml_init(&a, out, sizeof(out));
	aml_resource_template(&a, &r);
	assert_true(a.invalid);
	aml_init(&r, rb, sizeof(rb));
	aml_res_word_io(&r, 0x100, 0xFF);
	assert_true(r.invalid);
}

/* ---- the tables ---- */

static void test_rsdp(void **state)
{
	assert_true(build(2) > 0);
	const uint8_t *p = rsdp();

	/* 5.2.5.1: on a 16-byte boundary; 5.2.5.3 fields and checksums. */
	assert_int_equal((g.base + g.rsdp) % 16, 0);
	assert_memory_equal(p, "RSD PTR ", 8);
	assert_int_equal(sum(p, 20), 0);
	assert_int_equal(sum(p, 36), 0);
	assert_memory_equal(p + 9, "KEEL  ", 6);
	assert_int_equal(p[15], 2);
	assert_int_equal(rd32(p + 20), 36);
	assert_memory_equal(p + 33, "\0\0\0", 3);
	table_at(rd32(p + 16), "RSDT");
	table_at(rd64(p + 24), "XSDT");
	/* Found by a scan of the BIOS area like Linux's and Keel's own. */
	for (uint64_t pa = BASE; pa < BASE + g.used; pa += 16) {
		if (!memcmp(at(pa, 8), "RSD PTR ", 8)) {
			assert_int_equal(pa, BASE + g.rsdp);
			break;
		}
	}
}

static void test_headers_and_checksums(void **state)
{
	static const char *const sigs[] = {"FACP", "APIC"};
	uint64_t fadt_pa;

	assert_true(build(8) > 0);
	for (size_t i = 0; i < 2; i++) {
		const uint8_t *t = find(sigs[i], NULL);

		assert_non_null(t);
		assert_memory_equal(t + 10, "KEEL  ", 6);
		assert_memory_equal(t + 16, "KEELVM  ", 8);
		assert_memory_equal(t + 28, "KEEL", 4);
	}
	const uint8_t *f = find("FACP", &fadt_pa);
	const uint8_t *d = table_at(rd32(f + 40), "DSDT");

	assert_memory_equal(d + 16, "KEELVM  ", 8);
	assert_int_equal(d[8], 2); /* 64-bit integers */
	/* RSDT and XSDT list the same two tables, FADT first. */
	const uint8_t *r = table_at(rd32(rsdp() + 16), "RSDT");
	const uint8_t *x = table_at(rd64(rsdp() + 24), "XSDT");

	assert_int_equal(rd32(r + 4), 36 + 2 * 4);
	assert_int_equal(rd32(x + 4), 36 + 2 * 8);
	assert_int_equal(rd64(x + 36), fadt_pa);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rd32(r + 36 + 4 * i), rd64(x + 36 + 8 * i));
	assert_null(find("HPET", NULL));
}

/* One FADT X_ block (5.2.3.2): System I/O, width, offset 0, access size. */
static void check_gas(const uint8_t *p, uint8_t width, uint8_t access,
		      uint64_t port)
{
	assert_int_equal(p[0], 1);
	assert_int_equal(p[1], width);
	assert_int_equal(p[2], 0);
	assert_int_equal(p[3], access);
	assert_int_equal(rd64(p + 4), port);
}

static void test_fadt(void **state)
{
	assert_true(build(2) > 0);
	const uint8_t *f = find("FACP", NULL);

	/* ACPI 6.5 Table 5.9. */
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6);
	assert_int_equal(f[131] & 0x0F, 3); /* minor version */
	uint32_t facs = rd32(f + 36), dsdt = rd32(f + 40);

	assert_int_equal(rd64(f + 132), 0); /* X_FIRMWARE_CTRL */
	assert_int_equal(rd64(f + 140), dsdt);
	table_at(dsdt, "DSDT");
	assert_int_equal(rd16(f + 46), 9);  /* SCI_INT */
	assert_int_equal(rd32(f + 48), 0);  /* SMI_CMD */
	assert_int_equal(f[52] | f[53], 0); /* ACPI_ENABLE/DISABLE */
	assert_int_equal(rd32(f + 56), 0x600);
	assert_int_equal(rd32(f + 60), 0);
	assert_int_equal(rd32(f + 64), 0x604);
	assert_int_equal(rd32(f + 68), 0);
	assert_int_equal(rd32(f + 72), 0);
	assert_int_equal(rd32(f + 76), 0x608);
	assert_int_equal(rd32(f + 80), 0x620);
	assert_int_equal(rd32(f + 84), 0);
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[90], 0);
	assert_int_equal(f[91], 4);
	assert_int_equal(f[92], 4);
	assert_int_equal(f[93], 0);
	assert_true(rd16(f + 96) > 100);  /* no C2 */
	assert_true(rd16(f + 98) > 1000); /* no C3 */
	assert_int_equal(f[108], 0x32);	  /* CENTURY */
	/* IAPC_BOOT_ARCH: legacy devices, no 8042, no VGA; MSI and the
	 * CMOS RTC present. */
	assert_int_equal(rd16(f + 109), 0x0005);
	/* WBINVD, PROC_C1, SLP_BUTTON, TMR_VAL_EXT, RESET_REG_SUP. */
	assert_int_equal(rd32(f + 112), (1u << 0) | (1u << 2) | (1u << 5) |
						(1u << 8) | (1u << 10));
	check_gas(f + 116, 8, 1, 0xCF9);
	assert_int_equal(f[128], 0x06);
	check_gas(f + 148, 32, 2, 0x600);
	check_gas(f + 172, 16, 2, 0x604);
	check_gas(f + 208, 32, 3, 0x608);
	check_gas(f + 220, 32, 1, 0x620);
	/* Unused blocks are all zero: X_PM1b_EVT_BLK, X_PM1b_CNT_BLK,
	 * X_PM2_CNT_BLK, X_GPE1_BLK, SLEEP_CONTROL/STATUS_REG (the last two
	 * for hardware-reduced platforms only). */
	for (unsigned o = 160; o < 268; o++)
		if (o < 172 || (o >= 184 && o < 208) || o >= 232)
			assert_int_equal(f[o], 0);
	assert_memory_equal(f + 268, "KEEL\0\0\0\0", 8); /* hypervisor id */

	/* 5.2.10: the FACS, 64-byte aligned, 64 bytes, version 2. */
	assert_int_equal(facs % 64, 0);
	const uint8_t *s = at(facs, 64);

	assert_memory_equal(s, "FACS", 4);
	assert_int_equal(rd32(s + 4), 64);
	assert_int_equal(s[32], 2);
	assert_int_equal(rd32(s + 8) | rd32(s + 12) | rd32(s + 16) | rd32(s + 20), 0);
}

/* The MADT for n CPUs, written out from ACPI 6.5 5.2.12. */
static size_t madt_expect(unsigned n, uint8_t *e)
{
	size_t o = 0;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t lapic[8] = {0, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0};

		memcpy(e + o, lapic, 8);
		o += 8;
	}
	const uint8_t rest[] = {
		1, 12, 0, 0, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0, /* I/O APIC, id 0 */
		2, 10, 0, 0, 2, 0, 0, 0, 0x00, 0x00, /* IRQ0 -> GSI2 */
		2, 10, 0, 9, 9, 0, 0, 0, 0x0D, 0x00, /* IRQ9 -> GSI9, level high */
		4, 6, 0xFF, 0x00, 0x00, 1,	     /* NMI on LINT1, all */
	};
	memcpy(e + o, rest, sizeof(rest));
	return o + sizeof(rest);
}

static void test_madt(void **state)
{
	static const unsigned counts[] = {1, 2, 8, 255};
	static uint8_t want[8 * 255 + 64];

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		unsigned n = counts[i];

		assert_true(build(n) > 0);
		const uint8_t *m = find("APIC", NULL);
		size_t wl = madt_expect(n, want);

		assert_int_equal(rd32(m + 4), 44 + wl);
		assert_int_equal(rd32(m + 36), 0xFEE00000);
		assert_int_equal(rd32(m + 40), 1); /* PCAT_COMPAT */
		assert_memory_equal(m + 44, want, wl);
	}
}

static void test_dsdt(void **state)
{
	/* Name(_S5, Package(4){5, 5, 0, 0}), the DSDT's first object. */
	static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				     0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00};
	static const uint8_t s5_zero[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06,
					  0x04, 0x00, 0x00, 0x00, 0x00};
	struct acpi_gen_config c;

	assert_true(build(8) > 0);
	const uint8_t *f = find("FACP", NULL);
	const uint8_t *d = table_at(rd32(f + 40), "DSDT");
	size_t len = rd32(d + 4);

	assert_memory_equal(d + 36, s5, sizeof(s5));
	assert_int_equal(memcount(d, len, "ACPI0007", 8), 8);
	assert_non_null(memfind(d, len, "C007", 4));
	assert_null(memfind(d, len, "C008", 4));
	/* EISAIDs as iasl encodes them: PCI0, MBRD, TIMR, RTC, COM1, PIC. */
	assert_non_null(memfind(d, len, "\x0C\x41\xD0\x0A\x03", 5));
	assert_non_null(memfind(d, len, "\x0C\x41\xD0\x0C\x02", 5));
	assert_non_null(memfind(d, len, "\x0C\x41\xD0\x01\x00", 5));
	assert_non_null(memfind(d, len, "\x0C\x41\xD0\x0B\x00", 5));
	assert_non_null(memfind(d, len, "\x0C\x41\xD0\x05\x01", 5));
	assert_non_null(memfind(d, len, "\x08_HID\x0B\x41\xD0", 8));
	/* PCI0 decodes 0xCF8-0xCFF; MBRD holds the PM block and the ELCR,
	 * and not 0xCF9, which is inside PCI0's range. */
	assert_non_null(memfind(d, len, "\x47\x01\xF8\x0C\xF8\x0C\x01\x08", 8));
	assert_non_null(memfind(d, len, "\x47\x01\x00\x06\x00\x06\x01\x40", 8));
	assert_non_null(memfind(d, len, "\x47\x01\xD0\x04\xD0\x04\x01\x02", 8));
	assert_null(memfind(d, len, "\x47\x01\xF9\x0C", 4));
	assert_non_null(memfind(d, len, "COM1", 4));
	assert_non_null(memfind(d, len, "\x47\x01\xF8\x03\xF8\x03\x01\x08\x22\x10\x00", 11));

	acpi_gen_defaults(&c, 1);
	c.com1 = false;
	c.s5_slp_typ = 0;
	c.reset_port = 0x92; /* outside PCI0's ports: MBRD claims it */
	assert_true(build_cfg(&c, BASE) > 0);
	d = table_at(rd32(find("FACP", NULL) + 40), "DSDT");
	len = rd32(d + 4);
	assert_memory_equal(d + 36, s5_zero, sizeof(s5_zero));
	assert_null(memfind(d, len, "COM1", 4));
	assert_null(memfind(d, len, "\x0C\x41\xD0\x05\x01", 5));
	assert_int_equal(memcount(d, len, "ACPI0007", 8), 1);
	assert_non_null(memfind(d, len, "\x47\x01\x92\x00\x92\x00\x01\x01", 8));
}

static void test_refuses_small_buffers(void **state)
{
	size_t need = build(8), off;
	struct acpi_gen_config c;

	assert_true(need > 0);
	acpi_gen_defaults(&c, 8);
	/* Exactly sized heap buffers: ASan catches a write past any cap. */
	for (size_t cap = 0; cap <= need; cap++) {
		uint8_t *b = malloc(cap ? cap : 1);

		assert_non_null(b);
		off = 12345;
		assert_int_equal(acpi_gen_build(&c, b, cap, BASE, &off),
				 cap == need ? need : 0);
		if (cap == need)
			assert_memory_equal(b, area, need);
		else
			assert_int_equal(off, 12345);
		free(b);
	}
}

static void test_refuses_bad_config(void **state)
{
	struct acpi_gen_config c;
	size_t off;

	acpi_gen_defaults(&c, 0);
	assert_int_equal(acpi_gen_build(&c, area, sizeof(area), BASE, &off), 0);
	acpi_gen_defaults(&c, 256);
	assert_int_equal(acpi_gen_build(&c, area, sizeof(area), BASE, &off), 0);
	acpi_gen_defaults(&c, 255);
	assert_true(acpi_gen_build(&c, area, sizeof(area), BASE, &off) > 0);

	struct acpi_gen_config bad[8];

	for (size_t i = 0; i < 8; i++)
		acpi_gen_defaults(&bad[i], 2);
	bad[0].sci_irq = 0; /* the PIT's IRQ */
	bad[1].sci_irq = 2; /* the PIT's GSI */
	bad[2].sci_irq = 16; /* not an ISA IRQ */
	bad[3].pm_tmr = 0x640; /* outside the PM block 0x600-0x63F */
	bad[4].gpe0 = 0x63E;   /* runs past it */
	bad[5].pm1a_cnt = 0;
	bad[6].reset_port = 0;
	bad[7].lapic_addr = 0;
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(acpi_gen_build(&bad[i], area, sizeof(area), BASE, &off), 0);
	acpi_gen_defaults(&c, 2);
	assert_int_equal(acpi_gen_build(NULL, area, sizeof(area), BASE, &off), 0);
	assert_int_equal(acpi_gen_build(&c, NULL, sizeof(area), BASE, &off), 0);
	assert_int_equal(acpi_gen_build(&c, area, sizeof(area), BASE, NULL), 0);
	/* The RSDT and the FADT hold 32-bit pointers: all below 4 GiB. */
	assert_int_equal(acpi_gen_build(&c, area, sizeof(area), 0x100000000ULL, &off), 0);
	assert_int_equal(acpi_gen_build(&c, area, sizeof(area), 0xFFFFFF00ULL, &off), 0);
	assert_true(acpi_gen_build(&c, area, sizeof(area), 0xFFFF0000ULL, &off) > 0);
}

static void test_unaligned_base(void **state)
{
	struct acpi_gen_config c;

	acpi_gen_defaults(&c, 2);
	for (uint64_t base = 0x7000; base < 0x7000 + 80; base += 8) {
		assert_true(build_cfg(&c, base) > 0);
		assert_int_equal((base + g.rsdp) % 16, 0);
		const uint8_t *f = find("FACP", NULL);

		assert_int_equal(rd32(f + 36) % 64, 0);
		assert_memory_equal(at(rd32(f + 36), 64), "FACS", 4);
		table_at(rd32(f + 40), "DSDT");
		assert_non_null(find("APIC", NULL));
	}
}

/* ---- Keel's own host parser reads them back ---- */

static void *maps[64];
static unsigned map_count;

static const void *gen_map(uint64_t pa, size_t len)
{
	void *p;

	if (pa < g.base || pa - g.base > g.used || len > g.used - (pa - g.base))
		return NULL;
	assert_true(map_count < 64);
	p = malloc(len ? len : 1); /* exact size: ASan sees over-reads */
	assert_non_null(p);
	memcpy(p, g.buf + (pa - g.base), len);
	maps[map_count++] = p;
	return p;
}

static void test_host_parser_reads_them(void **state)
{
	static struct acpi_info info;

	assert_true(build(4) > 0);
	test_log_reset();
	assert_int_equal(acpi_parse(g.base + g.rsdp, gen_map, &info), 0);
	while (map_count)
		free(maps[--map_count]);
	assert_int_equal(info.tables_bad, 0);
	assert_int_equal(test_log_count[LOG_WARN] + test_log_count[LOG_ERROR], 0);
	assert_int_equal(info.revision, 2);
	assert_string_equal(info.oem_id, "KEEL"); /* trimmed */
	assert_true(info.have_madt);
	assert_int_equal(info.lapic_address, 0xFEE00000);
	assert_true(info.pcat_compat);
	assert_int_equal(info.cpu_count, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(info.cpus[i].apic_id, i);
		assert_int_equal(info.cpus[i].uid, i);
		assert_true(info.cpus[i].enabled);
	}
	assert_int_equal(info.ioapic_count, 1);
	assert_int_equal(info.ioapics[0].id, 0);
	assert_int_equal(info.ioapics[0].address, 0xFEC00000);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	assert_int_equal(info.override_count, 2);
	assert_int_equal(info.overrides[0].source, 0);
	assert_int_equal(info.overrides[0].gsi, 2);
	assert_int_equal(info.overrides[1].source, 9);
	assert_int_equal(info.overrides[1].flags, 0x0D);
	assert_true(info.have_fadt);
	assert_int_equal(info.sci_irq, 9);
	assert_int_equal(info.smi_cmd, 0);
	assert_int_equal(info.pm1a_evt.space, ACPI_SPACE_IO);
	assert_int_equal(info.pm1a_evt.address, 0x600);
	assert_int_equal(info.pm1a_cnt.address, 0x604);
	assert_int_equal(info.pm_tmr.address, 0x608);
	assert_int_equal(info.pm1_evt_len, 4);
	assert_true(info.pm_tmr_32bit);
	assert_true(info.have_reset_reg);
	assert_int_equal(info.reset_reg.address, 0xCF9);
	assert_int_equal(info.reset_value, 6);
	assert_false(info.hw_reduced);
	assert_true(info.have_s5);
	assert_int_equal(info.s5_slp_typa, 5);
	assert_int_equal(info.s5_slp_typb, 5);
	assert_false(info.have_hpet);
	assert_int_equal(info.mcfg_count, 0);
}

/* ---- iasl, when installed ---- */

static void write_file(const char *dir, const char *name, const uint8_t *t,
		       size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(t, 1, len, f), len);
	fclose(f);
}

static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[256];
	char *s;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return s;
}

static int run(const char *dir, const char *cmd)
{
	char line[512];

	snprintf(line, sizeof(line), "cd '%s' && (%s) >>iasl.log 2>&1", dir, cmd);
	return system(line);
}

/*
 * iasl disassembles every table without complaint; the DSDT's disassembly
 * compiles back, without optimisations, to exactly the same AML.
 */
static char iasl_dir[64];

static int iasl_cleanup(void **state)
{
	char cmd[96];

	if (iasl_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", iasl_dir);
		if (system(cmd) != 0)
			return -1;
		iasl_dir[0] = 0;
	}
	return 0;
}

static void test_iasl_agrees(void **state)
{
	char *dir = iasl_dir, *log, *dsl, *aml;
	size_t aml_len;

	if (access(IASL, X_OK) != 0) {
		print_message("(skipped: no %s; Debian package acpica-tools)\n", IASL);
		return;
	}
	assert_true(build(3) > 0);
	const uint8_t *f = find("FACP", NULL);
	const uint8_t *m = find("APIC", NULL);
	const uint8_t *d = table_at(rd32(f + 40), "DSDT");

	strcpy(dir, "/tmp/keel-acpi-gen-XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file(dir, "facp.dat", f, rd32(f + 4));
	write_file(dir, "apic.dat", m, rd32(m + 4));
	write_file(dir, "dsdt.dat", d, rd32(d + 4));
	write_file(dir, "facs.dat", at(rd32(f + 36), 64), 64);
	assert_int_equal(run(dir, IASL " -d facp.dat apic.dat facs.dat dsdt.dat"), 0);
	assert_int_equal(run(dir, "mkdir rt && cp dsdt.dsl rt/ && cd rt && "
				  IASL " -oa -on dsdt.dsl"), 0);
	log = read_file(dir, "iasl.log", NULL);
	assert_null(strstr(log, "Error  "));
	assert_null(strstr(log, "Warning  "));
	assert_non_null(strstr(log, "0 Errors, 0 Warnings, 0 Remarks"));
	free(log);

	dsl = read_file(dir, "dsdt.dsl", NULL);
	assert_non_null(strstr(dsl, "Name (_S5, Package (0x04)"));
	assert_non_null(strstr(dsl, "Device (PCI0)"));
	assert_non_null(strstr(dsl, "EisaId (\"PNP0A03\")"));
	assert_non_null(strstr(dsl, "Device (C002)"));
	assert_non_null(strstr(dsl, "WordBusNumber (ResourceProducer"));
	assert_non_null(strstr(dsl, "IRQNoFlags ()"));
	free(dsl);
	dsl = read_file(dir, "facp.dsl", NULL);
	assert_non_null(strstr(dsl, "Reset Register Supported (V2) : 1"));
	assert_non_null(strstr(dsl, "32-bit PM Timer (V1) : 1"));
	free(dsl);
	dsl = read_file(dir, "apic.dsl", NULL);
	assert_non_null(strstr(dsl, "[Interrupt Source Override]"));
	assert_non_null(strstr(dsl, "[Local APIC NMI]"));
	free(dsl);

	aml = read_file(dir, "rt/dsdt.aml", &aml_len);
	assert_int_equal(aml_len, rd32(d + 4));
	assert_memory_equal(aml + 36, d + 36, aml_len - 36);
	free(aml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglen_encode_boundaries),
		cmocka_unit_test(test_pkglen_counts_itself),
		cmocka_unit_test(test_aml_end_inserts_pkglen),
		cmocka_unit_test(test_aml_nesting),
		cmocka_unit_test(test_aml_names),
		cmocka_unit_test(test_aml_integers),
		cmocka_unit_test(test_aml_eisaid),
		cmocka_unit_test(test_aml_overflow_measures),
		cmocka_unit_test(test_aml_resources),
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_headers_and_checksums),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt),
		cmocka_unit_test(test_refuses_small_buffers),
		cmocka_unit_test(test_refuses_bad_config),
		cmocka_unit_test(test_unaligned_base),
		cmocka_unit_test(test_host_parser_reads_them),
		cmocka_unit_test_teardown(test_iasl_agrees, iasl_cleanup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
