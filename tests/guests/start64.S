/*
 * start64.S - the payload's 64-bit entry, shared by both start modes (the
 * ROM stub jumps here with RSI = its record, Keel's 64-bit start with RSI =
 * 0), and the 256 interrupt entry stubs behind the payload's IDT. The BSP
 * clears .bss and runs guest_main; the other vCPUs wait for that and run
 * guest_ap_main. Each vCPU gets its own stack by its CPUID index.
 */
#include "tests/guests/layout.h"

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	movq %rsi, %r12			/* start info (stub record or 0) */
	movl $1, %eax
	xorl %ecx, %ecx
	cpuid
	shrl $24, %ebx
	movl %ebx, %r13d		/* vCPU index */
	cmpl $GUEST_MAX_CPUS, %ebx
	jae park
	leal 1(%rbx), %eax
	shlq $GUEST_STACK_SHIFT, %rax
	leaq guest_stacks(%rax), %rsp
	testl %ebx, %ebx
	jnz ap_entry

	/* BSP. The stacks are in .bss, but nothing is on them yet. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $1, bss_ready(%rip)
	movq %r12, %rdi
	call guest_main
	jmp park

ap_entry:
	pause
	cmpl $0, bss_ready(%rip)
	je ap_entry
	movl %r13d, %edi
	movq %r12, %rsi
	call guest_ap_main
park:
	cli
	hlt
	jmp park

	.data
	.balign 4
bss_ready:
	.long 0				/* .data: the ROM copy and the ELF load
					   both start it at 0 */

/* ------------------------------------------------------------------------
 * Interrupt entry: one 16-byte stub per vector pushes a zero error code
 * where the CPU pushes none, then the vector (Intel SDM vol. 3A, 6.13:
 * vectors 8, 10-14, 17, 21, 29, 30 push one), and joins isr_common, which
 * saves the general registers as struct trap_frame (guest.h).
 */
	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	vec = 0
	.rept 256
	.balign 16
	errcode = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17
	errcode = errcode || vec == 21 || vec == 29 || vec == 30
	.if !errcode
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	vec = vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi			/* 16-byte aligned: 5 + 2 + 15 words */
	call guest_trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq
