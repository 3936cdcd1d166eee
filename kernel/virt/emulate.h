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
};

enum gwalk_result {
	GWALK_OK = 0,
	GWALK_PAGE_FAULT = 1, /* *pf_error holds the #PF error code */
	GWALK_BAD_GPA = 2,    /* a paging structure is not in guest RAM */
};

/* Translate a linear address with the guest's CR0/CR3/CR4/EFER: paging off,
 * 32-bit (4 KiB and 4 MiB pages), PAE, 4-level and 5-level long mode; NX,
 * WP, SMEP-free. Sets accessed/dirty bits as the CPU would. */
enum gwalk_result gwalk_translate(const struct gwalk_ops *ops,
				  const struct vcpu_sregs *sregs, uint64_t gva,
				  unsigned access, uint64_t *gpa,
				  uint32_t *pf_error);

/* ---- emulator ---- */

struct emu_ops {
	/* Instruction fetch at a linear address (may cross pages). */
	int (*fetch)(void *ctx, uint64_t gva, uint8_t *buf, unsigned len);
	/* Data access at a linear address, size 1/2/4/8. The callee walks the
	 * guest tables and routes RAM/ROM/MMIO; a #PF is reported by returning
	 * EMU_FAULT after filling ctx->fault. */
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

struct emu_insn {
	uint8_t len;	   /* total length in bytes */
	uint8_t opcode;	   /* primary opcode (after 0F if two_byte) */
	bool two_byte;
	uint8_t op_size;   /* 1, 2, 4 or 8 */
	uint8_t addr_size; /* 2, 4 or 8 */
	bool rep, repne, lock;
	int seg;	   /* segment override, -1 none; 0..5 = ES CS SS DS FS GS */
	uint8_t rex;
	bool has_modrm;
	uint8_t modrm;
	bool mem_operand;
	uint64_t ea;	   /* linear address of the memory operand */
	int64_t imm;
	uint8_t bytes[15];
};

/* Decode the instruction at CS:RIP (does not execute). Returns EMU_OK,
 * EMU_UNHANDLED, or EMU_FAULT (fetch faulted: see *fault). */
int emu_decode(const struct emu_ops *ops, const struct vcpu_regs *regs,
	       const struct vcpu_sregs *sregs, struct emu_insn *insn,
	       struct emu_fault *fault);
/* Length of the instruction at CS:RIP (any instruction, not only the
 * subset: prefixes, opcode maps, ModRM/SIB/displacement/immediate), or 0
 * when it cannot be fetched or decoded. Used to skip exiting instructions
 * when the hardware gives no length (SVM without NRIP save). */
unsigned emu_insn_len(const struct emu_ops *ops, const struct vcpu_regs *regs,
		      const struct vcpu_sregs *sregs);
/* Decode and execute one instruction of the subset. REP string forms run at
 * most EMU_REP_MAX iterations per call (EMU_RETRY after that). */
#define EMU_REP_MAX 4096
int emu_execute(const struct emu_ops *ops, struct vcpu_regs *regs,
		const struct vcpu_sregs *sregs, struct emu_fault *fault);

#endif
