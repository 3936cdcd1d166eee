/*
 * test_cpuid.c - the CPUID policy (kernel/virt/cpuid.c) fed with what this
 * machine's CPU reports and with synthetic all-ones and all-zeros inputs:
 * the hypervisor bit and Keel's signature, SVM/VMX and the other cleared
 * features never leaking, exact per-leaf results against a bit list kept
 * here (not the policy's own macros), topology per vcpu_id and vcpu_count,
 * the leaf caps, and zeros everywhere the policy has nothing to say.
 */
#include <cpuid.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/virt/virt.h"

#define BIT(n) (1u << (n))

static struct cpuid_guest host_g;

static void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

/* The guest's view of leaf/subleaf on this machine. */
static void view(const struct cpuid_guest *g, uint32_t leaf, uint32_t sub,
		 uint32_t r[4])
{
	host_cpuid(leaf, sub, r);
	cpuid_policy_apply(g, leaf, sub, r);
}

/* The policy applied to a synthetic host value in every register. */
static void synth(const struct cpuid_guest *g, uint32_t leaf, uint32_t sub,
		  uint32_t fill, uint32_t r[4])
{
	r[0] = r[1] = r[2] = r[3] = fill;
	cpuid_policy_apply(g, leaf, sub, r);
}

static uint32_t bits(const int *list)
{
	uint32_t m = 0;

	for (; *list >= 0; list++)
		m |= BIT(*list);
	return m;
}

static void expect_zero(const uint32_t r[4])
{
	assert_int_equal(r[0], 0);
	assert_int_equal(r[1], 0);
	assert_int_equal(r[2], 0);
	assert_int_equal(r[3], 0);
}

static int setup(void **state)
{
	uint32_t r[4];

	host_cpuid(0, 0, r);
	host_g.host_max_leaf = r[0];
	host_cpuid(0x80000000, 0, r);
	host_g.host_max_ext_leaf = r[0];
	host_g.vcpu_id = 0;
	host_g.vcpu_count = 1;
	return 0;
}

/* A host with everything: every leaf exists up to 0xFF / 0x800000FF. */
static const struct cpuid_guest big = {
	.vcpu_id = 3, .vcpu_count = 4,
	.host_max_leaf = 0xFF, .host_max_ext_leaf = 0x800000FF,
};

/* ---- the bits a guest may see, listed independently of cpuid.c ---- */

static const int l1_ecx[] = { 0, 1, 9, 12, 13, 19, 20, 22, 23, 25, 26, 28,
			      29, 30, 31, -1 };
static const int l1_edx[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15,
			      16, 17, 19, 23, 24, 25, 26, 27, -1 };
static const int l7_ebx[] = { 0, 3, 5, 6, 7, 8, 9, 13, 18, 19, 20, 23, 24,
			      29, -1 };
static const int l7_edx[] = { 4, 10, -1 };
static const int e1_ecx[] = { 0, 5, 6, 7, 8, 11, 16, 21, -1 };
static const int e1_edx[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14,
			      15, 16, 17, 20, 22, 23, 24, 25, 26, 29, 30,
			      31, -1 };

/* Features that must never reach a guest, whatever the host says. */
static void expect_no_leaks(const struct cpuid_guest *g,
			    void (*get)(const struct cpuid_guest *, uint32_t,
					uint32_t, uint32_t *, uint32_t *))
{
	uint32_t r[4];

	get(g, 1, 0, r, NULL);
	assert_true(r[2] & BIT(31));	    /* hypervisor present */
	assert_false(r[2] & BIT(5));	    /* VMX */
	assert_false(r[2] & BIT(6));	    /* SMX */
	assert_false(r[2] & BIT(3));	    /* MONITOR */
	assert_false(r[2] & BIT(15));	    /* PDCM */
	assert_false(r[2] & BIT(17));	    /* PCID */
	assert_true(r[2] & BIT(21));	    /* x2APIC: emulated */
	assert_true(r[2] & BIT(24));	    /* TSC-deadline: emulated */
	assert_false(r[2] & BIT(27));	    /* OSXSAVE */
	assert_true(r[3] & BIT(9));	    /* APIC: kernel/vdev/lapic.c */
	assert_false(r[3] & BIT(22));	    /* ACPI thermal */
	assert_false(r[3] & BIT(29));	    /* TM */
	assert_false(r[3] & BIT(31));	    /* PBE */
	get(g, 7, 0, r, NULL);
	assert_int_equal(r[0], 0);	    /* no subleaf beyond 0 */
	assert_false(r[1] & BIT(2));	    /* SGX */
	assert_false(r[1] & (BIT(4) | BIT(11))); /* HLE, RTM */
	assert_false(r[1] & BIT(25));	    /* Intel PT */
	assert_false(r[1] & BIT(16));	    /* AVX-512F */
	assert_int_equal(r[2], 0);
	get(g, 6, 0, r, NULL);
	expect_zero(r);
	get(g, 0xA, 0, r, NULL);
	expect_zero(r);
	get(g, 0x80000001, 0, r, NULL);
	assert_false(r[2] & BIT(2));	    /* SVM */
	assert_false(r[2] & BIT(12));	    /* SKINIT */
	assert_false(r[2] & BIT(13));	    /* WDT */
	assert_false(r[2] & BIT(15));	    /* LWP */
	assert_false(r[2] & BIT(22));	    /* TOPOEXT */
	assert_false(r[2] & (BIT(23) | BIT(24) | BIT(28))); /* perf counters */
	get(g, 0x8000000A, 0, r, NULL);
	expect_zero(r);
	get(g, 0x80000007, 0, r, NULL);
	assert_int_equal(r[0] | r[1] | r[2], 0);
	assert_int_equal(r[3] & ~BIT(8), 0);
	for (uint32_t sub = 0; sub < 64; sub++) {
		get(g, 0xD, sub, r, NULL);
		if (sub == 0) {
			assert_int_equal(r[0] & ~7u, 0); /* x87/SSE/AVX only */
			assert_int_equal(r[3], 0);
		} else if (sub == 1) {
			assert_int_equal(r[0] & ~7u, 0); /* no XSAVES */
		} else if (sub > 2) {
			expect_zero(r);
		}
	}
}

static void get_host(const struct cpuid_guest *g, uint32_t leaf, uint32_t sub,
		     uint32_t *r, uint32_t *unused)
{
	view(g, leaf, sub, r);
}

static void get_ones(const struct cpuid_guest *g, uint32_t leaf, uint32_t sub,
		     uint32_t *r, uint32_t *unused)
{
	synth(g, leaf, sub, 0xFFFFFFFFu, r);
}

static void get_zeros(const struct cpuid_guest *g, uint32_t leaf, uint32_t sub,
		      uint32_t *r, uint32_t *unused)
{
	synth(g, leaf, sub, 0, r);
}

static void test_no_leaks(void **state)
{
	expect_no_leaks(&host_g, get_host);
	expect_no_leaks(&big, get_ones);
	expect_no_leaks(&big, get_zeros);
}

static void test_signature(void **state)
{
	uint32_t r[4];
	char sig[13] = { 0 };

	/* whatever the host (or the hypervisor under Keel) says there */
	view(&host_g, 0x40000000, 0, r);
	assert_int_equal(r[0], 0x40000001);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	assert_string_equal(sig, "KeelKeelKeel");
	synth(&big, 0x40000000, 7, 0x12345678, r);
	assert_int_equal(r[0], 0x40000001);
	assert_memory_equal(&r[1], "KeelKeelKeel", 12);
	view(&host_g, 0x40000001, 0, r);
	assert_int_equal(r[0], 1);
	assert_int_equal(r[1] | r[2] | r[3], 0);
	synth(&big, 0x40000001, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 1);
	assert_int_equal(r[1] | r[2] | r[3], 0);
	/* the rest of the range and beyond it: zeros */
	for (uint32_t leaf = 0x40000002; leaf <= 0x40000100; leaf += 0x3F) {
		synth(&big, leaf, 0, 0xFFFFFFFF, r);
		expect_zero(r);
	}
	synth(&big, 0x400000FF, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	synth(&big, 0x40000100, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	synth(&big, 0x4FFFFFFF, 0, 0xFFFFFFFF, r);
	expect_zero(r);
}

/* All-ones in: exactly the bits the policy lets through, plus the computed
 * fields. */
static void test_all_ones_exact(void **state)
{
	uint32_t r[4];

	synth(&big, 0, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 0xD);
	assert_int_equal(r[1], 0xFFFFFFFF); /* vendor passes */
	synth(&big, 1, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 0xFFFFFFFF);
	assert_int_equal(r[1], 0x0304FFFFu); /* id 3, count 4, CLFLUSH/brand */
	assert_int_equal(r[2], bits(l1_ecx) | BIT(21) | BIT(24));
	assert_int_equal(r[3], bits(l1_edx) | BIT(9) | BIT(28)); /* HTT: 4 */
	synth(&big, 7, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 0);
	assert_int_equal(r[1], bits(l7_ebx));
	assert_int_equal(r[2], 0);
	assert_int_equal(r[3], bits(l7_edx));
	synth(&big, 7, 1, 0xFFFFFFFF, r);
	expect_zero(r);
	synth(&big, 0x80000000, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 0x80000008);
	synth(&big, 0x80000001, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 0xFFFFFFFF);
	assert_int_equal(r[2], bits(e1_ecx));
	assert_int_equal(r[3], bits(e1_edx));
	for (uint32_t leaf = 0x80000002; leaf <= 0x80000006; leaf++) {
		synth(&big, leaf, 0, 0xFFFFFFFF, r);
		assert_int_equal(r[0] & r[1] & r[2] & r[3], 0xFFFFFFFF);
	}
	synth(&big, 0x80000007, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[3], BIT(8));
	synth(&big, 0x80000008, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 0xFFFF);
	assert_int_equal(r[1], BIT(2));
	assert_int_equal(r[2], 3 | 2 << 12); /* 4 cores, 2 id bits */
	assert_int_equal(r[3], 0);
	synth(&big, 2, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0] & r[1] & r[2] & r[3], 0xFFFFFFFF);
	/* XSAVE: x87/SSE/AVX, 832 bytes; subleaf 1; subleaf 2 (AVX) passes */
	synth(&big, 0xD, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 7);
	assert_int_equal(r[1], 832);
	assert_int_equal(r[2], 832);
	assert_int_equal(r[3], 0);
	synth(&big, 0xD, 1, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 7);
	assert_int_equal(r[1], 0xFFFFFFFF); /* the host's compacted size */
	assert_int_equal(r[2] | r[3], 0);
	synth(&big, 0xD, 2, 0xFFFFFFFF, r);
	assert_int_equal(r[0] & r[1] & r[2] & r[3], 0xFFFFFFFF);
}

/* All-zeros in: only what the policy forces or computes. */
static void test_all_zeros_exact(void **state)
{
	uint32_t r[4];
	struct cpuid_guest one = big;

	synth(&big, 0, 0, 0, r);
	assert_int_equal(r[0], 0xD); /* from host_max_leaf */
	synth(&big, 1, 0, 0, r);
	assert_int_equal(r[0], 0);
	assert_int_equal(r[1], 0x03040000u);
	/* Forced whatever the host has: hypervisor, x2APIC, TSC-deadline,
	 * and the APIC (Keel's own models). */
	assert_int_equal(r[2], BIT(31) | BIT(21) | BIT(24));
	assert_int_equal(r[3], BIT(28) | BIT(9));
	one.vcpu_count = 1;
	one.vcpu_id = 0;
	synth(&one, 1, 0, 0, r);
	assert_int_equal(r[1], 0x00010000u);
	assert_int_equal(r[3], BIT(9)); /* APIC, no HTT for one vCPU */
	/* a host without XSAVE: leaf 0xD stays empty */
	synth(&big, 0xD, 0, 0, r);
	expect_zero(r);
	/* an SSE-only XSAVE host: 576 bytes */
	r[0] = 3;
	r[1] = r[2] = 4096;
	r[3] = 0xFF;
	cpuid_policy_apply(&big, 0xD, 0, r);
	assert_int_equal(r[0], 3);
	assert_int_equal(r[1], 576);
	assert_int_equal(r[2], 576);
	assert_int_equal(r[3], 0);
	synth(&big, 7, 0, 0, r);
	expect_zero(r);
	synth(&big, 0x80000001, 0, 0, r);
	expect_zero(r);
	synth(&big, 0x40000001, 0, 0, r);
	assert_int_equal(r[0], 1);
}

/* Leaves 1, 4, 0xB and 0x80000008 per vcpu_id and vcpu_count. */
static void test_topology(void **state)
{
	static const unsigned counts[] = { 1, 2, 3, 4, 5, 8, 17, 64 };

	for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned n = counts[c], shift = 0;

		while ((1u << shift) < n)
			shift++;
		for (unsigned id = 0; id < n; id++) {
			struct cpuid_guest g = big;
			uint32_t r[4];

			g.vcpu_id = id;
			g.vcpu_count = n;
			synth(&g, 1, 0, 0xFFFFFFFF, r);
			assert_int_equal(r[1] >> 24, id);
			assert_int_equal((r[1] >> 16) & 0xFF, n);
			assert_int_equal(!!(r[3] & BIT(28)), n > 1);

			/* 0xB: SMT level, core level, then invalid */
			synth(&g, 0xB, 0, 0xFFFFFFFF, r);
			assert_int_equal(r[0], 0);
			assert_int_equal(r[1], 1);
			assert_int_equal(r[2], 1u << 8 | 0);
			assert_int_equal(r[3], id);
			synth(&g, 0xB, 1, 0xFFFFFFFF, r);
			assert_int_equal(r[0], shift);
			assert_int_equal(r[1], n);
			assert_int_equal(r[2], 2u << 8 | 1);
			assert_int_equal(r[3], id);
			synth(&g, 0xB, 2, 0xFFFFFFFF, r);
			assert_int_equal(r[0], 0);
			assert_int_equal(r[1], 0);
			assert_int_equal(r[2], 2);
			assert_int_equal(r[3], id);
			/* every vCPU's id fits in the core level's field */
			assert_int_equal(id >> shift, 0);

			/* 0x80000008 ECX */
			synth(&g, 0x80000008, 0, 0, r);
			assert_int_equal(r[2], (n - 1) | shift << 12);

			/* leaf 4: L1 (type 1, level 1) and L3 (type 3, level 3) */
			r[0] = 0xFC000000u | 1u << 5 | 1;
			r[1] = r[2] = r[3] = 0x55;
			cpuid_policy_apply(&g, 4, 0, r);
			assert_int_equal(r[0] >> 26, n - 1);
			assert_int_equal((r[0] >> 14) & 0xFFF, 0);
			assert_int_equal(r[0] & 0x3FFF, 1u << 5 | 1);
			assert_int_equal(r[1], 0x55);
			r[0] = 3u << 5 | 3;
			cpuid_policy_apply(&g, 4, 3, r);
			assert_int_equal(r[0] >> 26, n - 1);
			assert_int_equal((r[0] >> 14) & 0xFFF, n - 1);
			/* the end of the list stays the end */
			r[0] = 0;
			cpuid_policy_apply(&g, 4, 4, r);
			assert_int_equal(r[0], 0);
		}
	}
}

/* The guest's maximum leaves follow the host's when lower, and everything
 * above them reads as zeros. */
static void test_caps(void **state)
{
	struct cpuid_guest g = big;
	uint32_t r[4];

	g.host_max_leaf = 7;
	g.host_max_ext_leaf = 0x80000004;
	synth(&g, 0, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 7);
	synth(&g, 7, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[1], bits(l7_ebx));
	synth(&g, 0xB, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	synth(&g, 0xD, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	synth(&g, 0x80000000, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 0x80000004);
	synth(&g, 0x80000004, 0, 0xFFFFFFFF, r);
	assert_int_equal(r[0], 0xFFFFFFFF);
	synth(&g, 0x80000008, 0, 0xFFFFFFFF, r);
	expect_zero(r);

	/* with a big host: the caps are 0xD and 0x80000008 */
	for (uint32_t leaf = 0xE; leaf <= 0x30; leaf++) {
		synth(&big, leaf, 0, 0xFFFFFFFF, r);
		expect_zero(r);
	}
	for (uint32_t leaf = 0x80000009; leaf <= 0x80000030; leaf++) {
		synth(&big, leaf, 0, 0xFFFFFFFF, r);
		expect_zero(r);
	}
	/* leaves with no row inside the range */
	static const uint32_t empty[] = { 3, 5, 6, 8, 9, 0xA, 0xC };
	for (unsigned i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		synth(&big, empty[i], 0, 0xFFFFFFFF, r);
		expect_zero(r);
	}
	/* other ranges */
	synth(&big, 0xC0000000, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	synth(&big, 0x8FFFFFFF, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	synth(&big, 0xFFFFFFFF, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	/* a host without extended leaves: all of them zero */
	g.host_max_ext_leaf = 0x12345;
	synth(&g, 0x80000000, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	synth(&g, 0x80000001, 0, 0xFFFFFFFF, r);
	expect_zero(r);
	/* the subleaf does not matter where the leaf has none */
	synth(&big, 1, 0, 0xFFFFFFFF, r);
	uint32_t r2[4];
	synth(&big, 1, 0x1234, 0xFFFFFFFF, r2);
	assert_memory_equal(r, r2, sizeof(r));
}

/* On this machine's CPU: what passes really comes from the host, what is
 * computed is this VM's, and the caps hold. */
static void test_real_host(void **state)
{
	uint32_t h[4], r[4];

	view(&host_g, 0, 0, r);
	host_cpuid(0, 0, h);
	assert_int_equal(r[0], h[0] < 0xD ? h[0] : 0xD);
	assert_int_equal(r[1], h[1]);
	assert_int_equal(r[2], h[2]);
	assert_int_equal(r[3], h[3]);

	host_cpuid(1, 0, h);
	view(&host_g, 1, 0, r);
	assert_int_equal(r[0], h[0]);
	assert_int_equal(r[2], (h[2] & bits(l1_ecx)) | BIT(31) | BIT(21) | BIT(24));
	assert_int_equal(r[3], (h[3] & bits(l1_edx)) | BIT(9));
	assert_int_equal(r[1] & 0xFFFF, h[1] & 0xFFFF);
	assert_int_equal(r[1] >> 16, 0x0001); /* id 0, one vCPU */
	/* what the guest sees is never more than the host has, except for
	 * the hypervisor bit */
	assert_int_equal(r[2] & ~h[2] & ~BIT(31), 0);
	assert_int_equal(r[3] & ~h[3], 0);

	if (host_g.host_max_leaf >= 7) {
		host_cpuid(7, 0, h);
		view(&host_g, 7, 0, r);
		assert_int_equal(r[1], h[1] & bits(l7_ebx));
		assert_int_equal(r[3], h[3] & bits(l7_edx));
	}
	host_cpuid(0x80000000, 0, h);
	view(&host_g, 0x80000000, 0, r);
	assert_true(r[0] <= 0x80000008 && r[0] <= h[0]);
	if (host_g.host_max_ext_leaf >= 0x80000001) {
		host_cpuid(0x80000001, 0, h);
		view(&host_g, 0x80000001, 0, r);
		assert_int_equal(r[2], h[2] & bits(e1_ecx));
		assert_int_equal(r[3], h[3] & bits(e1_edx));
	}
	if (host_g.host_max_ext_leaf >= 0x80000004) {
		char brand[49] = { 0 }, want[49] = { 0 };

		for (uint32_t i = 0; i < 3; i++) {
			view(&host_g, 0x80000002 + i, 0, r);
			memcpy(brand + 16 * i, r, 16);
			host_cpuid(0x80000002 + i, 0, h);
			memcpy(want + 16 * i, h, 16);
		}
		assert_string_equal(brand, want);
	}
	if (host_g.host_max_ext_leaf >= 0x80000008) {
		host_cpuid(0x80000008, 0, h);
		view(&host_g, 0x80000008, 0, r);
		assert_int_equal(r[0], h[0] & 0xFFFF);
		assert_true((r[0] & 0xFF) >= 36); /* physical address bits */
	}
	if (host_g.host_max_leaf >= 0xD) {
		host_cpuid(0xD, 0, h);
		view(&host_g, 0xD, 0, r);
		assert_int_equal(r[0], h[0] & 7);
		if (h[0] & 1)
			assert_int_equal(r[2], (h[0] & 4) ? 832 : 576);
		if (h[0] & 4) {
			host_cpuid(0xD, 2, h);
			view(&host_g, 0xD, 2, r);
			assert_memory_equal(r, h, sizeof(r));
			assert_int_equal(r[0], 256); /* AVX: 256 bytes... */
			assert_int_equal(r[1], 576); /* ...at 576 */
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_leaks, setup),
		cmocka_unit_test_setup(test_signature, setup),
		cmocka_unit_test_setup(test_all_ones_exact, setup),
		cmocka_unit_test_setup(test_all_zeros_exact, setup),
		cmocka_unit_test_setup(test_topology, setup),
		cmocka_unit_test_setup(test_caps, setup),
		cmocka_unit_test_setup(test_real_host, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
