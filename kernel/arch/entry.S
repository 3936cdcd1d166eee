/*
 * entry.S - the kernel's two ways in.
 *
 * _start_uefi: from the UEFI loader, already in long mode on the loader's page
 *   tables (conditions: boot/boot_info.h, struct kernel_header).
 * _start_mb2: from a Multiboot2 loader (GRUB), in 32-bit protected mode with
 *   paging off, EAX = 0x36D76289, EBX = physical address of the boot
 *   information (Multiboot2 spec 3.3). It builds page tables that map the low
 *   4 GiB identically and at DIRECT_MAP_BASE, and the first GiB at
 *   KERNEL_VIRT_BASE, enters long mode and calls mb2_start(magic, mbi) in C.
 *
 * Both end on boot_stack (.bss) with interrupts off; kernel_main() moves to a
 * guarded stack once mm/ is up.
 */
#define KERNEL_VIRT_BASE 0xFFFFFFFF80000000
#define PHYS(x) ((x) - KERNEL_VIRT_BASE)

#define MB2_HEADER_MAGIC 0xE85250D6
#define MB2_BOOT_MAGIC 0x36D76289
#define MB2_ARCH_I386 0

	.section .keel_header, "a"
	.balign 8
	.globl keel_kernel_header
keel_kernel_header:
	.ascii "KEELKRNL"
	.long 1				/* KERNEL_HEADER_VERSION */
	.long 40			/* sizeof(struct kernel_header) */
	.quad _start_uefi
	.quad __kernel_start
	.quad __kernel_end

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* module alignment tag (type 6): modules page aligned */
	.balign 8
	.word 6, 0
	.long 8
	/* end tag */
	.balign 8
	.word 0, 0
	.long 8
mb2_header_end:

/* ------------------------------------------------------------------------ */

	.section .text.boot32, "ax"
	.code32
	.globl _start_mb2
_start_mb2:
	cli
	cld
	movl $PHYS(boot_stack_top), %esp
	movl %eax, PHYS(mb2_magic)
	movl %ebx, PHYS(mb2_info)

	/* A 64-bit CPU with NX is required (CPUID 80000001h: EDX.LM, EDX.NX). */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz no_long_mode
	testl $(1 << 20), %edx
	jz no_long_mode

	/* PD_low[0..2047]: 2 MiB pages covering 0..4 GiB. */
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax			/* P | RW | PS */
	movl %eax, PHYS(boot_pd_low)(,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax			/* high dword: bits 32+ of the address */
	movl %eax, PHYS(boot_pd_low)+4(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 1b
	/* PD_kernel[0..511]: 2 MiB pages covering 0..1 GiB (kernel window). */
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, PHYS(boot_pd_kernel)(,%ecx,8)
	incl %ecx
	cmpl $512, %ecx
	jb 2b

	/* PAE, then EFER.LME|NXE, then paging. */
	movl $PHYS(boot_pml4), %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $(1 << 5), %eax
	movl %eax, %cr4
	movl $0xC0000080, %ecx
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax		/* PG | WP | PE */
	andl $~0x60000000, %eax		/* caches on: clear CD, NW */
	movl %eax, %cr0

	lgdt PHYS(boot_gdt_ptr)
	ljmp $0x08, $PHYS(mb2_long_low)

no_long_mode:
	/* Say why on COM1 (no console exists yet), then stop. */
	movl $PHYS(no_lm_msg), %esi
3:	movb (%esi), %al
	testb %al, %al
	jz 4f
	movw $0x3F8, %dx
	outb %al, %dx
	incl %esi
	jmp 3b
4:	hlt
	jmp 4b

	.code64
mb2_long_low:
	/* Running at the physical address; go to the kernel window. */
	movabsq $mb2_long_high, %rax
	jmp *%rax

	.text
mb2_long_high:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl mb2_magic(%rip), %edi
	movl mb2_info(%rip), %esi
	call mb2_start
5:	cli
	hlt
	jmp 5b

/* UEFI loader entry: RDI = physical address of struct boot_info. */
	.globl _start_uefi
_start_uefi:
	cli
	cld
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	call uefi_start
6:	cli
	hlt
	jmp 6b

/* ------------------------------------------------------------------------ */

	.section .rodata
no_lm_msg:
	.asciz "keel: this CPU lacks 64-bit long mode or NX; Keel cannot run\r\n"

	.section .data.boot_pagetables, "aw"
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad PHYS(boot_pdpt_low) + 3		/* [0]   identity 0..512 GiB slot */
	.fill 255, 8, 0
	.quad PHYS(boot_pdpt_low) + 3		/* [256] DIRECT_MAP_BASE */
	.fill 254, 8, 0
	.quad PHYS(boot_pdpt_kernel) + 3	/* [511] KERNEL_VIRT_BASE */
	.balign 4096
boot_pdpt_low:
	.quad PHYS(boot_pd_low) + 0x0000 + 3
	.quad PHYS(boot_pd_low) + 0x1000 + 3
	.quad PHYS(boot_pd_low) + 0x2000 + 3
	.quad PHYS(boot_pd_low) + 0x3000 + 3
	.fill 508, 8, 0
	.balign 4096
boot_pdpt_kernel:
	.fill 510, 8, 0
	.quad PHYS(boot_pd_kernel) + 3		/* [510] = 0xFFFFFFFF80000000 */
	.quad 0
	.balign 4096
boot_pd_low:
	.fill 2048, 8, 0
boot_pd_kernel:
	.fill 512, 8, 0

	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF		/* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF		/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long PHYS(boot_gdt)

mb2_magic:
	.long 0
mb2_info:
	.long 0

	.bss
	.balign 4096
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip 32768
boot_stack_top:
