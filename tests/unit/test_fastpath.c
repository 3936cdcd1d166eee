/*
 * test_fastpath.c - kernel/virt/fastpath.h, what the backends' fast paths
 * answer from: the per-vCPU CPUID answers and the cached length of the last
 * decoded instruction, which is only trusted while the guest's bytes at its
 * host address are the same (a guest that rewrites its code there gets the
 * slow path, which decodes again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/virt/fastpath.h"

uint64_t mm_direct_offset; /* 0: a "host physical" address is a pointer */

static void test_cpuid_answers(void **state)
{
	static struct vcpu v;
	uint32_t in[4] = {0x11, 0x22, 0x33, 0x44}, out[4] = {0};

	memset(&v, 0, sizeof(v));
	assert_false(vcpu_cpuid_cached(&v, 1, 0, out));
	vcpu_cpuid_remember(&v, 1, 0, in);
	assert_true(vcpu_cpuid_cached(&v, 1, 0, out));
	assert_memory_equal(out, in, sizeof(in));
	/* Another subleaf, or a leaf that shares the slot, is a miss. */
	assert_false(vcpu_cpuid_cached(&v, 1, 1, out));
	for (uint32_t leaf = 2; leaf < 64; leaf++)
		if (cpuid_cache_slot(leaf, 0) == cpuid_cache_slot(1, 0)) {
			assert_false(vcpu_cpuid_cached(&v, leaf, 0, out));
			break;
		}
}

static void test_insn_length_needs_the_same_bytes(void **state)
{
	static struct vcpu v;
	static uint8_t code[16] = {0x66, 0x0F, 0xA2, 0x90}; /* o16 cpuid; nop */
	unsigned mode = 0;

	memset(&v, 0, sizeof(v));
	assert_int_equal(vcpu_insn_len_cached(&v, 0x1000, 0x5000, &mode), 0);
	v.insn_cache.rip = 0x1000;
	v.insn_cache.cr3 = 0x5000;
	v.insn_cache.hpa = (uint64_t)(uintptr_t)code;
	v.insn_cache.len = 3;
	v.insn_cache.mode = 4;
	memcpy(v.insn_cache.bytes, code, 3);
	assert_int_equal(vcpu_insn_len_cached(&v, 0x1000, 0x5000, &mode), 3);
	assert_int_equal(mode, 4);
	/* Another RIP or address space: a miss. */
	assert_int_equal(vcpu_insn_len_cached(&v, 0x1001, 0x5000, &mode), 0);
	assert_int_equal(vcpu_insn_len_cached(&v, 0x1000, 0x6000, &mode), 0);
	/* The guest rewrote the last byte, then the first: a miss each time;
	 * a change after the instruction does not matter. */
	code[2] = 0xA3;
	assert_int_equal(vcpu_insn_len_cached(&v, 0x1000, 0x5000, &mode), 0);
	code[2] = 0xA2;
	code[0] = 0x90;
	assert_int_equal(vcpu_insn_len_cached(&v, 0x1000, 0x5000, &mode), 0);
	code[0] = 0x66;
	code[3] = 0xCC;
	assert_int_equal(vcpu_insn_len_cached(&v, 0x1000, 0x5000, &mode), 3);
}

static void test_rip_advance_wraps_by_mode(void **state)
{
	assert_int_equal(vcpu_rip_advance(0xFFFF, 2, 2), 1);
	assert_int_equal(vcpu_rip_advance(0xFFFFFFFF, 3, 4), 2);
	assert_true(vcpu_rip_advance(0xFFFFFFFF, 3, 8) == 0x100000002ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_answers),
		cmocka_unit_test(test_insn_length_needs_the_same_bytes),
		cmocka_unit_test(test_rip_advance_wraps_by_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
