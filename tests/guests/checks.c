/*
 * checks.c - the "checks" test guest: every check that leaves the VM
 * running, on vCPU 0 (cpuid, io-emulated, io-unhandled, msr-allowed,
 * msr-emulated, msr-denied, mmio, modes, hlt-timer, smp-ap); the other vCPUs
 * report in. Ends the VM with the number of failed checks as its status.
 * GUEST_BARE builds a variant for plain QEMU without Keel (README.md,
 * "Testing the guests without Keel").
 */
#include "tests/guests/guest.h"

#define MSR_APIC_BASE 0x1B
#define MSR_TSC 0x10
#define MSR_MISC_ENABLE 0x1A0
#define MSR_PAT 0x277
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_CSTAR 0xC0000083
#define MSR_SFMASK 0xC0000084
#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102

#define PAT_RESET 0x0007040600070406ULL /* Intel SDM vol. 3A, 12.12.4 */
#define APIC_BASE_BSP 0xFEE00900ULL	/* enabled, BSP, at 0xFEE00000 */
#define APIC_BASE_AP 0xFEE00800ULL

#define UNUSED_PORT 0x0660	   /* no device: IN gives all ones */
#define UNUSED_PORT_IMM "$0xE0" /* the same, for the imm8 forms */

#define FL_CF 0x001
#define FL_PF 0x004
#define FL_AF 0x010
#define FL_ZF 0x040
#define FL_SF 0x080
#define FL_DF 0x400
#define FL_OF 0x800
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define FL_LOGIC (FL_ARITH & ~FL_AF) /* AF is undefined after logic ops */

static unsigned failures;

/* ------------------------------------------------------------------ smp -- */

struct ap_report {
	uint32_t seen;
	uint32_t cpuid_index;
	uint32_t stages; /* from its stub record (firmware start) */
	uint64_t apic_base;
};

static struct ap_report ap_reports[GUEST_MAX_CPUS];
static volatile uint32_t aps_up;
static volatile uint32_t bsp_done;

/* The scratch device: at SCRATCH_BASE, or in RAM for the bare variant (the
 * oracle and read-back parts of the mmio check still mean something). */
#ifdef GUEST_BARE
static uint8_t bare_scratch[SCRATCH_SIZE]
	__attribute__((aligned(4096), used));
#define SCR bare_scratch
#define SCR_ASM "bare_scratch" /* for absolute addresses in asm text */
#else
#define SCR SCRATCH_BASE
#define SCR_ASM "0xFEB00000"
#endif
#define SCR_ADDR ((uintptr_t)(SCR))

static inline uintptr_t scr(unsigned off)
{
	return SCR_ADDR + off;
}

static inline void w8(unsigned off, uint8_t v)
{
	*(volatile uint8_t *)scr(off) = v;
}

static inline void w16(unsigned off, uint16_t v)
{
	*(volatile uint16_t *)scr(off) = v;
}

static inline void w32(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)scr(off) = v;
}

static inline void w64(unsigned off, uint64_t v)
{
	*(volatile uint64_t *)scr(off) = v;
}

static inline uint8_t r8(unsigned off)
{
	return *(volatile uint8_t *)scr(off);
}

static inline uint16_t r16(unsigned off)
{
	return *(volatile uint16_t *)scr(off);
}

static inline uint32_t r32(unsigned off)
{
	return *(volatile uint32_t *)scr(off);
}

static inline uint64_t r64(unsigned off)
{
	return *(volatile uint64_t *)scr(off);
}

/* TSC ticks per millisecond, measured by hlt-timer against Keel's timer
 * (0 until then). Only used to bound waits. */
static uint64_t tsc_per_ms;

static uint64_t tsc_budget_ms(unsigned ms)
{
	return (tsc_per_ms ? tsc_per_ms : 1000000) * ms;
}

/* ---------------------------------------------------------------- cpuid -- */

static unsigned check_cpuid(void)
{
	struct check c;
	uint32_t r[4], maxext;
	char sig[13];

	check_begin(&c, "cpuid");
	cpuid(0, 0, r);
	expect_true(&c, "leaf 0: max basic leaf >= 1", r[0] >= 1);
	cpuid(1, 0, r);
	expect_true(&c, "leaf 1: ECX[31] (hypervisor) set",
		    r[2] & (1u << 31));
	expect_true(&c, "leaf 1: ECX[5] (VMX) clear", !(r[2] & (1u << 5)));
	expect_eq(&c, "leaf 1: EBX[31:24] (APIC id) of vCPU 0", r[1] >> 24, 0);

	cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = '\0';
	for (unsigned i = 0; i < 12; i++)
		if (sig[i] < 0x20 || sig[i] > 0x7E)
			sig[i] = '.';
	if (memcmp(sig, "KeelKeelKeel", 12))
		check_fail(&c, "leaf 0x40000000: signature '%s', want 'KeelKeelKeel'",
			   sig);
	expect_true(&c, "leaf 0x40000000: EAX (max) >= 0x40000001",
		    r[0] >= 0x40000001 && r[0] <= 0x400000FF);

	cpuid(0x80000000, 0, r);
	maxext = r[0];
	expect_true(&c, "leaf 0x80000000: max extended leaf >= 0x80000001",
		    maxext >= 0x80000001 && maxext <= 0x800000FF);
	cpuid(0x80000001, 0, r);
	expect_true(&c, "leaf 0x80000001: ECX[2] (SVM) clear", !(r[2] & 4));
	if (maxext >= 0x8000000A) {
		cpuid(0x8000000A, 0, r);
		if (r[0] | r[1] | r[2] | r[3])
			check_fail(&c, "leaf 0x8000000A (SVM features): "
				   "%x %x %x %x, want all zero",
				   r[0], r[1], r[2], r[3]);
	}
	return check_end(&c);
}

/* ---------------------------------------------------------------- ports -- */

/* IN into AL/AX keeps the rest of RAX; IN into EAX zero-extends (Intel SDM
 * vol. 1, 3.4.1.1): the backend must write back only what the CPU would. */
static uint64_t in8_rax(uint16_t port, uint64_t rax)
{
	asm volatile("inb %%dx, %%al" : "+a"(rax) : "d"(port));
	return rax;
}

static uint64_t in16_rax(uint16_t port, uint64_t rax)
{
	asm volatile("inw %%dx, %%ax" : "+a"(rax) : "d"(port));
	return rax;
}

static uint64_t in32_rax(uint16_t port, uint64_t rax)
{
	asm volatile("inl %%dx, %%eax" : "+a"(rax) : "d"(port));
	return rax;
}

#define RAX_PATTERN 0x1122334455667788ULL

static unsigned check_io_emulated(void)
{
	static const char msg[] = "Keel echo!";
	static const uint16_t words[3] = { 0x1111, 0x2222, 0x3333 };
	static const uint32_t dwords[2] = { 0x01020304, 0xA0B0C0D0 };
	static uint8_t buf[20];
	static uint16_t wbuf[6];
	static uint32_t lbuf[6];
	struct check c;
	uint64_t si, di, cx;

	check_begin(&c, "io-emulated");
	expect_eq(&c, "echo reset value (IN32)", inl(TESTDEV_ECHO),
		  TESTDEV_ECHO_RESET);

	outb(TESTDEV_ECHO, 0xA5);
	expect_eq(&c, "echo OUT8/IN8", inb(TESTDEV_ECHO), 0xA5);
	outw(TESTDEV_ECHO, 0xBEEF);
	expect_eq(&c, "echo OUT16/IN16", inw(TESTDEV_ECHO), 0xBEEF);
	outl(TESTDEV_ECHO, 0x12345678);
	expect_eq(&c, "echo OUT32/IN32", inl(TESTDEV_ECHO), 0x12345678);
	expect_eq(&c, "IN8 keeps RAX[63:8]", in8_rax(TESTDEV_ECHO, RAX_PATTERN),
		  0x1122334455667778ULL);
	expect_eq(&c, "IN16 keeps RAX[63:16]",
		  in16_rax(TESTDEV_ECHO, RAX_PATTERN), 0x1122334455665678ULL);
	expect_eq(&c, "IN32 zero-extends into RAX",
		  in32_rax(TESTDEV_ECHO, RAX_PATTERN), 0x12345678);
	/* OUT takes only AL: the rest of RAX is not the device's business. */
	asm volatile("outb %%al, %%dx"
		     : : "a"(0xFFFFFFFFFFFFFF42ULL), "d"(TESTDEV_ECHO));
	expect_eq(&c, "OUT8 of AL from a full RAX", inb(TESTDEV_ECHO), 0x42);

	/* String forms (Intel SDM vol. 2B, OUTS/INS): the device sees each
	 * element; RSI/RDI and RCX end where the CPU would leave them. */
	si = (uint64_t)msg;
	cx = sizeof(msg) - 1;
	asm volatile("rep outsb" : "+S"(si), "+c"(cx) : "d"(TESTDEV_ECHO)
		     : "memory");
	expect_eq(&c, "rep outsb: last byte in echo", inb(TESTDEV_ECHO), '!');
	expect_eq(&c, "rep outsb: RSI", si, (uint64_t)msg + sizeof(msg) - 1);
	expect_eq(&c, "rep outsb: RCX", cx, 0);

	si = (uint64_t)words;
	cx = 3;
	asm volatile("rep outsw" : "+S"(si), "+c"(cx) : "d"(TESTDEV_ECHO)
		     : "memory");
	expect_eq(&c, "rep outsw: last word in echo", inw(TESTDEV_ECHO),
		  0x3333);
	expect_eq(&c, "rep outsw: RSI", si, (uint64_t)words + 6);

	si = (uint64_t)dwords;
	cx = 2;
	asm volatile("rep outsl" : "+S"(si), "+c"(cx) : "d"(TESTDEV_ECHO)
		     : "memory");
	expect_eq(&c, "rep outsl: last dword in echo", inl(TESTDEV_ECHO),
		  0xA0B0C0D0);
	expect_eq(&c, "rep outsl: RSI", si, (uint64_t)dwords + 8);

	si = (uint64_t)msg + 5;
	asm volatile("outsb" : "+S"(si) : "d"(TESTDEV_ECHO) : "memory");
	expect_eq(&c, "outsb (no rep): byte", inb(TESTDEV_ECHO), 'e');
	expect_eq(&c, "outsb (no rep): RSI", si, (uint64_t)msg + 6);

	/* DF=1: elements go from high to low addresses. */
	si = (uint64_t)msg + 2;
	cx = 3;
	asm volatile("std; rep outsb; cld" : "+S"(si), "+c"(cx)
		     : "d"(TESTDEV_ECHO) : "memory", "cc");
	expect_eq(&c, "std; rep outsb: last byte is msg[0]", inb(TESTDEV_ECHO),
		  'K');
	expect_eq(&c, "std; rep outsb: RSI", si, (uint64_t)msg - 1);

	memset(buf, 0xEE, sizeof(buf));
	outb(TESTDEV_ECHO, 0x5A);
	di = (uint64_t)buf + 2;
	cx = 16;
	asm volatile("rep insb" : "+D"(di), "+c"(cx) : "d"(TESTDEV_ECHO)
		     : "memory");
	for (unsigned i = 0; i < sizeof(buf); i++) {
		uint8_t want = i >= 2 && i < 18 ? 0x5A : 0xEE;

		if (buf[i] != want) {
			check_fail(&c, "rep insb: buf[%u] = %#x, want %#x", i,
				   buf[i], want);
			break;
		}
	}
	expect_eq(&c, "rep insb: RDI", di, (uint64_t)buf + 18);
	expect_eq(&c, "rep insb: RCX", cx, 0);

	memset(lbuf, 0, sizeof(lbuf));
	outl(TESTDEV_ECHO, 0xCAFEBABE);
	di = (uint64_t)lbuf + 4;
	cx = 4;
	asm volatile("rep insl" : "+D"(di), "+c"(cx) : "d"(TESTDEV_ECHO)
		     : "memory");
	expect_true(&c, "rep insl: 4 dwords filled, neighbours untouched",
		    !lbuf[0] && lbuf[1] == 0xCAFEBABE &&
		    lbuf[4] == 0xCAFEBABE && !lbuf[5]);
	expect_eq(&c, "rep insl: RDI", di, (uint64_t)lbuf + 20);

	memset(wbuf, 0, sizeof(wbuf));
	outw(TESTDEV_ECHO, 0xBEEF);
	di = (uint64_t)&wbuf[4];
	cx = 3;
	asm volatile("std; rep insw; cld" : "+D"(di), "+c"(cx)
		     : "d"(TESTDEV_ECHO) : "memory", "cc");
	expect_true(&c, "std; rep insw: wbuf[2..4] filled downwards",
		    !wbuf[0] && !wbuf[1] && wbuf[2] == 0xBEEF &&
		    wbuf[3] == 0xBEEF && wbuf[4] == 0xBEEF && !wbuf[5]);
	expect_eq(&c, "std; rep insw: RDI", di, (uint64_t)&wbuf[1]);

	di = (uint64_t)buf;
	outb(TESTDEV_ECHO, 0x3C);
	asm volatile("insb" : "+D"(di) : "d"(TESTDEV_ECHO) : "memory");
	expect_eq(&c, "insb (no rep): byte", buf[0], 0x3C);
	expect_eq(&c, "insb (no rep): RDI", di, (uint64_t)buf + 1);
	return check_end(&c);
}

static unsigned check_io_unhandled(void)
{
	static uint8_t buf[8];
	struct check c;
	uint64_t rax, di, cx;

	check_begin(&c, "io-unhandled");
	expect_eq(&c, "IN8 (DX) of an unused port",
		  in8_rax(UNUSED_PORT, RAX_PATTERN), 0x11223344556677FFULL);
	expect_eq(&c, "IN16 (DX) of an unused port",
		  in16_rax(UNUSED_PORT, RAX_PATTERN), 0x112233445566FFFFULL);
	expect_eq(&c, "IN32 (DX) of an unused port",
		  in32_rax(UNUSED_PORT, RAX_PATTERN), 0xFFFFFFFFULL);
	rax = RAX_PATTERN;
	asm volatile("inb " UNUSED_PORT_IMM ", %%al" : "+a"(rax));
	expect_eq(&c, "IN8 (imm8) of an unused port", rax,
		  0x11223344556677FFULL);
	rax = RAX_PATTERN;
	asm volatile("inw " UNUSED_PORT_IMM ", %%ax" : "+a"(rax));
	expect_eq(&c, "IN16 (imm8) of an unused port", rax,
		  0x112233445566FFFFULL);
	rax = RAX_PATTERN;
	asm volatile("inl " UNUSED_PORT_IMM ", %%eax" : "+a"(rax));
	expect_eq(&c, "IN32 (imm8) of an unused port", rax, 0xFFFFFFFFULL);

	memset(buf, 0, sizeof(buf));
	di = (uint64_t)buf;
	cx = 4;
	asm volatile("rep insb" : "+D"(di), "+c"(cx) : "d"(UNUSED_PORT)
		     : "memory");
	expect_true(&c, "rep insb of an unused port gives 0xFF bytes",
		    buf[0] == 0xFF && buf[3] == 0xFF && !buf[4]);

	/* OUTs of every form go nowhere and the VM keeps running. */
	outb(UNUSED_PORT, 0x12);
	outw(UNUSED_PORT, 0x1234);
	outl(UNUSED_PORT, 0x12345678);
	asm volatile("outb %%al, " UNUSED_PORT_IMM : : "a"(0x12));
	asm volatile("outw %%ax, " UNUSED_PORT_IMM : : "a"(0x1234));
	asm volatile("outl %%eax, " UNUSED_PORT_IMM : : "a"(0x12345678));
	di = (uint64_t)buf;
	cx = 8;
	asm volatile("rep outsb" : "+S"(di), "+c"(cx) : "d"(UNUSED_PORT)
		     : "memory");
	/* And the echo register did not see any of it. */
	outl(TESTDEV_ECHO, 0x600DF00D);
	outl(UNUSED_PORT, 0xBAD);
	expect_eq(&c, "echo after OUTs elsewhere", inl(TESTDEV_ECHO),
		  0x600DF00D);
	return check_end(&c);
}

/* ----------------------------------------------------------------- msrs -- */

static unsigned check_msr_allowed(void)
{
	/* SYSENTER_ESP/EIP stay below 4 GiB: AMD CPUs keep only 32 bits. */
	static const struct {
		uint32_t msr;
		const char *name;
		uint64_t val;
	} msrs[] = {
		{ MSR_FS_BASE, "FS_BASE", 0x00007FFF12345000ULL },
		{ MSR_GS_BASE, "GS_BASE", 0xFFFF800012340000ULL },
		{ MSR_KERNEL_GS_BASE, "KERNEL_GS_BASE", 0x00005A5A5A5A5000ULL },
		{ MSR_STAR, "STAR", 0x0023001012345678ULL },
		{ MSR_LSTAR, "LSTAR", 0xFFFFFFFF81234560ULL },
		{ MSR_CSTAR, "CSTAR", 0x00000000DEADBEE0ULL },
		{ MSR_SFMASK, "SFMASK", 0x47700 },
		{ MSR_SYSENTER_CS, "SYSENTER_CS", 0x10 },
		{ MSR_SYSENTER_ESP, "SYSENTER_ESP", 0x00801000 },
		{ MSR_SYSENTER_EIP, "SYSENTER_EIP", 0x00402000 },
	};
	static volatile uint64_t fs_probe = 0x5AFE5AFE5AFE5AFEULL;
	static volatile uint64_t gs_a = 0xAAAA, gs_b = 0xBBBB;
	struct check c;
	uint64_t old[sizeof(msrs) / sizeof(msrs[0])], v;
	char what[48];

	check_begin(&c, "msr-allowed");
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		old[i] = rdmsr(msrs[i].msr);
		wrmsr(msrs[i].msr, msrs[i].val);
	}
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		gsnprintf(what, sizeof(what), "%s read back", msrs[i].name);
		expect_eq(&c, what, rdmsr(msrs[i].msr), msrs[i].val);
	}
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		wrmsr(msrs[i].msr, old[i]);

	/* The bases are the ones the CPU uses, not a copy on the side. */
	wrmsr(MSR_FS_BASE, (uint64_t)&fs_probe);
	asm volatile("movq %%fs:0, %0" : "=r"(v));
	expect_eq(&c, "load through FS_BASE", v, fs_probe);
	wrmsr(MSR_FS_BASE, old[0]);

	wrmsr(MSR_GS_BASE, (uint64_t)&gs_a);
	wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)&gs_b);
	asm volatile("swapgs; movq %%gs:0, %0; swapgs" : "=r"(v));
	expect_eq(&c, "load through GS after SWAPGS", v, 0xBBBB);
	asm volatile("swapgs" ::: "memory");
	expect_eq(&c, "GS_BASE after SWAPGS", rdmsr(MSR_GS_BASE),
		  (uint64_t)&gs_b);
	expect_eq(&c, "KERNEL_GS_BASE after SWAPGS", rdmsr(MSR_KERNEL_GS_BASE),
		  (uint64_t)&gs_a);
	asm volatile("swapgs" ::: "memory");
	wrmsr(MSR_GS_BASE, old[1]);
	wrmsr(MSR_KERNEL_GS_BASE, old[2]);
	return check_end(&c);
}

static unsigned check_msr_emulated(void)
{
	struct check c;
	uint64_t t0, t1, tsc, efer, pat;

	check_begin(&c, "msr-emulated");
	expect_eq(&c, "IA32_APIC_BASE on vCPU 0", rdmsr(MSR_APIC_BASE),
		  APIC_BASE_BSP);
	expect_true(&c, "IA32_MISC_ENABLE bit 0 (fast strings) set",
		    rdmsr(MSR_MISC_ENABLE) & 1);

	t0 = rdtsc();
	tsc = rdmsr(MSR_TSC);
	t1 = rdtsc();
	if (tsc < t0 || tsc > t1)
		check_fail(&c, "IA32_TSC %#lx is not between RDTSCs %#lx and %#lx",
			   tsc, t0, t1);

	efer = rdmsr(MSR_EFER);
	expect_eq(&c, "EFER.LME|LMA in long mode", efer & (EFER_LME | EFER_LMA),
		  EFER_LME | EFER_LMA);
	expect_eq(&c, "EFER.SVME (must not show)", efer & EFER_SVME, 0);
	wrmsr(MSR_EFER, efer ^ EFER_SCE);
	expect_eq(&c, "EFER after toggling SCE", rdmsr(MSR_EFER),
		  efer ^ EFER_SCE);
	wrmsr(MSR_EFER, efer);
	expect_eq(&c, "EFER restored", rdmsr(MSR_EFER), efer);

	pat = rdmsr(MSR_PAT);
	expect_eq(&c, "IA32_PAT at reset", pat, PAT_RESET);
	wrmsr(MSR_PAT, 0x0001050600070106ULL);
	expect_eq(&c, "IA32_PAT read back", rdmsr(MSR_PAT),
		  0x0001050600070106ULL);
	wrmsr(MSR_PAT, pat);
	return check_end(&c);
}

/* #GP from RDMSR/WRMSR: count it and step over the 2-byte instruction. */
static volatile unsigned gp_count;
static volatile uint64_t gp_rip, gp_error;

static void gp_skip(struct trap_frame *f)
{
	gp_count++;
	gp_rip = f->rip;
	gp_error = f->error;
	f->rip += 2;
}

static unsigned check_msr_denied(void)
{
	static const uint32_t msrs[] = {
		0xC0010114, /* VM_CR */
		0xC0010117, /* VM_HSAVE_PA */
		0x3A,	    /* IA32_FEATURE_CONTROL */
		0x40000123, /* nothing */
	};
	struct check c;

	check_begin(&c, "msr-denied");
	trap_set(13, gp_skip);
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		uint32_t lo = 0xAAAAAAAA, hi = 0x55555555;
		unsigned before = gp_count;
		uint64_t at;

		asm volatile("leaq 1f(%%rip), %0\n"
			     "1:\trdmsr"
			     : "=&r"(at), "+a"(lo), "+d"(hi)
			     : "c"(msrs[i])
			     : "memory");
		if (gp_count != before + 1)
			check_fail(&c, "RDMSR %#x: %u #GP, want 1 (read %#x:%08x)",
				   msrs[i], gp_count - before, hi, lo);
		else if (gp_rip != at || gp_error)
			check_fail(&c, "RDMSR %#x: #GP at rip %#lx error %#lx, "
				   "want rip %#lx error 0", msrs[i], gp_rip,
				   gp_error, at);
		else if (lo != 0xAAAAAAAA || hi != 0x55555555)
			check_fail(&c, "RDMSR %#x faulted but changed EDX:EAX "
				   "to %#x:%08x", msrs[i], hi, lo);

		before = gp_count;
		asm volatile("leaq 1f(%%rip), %0\n"
			     "1:\twrmsr"
			     : "=&r"(at)
			     : "c"(msrs[i]), "a"(0), "d"(0)
			     : "memory");
		if (gp_count != before + 1)
			check_fail(&c, "WRMSR %#x: %u #GP, want 1", msrs[i],
				   gp_count - before);
		else if (gp_rip != at || gp_error)
			check_fail(&c, "WRMSR %#x: #GP at rip %#lx error %#lx, "
				   "want rip %#lx error 0", msrs[i], gp_rip,
				   gp_error, at);
	}
	trap_set(13, NULL);
	expect_eq(&c, "#GP count", gp_count,
		  2 * sizeof(msrs) / sizeof(msrs[0]));
	return check_end(&c);
}

/* ------------------------------------------------------------ virt-insn -- */

/* #UD from a virtualization instruction: count it, step over its 3 bytes. */
static volatile unsigned ud_count;
static volatile uint64_t ud_rip;

static void ud_skip(struct trap_frame *f)
{
	ud_count++;
	ud_rip = f->rip;
	f->rip += 3;
}

#define VIRT_INSN(bytes)                                                      \
	do {                                                                  \
		unsigned before = ud_count;                                   \
		uint64_t at;                                                  \
		asm volatile("leaq 1f(%%rip), %0\n"                          \
			     "1:\t.byte " bytes                               \
			     : "=&r"(at)                                      \
			     : "a"(0)                                         \
			     : "memory");                                     \
		if (ud_count != before + 1 || ud_rip != at)                   \
			check_fail(&c, "%s: %u #UD at %#lx, want 1 at %#lx",  \
				   bytes, ud_count - before, ud_rip, at);     \
	} while (0)

/* The guest sees neither SVM nor VMX, and running their instructions is
 * #UD, as on a CPU without them (Keel intercepts them all). */
static unsigned check_virt_insn(void)
{
	uint32_t r[4];
	struct check c;

	check_begin(&c, "virt-insn");
	cpuid(0, 0, r);
	bool amd = r[1] == 0x68747541; /* "Auth" */
	trap_set(6, ud_skip);
	if (amd) {
		VIRT_INSN("0x0f, 0x01, 0xd8"); /* VMRUN */
		VIRT_INSN("0x0f, 0x01, 0xda"); /* VMLOAD */
		VIRT_INSN("0x0f, 0x01, 0xdb"); /* VMSAVE */
		VIRT_INSN("0x0f, 0x01, 0xdc"); /* STGI */
		VIRT_INSN("0x0f, 0x01, 0xdd"); /* CLGI */
		VIRT_INSN("0x0f, 0x01, 0xdf"); /* INVLPGA */
	} else {
		VIRT_INSN("0x0f, 0x01, 0xc2"); /* VMLAUNCH */
		VIRT_INSN("0x0f, 0x01, 0xc3"); /* VMRESUME */
		VIRT_INSN("0x0f, 0x01, 0xc4"); /* VMXOFF */
	}
	trap_set(6, NULL);
	/* INVD and WBINVD are allowed in ring 0: they run (Keel skips them). */
	asm volatile("wbinvd" ::: "memory");
	asm volatile("invd" ::: "memory");
	expect_true(&c, "INVD and WBINVD ran", true);
	return check_end(&c);
}

/* ----------------------------------------------------------------- mmio -- */

/* One ALU instruction with a memory operand, run once on RAM (the CPU is the
 * oracle) and once on the scratch device (Keel's emulator). */
#define ALU_CASE(fn, insn)                                                    \
	static void fn(uintptr_t m, uint64_t *reg, uint64_t *fl)             \
	{                                                                     \
		uint64_t r = *reg, f;                                         \
		asm volatile(insn "\n\tpushfq\n\tpopq %[f]"                   \
			     : [r] "+r"(r), [f] "=&r"(f)                      \
			     : [m] "r"(m)                                     \
			     : "memory", "cc");                               \
		*reg = r;                                                     \
		*fl = f;                                                      \
	}

ALU_CASE(add8_mr, "addb %b[r], (%[m])")
ALU_CASE(add16_mr, "addw %w[r], (%[m])")
ALU_CASE(add32_mr, "addl %k[r], (%[m])")
ALU_CASE(add64_mr, "addq %q[r], (%[m])")
ALU_CASE(add8_rm, "addb (%[m]), %b[r]")
ALU_CASE(add32_rm, "addl (%[m]), %k[r]")
ALU_CASE(or8_mr, "orb %b[r], (%[m])")
ALU_CASE(or32_mr, "orl %k[r], (%[m])")
ALU_CASE(or16_rm, "orw (%[m]), %w[r]")
ALU_CASE(or64_rm, "orq (%[m]), %q[r]")
ALU_CASE(and32_mr, "andl %k[r], (%[m])")
ALU_CASE(and8_rm, "andb (%[m]), %b[r]")
ALU_CASE(and64_rm, "andq (%[m]), %q[r]")
ALU_CASE(sub8_mr, "subb %b[r], (%[m])")
ALU_CASE(sub16_mr, "subw %w[r], (%[m])")
ALU_CASE(sub32_mr, "subl %k[r], (%[m])")
ALU_CASE(sub64_rm, "subq (%[m]), %q[r]")
ALU_CASE(xor8_mr, "xorb %b[r], (%[m])")
ALU_CASE(xor64_mr, "xorq %q[r], (%[m])")
ALU_CASE(xor32_rm, "xorl (%[m]), %k[r]")
ALU_CASE(cmp32_mr, "cmpl %k[r], (%[m])")
ALU_CASE(cmp8_rm, "cmpb (%[m]), %b[r]")
ALU_CASE(cmp64_rm, "cmpq (%[m]), %q[r]")
ALU_CASE(test8, "testb %b[r], (%[m])")
ALU_CASE(test32, "testl %k[r], (%[m])")
ALU_CASE(test64, "testq %q[r], (%[m])")
ALU_CASE(addb_i, "addb $0x7F, (%[m])")
ALU_CASE(orb_i, "orb $0x81, (%[m])")
ALU_CASE(andb_i, "andb $0x0F, (%[m])")
ALU_CASE(subb_i, "subb $1, (%[m])")
ALU_CASE(xorb_i, "xorb $0xFF, (%[m])")
ALU_CASE(cmpb_i, "cmpb $0x80, (%[m])")
ALU_CASE(addl_i32, "addl $0x12345678, (%[m])")
ALU_CASE(orw_i16, "orw $0x8001, (%[m])")
ALU_CASE(andq_i32, "andq $-0x10000, (%[m])")
ALU_CASE(subl_i32, "subl $0x40000000, (%[m])")
ALU_CASE(xorl_i32, "xorl $0x55AA55AA, (%[m])")
ALU_CASE(cmpq_i32, "cmpq $0x7FFFFFFF, (%[m])")
ALU_CASE(addq_i8, "addq $-1, (%[m])")
ALU_CASE(orl_i8, "orl $0x70, (%[m])")
ALU_CASE(andw_i8, "andw $-2, (%[m])")
ALU_CASE(subl_i8, "subl $1, (%[m])")
ALU_CASE(xorq_i8, "xorq $-1, (%[m])")
ALU_CASE(cmpl_i8, "cmpl $5, (%[m])")
ALU_CASE(testb_i, "testb $0x80, (%[m])")
ALU_CASE(testw_i, "testw $0x8001, (%[m])")
ALU_CASE(testl_i, "testl $0x80000000, (%[m])")
ALU_CASE(testq_i, "testq $-0x100, (%[m])")
ALU_CASE(lock_add32, "lock addl %k[r], (%[m])")
ALU_CASE(lock_orb_i, "lock orb $1, (%[m])")
ALU_CASE(lock_and64, "lock andq %q[r], (%[m])")
ALU_CASE(lock_sub16, "lock subw %w[r], (%[m])")
ALU_CASE(xchg8, "xchgb %b[r], (%[m])")
ALU_CASE(xchg16, "xchgw %w[r], (%[m])")
ALU_CASE(xchg32, "xchgl %k[r], (%[m])")
ALU_CASE(xchg64, "xchgq %q[r], (%[m])")

struct alu_case {
	const char *name;
	void (*fn)(uintptr_t m, uint64_t *reg, uint64_t *fl);
	uint64_t mem, reg, flags; /* flags: the ones the CPU defines */
};

#define HI 0xA5A5A5A500000000ULL /* bytes an 8/16/32-bit op must not touch */
#define RHI 0x5A5A5A5A00000000ULL

static const struct alu_case alu_cases[] = {
	{ "add r8,m8 (00)", add8_mr, HI | 0xFF, RHI | 1, FL_ARITH },
	{ "add r16,m16 (66 01)", add16_mr, HI | 0x7FFF, 1, FL_ARITH },
	{ "add r32,m32 (01)", add32_mr, HI | 0x80000000, 0x80000000, FL_ARITH },
	{ "add r64,m64 (48 01)", add64_mr, 0x7FFFFFFFFFFFFFFFULL, 1, FL_ARITH },
	{ "add m8,r8 (02)", add8_rm, 0x0F, RHI | 0x01, FL_ARITH },
	{ "add m32,r32 (03)", add32_rm, 0xFFFFFFFF, RHI | 2, FL_ARITH },
	{ "or r8,m8 (08)", or8_mr, HI | 0x80, 0x01, FL_LOGIC },
	{ "or r32,m32 (09)", or32_mr, HI, 0, FL_LOGIC },
	{ "or m16,r16 (66 0B)", or16_rm, 0x8000, RHI | 0x0001, FL_LOGIC },
	{ "or m64,r64 (48 0B)", or64_rm, 0x8000000000000000ULL, 1, FL_LOGIC },
	{ "and r32,m32 (21)", and32_mr, HI | 0xF0F0F0F0, 0x0FF00FF0, FL_LOGIC },
	{ "and m8,r8 (22)", and8_rm, 0x0F, RHI | 0xF0, FL_LOGIC },
	{ "and m64,r64 (48 23)", and64_rm, 0xFFFF0000FFFF0000ULL,
	  0x8000800080008000ULL, FL_LOGIC },
	{ "sub r8,m8 (28)", sub8_mr, HI | 0x00, 1, FL_ARITH },
	{ "sub r16,m16 (66 29)", sub16_mr, HI | 0x8000, 1, FL_ARITH },
	{ "sub r32,m32 (29)", sub32_mr, HI | 5, 5, FL_ARITH },
	{ "sub m64,r64 (48 2B)", sub64_rm, 1, 0, FL_ARITH },
	{ "xor r8,m8 (30)", xor8_mr, HI | 0x55, 0xAA, FL_LOGIC },
	{ "xor r64,m64 (48 31)", xor64_mr, 0x1234, 0x1234, FL_LOGIC },
	{ "xor m32,r32 (33)", xor32_rm, 0x80000001, RHI | 1, FL_LOGIC },
	{ "cmp r32,m32 (39)", cmp32_mr, HI | 3, 4, FL_ARITH },
	{ "cmp m8,r8 (3A)", cmp8_rm, 0x80, 0x7F, FL_ARITH },
	{ "cmp m64,r64 (48 3B)", cmp64_rm, 0x42, 0x42, FL_ARITH },
	{ "test r8,m8 (84)", test8, 0x80, 0xC0, FL_LOGIC },
	{ "test r32,m32 (85)", test32, 0xF0, 0x0F, FL_LOGIC },
	{ "test r64,m64 (48 85)", test64, 0x8000000000000000ULL,
	  0x8000000000000001ULL, FL_LOGIC },
	{ "add imm8,m8 (80 /0)", addb_i, HI | 0x01, 0, FL_ARITH },
	{ "or imm8,m8 (80 /1)", orb_i, HI | 0x10, 0, FL_LOGIC },
	{ "and imm8,m8 (80 /4)", andb_i, HI | 0xF0, 0, FL_LOGIC },
	{ "sub imm8,m8 (80 /5)", subb_i, HI | 0x80, 0, FL_ARITH },
	{ "xor imm8,m8 (80 /6)", xorb_i, HI | 0x0F, 0, FL_LOGIC },
	{ "cmp imm8,m8 (80 /7)", cmpb_i, HI | 0x7F, 0, FL_ARITH },
	{ "add imm32,m32 (81 /0)", addl_i32, HI | 0xF0000000, 0, FL_ARITH },
	{ "or imm16,m16 (66 81 /1)", orw_i16, HI | 0x0100, 0, FL_LOGIC },
	{ "and imm32,m64 (48 81 /4)", andq_i32, 0x123456789ABCDEFULL, 0,
	  FL_LOGIC },
	{ "sub imm32,m32 (81 /5)", subl_i32, HI | 0x3FFFFFFF, 0, FL_ARITH },
	{ "xor imm32,m32 (81 /6)", xorl_i32, HI | 0x55AA55AA, 0, FL_LOGIC },
	{ "cmp imm32,m64 (48 81 /7)", cmpq_i32, 0x80000000, 0, FL_ARITH },
	{ "add imm8,m64 (48 83 /0)", addq_i8, 0, 0, FL_ARITH },
	{ "or imm8,m32 (83 /1)", orl_i8, HI | 0x0F, 0, FL_LOGIC },
	{ "and imm8,m16 (66 83 /4)", andw_i8, HI | 0xFFFF, 0, FL_LOGIC },
	{ "sub imm8,m32 (83 /5)", subl_i8, HI | 0, 0, FL_ARITH },
	{ "xor imm8,m64 (48 83 /6)", xorq_i8, 0x0F0F0F0F0F0F0F0FULL, 0,
	  FL_LOGIC },
	{ "cmp imm8,m32 (83 /7)", cmpl_i8, HI | 5, 0, FL_ARITH },
	{ "test imm8,m8 (F6 /0)", testb_i, HI | 0x7F, 0, FL_LOGIC },
	{ "test imm16,m16 (66 F7 /0)", testw_i, HI | 0x8000, 0, FL_LOGIC },
	{ "test imm32,m32 (F7 /0)", testl_i, HI | 0x80000000, 0, FL_LOGIC },
	{ "test imm32,m64 (48 F7 /0)", testq_i, 0xFF, 0, FL_LOGIC },
	{ "lock add r32,m32", lock_add32, HI | 0xFFFFFFFF, 1, FL_ARITH },
	{ "lock or imm8,m8", lock_orb_i, HI | 0xFE, 0, FL_LOGIC },
	{ "lock and r64,m64", lock_and64, 0xFF00FF00FF00FF00ULL,
	  0x0FF00FF00FF00FF0ULL, FL_LOGIC },
	{ "lock sub r16,m16", lock_sub16, HI | 0x0001, 2, FL_ARITH },
	{ "xchg r8,m8 (86)", xchg8, HI | 0x11, RHI | 0x22, 0 },
	{ "xchg r16,m16 (66 87)", xchg16, HI | 0x1111, RHI | 0x2222, 0 },
	{ "xchg r32,m32 (87)", xchg32, HI | 0x11111111, RHI | 0x22222222, 0 },
	{ "xchg r64,m64 (48 87)", xchg64, 0x1111111111111111ULL,
	  0x2222222222222222ULL, 0 },
};

#define ALU_AREA 0x600 /* 8 bytes per case from here */

#define ALU_COUNT (sizeof(alu_cases) / sizeof(alu_cases[0]))

static uint64_t alu_ram[ALU_COUNT];

static void mmio_alu(struct check *c)
{
	for (unsigned i = 0; i < ALU_COUNT; i++) {
		const struct alu_case *a = &alu_cases[i];
		unsigned off = ALU_AREA + 8 * i;
		uint64_t reg_ram = a->reg, reg_mmio = a->reg, fl_ram, fl_mmio;

		alu_ram[i] = a->mem;
		w64(off, a->mem);
		a->fn((uintptr_t)&alu_ram[i], &reg_ram, &fl_ram);
		a->fn(scr(off), &reg_mmio, &fl_mmio);
		if (reg_mmio != reg_ram)
			check_fail(c, "%s: register %#lx, CPU on RAM gives %#lx",
				   a->name, reg_mmio, reg_ram);
		if ((fl_mmio ^ fl_ram) & a->flags)
			check_fail(c, "%s: flags %#lx, CPU on RAM gives %#lx",
				   a->name, fl_mmio & a->flags,
				   fl_ram & a->flags);
		if (r64(off) != alu_ram[i])
			check_fail(c, "%s: memory %#lx, CPU on RAM gives %#lx",
				   a->name, r64(off), alu_ram[i]);
	}
}

/* Plain loads and stores of every width, offsets and the read-only magic. */
static void mmio_widths(struct check *c)
{
	expect_eq(c, "magic (64-bit read at 0xFF8)", r64(0xFF8),
		  ((uint64_t)SCRATCH_MAGIC_HI << 32) | SCRATCH_MAGIC_LO);
	expect_eq(c, "magic low (32-bit read)", r32(0xFF8), SCRATCH_MAGIC_LO);
	expect_eq(c, "magic high (32-bit read)", r32(0xFFC), SCRATCH_MAGIC_HI);
	expect_eq(c, "magic byte 0xFF8", r8(0xFF8), 'K');
	expect_eq(c, "magic word 0xFFE", r16(0xFFE), 0x4F49);
#ifndef GUEST_BARE
	w64(0xFF8, 0);
	w8(0xFFF, 0);
	expect_eq(c, "magic after writes (read-only)", r64(0xFF8),
		  ((uint64_t)SCRATCH_MAGIC_HI << 32) | SCRATCH_MAGIC_LO);
	w64(0xFF0, 0x1111111111111111ULL);
	expect_eq(c, "register just below the magic", r64(0xFF0),
		  0x1111111111111111ULL);
#endif
	w64(0x10, 0);
	w8(0x10, 0x5A);
	w8(0x11, 0xA5);
	w16(0x12, 0xBEEF);
	w32(0x14, 0xDEADBEEF);
	expect_eq(c, "8/8/16/32-bit writes read as 64 bits", r64(0x10),
		  0xDEADBEEFBEEFA55AULL);
	expect_eq(c, "16-bit read at an odd offset", r16(0x11), 0xEFA5);
	expect_eq(c, "32-bit read at offset 3", r32(0x13), 0xADBEEFBE);
	expect_eq(c, "byte 7 of the 64-bit value", r8(0x17), 0xDE);
	w64(0x21, 0x0102030405060708ULL);
	expect_eq(c, "unaligned 64-bit write/read", r64(0x21),
		  0x0102030405060708ULL);
	expect_eq(c, "byte 0x21 (little endian)", r8(0x21), 0x08);
	w32(0x2B, 0xCAFEF00D);
	expect_eq(c, "unaligned 32-bit write/read", r32(0x2B), 0xCAFEF00D);
	w64(0xFF0, 0x8877665544332211ULL);
	expect_eq(c, "last 64-bit register before the magic", r64(0xFF0),
		  0x8877665544332211ULL);
}

/* Explicit encodings of MOV, MOVZX/MOVSX/MOVSXD, moffs and addressing. */
static void mmio_mov(struct check *c)
{
	uint64_t v;

	w64(0x40, 0x1111111111111111ULL);
	asm volatile("movb $0x5A, (%0)" : : "r"(scr(0x40)) : "memory");
	asm volatile("movw $0x1234, (%0)" : : "r"(scr(0x42)) : "memory");
	asm volatile("movl $0x89ABCDEF, (%0)" : : "r"(scr(0x44)) : "memory");
	expect_eq(c, "mov imm8/imm16/imm32 to m (C6, 66 C7, C7)", r64(0x40),
		  0x89ABCDEF1234115AULL);
	asm volatile("movq $-2, (%0)" : : "r"(scr(0x48)) : "memory");
	expect_eq(c, "mov imm32 to m64, sign-extended (48 C7)", r64(0x48),
		  0xFFFFFFFFFFFFFFFEULL);

	asm volatile("movb %%ah, (%%rbx)" : : "a"(0x1234), "b"(scr(0x50))
		     : "memory");
	expect_eq(c, "mov AH to m8 (88, no REX)", r8(0x50), 0x12);
	w8(0x51, 0x77);
	v = 0x1111111111111111ULL;
	asm volatile("movb (%%rbx), %%ah" : "+a"(v) : "b"(scr(0x51)));
	expect_eq(c, "mov m8 to AH (8A)", v, 0x1111111111117711ULL);
	asm volatile("movb %%sil, (%0)" : : "r"(scr(0x52)), "S"(0xABCD)
		     : "memory");
	expect_eq(c, "mov SIL to m8 (40 88)", r8(0x52), 0xCD);
	{
		register uint64_t r9 asm("r9") = 0x0102030405060708ULL;

		asm volatile("movq %%r9, (%0)" : : "r"(scr(0x58)), "r"(r9)
			     : "memory");
		expect_eq(c, "mov R9 to m64 (4C 89)", r64(0x58),
			  0x0102030405060708ULL);
	}
	w32(0x60, 0x89ABCDEF);
	{
		register uint64_t r10 asm("r10") = ~0ULL;

		asm volatile("movl (%1), %%r10d" : "+r"(r10) : "r"(scr(0x60)));
		expect_eq(c, "mov m32 to R10D zero-extends (44 8B)", r10,
			  0x89ABCDEF);
	}
	w16(0x64, 0x1234);
	v = ~0ULL;
	asm volatile("movw (%1), %%ax" : "+a"(v) : "r"(scr(0x64)));
	expect_eq(c, "mov m16 to AX keeps RAX[63:16] (66 8B)", v,
		  0xFFFFFFFFFFFF1234ULL);
	w8(0x66, 0x56);
	v = ~0ULL;
	asm volatile("movb (%1), %%al" : "+a"(v) : "r"(scr(0x66)));
	expect_eq(c, "mov m8 to AL keeps RAX[63:8] (8A)", v,
		  0xFFFFFFFFFFFFFF56ULL);
	w64(0x68, 0xFEDCBA9876543210ULL);
	{
		register uint64_t r11 asm("r11");

		asm volatile("movq (%1), %%r11" : "=r"(r11) : "r"(scr(0x68)));
		expect_eq(c, "mov m64 to R11 (4C 8B)", r11,
			  0xFEDCBA9876543210ULL);
	}

	/* moffs (A0-A3) with a 64-bit absolute address. */
	w64(0x70, 0x8877665544332211ULL);
	v = ~0ULL;
	asm volatile("movabs " SCR_ASM "+0x70, %%al" : "+a"(v));
	expect_eq(c, "movabs moffs to AL (A0)", v, 0xFFFFFFFFFFFFFF11ULL);
	v = ~0ULL;
	asm volatile("movabs " SCR_ASM "+0x70, %%ax" : "+a"(v));
	expect_eq(c, "movabs moffs to AX (66 A1)", v, 0xFFFFFFFFFFFF2211ULL);
	v = ~0ULL;
	asm volatile("movabs " SCR_ASM "+0x70, %%eax" : "+a"(v));
	expect_eq(c, "movabs moffs to EAX (A1)", v, 0x44332211);
	asm volatile("movabs " SCR_ASM "+0x70, %%rax" : "=a"(v));
	expect_eq(c, "movabs moffs to RAX (48 A1)", v, 0x8877665544332211ULL);
	asm volatile("movabs %%al, " SCR_ASM "+0x78" : : "a"(0xEE)
		     : "memory");
	asm volatile("movabs %%ax, " SCR_ASM "+0x79" : : "a"(0xDDCC)
		     : "memory");
	asm volatile("movabs %%eax, " SCR_ASM "+0x7B" : : "a"(0x99AABB)
		     : "memory");
	expect_eq(c, "movabs AL/AX/EAX to moffs (A2, 66 A3, A3)", r64(0x78),
		  0x0099AABBDDCCEEULL);
	asm volatile("movabs %%rax, " SCR_ASM "+0x80"
		     : : "a"(0x0123456789ABCDEFULL) : "memory");
	expect_eq(c, "movabs RAX to moffs (48 A3)", r64(0x80),
		  0x0123456789ABCDEFULL);

	/* MOVZX / MOVSX / MOVSXD (0F B6/B7/BE/BF, 63). */
	w64(0x88, 0x0000000080008080ULL);
	v = ~0ULL;
	asm volatile("movzbl (%1), %%eax" : "+a"(v) : "r"(scr(0x88)));
	expect_eq(c, "movzx m8 to r32 (0F B6)", v, 0x80);
	asm volatile("movzbq (%1), %0" : "=r"(v) : "r"(scr(0x88)));
	expect_eq(c, "movzx m8 to r64 (48 0F B6)", v, 0x80);
	v = ~0ULL;
	asm volatile("movzbw (%1), %%ax" : "+a"(v) : "r"(scr(0x88)));
	expect_eq(c, "movzx m8 to r16 keeps RAX[63:16] (66 0F B6)", v,
		  0xFFFFFFFFFFFF0080ULL);
	asm volatile("movzwl (%1), %k0" : "=r"(v) : "r"(scr(0x89)));
	expect_eq(c, "movzx m16 to r32 (0F B7)", v, 0x0080);
	asm volatile("movzwq (%1), %0" : "=r"(v) : "r"(scr(0x88)));
	expect_eq(c, "movzx m16 to r64 (48 0F B7)", v, 0x8080);
	v = ~0ULL;
	asm volatile("movsbl (%1), %%eax" : "+a"(v) : "r"(scr(0x88)));
	expect_eq(c, "movsx m8 to r32 (0F BE)", v, 0xFFFFFF80);
	asm volatile("movsbq (%1), %0" : "=r"(v) : "r"(scr(0x88)));
	expect_eq(c, "movsx m8 to r64 (48 0F BE)", v, 0xFFFFFFFFFFFFFF80ULL);
	v = 0x1111111111111111ULL;
	asm volatile("movsbw (%1), %%ax" : "+a"(v) : "r"(scr(0x88)));
	expect_eq(c, "movsx m8 to r16 (66 0F BE)", v, 0x111111111111FF80ULL);
	asm volatile("movswl (%1), %k0" : "=r"(v) : "r"(scr(0x88)));
	expect_eq(c, "movsx m16 to r32 (0F BF)", v, 0xFFFF8080);
	asm volatile("movswq (%1), %0" : "=r"(v) : "r"(scr(0x88)));
	expect_eq(c, "movsx m16 to r64 (48 0F BF)", v, 0xFFFFFFFFFFFF8080ULL);
	asm volatile("movslq (%1), %0" : "=r"(v) : "r"(scr(0x88)));
	expect_eq(c, "movsxd m32 to r64 (48 63)", v, 0xFFFFFFFF80008080ULL);
	asm volatile("movzbl 1(%1), %k0" : "=r"(v) : "r"(scr(0x88)));
	expect_eq(c, "movzx with disp8", v, 0x80);

	/* Addressing: SIB, negative displacement, 32-bit address size,
	 * FS/GS segment bases. */
	asm volatile("movl %0, 0x10(%1,%2,4)"
		     : : "r"(0x13572468), "r"(scr(0x90)), "r"(3UL) : "memory");
	expect_eq(c, "mov to base+index*4+disp8", r32(0xAC), 0x13572468);
	w32(0xB0, 0x24681357);
	asm volatile("movl -8(%1), %k0" : "=r"(v) : "r"(scr(0xB8)));
	expect_eq(c, "mov from base-8", v, 0x24681357);
	asm volatile("movl (%k1), %k0" : "=r"(v) : "r"(scr(0xB0)));
	expect_eq(c, "mov with a 32-bit address (67)", v, 0x24681357);
	{
		uint64_t fs = rdmsr(MSR_FS_BASE), gs = rdmsr(MSR_GS_BASE);

		w64(0xC0, 0x5555AAAA5555AAAAULL);
		wrmsr(MSR_FS_BASE, SCR_ADDR);
		asm volatile("movq %%fs:0xC0, %0" : "=r"(v));
		expect_eq(c, "mov from FS:disp32 (FS base = device)", v,
			  0x5555AAAA5555AAAAULL);
		wrmsr(MSR_GS_BASE, SCR_ADDR + 0x100);
		asm volatile("movl %0, %%gs:(%1)" : : "r"(0x600DD00D),
			     "r"(0xC8UL) : "memory");
		expect_eq(c, "mov to GS:[reg] (GS base = device + 0x100)",
			  r32(0x1C8), 0x600DD00D);
		wrmsr(MSR_FS_BASE, fs);
		wrmsr(MSR_GS_BASE, gs);
	}
}

static void mmio_strings(struct check *c)
{
	static uint8_t ram[64], back[64];
	uint64_t di, si, cx;

	di = scr(0x1F0);
	asm volatile("stosb" : "+D"(di) : "a"(0x3C) : "memory");
	asm volatile("stosw" : "+D"(di) : "a"(0x4D4D) : "memory");
	asm volatile("stosl" : "+D"(di) : "a"(0x5E5E5E5E) : "memory");
	asm volatile("stosq" : "+D"(di) : "a"(0x0123456789ABCDEFULL)
		     : "memory");
	expect_eq(c, "stosb/w/l/q: RDI", di, scr(0x1F0 + 15));
	expect_eq(c, "stosb/w/l (no rep)", r64(0x1F0), 0xEF5E5E5E5E4D4D3CULL);
	expect_eq(c, "stosq (no rep)", r64(0x1F7), 0x0123456789ABCDEFULL);

	w8(0x1FF, 0x11);
	w8(0x300, 0x22);
	di = scr(0x200);
	cx = 0x100;
	asm volatile("rep stosb" : "+D"(di), "+c"(cx) : "a"(0xA5) : "memory");
	expect_eq(c, "rep stosb: RDI", di, scr(0x300));
	expect_eq(c, "rep stosb: RCX", cx, 0);
	for (unsigned o = 0x200; o < 0x300; o += 8)
		if (r64(o) != 0xA5A5A5A5A5A5A5A5ULL) {
			check_fail(c, "rep stosb: %#x holds %#lx", o, r64(o));
			break;
		}
	expect_true(c, "rep stosb: bytes around it untouched",
		    r8(0x1FF) == 0x11 && r8(0x300) == 0x22);

	di = scr(0x300);
	cx = 16;
	asm volatile("rep stosq" : "+D"(di), "+c"(cx)
		     : "a"(0x0123456789ABCDEFULL) : "memory");
	expect_eq(c, "rep stosq: RDI", di, scr(0x380));
	expect_true(c, "rep stosq: first and last qword",
		    r64(0x300) == 0x0123456789ABCDEFULL &&
		    r64(0x378) == 0x0123456789ABCDEFULL);

	w64(0x380, 0);
	w8(0x388, 0x33);
	w8(0x37F, 0x44);
	di = scr(0x387);
	cx = 8;
	asm volatile("std; rep stosb; cld" : "+D"(di), "+c"(cx) : "a"(0x77)
		     : "memory", "cc");
	expect_eq(c, "std; rep stosb: memory", r64(0x380),
		  0x7777777777777777ULL);
	expect_eq(c, "std; rep stosb: RDI", di, scr(0x37F));
	expect_true(c, "std; rep stosb: bytes around it untouched",
		    r8(0x37F) == 0x44 && r8(0x388) == 0x33);

	for (unsigned i = 0; i < sizeof(ram); i++)
		ram[i] = (uint8_t)(i * 7 + 3);
	si = (uint64_t)ram;
	di = scr(0x400);
	cx = sizeof(ram);
	asm volatile("rep movsb" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	expect_eq(c, "rep movsb RAM->MMIO: RSI", si,
		  (uint64_t)ram + sizeof(ram));
	expect_eq(c, "rep movsb RAM->MMIO: RDI", di, scr(0x400 + sizeof(ram)));
	for (unsigned i = 0; i < sizeof(ram); i++)
		if (r8(0x400 + i) != ram[i]) {
			check_fail(c, "rep movsb RAM->MMIO: byte %u is %#x, want %#x",
				   i, r8(0x400 + i), ram[i]);
			break;
		}

	memset(back, 0, sizeof(back));
	si = scr(0x400);
	di = (uint64_t)back;
	cx = sizeof(back);
	asm volatile("rep movsb" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	expect_true(c, "rep movsb MMIO->RAM: the bytes came back",
		    !memcmp(back, ram, sizeof(ram)));
	expect_eq(c, "rep movsb MMIO->RAM: RCX", cx, 0);

	si = scr(0x400);
	di = scr(0x480);
	cx = sizeof(ram) / 8;
	asm volatile("rep movsq" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	expect_true(c, "rep movsq MMIO->MMIO",
		    r64(0x480) == r64(0x400) && r64(0x4B8) == r64(0x438) &&
		    di == scr(0x4C0));

	si = (uint64_t)ram;
	di = scr(0x4C0);
	asm volatile("movsl" : "+S"(si), "+D"(di) : : "memory");
	expect_eq(c, "movsl RAM->MMIO (no rep)", r32(0x4C0),
		  (uint32_t)ram[0] | (uint32_t)ram[1] << 8 |
		  (uint32_t)ram[2] << 16 | (uint32_t)ram[3] << 24);

	si = (uint64_t)ram + 7;
	di = scr(0x4D7);
	cx = 8;
	asm volatile("std; rep movsb; cld" : "+S"(si), "+D"(di), "+c"(cx)
		     : : "memory", "cc");
	expect_true(c, "std; rep movsb RAM->MMIO",
		    r8(0x4D0) == ram[0] && r8(0x4D7) == ram[7] &&
		    di == scr(0x4CF) && si == (uint64_t)ram - 1);
}

/* The device seen through a 4 KiB page of the guest's own page tables at
 * VA 4 GiB, next to a RAM page: the emulator must walk the guest's tables
 * (4-level, 4 KiB leaf), not assume an identity map. */
#define ALIAS_VA 0x100000000ULL

static uint64_t pt_pml4[512] __attribute__((aligned(4096)));
static uint64_t pt_pdpt[512] __attribute__((aligned(4096)));
static uint64_t pt_pd[5][512] __attribute__((aligned(4096)));
static uint64_t pt_pt[512] __attribute__((aligned(4096)));
static uint8_t alias_ram[4096] __attribute__((aligned(4096)));

static void paging_init(void)
{
	for (unsigned i = 0; i < 4; i++) {
		pt_pdpt[i] = (uint64_t)pt_pd[i] | 3;
		for (unsigned j = 0; j < 512; j++)
			pt_pd[i][j] = (uint64_t)i << 30 | (uint64_t)j << 21 |
				      0x83; /* P | RW | PS */
	}
	pt_pdpt[4] = (uint64_t)pt_pd[4] | 3;
	pt_pd[4][0] = (uint64_t)pt_pt | 3;
	pt_pt[0] = SCR_ADDR | 3;
	pt_pt[1] = (uint64_t)alias_ram | 3;
	pt_pml4[0] = (uint64_t)pt_pdpt | 3;
	asm volatile("movq %0, %%cr3" : : "r"(pt_pml4) : "memory");
}

static void mmio_alias(struct check *c)
{
	volatile uint64_t *dev = (volatile uint64_t *)ALIAS_VA;
	uint64_t si, di, cx;

	expect_eq(c, "magic through a 4 KiB alias page", dev[0xFF8 / 8],
		  ((uint64_t)SCRATCH_MAGIC_HI << 32) | SCRATCH_MAGIC_LO);
	dev[0x500 / 8] = 0xA11A5A11A5A11A5ULL;
	expect_eq(c, "write through the alias, read direct", r64(0x500),
		  0xA11A5A11A5A11A5ULL);
	memset(alias_ram, 0, 64);
	si = ALIAS_VA + 0x400;
	di = ALIAS_VA + 0x1000;
	cx = 64;
	asm volatile("rep movsb" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
	expect_true(c, "rep movsb alias MMIO -> alias RAM",
		    alias_ram[0] == r8(0x400) && alias_ram[63] == r8(0x43F));
}

static unsigned check_mmio(void)
{
	struct check c;

	check_begin(&c, "mmio");
	mmio_widths(&c);
	mmio_mov(&c);
	mmio_strings(&c);
	mmio_alu(&c);
	mmio_alias(&c);
	return check_end(&c);
}

/* ---------------------------------------------------------------- modes -- */

static uint32_t rec32(const uint8_t *rec, unsigned off)
{
	return *(const volatile uint32_t *)(rec + off);
}

static uint64_t rec64(const uint8_t *rec, unsigned off)
{
	return *(const volatile uint64_t *)(rec + off);
}

static uint32_t lar_cs(void)
{
	uint32_t ar, sel;

	asm volatile("movl %%cs, %1\n\tlarl %1, %0" : "=r"(ar), "=&r"(sel));
	return ar;
}

/* What the stub saw on its way from the reset vector (stub.S). LAR gives
 * descriptor bits 8-23 of the high dword (type, S, DPL, P, AVL, L, D, G). */
static unsigned check_modes(const uint8_t *rec)
{
	struct check c;
	uint32_t cr0;
	uint64_t v;

	check_begin(&c, "modes");
	expect_eq(&c, "stub record address", (uint64_t)rec, STUB_REC_BASE);
	expect_eq(&c, "stub record magic", rec32(rec, REC_MAGIC),
		  REC_MAGIC_VALUE);
	expect_eq(&c, "stages reached (real, protected, long)",
		  rec32(rec, REC_STAGES), 7);
	expect_eq(&c, "vCPU index seen by the stub", rec32(rec, REC_ID), 0);

	expect_eq(&c, "real mode: CR0 at reset", rec32(rec, REC_RM_CR0),
		  CR0_CD | CR0_NW | CR0_ET);
	expect_eq(&c, "real mode: CS at the reset vector",
		  rec32(rec, REC_RM_CS), 0xF000);
	expect_eq(&c, "real mode: EFER at reset (no SVME)",
		  rec64(rec, REC_RM_EFER), 0);
#ifndef GUEST_BARE
	expect_eq(&c, "real mode: CPUID 0x40000000 EBX",
		  rec32(rec, REC_RM_HV), 0x6C65654B /* "Keel" */);
#endif

	cr0 = rec32(rec, REC_PM_CR0);
	expect_eq(&c, "protected mode: CR0.PE|PG|CD|NW",
		  cr0 & (CR0_PE | CR0_PG | CR0_CD | CR0_NW), CR0_PE);
	expect_eq(&c, "protected mode: CS", rec32(rec, REC_PM_CS), SEL_CODE32);
	expect_eq(&c, "protected mode: CS attributes (32-bit code)",
		  rec32(rec, REC_PM_CS_AR) & 0x00F0FF00, 0x00C09B00);
#ifndef GUEST_BARE
	expect_eq(&c, "protected mode: MMIO round trip",
		  rec32(rec, REC_PM_MMIO),
		  (uint32_t)(uintptr_t)rec ^ 0x5A5A0000);
#endif

	v = rec64(rec, REC_LM_CR0);
	expect_eq(&c, "long mode: CR0.PE|PG", v & (CR0_PE | CR0_PG),
		  CR0_PE | CR0_PG);
	expect_true(&c, "long mode: CR4.PAE", rec64(rec, REC_LM_CR4) & CR4_PAE);
	v = rec64(rec, REC_LM_EFER);
	expect_eq(&c, "long mode: EFER.LME|LMA|SVME",
		  v & (EFER_LME | EFER_LMA | EFER_SVME), EFER_LME | EFER_LMA);
	expect_eq(&c, "long mode: CS attributes (64-bit code)",
		  rec32(rec, REC_LM_CS_AR) & 0x00F0FF00, 0x00A09B00);
	expect_eq(&c, "now: CS attributes (payload GDT)", lar_cs() & 0x00F0FF00,
		  0x00A09B00);
	return check_end(&c);
}

/* ------------------------------------------------------------ hlt-timer -- */

static volatile unsigned tick_count;
static volatile uint64_t tick_vector;

static void timer_isr(struct trap_frame *f)
{
	tick_count++;
	tick_vector = f->vector;
	/* No EOI: there is no local APIC model yet. */
}

static __attribute__((unused)) unsigned check_hlt_timer(void)
{
	struct check c;
	unsigned before;
	uint64_t t0, t1, spent = 0;

	check_begin(&c, "hlt-timer");
	trap_set(TIMER_VECTOR, timer_isr);

	/* 1. HLT with IF=1 is woken by the timer's interrupt. */
	before = tick_count;
	t0 = rdtsc();
	timer_arm_us(10000);
	asm volatile("sti; hlt; cli" ::: "memory");
	t1 = rdtsc();
	if (tick_count == before)
		check_fail(&c, "HLT returned without the timer interrupt");
	else
		expect_eq(&c, "interrupt vector", tick_vector, TIMER_VECTOR);
	expect_eq(&c, "interrupts per arm", tick_count - before, 1);
	tsc_per_ms = (t1 - t0) / 10;
	gprintln("hlt-timer: 10 ms took %lu TSC ticks", t1 - t0);

	/* 2. With IF=0 it stays pending; STI opens the window and it is
	 * taken after the instruction that follows STI (SDM vol. 3A, 6.8.3). */
	before = tick_count;
	timer_arm_us(1000);
	t0 = rdtsc();
	for (unsigned i = 0; i < 200000 && rdtsc() - t0 < tsc_budget_ms(5); i++)
		inb(TESTDEV_ECHO); /* exits, so Keel sees the deadline */
	if (tick_count != before)
		check_fail(&c, "interrupt delivered while IF=0");
	asm volatile("sti; nop; cli" ::: "memory");
	if (tick_count == before) {
		t0 = rdtsc();
		asm volatile("sti" ::: "memory");
		while (tick_count == before &&
		       (spent = rdtsc() - t0) < tsc_budget_ms(200))
			inb(TESTDEV_ECHO);
		asm volatile("cli" ::: "memory");
		if (tick_count == before)
			check_fail(&c, "pending interrupt never delivered after STI");
		else
			check_fail(&c, "pending interrupt not taken right after "
				   "STI (%lu TSC ticks later)", spent);
	}

	/* 3. Another vector, through TESTDEV_VECTOR. */
	trap_set(0x51, timer_isr);
	timer_set_vector(0x51);
	before = tick_count;
	timer_arm_us(1000);
	asm volatile("sti; hlt; cli" ::: "memory");
	expect_eq(&c, "interrupts after changing the vector", tick_count - before,
		  1);
	expect_eq(&c, "vector set through port 0xA08", tick_vector, 0x51);
	timer_set_vector(TIMER_VECTOR);
	trap_set(0x51, NULL);
	return check_end(&c);
}

/* ---------------------------------------------------------------- smp-ap -- */

void guest_ap_main(unsigned index, void *start_info)
{
	struct ap_report *r = &ap_reports[index];

	guest_cpu_init();
	r->cpuid_index = guest_cpu_index();
	r->apic_base = rdmsr(MSR_APIC_BASE);
	r->stages = start_info ? rec32(start_info, REC_STAGES) : 0;
	gprintln("ap %u: up, apic_base %#lx", index, r->apic_base);
	__atomic_store_n(&r->seen, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&aps_up, 1, __ATOMIC_SEQ_CST);
	/* Not HLT with IF=0 yet: Keel stops a VM whose every vCPU is halted
	 * that way, and vCPU 0 may be in its own HLT. */
	while (!__atomic_load_n(&bsp_done, __ATOMIC_ACQUIRE))
		cpu_relax();
	for (;;)
		asm volatile("cli; hlt");
}

/* How many vCPUs the VM has, as CPUID describes the topology (Intel SDM
 * vol. 2A, CPUID leaf 0xB: level type 2, "core", counts the logical
 * processors; else leaf 1 EBX[23:16] when EDX.HTT is set; else 1). */
static unsigned cpuid_cpu_count(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] >= 0xB) {
		for (uint32_t level = 0; level < 8; level++) {
			cpuid(0xB, level, r);
			if (!((r[2] >> 8) & 0xFF))
				break;
			if (((r[2] >> 8) & 0xFF) == 2 && (r[1] & 0xFFFF))
				return r[1] & 0xFFFF;
		}
	}
	cpuid(1, 0, r);
	if ((r[3] & (1u << 28)) && ((r[1] >> 16) & 0xFF))
		return (r[1] >> 16) & 0xFF;
	return 1;
}

static unsigned check_smp(bool firmware)
{
	struct check c;
	unsigned want = cpuid_cpu_count(), up;
	uint64_t t0 = rdtsc();

	if (want <= 1) {
		check_skip("smp-ap", "1 vCPU");
		return 0;
	}
	check_begin(&c, "smp-ap");
	if (want > GUEST_MAX_CPUS) {
		check_fail(&c, "%u vCPUs, this guest handles %u", want,
			   GUEST_MAX_CPUS);
		want = GUEST_MAX_CPUS;
	}
	/* The APs started with vCPU 0, but their host CPUs may be busy with
	 * other VMs (or Keel's bring-up): wait for them, boundedly. */
	while (__atomic_load_n(&aps_up, __ATOMIC_ACQUIRE) < want - 1 &&
	       rdtsc() - t0 < tsc_budget_ms(10000))
		cpu_relax();
	up = __atomic_load_n(&aps_up, __ATOMIC_ACQUIRE);
	gprintln("smp-ap: %u of %u AP(s) reported in", up, want - 1);
	for (unsigned i = 1; i < GUEST_MAX_CPUS; i++) {
		struct ap_report *r = &ap_reports[i];

		if (!__atomic_load_n(&r->seen, __ATOMIC_ACQUIRE)) {
			if (i < want)
				check_fail(&c, "AP %u did not report in", i);
			continue;
		}
		if (i >= want)
			check_fail(&c, "AP %u reported in, CPUID says %u vCPUs", i,
				   want);
		if (r->cpuid_index != i)
			check_fail(&c, "AP %u: CPUID index %u", i, r->cpuid_index);
		if (r->apic_base != APIC_BASE_AP)
			check_fail(&c, "AP %u: IA32_APIC_BASE %#lx, want %#llx", i,
				   r->apic_base, APIC_BASE_AP);
		if (firmware && r->stages != 7)
			check_fail(&c, "AP %u: stub stages %#x, want 7", i,
				   r->stages);
	}
	return check_end(&c);
}

#ifdef GUEST_BARE
/* Plain QEMU starts APs only by INIT-SIPI-SIPI: send them to the ROM's
 * last page through its alias at 0xFF000 (vector 0xFF), where stub.S has
 * a far jump to its real-mode entry. Keel starts every vCPU by itself. */
static void bare_delay(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		cpu_relax();
}

static void bare_start_aps(void)
{
	volatile uint32_t *apic = (volatile uint32_t *)0xFEE00000UL;

	apic[0xF0 / 4] |= 0x100; /* software enable */
	apic[0x310 / 4] = 0;
	apic[0x300 / 4] = 0x000C4500; /* INIT, all but self */
	bare_delay(1000000);
	for (int i = 0; i < 2; i++) {
		apic[0x300 / 4] = 0x000C46FF; /* SIPI, vector 0xFF */
		bare_delay(100000);
	}
}
#endif

void guest_main(void *start_info)
{
	guest_cpu_init();
	gprintln("checks: %s start on vCPU %u",
		 start_info ? "firmware" : "64-bit", guest_cpu_index());
#ifdef GUEST_BARE
	bare_start_aps();
	w64(0xFF8, ((uint64_t)SCRATCH_MAGIC_HI << 32) | SCRATCH_MAGIC_LO);
#endif
	paging_init();
	failures += check_cpuid();
	failures += check_io_emulated();
	failures += check_io_unhandled();
	failures += check_msr_allowed();
	failures += check_msr_emulated();
	failures += check_msr_denied();
	failures += check_virt_insn();
	failures += check_mmio();
	if (start_info)
		failures += check_modes(start_info);
#ifdef GUEST_BARE
	check_skip("hlt-timer", "no test device timer on plain QEMU");
#else
	failures += check_hlt_timer();
#endif
	failures += check_smp(start_info != NULL);
	__atomic_store_n(&bsp_done, 1, __ATOMIC_RELEASE);
	gprintln("checks: done, %u failed", failures);
	guest_exit(failures);
}
