/*
 * test_vdev.c - register behaviour of the guest devices of this milestone
 * (the COM1 UART and the MMIO scratch device), and the ELF64 check of the
 * 64-bit start: the code that ships, on the host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "kernel/vdev/vdev.h"
#include "kernel/virt/virt_internal.h"

static void test_uart_thr_and_lsr(void **state)
{
	struct uart16550 u = {0};
	uint8_t v = 'K';

	assert_int_equal(uart_io(&u, 0, false, &v), 'K'); /* THR: print it */
	assert_int_equal(uart_io(&u, 5, true, &v), -1);
	assert_int_equal(v, 0x60); /* THRE | TEMT: never busy */
	v = 0;
	assert_int_equal(uart_io(&u, 0, true, &v), -1); /* no input yet */
	assert_int_equal(v, 0);
}

static void test_uart_divisor_latch(void **state)
{
	struct uart16550 u = {0};
	uint8_t v;

	v = 0x83; /* DLAB, 8N1 */
	uart_io(&u, 3, false, &v);
	v = 0x01;
	assert_int_equal(uart_io(&u, 0, false, &v), -1); /* DLL, not THR */
	v = 0x00;
	uart_io(&u, 1, false, &v);
	v = 0xFF;
	uart_io(&u, 0, true, &v);
	assert_int_equal(v, 0x01);
	v = 0x03;
	uart_io(&u, 3, false, &v); /* DLAB off */
	v = 'x';
	assert_int_equal(uart_io(&u, 0, false, &v), 'x');
	v = 0xFF;
	uart_io(&u, 1, false, &v); /* IER keeps 4 bits */
	uart_io(&u, 1, true, &v);
	assert_int_equal(v, 0x0F);
	v = 0x5A;
	uart_io(&u, 7, false, &v); /* scratch */
	v = 0;
	uart_io(&u, 7, true, &v);
	assert_int_equal(v, 0x5A);
}

static void test_scratch_widths(void **state)
{
	struct testdev *t = calloc(1, sizeof(*t));
	uint64_t v;

	for (unsigned size = 1; size <= 8; size *= 2) {
		for (uint64_t off = 0; off < 64; off += size) {
			v = 0x1122334455667788ULL + off;
			assert_int_equal(testdev_mmio(t, off, (uint8_t)size, true, &v), 0);
			uint64_t back = 0;
			assert_int_equal(testdev_mmio(t, off, (uint8_t)size, false, &back), 0);
			uint64_t mask = size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
			assert_int_equal(back, v & mask);
		}
	}
	/* Little endian across widths: a qword read sees the bytes written. */
	v = 0xAB;
	testdev_mmio(t, 0x100, 1, true, &v);
	v = 0xCDEF;
	testdev_mmio(t, 0x101, 2, true, &v);
	testdev_mmio(t, 0x100, 4, false, &v);
	assert_int_equal(v & 0xFFFFFF, 0xCDEFAB);
	free(t);
}

static void test_scratch_magic_and_bounds(void **state)
{
	struct testdev *t = calloc(1, sizeof(*t));
	uint64_t v = 0;

	assert_int_equal(testdev_mmio(t, 0xFF8, 8, false, &v), 0);
	assert_int_equal(v, SCRATCH_MAGIC);
	v = 0;
	assert_int_equal(testdev_mmio(t, 0xFF8, 8, true, &v), 0); /* read-only */
	testdev_mmio(t, 0xFF8, 8, false, &v);
	assert_int_equal(v, SCRATCH_MAGIC);
	testdev_mmio(t, 0xFFC, 4, false, &v);
	assert_int_equal(v, SCRATCH_MAGIC >> 32);
	/* A write straddling the magic keeps the magic. */
	v = ~0ULL;
	testdev_mmio(t, 0xFF4, 8, true, &v);
	testdev_mmio(t, 0xFF8, 8, false, &v);
	assert_int_equal(v, SCRATCH_MAGIC);
	testdev_mmio(t, 0xFF4, 4, false, &v);
	assert_int_equal(v, 0xFFFFFFFFu);
	/* Out of range and bad sizes. */
	assert_int_equal(testdev_mmio(t, 0x1000, 1, false, &v), KEEL_ERANGE);
	assert_int_equal(testdev_mmio(t, 0xFFF, 2, false, &v), KEEL_ERANGE);
	assert_int_equal(testdev_mmio(t, 0, 3, false, &v), KEEL_EINVAL);
	free(t);
}

/* A minimal ELF64 executable: one PT_LOAD at paddr with filesz/memsz. */
static size_t make_elf(uint8_t *buf, uint64_t paddr, uint64_t filesz,
		       uint64_t memsz, uint64_t entry)
{
	struct elf64_ehdr eh = {0};
	struct elf64_phdr ph = {0};

	memcpy(eh.ident, "\177ELF", 4);
	eh.ident[4] = 2;
	eh.ident[5] = 1;
	eh.type = 2;
	eh.machine = 62;
	eh.entry = entry;
	eh.phoff = sizeof(eh);
	eh.phentsize = sizeof(ph);
	eh.phnum = 1;
	ph.type = ELF_PT_LOAD;
	ph.offset = 0x1000;
	ph.vaddr = ph.paddr = paddr;
	ph.filesz = filesz;
	ph.memsz = memsz;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	return 0x1000 + filesz;
}

static void test_elf64_check(void **state)
{
	uint8_t *buf = calloc(1, 0x3000);
	const char *why = NULL;
	uint64_t entry = 0;
	size_t n = make_elf(buf, 0x100000, 0x1000, 0x2000, 0x100010);

	assert_int_equal(elf64_guest_check(buf, n, &entry, &why), 0);
	assert_int_equal(entry, 0x100010);
	/* Every truncation is refused, none read past the end (ASan). */
	for (size_t len = 0; len < n; len += 61) {
		uint8_t *cut = malloc(len ? len : 1);
		memcpy(cut, buf, len);
		int err = elf64_guest_check(cut, len, &entry, &why);
		if (len < 0x1000 + 0x1000)
			assert_int_equal(err, KEEL_EINVAL);
		free(cut);
	}
	n = make_elf(buf, 0x1000, 0x1000, 0x1000, 0x1000); /* over Keel's tables */
	assert_int_equal(elf64_guest_check(buf, n, &entry, &why), KEEL_EINVAL);
	assert_string_equal(why, "a segment lies outside [0x8000, 3 GiB)");
	n = make_elf(buf, 0x100000, 0x1000, 0x1000, 0x900000); /* entry outside */
	assert_int_equal(elf64_guest_check(buf, n, &entry, &why), KEEL_EINVAL);
	n = make_elf(buf, 0x100000, 0x2000, 0x1000, 0x100000); /* filesz > memsz */
	assert_int_equal(elf64_guest_check(buf, n, &entry, &why), KEEL_EINVAL);
	n = make_elf(buf, 0xBFFFF000, 0x1000, 0x2000, 0xBFFFF000); /* past 3 GiB */
	assert_int_equal(elf64_guest_check(buf, n, &entry, &why), KEEL_EINVAL);
	n = make_elf(buf, 0x100000, 0x1000, 0x1000, 0x100000);
	buf[18] = 3; /* EM_386 */
	assert_int_equal(elf64_guest_check(buf, n, &entry, &why), KEEL_EINVAL);
	assert_string_equal(why, "not an x86-64 ELF executable");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart_thr_and_lsr),
		cmocka_unit_test(test_uart_divisor_latch),
		cmocka_unit_test(test_scratch_widths),
		cmocka_unit_test(test_scratch_magic_and_bounds),
		cmocka_unit_test(test_elf64_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
