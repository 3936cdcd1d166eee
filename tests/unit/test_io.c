/*
 * test_io.c - I/O-port and MMIO registration and dispatch (kernel/virt/io.c):
 * bad, wrapping and overlapping ranges refused, full tables, every access
 * routed to the one range that holds it with the right port or offset, and
 * accesses that straddle a range's end or two ranges reaching no device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "kernel/virt/virt.h"

static struct vm *vm;
static struct vcpu vcpu;

/* What the last handler call saw. */
static struct {
	int calls;
	struct vcpu *vcpu;
	void *dev;
	uint64_t where; /* port or offset */
	uint8_t size;
	bool in_or_write;
} seen;
static int fail_with; /* a handler returns this */

static int pio_h(struct vcpu *v, void *dev, uint16_t port, uint8_t size,
		 bool in, uint32_t *val)
{
	seen.calls++;
	seen.vcpu = v;
	seen.dev = dev;
	seen.where = port;
	seen.size = size;
	seen.in_or_write = in;
	if (in)
		*val = 0xC0DE0000u | port;
	else
		*val ^= 0xFFFFFFFFu; /* proves the handler had the value */
	return fail_with;
}

static int mmio_h(struct vcpu *v, void *dev, uint64_t offset, uint8_t size,
		  bool write, uint64_t *val)
{
	seen.calls++;
	seen.vcpu = v;
	seen.dev = dev;
	seen.where = offset;
	seen.size = size;
	seen.in_or_write = write;
	if (!write)
		*val = 0x1122334455667788ULL + offset;
	return fail_with;
}

static int setup(void **state)
{
	vm = calloc(1, sizeof(*vm));
	assert_non_null(vm);
	memset(&vcpu, 0, sizeof(vcpu));
	vcpu.vm = vm;
	memset(&seen, 0, sizeof(seen));
	fail_with = 0;
	return 0;
}

static int teardown(void **state)
{
	free(vm);
	return 0;
}

static int dev_a, dev_b, dev_c;

static void test_pio_register(void **state)
{
	assert_int_equal(vm_register_pio(vm, 0x3F8, 8, pio_h, &dev_a), 0);
	assert_int_equal(vm->pio_count, 1);
	assert_int_equal(vm->pio[0].base, 0x3F8);
	assert_int_equal(vm->pio[0].len, 8);
	assert_ptr_equal(vm->pio[0].dev, &dev_a);

	/* empty, no handler */
	assert_int_equal(vm_register_pio(vm, 0x80, 0, pio_h, NULL), KEEL_EINVAL);
	assert_int_equal(vm_register_pio(vm, 0x80, 1, NULL, NULL), KEEL_EINVAL);
	/* overlaps from every side, and the same range again */
	assert_int_equal(vm_register_pio(vm, 0x3F0, 9, pio_h, NULL), KEEL_EEXIST);
	assert_int_equal(vm_register_pio(vm, 0x3FF, 2, pio_h, NULL), KEEL_EEXIST);
	assert_int_equal(vm_register_pio(vm, 0x3FA, 1, pio_h, NULL), KEEL_EEXIST);
	assert_int_equal(vm_register_pio(vm, 0x300, 0x200, pio_h, NULL), KEEL_EEXIST);
	assert_int_equal(vm_register_pio(vm, 0x3F8, 8, pio_h, NULL), KEEL_EEXIST);
	/* wrapping past 0xFFFF; ending exactly at it is fine */
	assert_int_equal(vm_register_pio(vm, 0xFFF0, 0x11, pio_h, NULL), KEEL_ERANGE);
	assert_int_equal(vm_register_pio(vm, 0xFFFF, 0xFFFF, pio_h, NULL),
			 KEEL_ERANGE);
	assert_int_equal(vm->pio_count, 1);
	assert_int_equal(vm_register_pio(vm, 0xFFF0, 0x10, pio_h, &dev_c), 0);
	/* touching on both sides is fine */
	assert_int_equal(vm_register_pio(vm, 0x3F0, 8, pio_h, NULL), 0);
	assert_int_equal(vm_register_pio(vm, 0x400, 1, pio_h, NULL), 0);
	/* port 0 and the whole space minus what is taken */
	assert_int_equal(vm_register_pio(vm, 0, 1, pio_h, NULL), 0);
	assert_int_equal(vm->pio_count, 5);

	/* a full table */
	for (unsigned i = vm->pio_count; i < VM_MAX_PIO; i++)
		assert_int_equal(vm_register_pio(vm, (uint16_t)(0x1000 + i * 4), 4,
						 pio_h, NULL),
				 0);
	assert_int_equal(vm_register_pio(vm, 0x8000, 1, pio_h, NULL), KEEL_ERANGE);
	assert_int_equal(vm->pio_count, VM_MAX_PIO);
	/* a full table still says EEXIST for an overlap */
	assert_int_equal(vm_register_pio(vm, 0x3F8, 1, pio_h, NULL), KEEL_EEXIST);
}

static void test_pio_dispatch(void **state)
{
	uint32_t val;

	assert_int_equal(vm_register_pio(vm, 0x3F8, 8, pio_h, &dev_a), 0);
	assert_int_equal(vm_register_pio(vm, 0x400, 4, pio_h, &dev_b), 0);
	assert_int_equal(vm_register_pio(vm, 0x404, 4, pio_h, &dev_c), 0);
	assert_int_equal(vm_register_pio(vm, 0xFFFC, 4, pio_h, &dev_c), 0);

	/* IN at the first and last port, OUT in the middle */
	val = 0;
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3F8, 1, true, &val), 0);
	assert_int_equal(val, 0xC0DE03F8u);
	assert_ptr_equal(seen.vcpu, &vcpu);
	assert_ptr_equal(seen.dev, &dev_a);
	assert_int_equal(seen.where, 0x3F8);
	assert_int_equal(seen.size, 1);
	assert_true(seen.in_or_write);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3FF, 1, true, &val), 0);
	assert_int_equal(seen.where, 0x3FF);
	val = 0x12345678;
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3FC, 4, false, &val), 0);
	assert_int_equal(val, ~0x12345678u);
	assert_false(seen.in_or_write);
	assert_int_equal(seen.size, 4);
	/* adjacent ranges each get their own */
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x403, 1, true, &val), 0);
	assert_ptr_equal(seen.dev, &dev_b);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x404, 4, true, &val), 0);
	assert_ptr_equal(seen.dev, &dev_c);
	assert_int_equal(seen.calls, 5);

	/* straddling a range's end, or two ranges: no device sees it */
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3FE, 4, true, &val), KEEL_ENOENT);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3FF, 2, false, &val), KEEL_ENOENT);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x402, 4, true, &val), KEEL_ENOENT);
	/* starting before a range */
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3F7, 2, true, &val), KEEL_ENOENT);
	/* nothing there */
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x80, 1, false, &val), KEEL_ENOENT);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x408, 1, true, &val), KEEL_ENOENT);
	/* the top of the port space: 0xFFFF + 2 would wrap to port 0 */
	assert_int_equal(vm_pio_dispatch(&vcpu, 0xFFFF, 1, true, &val), 0);
	assert_int_equal(seen.where, 0xFFFF);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0xFFFF, 2, true, &val), KEEL_ENOENT);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0xFFFE, 4, true, &val), KEEL_ENOENT);
	/* sizes no exit produces */
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3F8, 0, true, &val), KEEL_EINVAL);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3F8, 8, true, &val), KEEL_EINVAL);
	assert_int_equal(seen.calls, 6);

	/* a handler's error comes back as is */
	fail_with = KEEL_EIO;
	assert_int_equal(vm_pio_dispatch(&vcpu, 0x3F9, 1, false, &val), KEEL_EIO);
	assert_int_equal(seen.calls, 7);
}

static void test_pio_empty(void **state)
{
	uint32_t val = 0;

	assert_int_equal(vm_pio_dispatch(&vcpu, 0, 1, true, &val), KEEL_ENOENT);
	assert_int_equal(vm_pio_dispatch(&vcpu, 0xFFFF, 1, true, &val), KEEL_ENOENT);
	assert_int_equal(seen.calls, 0);
}

static void test_mmio_register(void **state)
{
	assert_int_equal(vm_register_mmio(vm, 0xFEE00000, 0x1000, mmio_h, &dev_a), 0);
	assert_int_equal(vm->mmio_count, 1);
	assert_int_equal(vm_register_mmio(vm, 0xFEC00000, 0, mmio_h, NULL),
			 KEEL_EINVAL);
	assert_int_equal(vm_register_mmio(vm, 0xFEC00000, 0x20, NULL, NULL),
			 KEEL_EINVAL);
	/* overlaps */
	assert_int_equal(vm_register_mmio(vm, 0xFEDFF000, 0x1001, mmio_h, NULL),
			 KEEL_EEXIST);
	assert_int_equal(vm_register_mmio(vm, 0xFEE00FFF, 0x10, mmio_h, NULL),
			 KEEL_EEXIST);
	assert_int_equal(vm_register_mmio(vm, 0xFEE00800, 8, mmio_h, NULL),
			 KEEL_EEXIST);
	assert_int_equal(vm_register_mmio(vm, 0, UINT64_MAX, mmio_h, NULL),
			 KEEL_EEXIST);
	/* wrapping past 2^64; ending exactly there is fine */
	assert_int_equal(vm_register_mmio(vm, 0xFFFFFFFFFFFFF000ULL, 0x1001, mmio_h,
					  NULL),
			 KEEL_ERANGE);
	assert_int_equal(vm_register_mmio(vm, 2, UINT64_MAX, mmio_h, NULL),
			 KEEL_ERANGE);
	assert_int_equal(vm->mmio_count, 1);
	assert_int_equal(vm_register_mmio(vm, 0xFFFFFFFFFFFFF000ULL, 0x1000, mmio_h,
					  &dev_b),
			 0);
	/* touching */
	assert_int_equal(vm_register_mmio(vm, 0xFEDFF000, 0x1000, mmio_h, NULL), 0);
	assert_int_equal(vm_register_mmio(vm, 0xFEE01000, 0x1000, mmio_h, NULL), 0);
	/* and the last slot, then full */
	for (unsigned i = vm->mmio_count; i < VM_MAX_MMIO; i++)
		assert_int_equal(vm_register_mmio(vm, 0x100000000ULL + i * 0x10000,
						  0x10000, mmio_h, NULL),
				 0);
	assert_int_equal(vm_register_mmio(vm, 0xC0000000, 0x1000, mmio_h, NULL),
			 KEEL_ERANGE);
	assert_int_equal(vm->mmio_count, VM_MAX_MMIO);
}

/* One range over all of [1, 2^64): fine on its own. */
static void test_mmio_huge_range(void **state)
{
	uint64_t val;

	assert_int_equal(vm_register_mmio(vm, 1, UINT64_MAX, mmio_h, &dev_a), 0);
	assert_int_equal(vm_mmio_dispatch(&vcpu, UINT64_MAX - 7, 8, false, &val), 0);
	assert_int_equal(seen.where, UINT64_MAX - 8);
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0, 1, false, &val), KEEL_ENOENT);
	assert_int_equal(vm_register_mmio(vm, 0, 1, mmio_h, NULL), 0);
	assert_int_equal(vm_register_mmio(vm, 5, 1, mmio_h, NULL), KEEL_EEXIST);
}

static void test_mmio_dispatch(void **state)
{
	uint64_t val = 0;

	assert_int_equal(vm_register_mmio(vm, 0xFEE00000, 0x1000, mmio_h, &dev_a), 0);
	assert_int_equal(vm_register_mmio(vm, 0xFEE01000, 0x10, mmio_h, &dev_b), 0);
	assert_int_equal(vm_register_mmio(vm, 0xFFFFFFFFFFFFF000ULL, 0x1000, mmio_h,
					  &dev_c),
			 0);

	/* reads and writes of every width, with offsets */
	for (unsigned size = 1; size <= 8; size <<= 1) {
		uint64_t off = 0x1000 - size;

		assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE00000 + off,
						  (uint8_t)size, false, &val),
				 0);
		assert_int_equal(val, 0x1122334455667788ULL + off);
		assert_int_equal(seen.where, off);
		assert_int_equal(seen.size, size);
		assert_false(seen.in_or_write);
		assert_ptr_equal(seen.dev, &dev_a);
		val = 42;
		assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE01000, (uint8_t)size,
						  true, &val),
				 0);
		assert_int_equal(val, 42);
		assert_true(seen.in_or_write);
		assert_int_equal(seen.where, 0);
		assert_ptr_equal(seen.dev, &dev_b);
		assert_ptr_equal(seen.vcpu, &vcpu);
	}
	assert_int_equal(seen.calls, 8);
	/* an odd size from a split access goes to the device */
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE00010, 3, false, &val), 0);
	assert_int_equal(seen.size, 3);

	/* straddling the end of a range, two ranges, or the start */
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE00FFC, 8, false, &val),
			 KEEL_ENOENT);
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE0100C, 8, true, &val),
			 KEEL_ENOENT);
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEDFFFFE, 4, false, &val),
			 KEEL_ENOENT);
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE01010, 1, false, &val),
			 KEEL_ENOENT);
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0, 4, false, &val), KEEL_ENOENT);
	/* the top of the address space: the last byte, and a wrapping access */
	assert_int_equal(vm_mmio_dispatch(&vcpu, UINT64_MAX, 1, false, &val), 0);
	assert_int_equal(seen.where, 0xFFF);
	assert_ptr_equal(seen.dev, &dev_c);
	assert_int_equal(vm_mmio_dispatch(&vcpu, UINT64_MAX - 3, 8, false, &val),
			 KEEL_ENOENT);
	/* sizes no exit produces */
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE00000, 0, false, &val),
			 KEEL_EINVAL);
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE00000, 16, false, &val),
			 KEEL_EINVAL);
	assert_int_equal(seen.calls, 10);

	fail_with = KEEL_ERANGE;
	assert_int_equal(vm_mmio_dispatch(&vcpu, 0xFEE00000, 4, true, &val),
			 KEEL_ERANGE);
}

/* A full table: every range found, in any registration order. */
static void test_many_ranges(void **state)
{
	uint32_t pv;
	uint64_t mv;

	for (unsigned i = 0; i < VM_MAX_PIO; i++) {
		unsigned k = (i * 7) % VM_MAX_PIO; /* not in address order */

		assert_int_equal(vm_register_pio(vm, (uint16_t)(0x100 + k * 64),
						 (uint16_t)(k + 1), pio_h,
						 (char *)&dev_a + k),
				 0);
		assert_int_equal(vm_register_mmio(vm, 0xE0000000ULL + k * 0x2000,
						  0x1000 + k, mmio_h,
						  (char *)&dev_b + k),
				 0);
	}
	for (unsigned k = 0; k < VM_MAX_PIO; k++) {
		uint16_t port = (uint16_t)(0x100 + k * 64 + k);

		assert_int_equal(vm_pio_dispatch(&vcpu, port, 1, true, &pv), 0);
		assert_ptr_equal(seen.dev, (char *)&dev_a + k);
		assert_int_equal(vm_pio_dispatch(&vcpu, (uint16_t)(port + 1), 1, true,
						 &pv),
				 KEEL_ENOENT);
		assert_int_equal(vm_mmio_dispatch(&vcpu,
						  0xE0000000ULL + k * 0x2000 + 0x1000 + k - 1,
						  1, false, &mv),
				 0);
		assert_ptr_equal(seen.dev, (char *)&dev_b + k);
		assert_int_equal(seen.where, 0x1000 + k - 1);
		assert_int_equal(vm_mmio_dispatch(&vcpu,
						  0xE0000000ULL + k * 0x2000 + 0x1000 + k,
						  1, false, &mv),
				 KEEL_ENOENT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pio_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pio_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_huge_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_ranges, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
