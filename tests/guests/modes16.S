/*
 * modes16.S - the "modes16" test guest: a one-page ROM that stays in real
 * mode and checks what a guest sees there: CPUID, port I/O with 16-bit
 * string addressing, MMIO through the emulator with 16-bit and 32-bit
 * addresses (segment bases from a short trip to protected mode: "big real
 * mode", as firmware does), the ROM's low alias and read-only-ness, and the
 * test device's timer through the real-mode IVT. Same protocol as the C
 * guests (README.md); only vCPU 0 runs it.
 */
#include "tests/guests/layout.h"

#define ROM16(x) ((x) - 0xFFFF0000) /* offset from CS base 0xF0000 too */

/* RAM variables, reached through SS (base 0) because DS and ES point at
 * the scratch device once in big real mode. */
#define STACK_TOP 0x7C00
#define V_TOTAL 0x7E00	/* failed checks */
#define V_FAILS 0x7E02	/* failures of the current check */
#define V_NAME 0x7E04	/* current check's name (ROM offset) */
#define V_WHY 0x7E06	/* its first failure (ROM offset) */
#define V_TICKS 0x7E08	/* timer interrupts seen */
#define RAM_BUF 0x7000	/* scratch RAM for string I/O */

/* The scratch device; the bare variant (plain QEMU, README.md) uses RAM
 * at 0x20000 instead, preloaded with the magic, and skips the timer. */
#ifdef GUEST_BARE
#define MMIO16_BASE 0x20000
#define MMIO16_DESC 0x000093020000FFFF
#else
#define MMIO16_BASE SCRATCH_BASE
#define MMIO16_DESC 0xFE0093B00000FFFF
#endif

/* Big real mode descriptors (ROM: accessed bits pre-set). */
#define SEL_MMIO16 0x08	/* data, base SCRATCH_BASE, limit 64 KiB */
#define SEL_FLAT 0x10	/* data, base 0, limit 4 GiB */
#define SEL_CODE16 0x18	/* 16-bit code, base 0xF0000 */

/* Fail the current check with reason unless the flags say cond. */
.macro EXPECT cond, reason
	j\cond 9f
	movw $ROM16(\reason), %si
	call fail
9:
.endm

.macro STR label, text
\label:	.asciz "\text"
.endm

	.section .stub, "ax"
	.code16
	.globl stub_sipi
stub_sipi:
	ljmp $0xF000, $ROM16(start)

start:
	cli
	cld
	/* Into the low alias, CS base 0xF0000, as firmware runs. */
	ljmp $0xF000, $ROM16(start_low)
start_low:
	xorw %ax, %ax
	movw %ax, %ss
	movw $STACK_TOP, %sp
	movw %ax, %ds
	movw %ax, %es
	movl $1, %eax
	xorl %ecx, %ecx
	cpuid
	shrl $24, %ebx
	jz 1f
park:	cli			/* vCPUs other than 0 */
	hlt
	jmp park
1:	movw $0, %ss:V_TOTAL
	movw $ROM16(s_hello), %si
	call println

/* ---------------------------------------------------------- rm-cpuid -- */
	movw $ROM16(n_cpuid), %si
	call check_begin
	movl $0x40000000, %eax
	xorl %ecx, %ecx
	cpuid
	cmpl $0x6C65654B, %ebx	/* "Keel" */
	EXPECT e, w_sig
	cmpl $0x6C65654B, %ecx
	EXPECT e, w_sig
	cmpl $0x6C65654B, %edx
	EXPECT e, w_sig
	movl $1, %eax
	cpuid
	testl $0x80000000, %ecx
	EXPECT nz, w_hv
	call check_end

/* ------------------------------------------------------------- rm-io -- */
	movw $ROM16(n_io), %si
	call check_begin
	movw $TESTDEV_ECHO, %dx
	movb $0xA5, %al
	outb %al, %dx
	xorb %al, %al
	inb %dx, %al
	cmpb $0xA5, %al
	EXPECT e, w_echo8
	movw $0xBEEF, %ax
	outw %ax, %dx
	xorw %ax, %ax
	inw %dx, %ax
	cmpw $0xBEEF, %ax
	EXPECT e, w_echo16
	movl $0x12345678, %eax
	outl %eax, %dx
	xorl %eax, %eax
	inl %dx, %eax
	cmpl $0x12345678, %eax
	EXPECT e, w_echo32

	/* rep outsb with a 16-bit address size: CX counts and SI moves; the
	 * upper halves of ECX and ESI are not the instruction's. */
	movw $0xF000, %ax
	movw %ax, %ds
	movl $(0x55550000 + ROM16(s_abc)), %esi
	movl $0xABCD0003, %ecx
	rep outsb
	xorw %ax, %ax
	movw %ax, %ds
	cmpl $0xABCD0000, %ecx
	EXPECT e, w_outs_ecx
	cmpl $(0x55550000 + ROM16(s_abc) + 3), %esi
	EXPECT e, w_outs_esi
	inb %dx, %al
	cmpb $'c', %al
	EXPECT e, w_outs_val

	movb $0x5A, %al
	outb %al, %dx
	movl $0, %ss:RAM_BUF
	movl $0, %ss:RAM_BUF + 4
	movl $(0x66660000 + RAM_BUF), %edi
	movl $0x12340004, %ecx
	rep insb
	cmpl $0x12340000, %ecx
	EXPECT e, w_ins_ecx
	cmpl $(0x66660000 + RAM_BUF + 4), %edi
	EXPECT e, w_ins_edi
	cmpl $0x5A5A5A5A, %ss:RAM_BUF
	EXPECT e, w_ins_val
	cmpb $0, %ss:RAM_BUF + 4
	EXPECT e, w_ins_val
	call check_end

/* -------------------------------------------------- into big real mode -- */
	/* Protected mode only to load DS/ES with base SCRATCH_BASE and FS
	 * with a 4 GiB limit; back in real mode the hidden bases stay
	 * (Intel SDM vol. 3A, 9.9.2, and how firmware reaches high MMIO). */
	lgdtl %cs:ROM16(m16_gdt_ptr)
	movl %cr0, %eax
	orb $CR0_PE, %al
	movl %eax, %cr0
	ljmp $SEL_CODE16, $ROM16(1f)
1:	movw $SEL_MMIO16, %ax
	movw %ax, %ds
	movw %ax, %es
	movw $SEL_FLAT, %ax
	movw %ax, %fs
	movl %cr0, %eax
	andb $~CR0_PE, %al
	movl %eax, %cr0
	ljmp $0xF000, $ROM16(1f)
1:

/* ----------------------------------------------------------- rm-mmio -- */
#ifdef GUEST_BARE
	movl $MMIO16_BASE + 0xFF8, %ebx
	movl $SCRATCH_MAGIC_LO, %fs:(%ebx)
	movl $SCRATCH_MAGIC_HI, %fs:4(%ebx)
#endif
	movw $ROM16(n_mmio), %si
	call check_begin
	movw $0x1234, 0x10		/* C7 06 disp16 imm16 */
	movw 0x10, %ax			/* A1 moffs16 */
	cmpw $0x1234, %ax
	EXPECT e, w_mov16
	movw $0x10, %bx
	xorw %si, %si
	movl $0xCAFEF00D, %eax
	movl %eax, 4(%bx,%si)		/* 66 89 40 04: DS:BX+SI+4 */
	movl 0x14, %ecx
	cmpl $0xCAFEF00D, %ecx
	EXPECT e, w_mov32
	movb $0x80, 0x18
	movsbw 8(%bx), %ax		/* 0F BE 47 08 */
	cmpw $0xFF80, %ax
	EXPECT e, w_movsx
	movzbl 8(%bx), %eax		/* 66 0F B6 47 08 */
	cmpl $0x80, %eax
	EXPECT e, w_movzx
	movw $0x0001, 0x1A
	movw $0x0FFF, %ax
	addw %ax, 0x1A			/* 01 06 disp16 */
	EXPECT nc, w_add_flags
	cmpw $0x1000, 0x1A		/* 81 3E disp16 imm16 */
	EXPECT e, w_add
	movw $0x5555, %ax
	xchgw %ax, 0x1A
	cmpw $0x1000, %ax
	EXPECT e, w_xchg
	cmpw $0x5555, 0x1A
	EXPECT e, w_xchg
	movl 0xFF8, %eax
	cmpl $SCRATCH_MAGIC_LO, %eax
	EXPECT e, w_magic
	movl 0xFFC, %eax
	cmpl $SCRATCH_MAGIC_HI, %eax
	EXPECT e, w_magic
	/* A 32-bit address through FS (base 0, 4 GiB limit): 67 prefix. */
	movl $MMIO16_BASE + 0xFF8, %ebx
	movl %fs:(%ebx), %eax
	cmpl $SCRATCH_MAGIC_LO, %eax
	EXPECT e, w_magic32
	/* rep stosb into ES (the device) with DI/CX. */
	movl $0x77777777, 0x100
	movl $0x11111111, 0x10C
	movw $0x100, %di
	movl $0xABCD000C, %ecx
	movb $0x5C, %al
	rep stosb
	cmpl $0xABCD0000, %ecx
	EXPECT e, w_stos_ecx
	cmpw $0x10C, %di
	EXPECT e, w_stos_di
	cmpl $0x5C5C5C5C, 0x108
	EXPECT e, w_stos_val
	cmpl $0x11111111, 0x10C
	EXPECT e, w_stos_val
	/* rep movsb from RAM (FS:SI) to the device (ES:DI). */
	movl $0x04030201, %ss:RAM_BUF
	movl $0x08070605, %ss:RAM_BUF + 4
	movw $RAM_BUF, %si
	movw $0x120, %di
	movw $8, %cx
	rep movsb %fs:(%si), %es:(%di)
	cmpl $0x04030201, 0x120
	EXPECT e, w_movs
	cmpl $0x08070605, 0x124
	EXPECT e, w_movs
	call check_end

/* ------------------------------------------------------------ rm-rom -- */
	movw $ROM16(n_rom), %si
	call check_begin
	/* The low alias (CS base 0xF0000) and the top of 4 GiB (FS) hold the
	 * same bytes. */
	movl %cs:ROM16(rom_sig), %eax
	cmpl $0x214D4F52, %eax		/* "ROM!" */
	EXPECT e, w_alias
	movl $rom_sig, %ebx
	movl %fs:(%ebx), %eax
	cmpl $0x214D4F52, %eax
	EXPECT e, w_alias
	movl $0xFFFFFFF0, %ebx
	movb %fs:(%ebx), %al
	cmpb %cs:0xFFF0, %al
	EXPECT e, w_alias_rv
	/* Writes to either copy are dropped. */
	movl $rom_sig, %ebx
	movl $0, %fs:(%ebx)
	movl $0, %cs:ROM16(rom_sig)
	movl %fs:(%ebx), %eax
	cmpl $0x214D4F52, %eax
	EXPECT e, w_rom_ro
	movl %cs:ROM16(rom_sig), %eax
	cmpl $0x214D4F52, %eax
	EXPECT e, w_rom_ro
	call check_end

/* ---------------------------------------------------------- rm-timer -- */
#ifndef GUEST_BARE
	movw $ROM16(n_timer), %si
	call check_begin
	movw $ROM16(rm_isr), %ss:(TIMER_VECTOR * 4)
	movw $0xF000, %ss:(TIMER_VECTOR * 4 + 2)
	movw $0, %ss:V_TICKS
	movw $TESTDEV_TIMER, %dx
	movl $1000, %eax
	outl %eax, %dx
	sti
	hlt
	cli
	cmpw $1, %ss:V_TICKS
	EXPECT e, w_timer
	call check_end
#endif

/* --------------------------------------------------------------- end -- */
	movw $ROM16(s_done), %si
	call println
	movw $TESTDEV_END, %dx
	movb %ss:V_TOTAL, %al
	outb %al, %dx
	jmp park

rm_isr:
	incw %ss:V_TICKS
	iret

/* ------------------------------------------------------------ helpers -- */

/* Print the ROM string at CS:SI, with or without a newline. */
puts:
	pushal
1:	movb %cs:(%si), %al
	testb %al, %al
	jz 2f
	call putc
	incw %si
	jmp 1b
2:	popal
	ret

println:
	call puts
	pushal
	movb $'\n', %al
	call putc
	popal
	ret

putc:	/* AL; polls LSR.THRE (bounded) */
	pushal
	movb %al, %bl
	movw $COM1 + 5, %dx
	movw $0xFFFF, %cx
1:	inb %dx, %al
	testb $0x20, %al
	jnz 2f
	loop 1b
2:	movw $COM1, %dx
	movb %bl, %al
	outb %al, %dx
	popal
	ret

check_begin:	/* SI = name */
	movw %si, %ss:V_NAME
	movw $0, %ss:V_FAILS
	movw $0, %ss:V_WHY
	ret

fail:		/* SI = reason: print it, keep the first */
	pushal
	cmpw $0, %ss:V_FAILS
	jne 1f
	movw %si, %ss:V_WHY
1:	incw %ss:V_FAILS
	pushw %si
	movw $ROM16(s_indent), %si
	call puts
	movw %ss:V_NAME, %si
	call puts
	movw $ROM16(s_colon), %si
	call puts
	popw %si
	call println
	popal
	ret

check_end:	/* "check <name>: pass" or "... FAIL <why>", one result */
	pushal
	movw $ROM16(s_check), %si
	call puts
	movw %ss:V_NAME, %si
	call puts
	movw %ss:V_FAILS, %cx
	testw %cx, %cx
	jnz 1f
	movw $ROM16(s_pass), %si
	call println
	xorl %eax, %eax
	jmp 2f
1:	movw $ROM16(s_fail), %si
	call puts
	movw %ss:V_WHY, %si
	call println
	incw %ss:V_TOTAL
	movl $1, %eax
2:	movw $TESTDEV_RESULT, %dx
	outl %eax, %dx
	popal
	ret

/* --------------------------------------------------------------- data -- */

	.balign 8
m16_gdt:
	.quad 0
	.quad MMIO16_DESC		/* 0x08: data, the device, 64 KiB */
	.quad 0x00CF93000000FFFF	/* 0x10: flat data, 4 GiB */
	.quad 0x00009B0F0000FFFF	/* 0x18: 16-bit code, base 0xF0000 */
m16_gdt_end:
m16_gdt_ptr:
	.word m16_gdt_end - m16_gdt - 1
	.long m16_gdt

rom_sig:
	.ascii "ROM!"

STR s_hello, "modes16: real mode from the reset vector"
STR s_done, "modes16: done"
STR s_abc, "abc"
STR s_check, "check "
STR s_pass, ": pass"
STR s_fail, ": FAIL "
STR s_indent, "  "
STR s_colon, ": "
STR n_cpuid, "rm-cpuid"
STR n_io, "rm-io"
STR n_mmio, "rm-mmio"
STR n_rom, "rm-rom"
STR n_timer, "rm-timer"
STR w_sig, "CPUID 0x40000000: signature is not KeelKeelKeel"
STR w_hv, "CPUID 1: hypervisor bit clear"
STR w_echo8, "echo OUT8/IN8"
STR w_echo16, "echo OUT16/IN16"
STR w_echo32, "echo OUT32/IN32 (66 prefix)"
STR w_outs_ecx, "rep outsb (a16): ECX should be 0xABCD0000"
STR w_outs_esi, "rep outsb (a16): ESI should keep its upper half"
STR w_outs_val, "rep outsb (a16): last byte"
STR w_ins_ecx, "rep insb (a16): ECX should be 0x12340000"
STR w_ins_edi, "rep insb (a16): EDI should keep its upper half"
STR w_ins_val, "rep insb (a16): bytes in RAM"
STR w_mov16, "mov imm16 to [disp16] / mov AX from moffs16"
STR w_mov32, "mov r32 to [BX+SI+4]"
STR w_movsx, "movsx m8 to r16"
STR w_movzx, "movzx m8 to r32"
STR w_add_flags, "add r16 to m16: CF set"
STR w_add, "add r16 to m16: result"
STR w_xchg, "xchg r16 with m16"
STR w_magic, "magic through DS base 0xFEB00000"
STR w_magic32, "magic through FS with a 32-bit address"
STR w_stos_ecx, "rep stosb (a16): ECX should be 0xABCD0000"
STR w_stos_di, "rep stosb (a16): DI"
STR w_stos_val, "rep stosb (a16): bytes in the device"
STR w_movs, "rep movsb FS:SI (RAM) to ES:DI (device)"
STR w_alias, "ROM: low alias and top of 4 GiB differ"
STR w_alias_rv, "ROM: reset vector byte differs between the copies"
STR w_rom_ro, "ROM: a write to it was not dropped"
STR w_timer, "timer: HLT not woken by exactly one interrupt"

	/* The reset vector, the ROM's last 16 bytes (0xFFFFFFF0). */
	.section .reset, "ax"
	.code16
	.globl reset_vector
reset_vector:
	jmp start
	.balign 16, 0xF4
