/*
 * mbstart.S - mbtest's Multiboot (v1) header and 32-bit entry (Multiboot
 * Specification 0.6.96, 3.1 and 3.2). Built twice: plain, the loader reads
 * the ELF program headers (flags: modules page-aligned, memory map, a video
 * mode Keel must decline); with -DMB_AOUT, the a.out kludge's addresses
 * (flags bit 16) say what to load. The first vCPU to arrive records EAX,
 * EBX, EFLAGS and CR0 as the loader left them and runs mbtest_main; any
 * other vCPU that arrives (it should not: APs wait for INIT-SIPI) is
 * counted in mb_entered and parked.
 */
#define MB_MAGIC 0x1BADB002
#ifdef MB_AOUT
#define MB_FLAGS 0x00010003	/* page-align modules, memory info, a.out */
#else
#define MB_FLAGS 0x00000007	/* page-align modules, memory info, video */
#endif

	.section .text.entry, "ax"
	.code32
	.globl _start
	.globl mb_header
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	/* 3.1.3, valid with flags bit 16 (present either way, so that the
	 * video fields are at offset 32). */
	.long mb_header			/* header_addr */
	.long __load_start		/* load_addr */
	.long __load_end		/* load_end_addr */
	.long __bss_end			/* bss_end_addr */
	.long _start			/* entry_addr */
	/* 3.1.4, valid with flags bit 2: EGA text 80x25. */
	.long 1
	.long 80
	.long 25
	.long 0

/* Entry: EAX = 0x2BADB002, EBX = the info structure, no stack (3.2).
 * Clobbers everything; never returns. */
_start:
	movl $1, %ecx
	lock xaddl %ecx, mb_entered
	testl %ecx, %ecx
	jnz park
	movl %eax, mb_entry_eax
	movl %ebx, mb_entry_ebx
	movl %cr0, %ecx
	movl %ecx, mb_entry_cr0
	movl $mb_stack_top, %esp
	pushfl
	popl mb_entry_eflags
	cld
	call mbtest_main
park:
	cli
	hlt
	jmp park

	.data
	.balign 4
	.globl mb_entered
mb_entered:
	.long 0		/* .data, not .bss: counted before anything is set up */

	.bss
	.balign 16
	.globl mb_entry_eax, mb_entry_ebx, mb_entry_cr0, mb_entry_eflags
mb_entry_eax:
	.long 0
mb_entry_ebx:
	.long 0
mb_entry_cr0:
	.long 0
mb_entry_eflags:
	.long 0
	.balign 16
mb_stack:
	.skip 16384
mb_stack_top:
