/*
 * test_vmx.c - the host-testable parts of the VMX backend as they ship, over
 * a fake VMCS: control computation from capability MSRs given as data (the
 * values Bochs reports for tigerlake and corei7_sandy_bridge_2600k, and
 * broken variants), EPTP encoding and the EPT leaf sizes, access-rights
 * conversion, CR0/CR4 masks, exit decoding from synthetic exit reasons and
 * qualifications, event encoding and IDT-vectoring re-injection, the MSR
 * and I/O bitmaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"
#include "vmx/vmx_softc.h"

/* kernel/virt/msr.c asks the local APIC model first (kernel/vdev/irq.c,
 * not linked here): no MSR is the APIC's in these tests. */
int vdev_lapic_msr(struct vcpu *vcpu, uint32_t msr, bool write, uint64_t *val)
{
	return 1;
}

/* ------------------------------------------------------- fake VMCS -- */

static uint64_t fake_vmcs[0x7000];
static unsigned fake_writes;

uint64_t vmcs_read(uint32_t field)
{
	assert_true(field < 0x7000);
	return fake_vmcs[field];
}

int vmcs_write(uint32_t field, uint64_t value)
{
	assert_true(field < 0x7000);
	fake_vmcs[field] = value;
	fake_writes++;
	return 0;
}

void vmx_sregs_fresh(struct vmx_vcpu *vv)
{
	if (vv->sregs_stale)
		vmcs_read_sregs(vv);
}

static unsigned host_nmis;
void vmx_host_nmi(void)
{
	host_nmis++;
}

/* --------------------------------------- capability MSRs as data -- */

/* ../shared/recipes/bochs/results/caps-tigerlake.txt */
static const struct vmx_caps tigerlake = {
	.basic = 0x01d8100000000004ull,
	.pin = 0x0000007f00000016ull,
	.proc = 0xfff9fffe0401e172ull,
	.exit = 0x107fffff00036dffull,
	.entry = 0x0010ffff000011ffull,
	.misc = 0x00000000600401e0ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x00002000ull,
	.cr4_fixed1 = 0x00f72fffull,
	.proc2 = 0x02977fff00000000ull,
	.ept_vpid = 0x00000f0106b34141ull,
	.true_pin = 0x0000007f00000016ull,
	.true_proc = 0xfff9fffe04006172ull,
	.true_exit = 0x107fffff00036dfbull,
	.true_entry = 0x0010ffff000011fbull,
};

/* caps-corei7_sandy_bridge_2600k.txt */
static const struct vmx_caps sandy = {
	.basic = 0x00d810000000002bull,
	.pin = 0x0000007f00000016ull,
	.proc = 0xf7f9fffe0401e172ull,
	.exit = 0x007fffff00036dffull,
	.entry = 0x0000ffff000011ffull,
	.misc = 0x00000000000401e0ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x00002000ull,
	.cr4_fixed1 = 0x000627ffull,
	.proc2 = 0x000000ff00000000ull,
	.ept_vpid = 0x00000f0106114141ull,
	.true_pin = 0x0000007f00000016ull,
	.true_proc = 0xf7f9fffe04006172ull,
	.true_exit = 0x007fffff00036dfbull,
	.true_entry = 0x0000ffff000011fbull,
};

static struct vmx_controls ctls;
static struct vmx_vcpu vv;
static struct vcpu vcpu;
static char why[128];

static int setup(void **state)
{
	(void)state;
	memset(fake_vmcs, 0, sizeof(fake_vmcs));
	fake_writes = 0;
	host_nmis = 0;
	assert_int_equal(vmx_controls_compute(&tigerlake, &ctls, why,
					      sizeof(why)), 0);
	memset(&vv, 0, sizeof(vv));
	memset(&vcpu, 0, sizeof(vcpu));
	vv.vcpu = &vcpu;
	vv.ctls = &ctls;
	vv.cpu = 0;
	vmx_reset_state(&vv, 0x000806C1);
	test_log_reset();
	test_log_quiet = 1;
	return 0;
}

/* ------------------------------------------------------- controls -- */

static void test_ctl_adjust(void **state)
{
	uint32_t out = 0, missing = 0;

	(void)state;
	/* must-1 bits come in, optional ones only where allowed. */
	assert_int_equal(vmx_ctl_adjust(0x000000FF00000011ull, 0x2, 0x104, 0,
					&out, &missing), 0);
	assert_int_equal(out, 0x17);
	assert_int_equal(missing, 0);
	/* A wanted bit the CPU lacks. */
	assert_int_equal(vmx_ctl_adjust(0x000000FF00000011ull, 0x300, 0, 0,
					&out, &missing), KEEL_ENOTSUP);
	assert_int_equal(missing, 0x300);
	/* A bit that must stay 0 but is forced to 1. */
	assert_int_equal(vmx_ctl_adjust(0x000000FF00000011ull, 0, 0, 0x10,
					&out, &missing), KEEL_ENOTSUP);
	assert_int_equal(missing, 0x10);
	/* Forced to 1 and not allowed to be 1: a broken MSR. */
	assert_int_equal(vmx_ctl_adjust(0x0000000F00000010ull, 0, 0, 0,
					&out, &missing), KEEL_EINVAL);
	assert_int_equal(missing, 0x10);
}

static void test_controls_tigerlake(void **state)
{
	(void)state;
	assert_int_equal(ctls.revision, 0x4);
	/* SDM A.3.1 (allowed-1 0x7F): the preemption timer (bit 6) is on
	 * (vmx.c bounds each stay in the guest with it); rate 0 (A.6). */
	assert_int_equal(ctls.pin, 0x5F);
	assert_true(ctls.preempt_timer);
	assert_int_equal(ctls.preempt_rate, 0);
	assert_int_equal(ctls.proc, 0x960061F2);
	assert_int_equal(ctls.proc2, 0x10E2); /* no RDTSCP (bit 3) */
	assert_int_equal(ctls.exit, 0x3F6FFB);
	assert_int_equal(ctls.entry, 0xD1FB);
	assert_false(ctls.proc & PROC_CR3_LOAD_EXITING);
	assert_false(ctls.exit & EXIT_CTL_ACK_INTR_ON_EXIT);
	assert_true(ctls.vpid);
	assert_true(ctls.load_pat);
	assert_true(ctls.invept_single);
	assert_true(ctls.invvpid_single);
	assert_true(ctls.ept_2m);
	assert_true(ctls.ept_1g);
	assert_int_equal(ctls.eptp_flags, 0x1E);
	assert_int_equal(ctls.cr0_must1, CR0_NE);
	assert_int_equal(ctls.cr4_must1, CR4_VMXE);
}

static void test_controls_sandy_bridge(void **state)
{
	struct vmx_controls c;

	(void)state;
	assert_int_equal(vmx_controls_compute(&sandy, &c, why, sizeof(why)), 0);
	assert_int_equal(c.revision, 0x2B);
	assert_int_equal(c.pin, 0x5F);
	assert_true(c.preempt_timer);
	assert_int_equal(c.proc, 0x960061F2);
	/* No INVPCID on sandy bridge: the optional bit is left out. */
	assert_int_equal(c.proc2, 0xE2); /* no RDTSCP (bit 3) */
	assert_int_equal(c.exit, 0x3F6FFB);
	assert_int_equal(c.entry, 0xD1FB);
	assert_true(c.ept_2m);
	assert_false(c.ept_1g); /* A.10: bit 17 clear */
	assert_int_equal(c.cr4_may1, 0x627FF);
}

static void test_controls_missing_features(void **state)
{
	struct vmx_caps caps = sandy;
	struct vmx_controls c;

	(void)state;
	/* corei5_lynnfield_750: EPT but no unrestricted guest. */
	caps.proc2 = 0x0000007f00000000ull;
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)),
			 KEEL_ENOTSUP);
	assert_non_null(strstr(why, "unrestricted guest"));
	/* No TRUE MSRs: the old ones force CR3 exiting. */
	caps = sandy;
	caps.basic &= ~VMX_BASIC_TRUE_CTLS;
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)),
			 KEEL_ENOTSUP);
	assert_non_null(strstr(why, "(CR3-load exiting) cannot be turned off"));
	/* No load-EFER on exit. */
	caps = sandy;
	caps.true_exit &= ~((uint64_t)EXIT_CTL_LOAD_EFER << 32);
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)),
			 KEEL_ENOTSUP);
	assert_non_null(strstr(why, "load IA32_EFER"));
	/* No 4-level EPT walk. */
	caps = sandy;
	caps.ept_vpid &= ~EPT_CAP_WALK_4;
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)),
			 KEEL_ENOTSUP);
	assert_non_null(strstr(why, "4-level"));
	/* No INVVPID: VPID is not used. */
	caps = sandy;
	caps.ept_vpid &= ~VPID_CAP_INVVPID;
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)), 0);
	assert_false(c.vpid);
	assert_false(c.proc2 & PROC2_ENABLE_VPID);
	/* No WB paging structures: UC in the EPTP. */
	caps.ept_vpid &= ~EPT_CAP_MT_WB;
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)), 0);
	assert_int_equal(vmx_eptp(&c, 0x5000), 0x5018);
	/* No PAT controls on entry: none of the three is used. */
	caps = sandy;
	caps.true_entry &= ~((uint64_t)ENTRY_CTL_LOAD_PAT << 32);
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)), 0);
	assert_false(c.load_pat);
	assert_false(c.exit & (EXIT_CTL_LOAD_PAT | EXIT_CTL_SAVE_PAT));
	/* No preemption timer: optional, the rest stands. */
	caps = sandy;
	caps.true_pin &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)), 0);
	assert_int_equal(c.pin, 0x1F);
	assert_false(c.preempt_timer);
	/* A.6: IA32_VMX_MISC[4:0] is the TSC bit the timer ticks with. */
	caps = sandy;
	caps.misc |= 5;
	assert_int_equal(vmx_controls_compute(&caps, &c, why, sizeof(why)), 0);
	assert_int_equal(c.preempt_rate, 5);
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PROC2, 7),
			    "unrestricted guest");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PIN, 1), "reserved");
	assert_string_equal(vmx_ctl_bit_name(VMX_CTL_PIN, 40), "?");
}

/* ------------------------------------------------------------- EPT -- */

static void test_eptp_and_format(void **state)
{
	struct vmx_controls c;

	(void)state;
	/* 24.6.11: WB (6), walk length 4 (3 << 3); the root's low bits go. */
	assert_int_equal(vmx_eptp(&ctls, 0x12345000ull), 0x1234501Eull);
	assert_int_equal(vmx_eptp(&ctls, 0x12345FFFull), 0x1234501Eull);
	vmx_ept_format_init(&ctls);
	assert_true(vmx_ept_format.large_2m);
	assert_true(vmx_ept_format.large_1g);
	assert_ptr_equal(vmx_ept_format.encode, pt_format_ept.encode);
	assert_int_equal(vmx_controls_compute(&sandy, &c, why, sizeof(why)), 0);
	vmx_ept_format_init(&c);
	assert_true(vmx_ept_format.large_2m);
	assert_false(vmx_ept_format.large_1g);
	c.ept_2m = false;
	c.ept_1g = true; /* 1 GiB without 2 MiB: neither */
	vmx_ept_format_init(&c);
	assert_false(vmx_ept_format.large_2m);
	assert_false(vmx_ept_format.large_1g);
}

/* ---------------------------------------------------- access rights -- */

static void test_access_rights(void **state)
{
	(void)state;
	assert_int_equal(vmx_ar_from_attr(0x009B, 0xFFFF), 0x9B);
	assert_int_equal(vmx_ar_from_attr(0x0A9B, 0xFFFFFFFF), 0xA09B);
	assert_int_equal(vmx_ar_from_attr(0x0C93, 0xFFFFFFFF), 0xC093);
	assert_int_equal(vmx_ar_from_attr(0x008B, 0x67), 0x8B);
	/* Not present: unusable; SS keeps its DPL. */
	assert_int_equal(vmx_ar_from_attr(0x0000, 0), VMX_AR_UNUSABLE);
	assert_int_equal(vmx_ar_from_attr(0x0060, 0), VMX_AR_UNUSABLE | 0x60);
	/* G follows the limit. */
	assert_int_equal(vmx_ar_from_attr(0x0093, 0xFFFFFFFF), 0x8093);
	assert_int_equal(vmx_ar_from_attr(0x0893, 0xFFFE), 0x93);
	assert_int_equal(vmx_ar_from_attr(0x0893, 0xFFFF), 0x8093); /* consistent */
	/* Back. */
	assert_int_equal(vmx_attr_from_ar(0xA09B), 0x0A9B);
	assert_int_equal(vmx_attr_from_ar(0xC093), 0x0C93);
	assert_int_equal(vmx_attr_from_ar(VMX_AR_UNUSABLE | 0xC0F3), 0x60);
	for (unsigned a = 0; a < 0x1000; a++) {
		if (!(a & SEG_ATTR_P))
			continue;
		assert_int_equal(vmx_attr_from_ar(vmx_ar_from_attr(a, 0xFFFFF)),
				 a);
	}
}

/* ------------------------------------------------------- guest state -- */

static void test_reset_state_in_vmcs(void **state)
{
	(void)state;
	assert_int_equal(vmcs_setup(&vv, 0x100000, 0x102000), 0);
	assert_int_equal(vmcs_sync_to_hw(&vv), 0);
	assert_int_equal(fake_vmcs[VMCS_GUEST_RIP], 0xFFF0);
	assert_int_equal(fake_vmcs[VMCS_GUEST_RFLAGS], 0x2);
	assert_int_equal(fake_vmcs[VMCS_GUEST_ES_SEL + 2 * VMX_SEG_CS], 0xF000);
	assert_int_equal(fake_vmcs[VMCS_GUEST_ES_BASE + 2 * VMX_SEG_CS],
			 0xFFFF0000ull);
	assert_int_equal(fake_vmcs[VMCS_GUEST_ES_AR + 2 * VMX_SEG_CS], 0x9B);
	assert_int_equal(fake_vmcs[VMCS_GUEST_ES_AR + 2 * VMX_SEG_DS], 0x93);
	assert_int_equal(fake_vmcs[VMCS_GUEST_ES_AR + 2 * VMX_SEG_TR], 0x8B);
	assert_int_equal(fake_vmcs[VMCS_GUEST_ES_AR + 2 * VMX_SEG_LDTR], 0x82);
	/* CR0: NE forced, CD/NW not loadable (shadow only); PE/PG free. */
	assert_int_equal(fake_vmcs[VMCS_GUEST_CR0], 0x30);
	assert_int_equal(fake_vmcs[VMCS_CR0_READ_SHADOW], 0x60000010);
	assert_int_equal(fake_vmcs[VMCS_CR0_GUEST_HOST_MASK], 0x60000020);
	assert_int_equal(fake_vmcs[VMCS_GUEST_CR4], CR4_VMXE);
	assert_int_equal(fake_vmcs[VMCS_CR4_READ_SHADOW], 0);
	assert_int_equal(fake_vmcs[VMCS_GUEST_IA32_EFER], 0);
	assert_false(fake_vmcs[VMCS_ENTRY_CTLS] & ENTRY_CTL_IA32E_GUEST);
	assert_int_equal(fake_vmcs[VMCS_LINK_POINTER], ~0ull);
	assert_int_equal(fake_vmcs[VMCS_IO_BITMAP_B], 0x101000);
	assert_int_equal(fake_vmcs[VMCS_GUEST_IA32_PAT], 0x0007040600070406ull);
	assert_int_equal(vv.gprs.rdx, 0x000806C1);
	/* Read back as the guest sees it. */
	vv.sregs_stale = true;
	vmcs_read_sregs(&vv);
	assert_int_equal(vv.sregs.cr0, 0x60000010);
	assert_int_equal(vv.sregs.cr4, 0);
	assert_int_equal(vv.sregs.cs.attr, 0x9B);
	assert_int_equal(vv.sregs.cs.base, 0xFFFF0000ull);
}

static void long_mode(void)
{
	struct vcpu_sregs s = vv.sregs;

	s.cs = (struct vcpu_segment){ .sel = 8, .attr = 0xA9B,
				      .limit = 0xFFFFFFFF };
	s.ss = s.ds = (struct vcpu_segment){ .sel = 0x10, .attr = 0xC93,
					     .limit = 0xFFFFFFFF };
	s.cr0 = 0x80050033;
	s.cr4 = 0x620;
	s.efer = 0x500;
	vmx_set_sregs_sw(&vv, &s);
	vmcs_setup(&vv, 0x100000, 0x102000);
	vmcs_sync_to_hw(&vv);
}

static void test_long_mode_entry_control(void **state)
{
	(void)state;
	long_mode();
	assert_true(fake_vmcs[VMCS_ENTRY_CTLS] & ENTRY_CTL_IA32E_GUEST);
	assert_int_equal(fake_vmcs[VMCS_GUEST_ES_AR + 2 * VMX_SEG_CS], 0xA09B);
	assert_int_equal(fake_vmcs[VMCS_GUEST_CR0], 0x80050033);
	assert_int_equal(fake_vmcs[VMCS_GUEST_CR4], 0x620 | CR4_VMXE);
	assert_true(vv.vpid_flush);
}

static void test_set_regs_ends_shadow(void **state)
{
	struct vcpu_regs r;

	(void)state;
	vv.rflags = 0x202;
	vv.interruptibility = INTERRUPTIBILITY_STI;
	assert_false(vmx_can_inject_intr(&vv));
	vmx_get_regs_sw(&vv, &r);
	vmx_set_regs_sw(&vv, &r); /* same RIP and IF: the shadow stays */
	assert_int_equal(vv.interruptibility, INTERRUPTIBILITY_STI);
	r.rip += 1;
	vmx_set_regs_sw(&vv, &r);
	assert_int_equal(vv.interruptibility, 0);
	assert_true(vmx_can_inject_intr(&vv));
	vmx_inject(&vv, 0x30, EVENT_EXTINT, false, 0);
	assert_false(vmx_can_inject_intr(&vv)); /* one event at a time */
	r.rflags = 0x2;
	vmx_set_regs_sw(&vv, &r);
	assert_false(vmx_can_inject_intr(&vv));
}

/* ------------------------------------------------------------ events -- */

static void test_events(void **state)
{
	(void)state;
	/* Real mode: never an error code (26.2.1.3). */
	assert_int_equal(vmx_event(&vv, 13, EVENT_EXCEPTION, true), 0x8000030D);
	long_mode();
	assert_int_equal(vmx_event(&vv, 13, EVENT_EXCEPTION, true), 0x80000B0D);
	/* #UD has none even when asked. */
	assert_int_equal(vmx_event(&vv, 6, EVENT_EXCEPTION, true), 0x80000306);
	assert_int_equal(vmx_event(&vv, 2, EVENT_NMI, false), 0x80000202);
	assert_int_equal(vmx_event(&vv, 0x20, EVENT_EXTINT, false), 0x80000020);
	vmx_inject(&vv, 14, EVENT_EXCEPTION, true, 0x6);
	vmcs_sync_to_hw(&vv);
	assert_int_equal(fake_vmcs[VMCS_ENTRY_INTR_INFO], 0x80000B0E);
	assert_int_equal(fake_vmcs[VMCS_ENTRY_EXCEPTION_ERROR], 6);
}

static void test_idt_vectoring(void **state)
{
	(void)state;
	assert_false(vmx_reinject_idt_vectoring(&vv, 0x0B0E, 4, 0));
	assert_int_equal(vv.entry_intr_info, 0);
	assert_true(vmx_reinject_idt_vectoring(&vv, 0x80000B0E, 4, 0));
	assert_int_equal(vv.entry_intr_info, 0x80000B0E);
	assert_int_equal(vv.entry_error, 4);
	/* INT 0x80: re-injected with its length. */
	assert_true(vmx_reinject_idt_vectoring(&vv, 0x80000480, 0, 2));
	assert_int_equal(vv.entry_intr_info, 0x80000480);
	assert_int_equal(vv.entry_insn_len, 2);
	/* NMI-unblocking bit 12 is not an entry field. */
	assert_true(vmx_reinject_idt_vectoring(&vv, 0x80001202, 0, 0));
	assert_int_equal(vv.entry_intr_info, 0x80000202);
	assert_false(vmx_reinject_idt_vectoring(&vv, 0x80000720, 0, 0));
}

/* ------------------------------------------------------ exit decoding -- */

static void exit_with(uint32_t reason, uint64_t qual, uint32_t len)
{
	fake_vmcs[VMCS_EXIT_REASON] = reason;
	fake_vmcs[VMCS_EXIT_QUALIFICATION] = qual;
	fake_vmcs[VMCS_EXIT_INSN_LEN] = len;
	fake_vmcs[VMCS_IDT_VECTORING_INFO] = 0;
}

static void test_exit_simple(void **state)
{
	struct vm_exit e;
	static const struct {
		uint32_t reason;
		enum exit_reason want;
		uint8_t len;
	} t[] = {
		{ EXIT_REASON_CPUID, EXIT_CPUID, 2 },
		{ EXIT_REASON_HLT, EXIT_HLT, 1 },
		{ EXIT_REASON_VMCALL, EXIT_VMCALL, 3 },
		{ EXIT_REASON_INVD, EXIT_INVD, 2 },
		{ EXIT_REASON_WBINVD, EXIT_INVD, 2 },
		{ EXIT_REASON_VMXON, EXIT_VIRT_INSN, 4 },
		{ EXIT_REASON_VMLAUNCH, EXIT_VIRT_INSN, 3 },
		{ EXIT_REASON_INVEPT, EXIT_VIRT_INSN, 5 },
		{ EXIT_REASON_TRIPLE_FAULT, EXIT_SHUTDOWN, 0 },
		{ EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_EXTINT, 0 },
		{ EXIT_REASON_PREEMPTION_TIMER, EXIT_EXTINT, 0 },
		{ EXIT_REASON_XSETBV, EXIT_XSETBV, 3 },
		{ EXIT_REASON_TASK_SWITCH, EXIT_UNKNOWN, 0 },
		{ EXIT_REASON_MACHINE_CHECK, EXIT_UNKNOWN, 0 },
	};

	(void)state;
	fake_vmcs[VMCS_GUEST_RIP] = 0x1234;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		exit_with(t[i].reason, 0, t[i].len);
		vmx_exit_decode(&vv, &e);
		assert_int_equal(e.reason, t[i].want);
		if (t[i].want == EXIT_UNKNOWN)
			assert_int_equal(e.unknown.code, t[i].reason);
		else
			assert_int_equal(e.insn_len, t[i].len);
		assert_int_equal(vv.rip, 0x1234);
	}
	/* A length of 0 or above 15 is not trusted. */
	exit_with(EXIT_REASON_CPUID, 0, 16);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.insn_len, 0);
}

static void test_exit_io(void **state)
{
	struct vm_exit e;

	(void)state;
	exit_with(EXIT_REASON_IO, 0x3F8ull << 16, 1); /* out dx, al */
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_IO);
	assert_int_equal(e.io.port, 0x3F8);
	assert_int_equal(e.io.size, 1);
	assert_false(e.io.in);
	assert_false(e.io.string);
	assert_int_equal(e.insn_len, 1);
	exit_with(EXIT_REASON_IO, (0xCFCull << 16) | IO_QUAL_IN | 3, 1);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.io.size, 4);
	assert_true(e.io.in);
	exit_with(EXIT_REASON_IO, (0x80ull << 16) | IO_QUAL_STRING |
				  IO_QUAL_REP | 1, 3);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.io.size, 2);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	assert_int_equal(e.insn_len, 3);
	/* Size field 2 (3 bytes) does not exist. */
	exit_with(EXIT_REASON_IO, 2, 1);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_UNKNOWN);
}

static void test_exit_ept(void **state)
{
	struct vm_exit e;

	(void)state;
	fake_vmcs[VMCS_GUEST_PHYSICAL_ADDRESS] = 0xC0000000ull;
	fake_vmcs[VMCS_GUEST_LINEAR_ADDRESS] = 0xFFFF800000001000ull;
	/* The probe's read of an unmapped page: 0x181. */
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x181, 0);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_NPF);
	assert_int_equal(e.npf.gpa, 0xC0000000ull);
	assert_int_equal(e.npf.gva, 0xFFFF800000001000ull);
	assert_false(e.npf.write);
	assert_false(e.npf.fetch);
	assert_false(e.npf.present);
	assert_false(e.npf.in_guest_walk);
	/* A write to a read-only page while walking the guest's tables. */
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x8A, 0);
	vmx_exit_decode(&vv, &e);
	assert_true(e.npf.write);
	assert_true(e.npf.present);
	assert_true(e.npf.in_guest_walk);
	/* A fetch without a guest-linear address. */
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x4, 0);
	vmx_exit_decode(&vv, &e);
	assert_true(e.npf.fetch);
	assert_int_equal(e.npf.gva, 0);
	assert_false(e.npf.in_guest_walk);
	/* Misconfiguration: stop, and say so. */
	exit_with(EXIT_REASON_EPT_MISCONFIG, 0, 0);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_UNKNOWN);
	assert_int_equal(e.unknown.code, EXIT_REASON_EPT_MISCONFIG);
	assert_int_equal(e.unknown.info2, 0xC0000000ull);
	assert_non_null(strstr(test_log_last, "EPT misconfiguration"));
}

static void test_exit_entry_failures(void **state)
{
	struct vm_exit e;

	(void)state;
	exit_with(EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_GUEST_STATE,
		  3, 0);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_ENTRY_FAILED);
	assert_int_equal(e.fail.code, 0x80000021);
	assert_non_null(strstr(e.fail.why, "invalid guest state"));
	exit_with(EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_MSR_LOADING, 1, 0);
	vmx_exit_decode(&vv, &e);
	assert_non_null(strstr(e.fail.why, "MSR loading"));
	vmx_entry_failed(&vv, VMX_ENTER_FAIL_VALID, 7, &e);
	assert_int_equal(e.reason, EXIT_ENTRY_FAILED);
	assert_int_equal(e.fail.code, 7);
	assert_string_equal(e.fail.why, "VMLAUNCH error 7: VM entry with "
			    "invalid control field(s)");
	vv.launched = true;
	vmx_entry_failed(&vv, VMX_ENTER_FAIL_INVALID, 0, &e);
	assert_non_null(strstr(e.fail.why, "VMRESUME: VMfailInvalid"));
	assert_string_equal(vmx_insn_error_name(99),
			    "unknown VM-instruction error");
}

static void test_exit_intr_window_nmi_ac(void **state)
{
	struct vm_exit e;

	(void)state;
	vmx_set_intr_window(&vv, true);
	assert_true(vv.proc & PROC_INTR_WINDOW_EXITING);
	exit_with(EXIT_REASON_INTERRUPT_WINDOW, 0, 0);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_INTR_WINDOW);
	assert_false(vv.proc & PROC_INTR_WINDOW_EXITING);
	assert_true(vv.proc_dirty);
	/* An NMI: the host's handler runs. */
	exit_with(EXIT_REASON_EXCEPTION_NMI, 0, 0);
	fake_vmcs[VMCS_EXIT_INTR_INFO] = 0x80000202;
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_NMI);
	assert_int_equal(host_nmis, 1);
	/* #AC goes back to the guest. */
	long_mode();
	exit_with(EXIT_REASON_EXCEPTION_NMI, 0, 0);
	fake_vmcs[VMCS_EXIT_INTR_INFO] = 0x80000B11;
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_NONE);
	assert_int_equal(vv.entry_intr_info, 0x80000B11);
	/* Any other exception is not expected. */
	fake_vmcs[VMCS_EXIT_INTR_INFO] = 0x80000B0E;
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_UNKNOWN);
	/* An event being delivered comes back at the next entry. */
	exit_with(EXIT_REASON_EPT_VIOLATION, 0x2, 0);
	fake_vmcs[VMCS_IDT_VECTORING_INFO] = 0x80000B0D;
	fake_vmcs[VMCS_IDT_VECTORING_ERROR] = 0x10;
	vmx_exit_decode(&vv, &e);
	assert_int_equal(vv.entry_intr_info, 0x80000B0D);
	assert_int_equal(vv.entry_error, 0x10);
}

static void test_exit_msr(void **state)
{
	struct vm_exit e;

	(void)state;
	long_mode();
	fake_vmcs[VMCS_GUEST_RIP] = 0x1000;
	fake_vmcs[VMCS_GUEST_RFLAGS] = 0x2;
	/* EFER: answered here, the instruction skipped. */
	vv.gprs.rcx = MSR_EFER;
	exit_with(EXIT_REASON_RDMSR, 0, 2);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_NONE);
	assert_int_equal(vv.gprs.rax, 0x500);
	assert_int_equal(vv.gprs.rdx, 0);
	assert_int_equal(vv.rip, 0x1002);
	/* Setting NXE. */
	vv.gprs.rax = 0xD00;
	vv.gprs.rdx = 0;
	exit_with(EXIT_REASON_WRMSR, 0, 2);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_NONE);
	assert_int_equal(vv.sregs.efer, 0xD00);
	assert_true(vv.sregs_dirty);
	/* LME may not change while paging is on. */
	vv.gprs.rax = 0x800;
	exit_with(EXIT_REASON_WRMSR, 0, 2);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(vv.entry_intr_info, 0x80000B0D | INTR_INFO_DELIVER_CODE);
	/* A bad PAT: #GP. */
	vv.gprs.rcx = MSR_IA32_PAT;
	vv.gprs.rax = 0x02;
	exit_with(EXIT_REASON_WRMSR, 0, 2);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_NONE);
	assert_int_equal(vv.entry_intr_info & 0xFF, 13);
	/* Anything else: the core's. */
	vv.gprs.rcx = 0x10;
	exit_with(EXIT_REASON_RDMSR, 0, 2);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_MSR_READ);
	assert_int_equal(e.msr.index, 0x10);
	assert_int_equal(e.insn_len, 2);
}

static void test_exit_cr(void **state)
{
	struct vm_exit e;

	(void)state;
	/* Real mode: the guest sets CR0.PE and NE (mov cr0, eax). */
	vmcs_setup(&vv, 0x100000, 0x102000);
	vmcs_sync_to_hw(&vv);
	fake_vmcs[VMCS_GUEST_RIP] = 0x7C00;
	vv.gprs.rax = 0x60000031;
	exit_with(EXIT_REASON_CR_ACCESS, 0x0, 3);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_NONE);
	assert_int_equal(vv.sregs.cr0, 0x60000031);
	assert_int_equal(vv.rip, 0x7C03);
	vmcs_sync_to_hw(&vv);
	assert_int_equal(fake_vmcs[VMCS_GUEST_CR0], 0x31);
	assert_int_equal(fake_vmcs[VMCS_CR0_READ_SHADOW], 0x60000031);
	/* PG without PE: #GP, RIP stays. */
	vv.gprs.rbx = 0x80000000;
	exit_with(EXIT_REASON_CR_ACCESS, 0x300, 3);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_NONE);
	assert_int_equal(vv.entry_intr_info & 0xFF, 13);
	/* CR4.VMXE from the guest: #GP (it has no VMX). */
	vv.gprs.rcx = CR4_VMXE;
	exit_with(EXIT_REASON_CR_ACCESS, 0x104, 3);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(vv.entry_intr_info & 0xFF, 13);
	/* Paging on with LME: IA-32e mode. */
	vmx_sregs_fresh(&vv);
	{
		struct vcpu_sregs s = vv.sregs;

		s.efer = EFER_LME;
		s.cr4 = CR4_PAE;
		vmx_set_sregs_sw(&vv, &s);
		vmcs_sync_to_hw(&vv);
	}
	vv.gprs.rax = 0x80000031;
	exit_with(EXIT_REASON_CR_ACCESS, 0x0, 3);
	vmx_exit_decode(&vv, &e);
	assert_true(vv.sregs.efer & EFER_LMA);
	vmcs_sync_to_hw(&vv);
	assert_true(fake_vmcs[VMCS_ENTRY_CTLS] & ENTRY_CTL_IA32E_GUEST);
	/* MOV from CR, CLTS, LMSW and CR3 are not intercepted: unknown. */
	exit_with(EXIT_REASON_CR_ACCESS, 0x10, 3);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_UNKNOWN);
	exit_with(EXIT_REASON_CR_ACCESS, 0x3, 3);
	vmx_exit_decode(&vv, &e);
	assert_int_equal(e.reason, EXIT_UNKNOWN);
}

/* ---------------------------------------------------------- bitmaps -- */

static void test_bitmaps(void **state)
{
	static uint8_t msr[4096], io[8192];
	unsigned byte, bit;

	(void)state;
	assert_int_equal(vmx_msr_bitmap_position(0x10, false, &byte, &bit), 0);
	assert_int_equal(byte, 2);
	assert_int_equal(bit, 0);
	assert_int_equal(vmx_msr_bitmap_position(0xC0000080, true, &byte, &bit), 0);
	assert_int_equal(byte, 3072 + 16);
	assert_int_equal(bit, 0);
	assert_int_equal(vmx_msr_bitmap_position(0x1FFF, true, &byte, &bit), 0);
	assert_int_equal(byte, 2048 + 1023);
	assert_int_equal(bit, 7);
	assert_int_equal(vmx_msr_bitmap_position(0x2000, false, &byte, &bit),
			 KEEL_ERANGE);
	assert_int_equal(vmx_msr_bitmap_position(0xC0002000, false, &byte, &bit),
			 KEEL_ERANGE);
	assert_int_equal(vmx_msr_bitmap_position(0xC0010000, false, &byte, &bit),
			 KEEL_ERANGE);
	vmx_msr_bitmap_init(msr);
	assert_false(vmx_msr_intercepted(msr, MSR_FS_BASE, false));
	assert_false(vmx_msr_intercepted(msr, MSR_KERNEL_GS_BASE, true));
	assert_false(vmx_msr_intercepted(msr, 0x176, true));
	assert_true(vmx_msr_intercepted(msr, MSR_EFER, false));
	assert_true(vmx_msr_intercepted(msr, MSR_EFER, true));
	assert_true(vmx_msr_intercepted(msr, MSR_IA32_PAT, true));
	assert_true(vmx_msr_intercepted(msr, 0x10, false));
	assert_true(vmx_msr_intercepted(msr, 0xC0010114, false));
	vmx_io_bitmap_init(io);
	for (unsigned p = 0; p < 65536; p += 251)
		assert_true(vmx_io_intercepted(io, (uint16_t)p));
	assert_true(vmx_io_intercepted(io, 0xFFFF));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ctl_adjust, setup),
		cmocka_unit_test_setup(test_controls_tigerlake, setup),
		cmocka_unit_test_setup(test_controls_sandy_bridge, setup),
		cmocka_unit_test_setup(test_controls_missing_features, setup),
		cmocka_unit_test_setup(test_eptp_and_format, setup),
		cmocka_unit_test_setup(test_access_rights, setup),
		cmocka_unit_test_setup(test_reset_state_in_vmcs, setup),
		cmocka_unit_test_setup(test_long_mode_entry_control, setup),
		cmocka_unit_test_setup(test_set_regs_ends_shadow, setup),
		cmocka_unit_test_setup(test_events, setup),
		cmocka_unit_test_setup(test_idt_vectoring, setup),
		cmocka_unit_test_setup(test_exit_simple, setup),
		cmocka_unit_test_setup(test_exit_io, setup),
		cmocka_unit_test_setup(test_exit_ept, setup),
		cmocka_unit_test_setup(test_exit_entry_failures, setup),
		cmocka_unit_test_setup(test_exit_intr_window_nmi_ac, setup),
		cmocka_unit_test_setup(test_exit_msr, setup),
		cmocka_unit_test_setup(test_exit_cr, setup),
		cmocka_unit_test_setup(test_bitmaps, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
