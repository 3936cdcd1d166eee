/*
 * vmcb.h - the Virtual Machine Control Block (AMD APM vol.2 appendix B), its
 * constants, and the guest-state accessors of vmcb.c: the x86 reset state,
 * register get/set in the core's formats, event injection and the virtual
 * interrupt window. svm/'s own header; the core never includes it.
 */
#ifndef KEEL_SVM_VMCB_H
#define KEEL_SVM_VMCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/virt/virt.h"

/* ------------------------------------------------ control area (B-1) -- */

/* Intercept word at 0x00C (APM table B-1, "vector 3"). */
#define VMCB_INTERCEPT_INTR (1u << 0)
#define VMCB_INTERCEPT_NMI (1u << 1)
#define VMCB_INTERCEPT_VINTR (1u << 4)
#define VMCB_INTERCEPT_CPUID (1u << 18)
#define VMCB_INTERCEPT_INVD (1u << 22)
#define VMCB_INTERCEPT_HLT (1u << 24)
#define VMCB_INTERCEPT_INVLPGA (1u << 26)
#define VMCB_INTERCEPT_IOIO_PROT (1u << 27)
#define VMCB_INTERCEPT_MSR_PROT (1u << 28)
#define VMCB_INTERCEPT_SHUTDOWN (1u << 31)

/* Intercept word at 0x010 ("vector 4"). VMRUN's bit must be set or VMRUN
 * fails (APM 15.5.1). */
#define VMCB_INTERCEPT_VMRUN (1u << 0)
#define VMCB_INTERCEPT_VMMCALL (1u << 1)
#define VMCB_INTERCEPT_VMLOAD (1u << 2)
#define VMCB_INTERCEPT_VMSAVE (1u << 3)
#define VMCB_INTERCEPT_STGI (1u << 4)
#define VMCB_INTERCEPT_CLGI (1u << 5)
#define VMCB_INTERCEPT_SKINIT (1u << 6)
#define VMCB_INTERCEPT_RDTSCP (1u << 7)
#define VMCB_INTERCEPT_WBINVD (1u << 9)
#define VMCB_INTERCEPT_XSETBV (1u << 13)

/* Exception intercepts (0x008): one bit per vector. */
#define VMCB_EXCEPTION_MC (1u << 18)

/* TLB_CONTROL (0x05C), APM 15.16.1. */
#define VMCB_TLB_NOTHING 0
#define VMCB_TLB_FLUSH_ALL 1
#define VMCB_TLB_FLUSH_ASID 3

/* V_INTR fields at 0x060 (APM 15.21.1-15.21.4). */
#define VMCB_INT_CTL_V_TPR_MASK 0xFFu
#define VMCB_INT_CTL_V_IRQ (1u << 8)
#define VMCB_INT_CTL_V_INTR_PRIO_SHIFT 16
#define VMCB_INT_CTL_V_IGN_TPR (1u << 20)
#define VMCB_INT_CTL_V_INTR_MASKING (1u << 24)

/* 0x068 */
#define VMCB_INT_STATE_SHADOW (1ull << 0)

/* 0x090 */
#define VMCB_NP_ENABLE (1ull << 0)

/* EVENTINJ (0x0A8) and EXITINTINFO (0x088) share one format (APM 15.20):
 * vector 7:0, type 10:8, EV 11, V 31, error code 63:32. */
#define VMCB_EVENT_VECTOR_MASK 0xFFull
#define VMCB_EVENT_TYPE_SHIFT 8
#define VMCB_EVENT_TYPE_MASK (7ull << 8)
#define VMCB_EVENT_EV (1ull << 11)
#define VMCB_EVENT_VALID (1ull << 31)
#define VMCB_EVENT_ERROR_SHIFT 32
#define VMCB_EVENT_TYPE_INTR 0
#define VMCB_EVENT_TYPE_NMI 2
#define VMCB_EVENT_TYPE_EXCEPTION 3
#define VMCB_EVENT_TYPE_SOFT_INT 4

/* EXITCODE values (APM appendix C). */
#define VMCB_EXIT_EXCEPTION_BASE 0x040
#define VMCB_EXIT_MC (VMCB_EXIT_EXCEPTION_BASE + 18)
#define VMCB_EXIT_INTR 0x060
#define VMCB_EXIT_NMI 0x061
#define VMCB_EXIT_SMI 0x062
#define VMCB_EXIT_INIT 0x063
#define VMCB_EXIT_VINTR 0x064
#define VMCB_EXIT_CPUID 0x072
#define VMCB_EXIT_INVD 0x076
#define VMCB_EXIT_HLT 0x078
#define VMCB_EXIT_INVLPGA 0x07A
#define VMCB_EXIT_IOIO 0x07B
#define VMCB_EXIT_MSR 0x07C
#define VMCB_EXIT_SHUTDOWN 0x07F
#define VMCB_EXIT_VMRUN 0x080
#define VMCB_EXIT_VMMCALL 0x081
#define VMCB_EXIT_VMLOAD 0x082
#define VMCB_EXIT_VMSAVE 0x083
#define VMCB_EXIT_STGI 0x084
#define VMCB_EXIT_CLGI 0x085
#define VMCB_EXIT_SKINIT 0x086
#define VMCB_EXIT_RDTSCP 0x087
#define VMCB_EXIT_WBINVD 0x089
#define VMCB_EXIT_XSETBV 0x08D
#define VMCB_EXIT_NPF 0x400
/* VMEXIT_INVALID is -1; QEMU writes it as a 32-bit -1 into the 64-bit
 * field, so only the low 32 bits are compared (svm-tcg recipe 4.6). */
#define VMCB_EXIT_INVALID 0xFFFFFFFFu

/* EXITINFO1 of an IOIO intercept (APM 15.10.2). */
#define VMCB_IOIO_IN (1u << 0)
#define VMCB_IOIO_STR (1u << 2)
#define VMCB_IOIO_REP (1u << 3)
#define VMCB_IOIO_SZ8 (1u << 4)
#define VMCB_IOIO_SZ16 (1u << 5)
#define VMCB_IOIO_SZ32 (1u << 6)
#define VMCB_IOIO_PORT_SHIFT 16

/* EXITINFO1 of an NPF (APM 15.25.6): #PF error code bits plus 32/33. */
#define VMCB_NPF_P (1ull << 0)
#define VMCB_NPF_RW (1ull << 1)
#define VMCB_NPF_US (1ull << 2)
#define VMCB_NPF_RSV (1ull << 3)
#define VMCB_NPF_ID (1ull << 4)
#define VMCB_NPF_FINAL (1ull << 32)
#define VMCB_NPF_IN_WALK (1ull << 33)

struct vmcb_control {
	uint32_t intercept_cr;	 /* 0x000: reads 15:0, writes 31:16 */
	uint32_t intercept_dr;	 /* 0x004 */
	uint32_t intercept_exc;	 /* 0x008 */
	uint32_t intercept_misc1; /* 0x00C: VMCB_INTERCEPT_INTR.. */
	uint32_t intercept_misc2; /* 0x010: VMCB_INTERCEPT_VMRUN.. */
	uint32_t intercept_misc3; /* 0x014: INVLPGB, INVPCID, ... */
	uint8_t reserved_018[0x03C - 0x018];
	uint16_t pause_filter_thresh; /* 0x03C */
	uint16_t pause_filter_count;  /* 0x03E */
	uint64_t iopm_base_pa;	      /* 0x040 */
	uint64_t msrpm_base_pa;	      /* 0x048 */
	uint64_t tsc_offset;	      /* 0x050 */
	uint32_t asid;		      /* 0x058 */
	uint8_t tlb_control;	      /* 0x05C */
	uint8_t reserved_05d[3];
	uint32_t int_ctl;	/* 0x060: V_TPR, V_IRQ, ... V_INTR_MASKING */
	uint32_t int_vector;	/* 0x064: V_INTR_VECTOR in 7:0 */
	uint64_t int_state;	/* 0x068: interrupt shadow in bit 0 */
	uint64_t exit_code;	/* 0x070 */
	uint64_t exit_info1;	/* 0x078 */
	uint64_t exit_info2;	/* 0x080 */
	uint64_t exit_int_info; /* 0x088 */
	uint64_t np_control;	/* 0x090: NP_ENABLE in bit 0 */
	uint64_t avic_apic_bar; /* 0x098 */
	uint64_t ghcb_gpa;	/* 0x0A0 */
	uint64_t event_inj;	/* 0x0A8 */
	uint64_t n_cr3;		/* 0x0B0 */
	uint64_t virt_ext;	/* 0x0B8: LBR virtualization, ... */
	uint32_t clean;		/* 0x0C0: VMCB clean bits, always 0 here */
	uint32_t reserved_0c4;
	uint64_t next_rip;	 /* 0x0C8: with NRIP save only */
	uint8_t insn_len;	 /* 0x0D0: with decode assists only */
	uint8_t insn_bytes[15];	 /* 0x0D1 */
	uint8_t reserved_0e0[0x400 - 0x0E0];
};

/* A segment in the save area: the packed attribute format of virt.h. */
struct vmcb_seg {
	uint16_t sel;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
};

/* ------------------------------------------------ state save area (B-2) -- */

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs; /* 0x400 .. 0x45F */
	struct vmcb_seg gdtr, ldtr, idtr, tr;	/* 0x460 .. 0x49F */
	uint8_t reserved_4a0[0x4CB - 0x4A0];
	uint8_t cpl; /* 0x4CB */
	uint32_t reserved_4cc;
	uint64_t efer; /* 0x4D0 */
	uint8_t reserved_4d8[0x548 - 0x4D8];
	uint64_t cr4;	 /* 0x548 */
	uint64_t cr3;	 /* 0x550 */
	uint64_t cr0;	 /* 0x558 */
	uint64_t dr7;	 /* 0x560 */
	uint64_t dr6;	 /* 0x568 */
	uint64_t rflags; /* 0x570 */
	uint64_t rip;	 /* 0x578 */
	uint8_t reserved_580[0x5D8 - 0x580];
	uint64_t rsp;	    /* 0x5D8 */
	uint64_t s_cet;	    /* 0x5E0 */
	uint64_t ssp;	    /* 0x5E8 */
	uint64_t isst_addr; /* 0x5F0 */
	uint64_t rax;	    /* 0x5F8 */
	/* 0x600 .. 0x63F: switched by VMLOAD/VMSAVE, not by VMRUN. */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t cr2; /* 0x640 */
	uint8_t reserved_648[0x668 - 0x648];
	uint64_t g_pat;	 /* 0x668: the guest's PAT with nested paging */
	uint64_t dbgctl; /* 0x670 */
	uint64_t br_from, br_to, last_excp_from, last_excp_to; /* 0x678 */
	uint8_t reserved_698[0x1000 - 0x698];
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};

#define VMCB_CHECK(field, off)                                                 \
	_Static_assert(offsetof(struct vmcb, field) == (off),                  \
		       "VMCB " #field " not at " #off)
VMCB_CHECK(control.intercept_misc1, 0x00C);
VMCB_CHECK(control.intercept_misc2, 0x010);
VMCB_CHECK(control.pause_filter_thresh, 0x03C);
VMCB_CHECK(control.iopm_base_pa, 0x040);
VMCB_CHECK(control.msrpm_base_pa, 0x048);
VMCB_CHECK(control.asid, 0x058);
VMCB_CHECK(control.tlb_control, 0x05C);
VMCB_CHECK(control.int_ctl, 0x060);
VMCB_CHECK(control.int_vector, 0x064);
VMCB_CHECK(control.int_state, 0x068);
VMCB_CHECK(control.exit_code, 0x070);
VMCB_CHECK(control.exit_info1, 0x078);
VMCB_CHECK(control.exit_info2, 0x080);
VMCB_CHECK(control.exit_int_info, 0x088);
VMCB_CHECK(control.np_control, 0x090);
VMCB_CHECK(control.event_inj, 0x0A8);
VMCB_CHECK(control.n_cr3, 0x0B0);
VMCB_CHECK(control.clean, 0x0C0);
VMCB_CHECK(control.next_rip, 0x0C8);
VMCB_CHECK(control.insn_len, 0x0D0);
VMCB_CHECK(control.insn_bytes, 0x0D1);
VMCB_CHECK(save.es, 0x400);
VMCB_CHECK(save.cs, 0x410);
VMCB_CHECK(save.ss, 0x420);
VMCB_CHECK(save.ds, 0x430);
VMCB_CHECK(save.fs, 0x440);
VMCB_CHECK(save.gs, 0x450);
VMCB_CHECK(save.gdtr, 0x460);
VMCB_CHECK(save.ldtr, 0x470);
VMCB_CHECK(save.idtr, 0x480);
VMCB_CHECK(save.tr, 0x490);
VMCB_CHECK(save.cpl, 0x4CB);
VMCB_CHECK(save.efer, 0x4D0);
VMCB_CHECK(save.cr4, 0x548);
VMCB_CHECK(save.cr3, 0x550);
VMCB_CHECK(save.cr0, 0x558);
VMCB_CHECK(save.dr7, 0x560);
VMCB_CHECK(save.dr6, 0x568);
VMCB_CHECK(save.rflags, 0x570);
VMCB_CHECK(save.rip, 0x578);
VMCB_CHECK(save.rsp, 0x5D8);
VMCB_CHECK(save.rax, 0x5F8);
VMCB_CHECK(save.star, 0x600);
VMCB_CHECK(save.lstar, 0x608);
VMCB_CHECK(save.cstar, 0x610);
VMCB_CHECK(save.sfmask, 0x618);
VMCB_CHECK(save.kernel_gs_base, 0x620);
VMCB_CHECK(save.sysenter_cs, 0x628);
VMCB_CHECK(save.sysenter_esp, 0x630);
VMCB_CHECK(save.sysenter_eip, 0x638);
VMCB_CHECK(save.cr2, 0x640);
VMCB_CHECK(save.g_pat, 0x668);
VMCB_CHECK(save.dbgctl, 0x670);
_Static_assert(sizeof(struct vmcb) == 4096, "a VMCB is one page");
#undef VMCB_CHECK

/* The x86 reset values (APM vol.2 14.1.3, svm-tcg recipe 4.3). */
#define VMCB_RESET_DR6 0xFFFF0FF0ull
#define VMCB_RESET_DR7 0x400ull
#define VMCB_RESET_PAT 0x0007040600070406ull

struct svm_vcpu;

/* Control area of a new vCPU: intercepts, permission maps, nested paging. */
void vmcb_init_control(struct vmcb *vmcb, uint64_t iopm_pa, uint64_t msrpm_pa,
		       uint64_t n_cr3);
/* The x86 RESET state in the save area and the GPRs: RDX = the processor
 * signature (CPUID 1 EAX), everything else as the recipe's table. */
void vmcb_reset_state(struct svm_vcpu *sv, uint32_t signature);

/* Between the VMCB/GPR context and the core's structures. EFER as the guest
 * sees it has no SVME; set_sregs keeps SVME set (VMRUN needs it). */
void vmcb_get_regs(const struct svm_vcpu *sv, struct vcpu_regs *regs);
void vmcb_set_regs(struct svm_vcpu *sv, const struct vcpu_regs *regs);
void vmcb_get_sregs(const struct svm_vcpu *sv, struct vcpu_sregs *sregs);
void vmcb_set_sregs(struct svm_vcpu *sv, const struct vcpu_sregs *sregs);
void vmcb_seg_to_vcpu(const struct vmcb_seg *in, struct vcpu_segment *out,
		      bool is_tr);
void vmcb_seg_from_vcpu(const struct vcpu_segment *in, struct vmcb_seg *out);

/* EVENTINJ for the next VMRUN (APM 15.20). */
uint64_t vmcb_event(uint8_t vector, enum event_type type, bool has_error,
		    uint32_t error_code);
void vmcb_inject_event(struct vmcb *vmcb, uint8_t vector, enum event_type type,
		       bool has_error, uint32_t error_code);
/* Carry an event whose delivery the exit interrupted (EXITINTINFO) into
 * EVENTINJ. Returns true when it was queued. */
bool vmcb_reinject_exitintinfo(struct vmcb *vmcb);
/* V_IRQ + VINTR intercept (APM 15.21.4). */
void vmcb_set_intr_window(struct vmcb *vmcb, bool on);
bool vmcb_can_inject_intr(const struct vmcb *vmcb);

/* Which consistency check of APM 15.5.1 the state fails, as a short phrase,
 * or NULL when none of those that can be evaluated here does. */
const char *vmcb_check_state(const struct vmcb *vmcb);

#endif
