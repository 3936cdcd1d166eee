/*
 * trampoline.S - where an application processor starts after INIT-SIPI-SIPI
 * (SDM vol.3 9.4.4): real mode, CS = the SIPI page, IP = 0. The BSP copies
 * this code to a page below 1 MiB, fills in tramp_params and sends the SIPI.
 * Real mode -> 32-bit protected mode -> long mode on the low page tables the
 * BSP built (tramp_params.cr3_low), then the kernel's own CR3, stack and
 * entry: ap_entry(cpu) never returns.
 *
 * Position: assembled at offset 0, run at TRAMP_BASE (the copy's address,
 * passed in tramp_params.base and patched into the far jumps' targets by the
 * BSP before each start: see kernel/smp.c).
 */
	.section .rodata
	.balign 16
	.globl trampoline_start, trampoline_end, tramp_params
	.globl tramp_pm32_ptr, tramp_lm64_ptr, tramp_params_ptr
	.globl tramp_pm32, tramp_lm64, tramp_gdt, tramp_gdtr
	.code16
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	/* GDTR with the copy's linear address (filled in by the BSP). */
	lgdtl tramp_gdtr - trampoline_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	/* ljmpl $0x18, $(base + tramp_pm32 - trampoline_start) */
	.byte 0x66, 0xEA
tramp_pm32_ptr:
	.long 0
	.word 0x18

	.code32
tramp_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	/* movl $(linear address of tramp_params), %ebx - patched by the BSP */
	.byte 0xBB
tramp_params_ptr:
	.long 0
	movl %cr4, %eax
	orl $(1 << 5), %eax		/* PAE */
	movl %eax, %cr4
	movl 0(%ebx), %eax		/* params.cr3_low */
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax	/* EFER.LME | NXE */
	wrmsr
	movl %cr0, %eax
	orl $0x80010000, %eax		/* PG | WP */
	andl $~0x60000000, %eax
	movl %eax, %cr0
	/* ljmp $0x08, $(base + tramp_lm64 - trampoline_start) */
	.byte 0xEA
tramp_lm64_ptr:
	.long 0
	.word 0x08

	.code64
tramp_lm64:
	/* Still on the low tables, which map this page and the kernel's upper
	 * half; the kernel's own CR3 is loaded by ap_start64, in the upper half. */
	movq 8(%rbx), %rcx		/* params.cr3 (kernel page tables) */
	movq 16(%rbx), %rsp		/* params.stack_top */
	movl 32(%rbx), %edi		/* params.cpu */
	xorl %ebp, %ebp
	movq 24(%rbx), %rax		/* params.entry = ap_start64 */
	jmp *%rax

	.balign 16
tramp_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF	/* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF	/* 0x10: data */
	.quad 0x00CF9A000000FFFF	/* 0x18: 32-bit code */
tramp_gdt_end:
tramp_gdtr:
	.word tramp_gdt_end - tramp_gdt - 1
	.long 0				/* linear address of tramp_gdt */

	.balign 16
tramp_params:			/* struct tramp_params in kernel/smp.c */
	.quad 0			/* 0:  cr3_low */
	.quad 0			/* 8:  cr3 */
	.quad 0			/* 16: stack_top */
	.quad 0			/* 24: entry */
	.long 0			/* 32: cpu */
	.long 0			/* 36: started (set by the AP's C code) */
trampoline_end:

/* ap_start64: RCX = kernel CR3, RDI = cpu index, RSP = the AP's stack. */
	.text
	.globl ap_start64
ap_start64:
	movq %rcx, %cr3
	call ap_entry
	ud2
