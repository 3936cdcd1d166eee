/*
 * emulate.h - the x86 instruction emulator for MMIO (DESIGN.md section 4) and
 * the guest page walk it needs. Pure code: guest memory, devices and
 * registers are reached only through struct emu_ops and the register
 * structures, so host unit tests run the code that ships.
 *
 * Subset: MOV (88/89/8A/8B/C6/C7, A0-A3), MOVZX/MOVSX (0F B6/B7/BE/BF),
 * MOVSXD, STOS, MOVS (with REP), AND/OR/XOR/ADD/SUB/CMP/TEST (all forms with
 * a memory operand: 00-3D ALU, 80/81/83 group 1, 84/85, F6/F7 /0), XCHG
 * (86/87). Prefixes: 66, 67, F2/F3 (REP), segment overrides, LOCK,
 * REX; operand sizes 8/16/32/64; address sizes 16/32/64; real, protected
 * and long mode.
 */
#ifndef KEEL_EMULATE_H
#define KEEL_EMULATE_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/virt/virt.h"

/* ---- guest page walk ---- */

/* Access kind of a walk (page-fault error code bits, SDM vol.3 4.7). */
#define GWALK_WRITE (1u << 1)
#define GWALK_USER (1u << 2)
#define GWALK_FETCH (1u << 4)

struct gwalk_ops {
	/* Read/write 8 bytes of guest-physical memory (a paging entry).
	 * Return 0 or a negative code (not guest RAM). */
	int (*read_gpa)(void *ctx, uint64_t gpa, uint64_t *val);
	int (*write_gpa)(void *ctx, uint64_t gpa, uint64_t val); /* A/D bits */
	void *ctx;
	/* The guest's MAXPHYADDR (CPUID 0x80000008 EAX[7:0]): address bits
	 * above it are reserved in paging entries. 0 means 52. */
	uint8_t maxphyaddr;
};

enum gwalk_result {
	GWALK_OK = 0,
	GWALK_PAGE_FAULT = 1, /* *pf_error holds the #PF error code */
	GWALK_BAD_GPA = 2,    /* a paging structure is not in guest RAM */
};

/* Translate a linear address with the guest's CR0/CR3/CR4/EFER: paging off,
 * 32-bit (4 KiB and 4 MiB pages), PAE, 4-level and 5-level long mode; NX,
 * WP, SMEP-free. Sets accessed/dirty bits as the CPU would.
 *
 * access is GWALK_* (0 for a supervisor read); an access is a user one when
 * GWALK_USER is given or sregs->cpl is 3. Outside long mode gva is taken
 * modulo 4 GiB; in long mode the caller checks that it is canonical (a
 * non-canonical address is #GP, not #PF). A and D are set (through
 * write_gpa, whose failure, e.g. tables in ROM, is ignored) only when the
 * translation succeeds; write_gpa rewrites the whole 8 bytes it read, so a
 * concurrent guest update of the same entry can be lost (no cmpxchg).
 * GWALK_BAD_GPA: *gpa is the address of the entry that was unreadable. */
enum gwalk_result gwalk_translate(const struct gwalk_ops *ops,
				  const struct vcpu_sregs *sregs, uint64_t gva,
				  unsigned access, uint64_t *gpa,
				  uint32_t *pf_error);

/* ---- emulator ---- */

/*
 * Callbacks return 0, EMU_FAULT when the access faults in the guest (a #PF
 * from the guest's page walk), or another negative value when it fails (a
 * device error, memory that is neither RAM nor a device): the emulator then
 * returns EMU_ERROR.
 *
 * Where a fault goes: a callback that returns EMU_FAULT records the fault
 * itself, in the struct emu_fault its ctx holds; the emulator passes
 * EMU_FAULT up and does not write *fault then. Faults the emulator raises
 * itself (#GP/#SS for a segment limit or a non-canonical address, #UD for a
 * LOCK that is not allowed) are written to *fault. Simplest for a caller:
 * pass the same struct emu_fault the callbacks fill (&ctx->fault) as
 * *fault, then it always holds the fault after EMU_FAULT.
 *
 * State after a failure: regs are unchanged, except that a REP string
 * instruction keeps the iterations it completed (RCX/RSI/RDI updated, RIP
 * still at the instruction), as the CPU does when an iteration faults.
 */
struct emu_ops {
	/* Instruction fetch at a linear address. The emulator fetches only
	 * what it needs and never asks across a page boundary (the next page
	 * may be unmapped while the instruction ends before it). */
	int (*fetch)(void *ctx, uint64_t gva, uint8_t *buf, unsigned len);
	/* Data access at a linear address, size 1/2/4/8 (an access may
	 * cross a page). The callee walks the guest tables (gwalk_translate)
	 * and routes RAM/ROM/MMIO; a read returns the value zero-extended. */
	int (*read)(void *ctx, uint64_t gva, unsigned size, uint64_t *val);
	int (*write)(void *ctx, uint64_t gva, unsigned size, uint64_t val);
	void *ctx;
};

enum emu_status {
	EMU_OK = 0,	    /* executed; regs updated, RIP advanced */
	EMU_RETRY = 1,	    /* a REP instruction made progress; run it again
			       (RIP unchanged, RCX/RSI/RDI updated) */
	EMU_UNHANDLED = -1, /* not in the subset / undecodable */
	EMU_FAULT = -2,	    /* inject fault.* into the guest */
	EMU_ERROR = -3,	    /* a callback failed (device error, bad access) */
};

struct emu_fault {
	uint8_t vector; /* 13 #GP, 14 #PF, 6 #UD, 12 #SS */
	bool has_error;
	uint32_t error;
	uint64_t cr2;
};

/* Segment numbers (the SReg encoding, SDM vol.2 3.1.1.3). */
#define EMU_SEG_ES 0
#define EMU_SEG_CS 1
#define EMU_SEG_SS 2
#define EMU_SEG_DS 3
#define EMU_SEG_FS 4
#define EMU_SEG_GS 5

struct emu_insn {
	uint8_t len;	   /* total length in bytes */
	uint8_t opcode;	   /* primary opcode (after 0F if two_byte) */
	bool two_byte;	   /* map != 0 */
	uint8_t map;	   /* 0 one-byte, 1 0F, 2 0F38, 3 0F3A; VEX/EVEX/XOP:
			      the map they select (XOP 8..10) */
	bool vex;	   /* VEX, EVEX or XOP encoded */
	uint8_t mode;	   /* code size: 2, 4 or 8 (16-, 32-, 64-bit) */
	uint8_t op_size;   /* 1, 2, 4 or 8 (1 for the one-byte map's byte
			      forms; MOVZX/MOVSX: the destination) */
	uint8_t addr_size; /* 2, 4 or 8 */
	bool rep, repne, lock; /* rep: F2 or F3 (the last one counts);
				  repne: it was F2 */
	int seg;	   /* segment override, -1 none; 0..5 = ES CS SS DS FS GS
			      (ES/CS/SS/DS ignored in 64-bit mode) */
	uint8_t rex;
	bool has_modrm;
	uint8_t modrm;
	uint8_t reg, rm;   /* ModRM reg and rm with REX.R / REX.B */
	bool mem_operand;
	int mem_seg;	   /* segment of the memory operand (default or
			      override), -1 none */
	uint64_t ea_off;   /* its offset in that segment */
	uint64_t ea;	   /* linear address of the memory operand; string
			      instructions: the destination ES:rDI */
	uint64_t ea_src;   /* string instructions: the source DS:rSI (or the
			      override) */
	int64_t imm;	   /* immediate, sign-extended (moffs: the offset;
			      ENTER: the imm16; far pointers: the offset) */
	uint8_t bytes[15]; /* the bytes fetched (len of them are the insn) */
};

/* Decode the instruction at CS:RIP (does not execute): any instruction whose
 * length emu_insn_len knows, not only the subset. The memory operand of a
 * ModRM form (not VEX/EVEX/XOP), of A0-A3 and of the string instructions is
 * computed from regs and sregs. Returns EMU_OK, EMU_UNHANDLED (undefined,
 * invalid in this mode, longer than 15 bytes), EMU_FAULT (the fetch
 * faulted: the fault is where the fetch callback put it) or EMU_ERROR (the
 * fetch failed). */
int emu_decode(const struct emu_ops *ops, const struct vcpu_regs *regs,
	       const struct vcpu_sregs *sregs, struct emu_insn *insn,
	       struct emu_fault *fault);
/* Length of the instruction at CS:RIP (any instruction, not only the
 * subset: prefixes, opcode maps incl. VEX/EVEX/XOP, ModRM/SIB/displacement/
 * immediate), or 0 when it cannot be fetched or decoded. Used to skip exiting
 * instructions when the hardware gives no length (SVM without NRIP save), so
 * near branches (E8, E9, 0F 8x) with 66 in 64-bit mode take a rel16 as AMD
 * CPUs do (Intel CPUs ignore the 66 there). */
unsigned emu_insn_len(const struct emu_ops *ops, const struct vcpu_regs *regs,
		      const struct vcpu_sregs *sregs);
/* Decode and execute one instruction of the subset (register and memory
 * forms; also ADC/SBB of 10-1D and group 1, TEST A8/A9). REP string forms
 * run at most EMU_REP_MAX iterations per call (EMU_RETRY after that).
 * RFLAGS: CF PF AF ZF SF OF of the ALU ops (AF cleared by the logical ones,
 * where the SDM leaves it undefined); RIP advances by the length, wrapping
 * at 16/32 bits outside 64-bit mode. Not checked: segment types (read-only,
 * execute-only), alignment checks, breakpoints; RFLAGS.TF is the caller's. */
#define EMU_REP_MAX 4096
int emu_execute(const struct emu_ops *ops, struct vcpu_regs *regs,
		const struct vcpu_sregs *sregs, struct emu_fault *fault);

/* ---- helpers the emulator's callers share ---- */

/* The general register with encoding number n as ModRM, SIB and opcodes
 * name them (0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8..15
 * R8..R15). */
uint64_t *emu_gpr(struct vcpu_regs *regs, unsigned n);
/* Code size of the vCPU: 2 (real, virtual-8086, 16-bit protected mode),
 * 4 (32-bit protected or compatibility mode) or 8 (64-bit mode). */
unsigned emu_code_size(const struct vcpu_regs *regs,
		       const struct vcpu_sregs *sregs);
/* Segment register EMU_SEG_* of sregs (DS for anything else). */
const struct vcpu_segment *emu_seg(const struct vcpu_sregs *sregs, int seg);
/* Linear address of seg:offset in a code size (emu_code_size): the segment
 * base plus the offset (already truncated to the address size); in 64-bit
 * mode only FS and GS have a base, elsewhere the sum wraps at 4 GiB. */
uint64_t emu_linear(const struct vcpu_sregs *sregs, unsigned mode, int seg,
		    uint64_t offset);

#endif
