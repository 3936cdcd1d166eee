/*
 * cpuid.c - the CPUID policy: what a guest sees for every leaf, in one table
 * (cpuid_rules) plus the few fields computed per vCPU (APIC ids, counts,
 * topology, XSAVE sizes). A leaf with no row reads as zeros: a feature
 * reaches a guest only through a row that lets it pass. cpuid_guest_view,
 * the kernel's entry, runs CPUID on this host CPU and applies the policy.
 *
 * Rule of thumb for "pass": an instruction-set feature whose state Keel
 * leaves with the guest (general, x87/SSE/AVX registers) or keeps in the
 * VMCB/VMCS passes; a feature that needs an MSR, an intercept or a device
 * model Keel does not have yet is cleared; information only (cache
 * descriptors, brand string, address sizes) passes.
 */
#include "kernel/compiler.h"
#include "kernel/virt/virt.h"

#define B(n) (1u << (n))
#define ALL 0xFFFFFFFFu
#define ANY 0xFFFFFFFFu /* subleaf: the leaf has none (or all alike) */

#define CPUID_HV_BASE 0x40000000u
#define CPUID_EXT_BASE 0x80000000u
/* Highest leaves a guest sees (or the host's, when lower). 0xD keeps
 * out 0xF/0x10 (RDT), 0x12 (SGX), 0x14 (PT) and the rest. */
#define CPUID_MAX_BASIC 0xDu
#define CPUID_MAX_EXT 0x80000008u

/* "Keel" in EBX, ECX and EDX of 0x40000000, as the bytes of a string:
 * "KeelKeelKeel". */
#define KEEL_CPUID_SIG 0x6C65654Bu
#define KEEL_CPUID_MAX_HV 0x40000001u
#define KEEL_CPUID_VERSION 1u /* Keel's guest interface, 0x40000001 EAX */

/* ---- leaf 1: SDM vol. 2A, CPUID, tables 3-10 and 3-11 ---- */

/* EBX: brand index (7:0) and CLFLUSH line size (15:8) pass; 23:16 and
 * 31:24 are this VM's (FIX_LEAF1). */
#define L1_EBX_PASS 0x0000FFFFu

#define L1_ECX_PASS                                                           \
	(B(0)	   /* SSE3 */                                                   \
	 | B(1)	   /* PCLMULQDQ */                                              \
	 | B(9)	   /* SSSE3 */                                                  \
	 | B(12)   /* FMA (AVX state) */                                        \
	 | B(13)   /* CMPXCHG16B */                                             \
	 | B(19)   /* SSE4.1 */                                                 \
	 | B(20)   /* SSE4.2 */                                                 \
	 | B(22)   /* MOVBE */                                                  \
	 | B(23)   /* POPCNT */                                                 \
	 | B(25)   /* AES-NI */                                                 \
	 | B(26)   /* XSAVE: x87/SSE/AVX only, see leaf 0xD */                  \
	 | B(28)   /* AVX */                                                    \
	 | B(29)   /* F16C */                                                   \
	 | B(30))  /* RDRAND */
/*
 * Cleared in ECX: 2 DTES64, 4 DS-CPL, 11 SDBG, 14 xTPR, 15 PDCM, 18 DCA
 * (debug store, debug and performance MSRs, not emulated); 3 MONITOR (a
 * guest MWAIT would idle the host CPU; no intercept); 5 VMX, 6 SMX (no
 * nested virtualization); 7 EIST, 8 TM2 (power management MSRs); 10
 * CNXT-ID; 17 PCID (conservative until INVPCID and CR4.PCIDE are handled
 * by both backends); 27 OSXSAVE (mirrors the guest's CR4.OSXSAVE, which
 * the issue that adds XSAVE handling will track; 0 until then, so
 * user-space that checks it before using AVX stays on SSE). Forced on,
 * whatever the host has: 21 x2APIC and 24 TSC-deadline (kernel/vdev's local
 * APIC model has both), 31 the hypervisor bit.
 */

#define L1_EDX_PASS                                                           \
	(B(0)	   /* FPU */                                                    \
	 | B(1)	   /* VME: CR4.VME is the guest's, in hardware */               \
	 | B(2)	   /* DE */                                                     \
	 | B(3)	   /* PSE */                                                    \
	 | B(4)	   /* TSC: the host's TSC, no offset */                         \
	 | B(5)	   /* MSR: RDMSR/WRMSR exist (kernel/virt/msr.c decides) */     \
	 | B(6)	   /* PAE */                                                    \
	 | B(7)	   /* MCE: #MC and CR4.MCE */                                   \
	 | B(8)	   /* CX8 */                                                    \
	 | B(11)   /* SEP: SYSENTER MSRs are in the VMCB/VMCS */                \
	 | B(12)   /* MTRR: msr.c answers MTRRcap = 0 (no ranges to program) */ \
	 | B(13)   /* PGE */                                                    \
	 | B(14)   /* MCA: MCG_CAP and friends must be answered by msr.c */     \
	 | B(15)   /* CMOV */                                                   \
	 | B(16)   /* PAT: guest PAT is in the VMCB (G_PAT) / VMCS */           \
	 | B(17)   /* PSE-36 */                                                 \
	 | B(19)   /* CLFSH */                                                  \
	 | B(23)   /* MMX */                                                    \
	 | B(24)   /* FXSR */                                                   \
	 | B(25)   /* SSE */                                                    \
	 | B(26)   /* SSE2 */                                                   \
	 | B(27))  /* SS: self-snoop, information */
/*
 * Forced on in EDX: 9 APIC (kernel/vdev/lapic.c). Cleared: 18 PSN; 21 DS;
 * 22 ACPI (thermal MSRs); 29 TM; 31 PBE; 28 HTT is computed (FIX_LEAF1).
 */

/* ---- leaf 7 subleaf 0: SDM vol. 2A, CPUID, table 3-8 ---- */

#define L7_EBX_PASS                                                           \
	(B(0)	   /* FSGSBASE: the bases are in the VMCB/VMCS */               \
	 | B(3)	   /* BMI1 */                                                   \
	 | B(5)	   /* AVX2 (AVX state) */                                       \
	 | B(6)	   /* FDP_EXCPTN_ONLY, information */                           \
	 | B(7)	   /* SMEP: guest CR4, in hardware */                           \
	 | B(8)	   /* BMI2 */                                                   \
	 | B(9)	   /* ERMS, information */                                      \
	 | B(13)   /* FPU CS/DS deprecated, information */                      \
	 | B(18)   /* RDSEED */                                                 \
	 | B(19)   /* ADX */                                                    \
	 | B(20)   /* SMAP: guest CR4, in hardware */                           \
	 | B(23)   /* CLFLUSHOPT */                                             \
	 | B(24)   /* CLWB */                                                   \
	 | B(29))  /* SHA */
/*
 * Cleared in EBX: 1 TSC_ADJUST (MSR not emulated); 2 SGX; 4 HLE, 11 RTM
 * (TSX: withdrawn by microcode on many parts, and an abort channel between
 * guests); 10 INVPCID (with PCID); 12 RDT-M, 15 RDT-A (MSRs); 14 MPX (its
 * XSAVE components are not passed); 16, 17, 21, 26-28, 30, 31 AVX-512 (the
 * opmask/ZMM XSAVE components are not passed); 22 PCOMMIT; 25 Intel PT.
 * EAX (highest subleaf) is 0: subleaves 1 and up read as zeros.
 * ECX: nothing passes. Each bit needs state Keel does not switch (3 PKU,
 * 4 OSPKE, 7 CET_SS), an intercept it does not have (2 UMIP, 5 WAITPKG,
 * 22 RDPID with TSC_AUX), or AVX-512 (1, 6, 11, 12, 14); the rest (GFNI,
 * VAES, ...) are not needed by the guests Keel runs yet.
 */
#define L7_EDX_PASS                                                           \
	(B(4)	   /* FSRM: fast short REP MOVSB, information */                \
	 | B(10))  /* MD_CLEAR: VERW clears CPU buffers, a fact of the CPU */
/*
 * Cleared in EDX: 26 IBRS/IBPB, 27 STIBP, 28 L1D_FLUSH, 29 ARCH_CAPABILITIES,
 * 31 SSBD (their MSRs are not passed through or emulated), 2, 3, 8 AVX-512,
 * 14 SERIALIZE, 15 HYBRID, 18 PCONFIG, 20 CET_IBT.
 */

/* ---- leaf 0xD: SDM vol. 1, 13.2 ---- */

/* Subleaf 0 EAX/EDX: XCR0 bits the guest may set: x87 (0), SSE (1), AVX (2). */
#define XCR0_PASS (B(0) | B(1) | B(2))
/* Subleaf 1 EAX: XSAVEOPT (0), XSAVEC (1), XGETBV with ECX = 1 (2).
 * Cleared: 3 XSAVES/XRSTORS (needs IA32_XSS), 4 XFD. */
#define XSAVE1_PASS (B(0) | B(1) | B(2))
/* The standard layout: legacy region (512) + XSAVE header (64), then the
 * AVX upper halves at offset 576, 256 bytes (what every CPU reports in
 * subleaf 2). */
#define XSAVE_SIZE_SSE 576u
#define XSAVE_SIZE_AVX 832u

/* ---- 0x80000001: AMD APM vol. 3, E.4.2; SDM vol. 2A table 3-8 ---- */

#define E1_ECX_PASS                                                           \
	(B(0)	   /* LAHF/SAHF in 64-bit mode */                               \
	 | B(5)	   /* ABM: LZCNT */                                             \
	 | B(6)	   /* SSE4A */                                                  \
	 | B(7)	   /* misaligned SSE */                                         \
	 | B(8)	   /* PREFETCHW */                                              \
	 | B(11)   /* XOP (AVX state) */                                        \
	 | B(16)   /* FMA4 (AVX state) */                                       \
	 | B(21))  /* TBM */
/*
 * Cleared in ECX: 1 CmpLegacy (topology comes from 0x80000008 and 0xB); 2
 * SVM (no nested virtualization); 3 ExtApicSpace, 4 AltMovCr8 (no local
 * APIC model); 9 OSVW, 10 IBS, 13 WDT, 15 LWP, 17 TCE, 19 NodeId (MSRs or
 * state not emulated); 12 SKINIT; 22 TOPOEXT (its leaves 0x8000001D/1E are
 * above the cap); 23, 24, 28 PerfCtrExt, 26 DataBkptExt, 27 PerfTsc
 * (performance and debug MSRs); 29 MONITORX (as MONITOR); 30 AddrMaskExt.
 */
#define E1_EDX_PASS                                                           \
	(B(0) | B(1) | B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8)         \
	 /* AMD's copies of leaf 1 EDX bits, same policy */                     \
	 | B(9)	   /* APIC (emulated; reserved on Intel, so passed) */          \
	 | B(12) | B(13) | B(14) | B(15) | B(16) | B(17) | B(23) | B(24)     \
	 | B(11)   /* SYSCALL: STAR/LSTAR/CSTAR/SFMASK are in the VMCB/VMCS */  \
	 | B(20)   /* NX */                                                     \
	 | B(22)   /* MMX extensions */                                         \
	 | B(25)   /* FFXSR: EFER.FFXSR is the guest's */                       \
	 | B(26)   /* 1 GiB pages in the guest's own tables */                  \
	 | B(29)   /* LM */                                                     \
	 | B(30)   /* 3DNow! extensions */                                      \
	 | B(31))  /* 3DNow! */

/* ---- 0x80000007 and 0x80000008 ---- */

/* EDX bit 8: invariant TSC. The guest's TSC is the host's, so it is as
 * invariant as the host's. The rest (power management, APM E.4.6) is not
 * emulated. */
#define E7_EDX_PASS B(8)
/* EAX: physical (7:0) and linear (15:8) address sizes pass; 23:16 (guest
 * physical size, AMD) stays 0, meaning "same as 7:0". EBX: only bit 2
 * (FXSAVE/XSAVE always save the error pointers, information); CLZERO,
 * WBNOINVD and the speculation-control bits need intercepts or MSRs. */
#define E8_EAX_PASS 0x0000FFFFu
#define E8_EBX_PASS B(2)

/* ----------------------------------------------------------- the table -- */

/* Fields computed after pass/force, per VM and vCPU. */
enum cpuid_fix {
	FIX_NONE = 0,
	FIX_MAX_BASIC,	 /* leaf 0 EAX: min(host, CPUID_MAX_BASIC) */
	FIX_LEAF1,	 /* APIC id, logical processor count, HTT */
	FIX_CACHES,	 /* leaf 4: cores per package, vCPUs per cache */
	FIX_TOPOLOGY,	 /* leaves 0xB and 0x1F: made up entirely */
	FIX_XSAVE_SIZE,	 /* leaf 0xD.0: sizes of the passed components */
	FIX_MAX_EXT,	 /* 0x80000000 EAX: min(host, CPUID_MAX_EXT) */
	FIX_AMD_CORES,	 /* 0x80000008 ECX: cores per package */
};

struct cpuid_rule {
	uint32_t leaf;
	uint32_t subleaf;  /* ANY, or the one subleaf this row is for */
	uint32_t pass[4];  /* host bits the guest sees: EAX, EBX, ECX, EDX */
	uint32_t force[4]; /* bits the guest sees set, whatever the host has */
	enum cpuid_fix fix;
};

/*
 * Every leaf a guest can see something in. Leaves not listed (3 serial
 * number, 5 MONITOR/MWAIT, 8, 9 DCA, 0xC, the subleaves not listed, ...),
 * leaves above the guest's maximum and unknown ranges read as zeros. (Intel
 * CPUs answer a basic leaf above the maximum with the highest basic leaf's
 * values; zeros say "nothing here" more plainly and no OS relies on the
 * quirk.)
 */
static const struct cpuid_rule cpuid_rules[] = {
	/* Highest basic leaf (capped) and the vendor string. */
	{ 0x0, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_MAX_BASIC },
	/* Signature (family/model/stepping) passes: errata workarounds in
	 * the guest must match the CPU it runs on. */
	{ 0x1, ANY, { ALL, L1_EBX_PASS, L1_ECX_PASS, L1_EDX_PASS },
	  { 0, 0, B(31) /* hypervisor */ | B(21) /* x2APIC */ |
		  B(24) /* TSC-deadline */, B(9) /* APIC */ }, FIX_LEAF1 },
	/* Cache and TLB descriptors: information. */
	{ 0x2, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_NONE },
	/* Deterministic cache parameters: the host's caches, this VM's core
	 * counts. */
	{ 0x4, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_CACHES },
	/* Thermal and power management: none. */
	{ 0x6, ANY, { 0 }, { 0 }, FIX_NONE },
	/* Structured extended features: subleaf 0 only. */
	{ 0x7, 0, { 0, L7_EBX_PASS, 0, L7_EDX_PASS }, { 0 }, FIX_NONE },
	/* Architectural performance monitoring: none (no PMU model). */
	{ 0xA, ANY, { 0 }, { 0 }, FIX_NONE },
	/* Extended topology: one thread per core, vcpu_count cores. */
	{ 0xB, ANY, { 0 }, { 0 }, FIX_TOPOLOGY },
	/* XSAVE: x87, SSE and AVX; the host's layout for AVX (subleaf 2). */
	{ 0xD, 0, { XCR0_PASS, 0, 0, 0 }, { 0 }, FIX_XSAVE_SIZE },
	/* EBX: the compacted size for XCR0 | IA32_XSS, the host's own:
	 * Keel runs with XCR0 = what guests may enable, XSS = 0. */
	{ 0xD, 1, { XSAVE1_PASS, ALL, 0, 0 }, { 0 }, FIX_NONE },
	{ 0xD, 2, { ALL, ALL, ALL, ALL }, { 0 }, FIX_NONE },
	/* V2 extended topology: as 0xB (reached only if CPUID_MAX_BASIC
	 * grows past 0x1F). */
	{ 0x1F, ANY, { 0 }, { 0 }, FIX_TOPOLOGY },

	/* Keel's own leaves: the highest one and the vendor signature... */
	{ 0x40000000, ANY, { 0 },
	  { KEEL_CPUID_MAX_HV, KEEL_CPUID_SIG, KEEL_CPUID_SIG, KEEL_CPUID_SIG },
	  FIX_NONE },
	/* ...and the interface version. 0x40000002-0x400000FF: zeros. */
	{ 0x40000001, ANY, { 0 }, { KEEL_CPUID_VERSION, 0, 0, 0 }, FIX_NONE },

	/* Highest extended leaf (capped); AMD's vendor string. */
	{ 0x80000000, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_MAX_EXT },
	/* Extended signature and features. */
	{ 0x80000001, ANY, { ALL, ALL, E1_ECX_PASS, E1_EDX_PASS }, { 0 },
	  FIX_NONE },
	/* Processor brand string. */
	{ 0x80000002, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_NONE },
	{ 0x80000003, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_NONE },
	{ 0x80000004, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_NONE },
	/* L1 (AMD) and L2/L3 cache and TLB information. */
	{ 0x80000005, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_NONE },
	{ 0x80000006, ANY, { ALL, ALL, ALL, ALL }, { 0 }, FIX_NONE },
	/* Power management: invariant TSC only. */
	{ 0x80000007, ANY, { 0, 0, 0, E7_EDX_PASS }, { 0 }, FIX_NONE },
	/* Address sizes, this VM's core count. */
	{ 0x80000008, ANY, { E8_EAX_PASS, E8_EBX_PASS, 0, 0 }, { 0 },
	  FIX_AMD_CORES },
	/* SVM features: none (also above the cap; listed to say so). */
	{ 0x8000000A, ANY, { 0 }, { 0 }, FIX_NONE },
};

#define CPUID_NRULES (sizeof(cpuid_rules) / sizeof(cpuid_rules[0]))

static uint32_t cpuid_min(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t cpuid_max_basic(const struct cpuid_guest *g)
{
	return cpuid_min(g->host_max_leaf, CPUID_MAX_BASIC);
}

/* 0 when the host has no extended leaves: then every one reads as zeros. */
static uint32_t cpuid_max_ext(const struct cpuid_guest *g)
{
	if (g->host_max_ext_leaf < CPUID_EXT_BASE)
		return 0;
	return cpuid_min(g->host_max_ext_leaf, CPUID_MAX_EXT);
}

/* Bits needed to number n things: the APIC-id field width of a level. */
static uint32_t cpuid_id_bits(uint32_t n)
{
	uint32_t bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static const struct cpuid_rule *cpuid_rule_find(const struct cpuid_guest *g,
						uint32_t leaf, uint32_t subleaf)
{
	if (leaf < CPUID_HV_BASE) {
		if (leaf > cpuid_max_basic(g))
			return NULL;
	} else if (leaf >= CPUID_EXT_BASE) {
		if (leaf > cpuid_max_ext(g))
			return NULL;
	}
	for (unsigned i = 0; i < CPUID_NRULES; i++) {
		const struct cpuid_rule *r = &cpuid_rules[i];

		if (r->leaf == leaf && (r->subleaf == ANY || r->subleaf == subleaf))
			return r;
	}
	return NULL;
}

static void cpuid_fix(const struct cpuid_guest *g, enum cpuid_fix fix,
		      uint32_t subleaf, uint32_t regs[4])
{
	uint32_t count = g->vcpu_count ? g->vcpu_count : 1;
	uint32_t id = g->vcpu_id;

	switch (fix) {
	case FIX_NONE:
		break;
	case FIX_MAX_BASIC:
		regs[0] = cpuid_max_basic(g);
		break;
	case FIX_LEAF1:
		/* SDM table 3-10: EBX 31:24 initial APIC id, 23:16 logical
		 * processors per package (valid when EDX.HTT = 1). */
		regs[1] |= (id & 0xFF) << 24 | cpuid_min(count, 0xFF) << 16;
		if (count > 1)
			regs[3] |= B(28);
		break;
	case FIX_CACHES:
		/* SDM table 3-8, leaf 4: EAX 31:26 cores per package - 1, 25:14
		 * logical processors sharing the cache - 1: L1/L2 per vCPU,
		 * L3 shared by all. Type 0 (4:0) ends the list: left as is. */
		if (regs[0] & 0x1F) {
			uint32_t level = (regs[0] >> 5) & 7;
			uint32_t share = level >= 3 ? count - 1 : 0;

			regs[0] &= 0x00003FFFu;
			regs[0] |= (count - 1) << 26 | (share & 0xFFF) << 14;
		}
		break;
	case FIX_TOPOLOGY:
		/* SDM table 3-8, leaf 0xB: level 0 SMT (type 1), one thread;
		 * level 1 core (type 2), count cores, shift = id bits; then
		 * invalid (type 0). EDX: x2APIC id = vcpu_id at every level. */
		regs[0] = regs[1] = 0;
		regs[2] = subleaf & 0xFF;
		regs[3] = id;
		if (subleaf == 0) {
			regs[1] = 1;
			regs[2] |= 1u << 8;
		} else if (subleaf == 1) {
			regs[0] = cpuid_id_bits(count);
			regs[1] = count;
			regs[2] |= 2u << 8;
		}
		break;
	case FIX_XSAVE_SIZE:
		/* Without x87 in XCR0's mask the host has no XSAVE at all. */
		if (!(regs[0] & B(0))) {
			regs[0] = regs[1] = regs[2] = regs[3] = 0;
			break;
		}
		/* ECX: the area for everything the guest may enable. EBX is
		 * for what its XCR0 enables now, which Keel does not track
		 * yet: the same maximum, never too small. */
		regs[2] = (regs[0] & B(2)) ? XSAVE_SIZE_AVX : XSAVE_SIZE_SSE;
		regs[1] = regs[2];
		break;
	case FIX_MAX_EXT:
		regs[0] = cpuid_max_ext(g);
		break;
	case FIX_AMD_CORES:
		/* APM E.4.7: ECX 7:0 cores per package - 1, 15:12 APIC-id bits
		 * for the core (reserved, 0, on Intel: set anyway, harmless). */
		regs[2] = ((count - 1) & 0xFF) | cpuid_id_bits(count) << 12;
		break;
	}
}

__hot void cpuid_policy_apply(const struct cpuid_guest *g, uint32_t leaf,
			uint32_t subleaf, uint32_t regs[4])
{
	const struct cpuid_rule *r = cpuid_rule_find(g, leaf, subleaf);

	if (!r) {
		regs[0] = regs[1] = regs[2] = regs[3] = 0;
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		regs[i] = (regs[i] & r->pass[i]) | r->force[i];
	cpuid_fix(g, r->fix, subleaf, regs);
}

#ifndef KEEL_HOST_TEST
#include "kernel/arch/x86.h"

/* The host's highest leaves, read on first use: every CPU reports the same,
 * so a race between two first users writes the same values. host_max_ext
 * is published before host_max, which says both are there. */
static uint32_t cpuid_host_max, cpuid_host_max_ext;

__hot void cpuid_guest_view(struct vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
		      uint32_t regs[4])
{
	struct cpuid_guest g = {
		.vcpu_id = vcpu->id,
		.vcpu_count = vcpu->vm->vcpu_count,
	};

	g.host_max_leaf = __atomic_load_n(&cpuid_host_max, __ATOMIC_ACQUIRE);
	if (!g.host_max_leaf) {
		uint32_t a, b, c, d;

		cpuid(CPUID_EXT_BASE, 0, &a, &b, &c, &d);
		__atomic_store_n(&cpuid_host_max_ext, a, __ATOMIC_RELAXED);
		cpuid(0, 0, &a, &b, &c, &d);
		__atomic_store_n(&cpuid_host_max, a, __ATOMIC_RELEASE);
		g.host_max_leaf = a;
	}
	g.host_max_ext_leaf = __atomic_load_n(&cpuid_host_max_ext,
					      __ATOMIC_RELAXED);
	cpuid(leaf, subleaf, &regs[0], &regs[1], &regs[2], &regs[3]);
	cpuid_policy_apply(&g, leaf, subleaf, regs);
}
#endif
