/*
 * vmcs.h - the VMCS as Keel uses it: field encodings (Intel SDM vol.3
 * appendix B), the control bits it sets (24.6-24.8), exit reasons
 * (appendix C), and VMREAD/VMWRITE. Host unit tests provide vmcs_read and
 * vmcs_write over a fake VMCS; the kernel executes the instructions.
 */
#ifndef KEEL_VMCS_H
#define KEEL_VMCS_H

#include <stdbool.h>
#include <stdint.h>

/* ------------------------------------------------ field encodings (B) -- */

/* 16-bit */
#define VMCS_VPID 0x0000
#define VMCS_GUEST_ES_SEL 0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
#define VMCS_HOST_ES_SEL 0x0C00
#define VMCS_HOST_CS_SEL 0x0C02
#define VMCS_HOST_SS_SEL 0x0C04
#define VMCS_HOST_DS_SEL 0x0C06
#define VMCS_HOST_FS_SEL 0x0C08
#define VMCS_HOST_GS_SEL 0x0C0A
#define VMCS_HOST_TR_SEL 0x0C0C
/* 64-bit */
#define VMCS_IO_BITMAP_A 0x2000
#define VMCS_IO_BITMAP_B 0x2002
#define VMCS_MSR_BITMAP 0x2004
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR 0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200A
#define VMCS_TSC_OFFSET 0x2010
#define VMCS_EPT_POINTER 0x201A
#define VMCS_GUEST_PHYSICAL_ADDRESS 0x2400
#define VMCS_LINK_POINTER 0x2800
#define VMCS_GUEST_IA32_DEBUGCTL 0x2802
#define VMCS_GUEST_IA32_PAT 0x2804
#define VMCS_GUEST_IA32_EFER 0x2806
#define VMCS_HOST_IA32_PAT 0x2C00
#define VMCS_HOST_IA32_EFER 0x2C02
/* 32-bit control */
#define VMCS_PIN_BASED_CTLS 0x4000
#define VMCS_PROC_BASED_CTLS 0x4002
#define VMCS_EXCEPTION_BITMAP 0x4004
#define VMCS_PF_ERROR_MASK 0x4006
#define VMCS_PF_ERROR_MATCH 0x4008
#define VMCS_CR3_TARGET_COUNT 0x400A
#define VMCS_EXIT_CTLS 0x400C
#define VMCS_EXIT_MSR_STORE_COUNT 0x400E
#define VMCS_EXIT_MSR_LOAD_COUNT 0x4010
#define VMCS_ENTRY_CTLS 0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014
#define VMCS_ENTRY_INTR_INFO 0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR 0x4018
#define VMCS_ENTRY_INSN_LEN 0x401A
#define VMCS_PROC_BASED_CTLS2 0x401E
/* 32-bit read-only */
#define VMCS_VM_INSTRUCTION_ERROR 0x4400
#define VMCS_EXIT_REASON 0x4402
#define VMCS_EXIT_INTR_INFO 0x4404
#define VMCS_EXIT_INTR_ERROR 0x4406
#define VMCS_IDT_VECTORING_INFO 0x4408
#define VMCS_IDT_VECTORING_ERROR 0x440A
#define VMCS_EXIT_INSN_LEN 0x440C
#define VMCS_EXIT_INSN_INFO 0x440E
/* 32-bit guest */
#define VMCS_GUEST_ES_LIMIT 0x4800
#define VMCS_GUEST_GDTR_LIMIT 0x4810
#define VMCS_GUEST_IDTR_LIMIT 0x4812
#define VMCS_GUEST_ES_AR 0x4814
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY 0x4826
#define VMCS_GUEST_SYSENTER_CS 0x482A
#define VMCS_GUEST_PREEMPT_TIMER 0x482E /* VMX-preemption timer value */
#define VMCS_HOST_SYSENTER_CS 0x4C00
/* natural width */
#define VMCS_CR0_GUEST_HOST_MASK 0x6000
#define VMCS_CR4_GUEST_HOST_MASK 0x6002
#define VMCS_CR0_READ_SHADOW 0x6004
#define VMCS_CR4_READ_SHADOW 0x6006
#define VMCS_EXIT_QUALIFICATION 0x6400
#define VMCS_GUEST_LINEAR_ADDRESS 0x640A
#define VMCS_GUEST_CR0 0x6800
#define VMCS_GUEST_CR3 0x6802
#define VMCS_GUEST_CR4 0x6804
#define VMCS_GUEST_ES_BASE 0x6806
#define VMCS_GUEST_GDTR_BASE 0x6816
#define VMCS_GUEST_IDTR_BASE 0x6818
#define VMCS_GUEST_DR7 0x681A
#define VMCS_GUEST_RSP 0x681C
#define VMCS_GUEST_RIP 0x681E
#define VMCS_GUEST_RFLAGS 0x6820
#define VMCS_GUEST_PENDING_DBG 0x6822
#define VMCS_GUEST_SYSENTER_ESP 0x6824
#define VMCS_GUEST_SYSENTER_EIP 0x6826
#define VMCS_HOST_CR0 0x6C00
#define VMCS_HOST_CR3 0x6C02
#define VMCS_HOST_CR4 0x6C04
#define VMCS_HOST_FS_BASE 0x6C06
#define VMCS_HOST_GS_BASE 0x6C08
#define VMCS_HOST_TR_BASE 0x6C0A
#define VMCS_HOST_GDTR_BASE 0x6C0C
#define VMCS_HOST_IDTR_BASE 0x6C0E
#define VMCS_HOST_SYSENTER_ESP 0x6C10
#define VMCS_HOST_SYSENTER_EIP 0x6C12
#define VMCS_HOST_RSP 0x6C14
#define VMCS_HOST_RIP 0x6C16

/* Guest segment i (enum vmx_seg) has its fields at base + 2 * i. */
enum vmx_seg {
	VMX_SEG_ES = 0, VMX_SEG_CS, VMX_SEG_SS, VMX_SEG_DS,
	VMX_SEG_FS, VMX_SEG_GS, VMX_SEG_LDTR, VMX_SEG_TR,
};

/* --------------------------------------------------- control bits -- */

/* Pin-based (24.6.1) */
#define PIN_EXTINT_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
#define PIN_POSTED_INTR (1u << 7)
/* Primary processor-based (24.6.2, table 24-6) */
#define PROC_INTR_WINDOW_EXITING (1u << 2)
#define PROC_TSC_OFFSETTING (1u << 3)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_INVLPG_EXITING (1u << 9)
#define PROC_MWAIT_EXITING (1u << 10)
#define PROC_RDPMC_EXITING (1u << 11)
#define PROC_RDTSC_EXITING (1u << 12)
#define PROC_CR3_LOAD_EXITING (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_CR8_LOAD_EXITING (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_TPR_SHADOW (1u << 21)
#define PROC_NMI_WINDOW_EXITING (1u << 22)
#define PROC_MOV_DR_EXITING (1u << 23)
#define PROC_UNCOND_IO_EXITING (1u << 24)
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_MONITOR_TRAP_FLAG (1u << 27)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR_EXITING (1u << 29)
#define PROC_PAUSE_EXITING (1u << 30)
#define PROC_SECONDARY_CTLS (1u << 31)
/* Secondary processor-based (table 24-7) */
#define PROC2_VIRT_APIC_ACCESS (1u << 0)
#define PROC2_ENABLE_EPT (1u << 1)
#define PROC2_DESC_TABLE_EXITING (1u << 2)
#define PROC2_ENABLE_RDTSCP (1u << 3)
#define PROC2_VIRT_X2APIC (1u << 4)
#define PROC2_ENABLE_VPID (1u << 5)
#define PROC2_WBINVD_EXITING (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_ENABLE_INVPCID (1u << 12)
/* VM-exit (table 24-13) */
#define EXIT_CTL_SAVE_DEBUG_CTLS (1u << 2)
#define EXIT_CTL_HOST_ADDR_SPACE_64 (1u << 9)
#define EXIT_CTL_LOAD_PERF_GLOBAL (1u << 12)
#define EXIT_CTL_ACK_INTR_ON_EXIT (1u << 15)
#define EXIT_CTL_SAVE_PAT (1u << 18)
#define EXIT_CTL_LOAD_PAT (1u << 19)
#define EXIT_CTL_SAVE_EFER (1u << 20)
#define EXIT_CTL_LOAD_EFER (1u << 21)
#define EXIT_CTL_SAVE_PREEMPT_TIMER (1u << 22)
/* VM-entry (table 24-15) */
#define ENTRY_CTL_LOAD_DEBUG_CTLS (1u << 2)
#define ENTRY_CTL_IA32E_GUEST (1u << 9)
#define ENTRY_CTL_ENTRY_TO_SMM (1u << 10)
#define ENTRY_CTL_DEACT_DUAL_MONITOR (1u << 11)
#define ENTRY_CTL_LOAD_PERF_GLOBAL (1u << 13)
#define ENTRY_CTL_LOAD_PAT (1u << 14)
#define ENTRY_CTL_LOAD_EFER (1u << 15)

/* IA32_VMX_BASIC (A.1) */
#define VMX_BASIC_REVISION(b) ((uint32_t)(b) & 0x7FFFFFFF)
#define VMX_BASIC_TRUE_CTLS (1ULL << 55)
/* IA32_VMX_MISC (A.6): the preemption timer counts down by 1 each time
 * bit X of the TSC changes, X in bits 4:0. */
#define VMX_MISC_PREEMPT_RATE(m) ((unsigned)(m) & 0x1F)

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define EPT_CAP_EXEC_ONLY (1ULL << 0)
#define EPT_CAP_WALK_4 (1ULL << 6)
#define EPT_CAP_MT_UC (1ULL << 8)
#define EPT_CAP_MT_WB (1ULL << 14)
#define EPT_CAP_2M (1ULL << 16)
#define EPT_CAP_1G (1ULL << 17)
#define EPT_CAP_INVEPT (1ULL << 20)
#define EPT_CAP_INVEPT_SINGLE (1ULL << 25)
#define EPT_CAP_INVEPT_ALL (1ULL << 26)
#define VPID_CAP_INVVPID (1ULL << 32)
#define VPID_CAP_INVVPID_SINGLE (1ULL << 41)
#define VPID_CAP_INVVPID_ALL (1ULL << 42)

/* Interruption information: VM-entry (24.8.3), VM-exit (24.9.2),
 * IDT-vectoring (24.9.3) share the layout. */
#define INTR_INFO_VECTOR_MASK 0xFFu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK (7u << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_DELIVER_CODE (1u << 11)
#define INTR_INFO_NMI_UNBLOCKING (1u << 12)
#define INTR_INFO_VALID (1u << 31)
#define INTR_TYPE_EXTINT 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXCEPTION 3
#define INTR_TYPE_SOFT_INT 4
#define INTR_TYPE_PRIV_SOFT_EXCEPTION 5
#define INTR_TYPE_SOFT_EXCEPTION 6

/* Guest interruptibility state (24.4.2, table 24-3) */
#define INTERRUPTIBILITY_STI (1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define INTERRUPTIBILITY_SMI (1u << 2)
#define INTERRUPTIBILITY_NMI (1u << 3)

/* Access rights (24.4.1, table 24-2): the unusable bit. */
#define VMX_AR_UNUSABLE (1u << 16)

/* ------------------------------------------- exit reasons (appendix C) -- */

#define EXIT_REASON_EXCEPTION_NMI 0
#define EXIT_REASON_EXTERNAL_INTERRUPT 1
#define EXIT_REASON_TRIPLE_FAULT 2
#define EXIT_REASON_INIT 3
#define EXIT_REASON_SIPI 4
#define EXIT_REASON_INTERRUPT_WINDOW 7
#define EXIT_REASON_NMI_WINDOW 8
#define EXIT_REASON_TASK_SWITCH 9
#define EXIT_REASON_CPUID 10
#define EXIT_REASON_GETSEC 11
#define EXIT_REASON_HLT 12
#define EXIT_REASON_INVD 13
#define EXIT_REASON_INVLPG 14
#define EXIT_REASON_RDPMC 15
#define EXIT_REASON_RDTSC 16
#define EXIT_REASON_VMCALL 18
#define EXIT_REASON_VMCLEAR 19
#define EXIT_REASON_VMLAUNCH 20
#define EXIT_REASON_VMPTRLD 21
#define EXIT_REASON_VMPTRST 22
#define EXIT_REASON_VMREAD 23
#define EXIT_REASON_VMRESUME 24
#define EXIT_REASON_VMWRITE 25
#define EXIT_REASON_VMXOFF 26
#define EXIT_REASON_VMXON 27
#define EXIT_REASON_CR_ACCESS 28
#define EXIT_REASON_DR_ACCESS 29
#define EXIT_REASON_IO 30
#define EXIT_REASON_RDMSR 31
#define EXIT_REASON_WRMSR 32
#define EXIT_REASON_INVALID_GUEST_STATE 33
#define EXIT_REASON_MSR_LOADING 34
#define EXIT_REASON_MWAIT 36
#define EXIT_REASON_MTF 37
#define EXIT_REASON_MONITOR 39
#define EXIT_REASON_PAUSE 40
#define EXIT_REASON_MACHINE_CHECK 41
#define EXIT_REASON_EPT_VIOLATION 48
#define EXIT_REASON_EPT_MISCONFIG 49
#define EXIT_REASON_INVEPT 50
#define EXIT_REASON_RDTSCP 51
#define EXIT_REASON_PREEMPTION_TIMER 52
#define EXIT_REASON_INVVPID 53
#define EXIT_REASON_WBINVD 54
#define EXIT_REASON_XSETBV 55
#define EXIT_REASON_VMFUNC 59
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)

/* I/O exit qualification (table 27-5) */
#define IO_QUAL_SIZE_MASK 0x7u
#define IO_QUAL_IN (1u << 3)
#define IO_QUAL_STRING (1u << 4)
#define IO_QUAL_REP (1u << 5)
#define IO_QUAL_PORT_SHIFT 16

/* EPT violation qualification (table 27-7) */
#define EPT_QUAL_READ (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)
#define EPT_QUAL_PERMS (7u << 3) /* what the EPT entry allowed: R, W, X */
#define EPT_QUAL_GLA_VALID (1u << 7)
#define EPT_QUAL_GLA_TRANSLATED (1u << 8)

/* ---------------------------------------------------- VMREAD/VMWRITE -- */

#ifdef KEEL_HOST_TEST
uint64_t vmcs_read(uint32_t field);
int vmcs_write(uint32_t field, uint64_t value);
#else
/* SDM 30.3: CF or ZF set means the instruction failed. */
static inline uint64_t vmcs_read(uint32_t field)
{
	uint64_t v;

	__asm__ volatile("vmread %1, %0"
			 : "=rm"(v)
			 : "r"((uint64_t)field)
			 : "cc");
	return v;
}

static inline int vmcs_write(uint32_t field, uint64_t value)
{
	uint8_t fail;

	__asm__ volatile("vmwrite %1, %2; setna %0"
			 : "=qm"(fail)
			 : "rm"(value), "r"((uint64_t)field)
			 : "cc", "memory");
	return fail;
}
#endif

#endif
