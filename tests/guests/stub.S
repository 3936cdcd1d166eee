/*
 * stub.S - the firmware start of every test guest ROM: from the x86 reset
 * state (real mode, CS:IP = F000:FFF0, CS base 0xFFFF0000) through 32-bit
 * protected mode into long mode, recording what each mode looked like in a
 * per-vCPU record (layout.h), then into the payload, which the BSP copies
 * from the ROM to PAYLOAD_BASE. Every vCPU runs this (no INIT/SIPI yet); they
 * tell themselves apart by CPUID.1:EBX[31:24]. Registers only, no stack: the
 * ROM is read-only and nothing in RAM is ours yet.
 */
#include "tests/guests/layout.h"

/* Real mode runs with CS base 0xFFFF0000 (or 0xF0000 through the low
 * alias): addresses in the stub are reached as offsets from it. */
#define ROM16(x) ((x) - 0xFFFF0000)

	.section .stub, "ax"
	.code16
	/* First byte of the last page, 0xFF000 through the low alias: where
	 * a start-up IPI with vector 0xFF sends a CPU (CS = 0xFF00, IP = 0).
	 * Keel starts every vCPU at the reset vector instead; plain QEMU
	 * (checks-bare) and a later local APIC model use this. */
	.globl stub_sipi
stub_sipi:
	ljmp $0xF000, $ROM16(stub_real)

	.globl stub_real
stub_real:
	cli
	cld
	/* Which vCPU: the initial APIC id (Intel SDM vol. 2A, CPUID leaf 1). */
	movl $1, %eax
	xorl %ecx, %ecx
	cpuid
	shrl $24, %ebx
	cmpl $STUB_MAX_CPUS, %ebx
	jae stub_park16
	movl %ebx, %esi			/* vCPU index, to the end */
	movl %ebx, %ebp
	shll $STUB_REC_SHIFT, %ebp
	addl $STUB_REC_BASE, %ebp	/* this vCPU's record (SS base 0) */
	xorl %eax, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	testl %esi, %esi
	jnz 1f
	/* The BSP says "not ready" before anyone can look (a reset reruns
	 * this with RAM as it was). */
	movl %eax, STUB_READY
	movl %eax, STUB_READY + 4
1:	movl %eax, REC_MAGIC(%ebp)
	movl %esi, REC_ID(%ebp)
	movl %cr0, %eax
	movl %eax, REC_RM_CR0(%ebp)
	movw %cs, %ax
	movzwl %ax, %eax
	movl %eax, REC_RM_CS(%ebp)
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, REC_RM_EFER(%ebp)
	movl %edx, REC_RM_EFER + 4(%ebp)
	movl $0x40000000, %eax
	xorl %ecx, %ecx
	cpuid
	movl %ebx, REC_RM_HV(%ebp)
	movl $1, REC_STAGES(%ebp)

	/* Protected mode: a 32-bit flat code segment from the ROM's GDT
	 * (lgdtl: a 32-bit base; the 16-bit form would drop bits 31:24). */
	lgdtl %cs:ROM16(stub_gdt_ptr)
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $stub_prot

stub_park16:
	hlt
	jmp stub_park16

	.code32
stub_prot:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl %cr0, %eax
	movl %eax, REC_PM_CR0(%ebp)
	movl %cs, %ecx
	movl %ecx, REC_PM_CS(%ebp)
	larl %ecx, %eax
	movl %eax, REC_PM_CS_AR(%ebp)
	/* An MMIO round trip with paging off: the emulator's flat protected
	 * mode path. Each vCPU has its own slot. */
	leal SCRATCH_BASE + SCRATCH_STUB(, %esi, 4), %edi
	movl %ebp, %eax
	xorl $0x5A5A0000, %eax
	movl %eax, (%edi)
	movl (%edi), %eax
	movl %eax, REC_PM_MMIO(%ebp)
	orl $2, REC_STAGES(%ebp)

	testl %esi, %esi
	jnz stub_wait_ready

	/* BSP: identity-map the low 4 GiB with 2 MiB pages (AMD APM vol. 2,
	 * 5.3: PML4 -> PDPT -> PD), then copy the payload out of the ROM. */
	movl $STUB_PT_BASE, %edi
	movl $(6 * 4096 / 4), %ecx
	xorl %eax, %eax
	rep stosl
	movl $(STUB_PT_BASE + 0x1000 + 0x3), STUB_PT_BASE
	movl $STUB_PT_BASE + 0x1000, %edi
	movl $(STUB_PT_BASE + 0x2000 + 0x3), %eax
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $0x1000, %eax
	addl $8, %edi
	loop 1b
	movl $STUB_PT_BASE + 0x2000, %edi
	movl $0x83, %eax		/* P | RW | PS */
	movl $2048, %ecx
1:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b

	movl $__payload_rom, %esi
	movl $PAYLOAD_BASE, %edi
	movl $__payload_size, %ecx
	rep movsb
	xorl %esi, %esi			/* the BSP's index again */
	movl $STUB_READY_HI, STUB_READY + 4
	movl $STUB_READY_LO, STUB_READY
	jmp stub_long_on

stub_wait_ready:
	pause
	cmpl $STUB_READY_LO, STUB_READY
	jne stub_wait_ready
	cmpl $STUB_READY_HI, STUB_READY + 4
	jne stub_wait_ready

	/* Long mode (AMD APM vol. 2, 14.6.1): PAE, CR3, EFER.LME, then
	 * CR0.PG; a far jump into the 64-bit code segment. */
stub_long_on:
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $STUB_PT_BASE, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $stub_long

	.code64
stub_long:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl %ebp, %ebp			/* bits 63:32 are undefined after */
	movl %esi, %esi			/* the switch (APM vol. 2, 3.1.2) */
	movq %cr0, %rax
	movq %rax, REC_LM_CR0(%rbp)
	movq %cr4, %rax
	movq %rax, REC_LM_CR4(%rbp)
	movl $MSR_EFER, %ecx
	rdmsr
	movl %eax, REC_LM_EFER(%rbp)
	movl %edx, REC_LM_EFER + 4(%rbp)
	movl %cs, %ecx
	larl %ecx, %eax
	movl %eax, REC_LM_CS_AR(%rbp)
	orl $4, REC_STAGES(%rbp)
	movl $REC_MAGIC_VALUE, REC_MAGIC(%rbp)
	/* The payload's entry: RSI = this record (the 64-bit start has 0). */
	movq %rbp, %rsi
	movl $PAYLOAD_BASE, %eax
	jmp *%rax

	/* Accessed bits pre-set: the ROM is read-only, and a segment load
	 * that had to set one would write to it (recipe svm-tcg, pitfall 6). */
	.balign 8
stub_gdt:
	.quad 0
	.quad 0x00AF9B000000FFFF	/* 0x08: 64-bit code */
	.quad 0x00CF93000000FFFF	/* 0x10: flat data */
	.quad 0x00CF9B000000FFFF	/* 0x18: 32-bit flat code */
stub_gdt_end:
stub_gdt_ptr:
	.word stub_gdt_end - stub_gdt - 1
	.long stub_gdt

	/* The reset vector, the ROM's last 16 bytes (0xFFFFFFF0). */
	.section .reset, "ax"
	.code16
	.globl reset_vector
reset_vector:
	jmp stub_real
	.balign 16, 0xF4
