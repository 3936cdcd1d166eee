/*
 * decode.c - x86 instruction decoding for the emulator (emulate.h): prefixes,
 * REX, the opcode maps (one-byte, 0F, 0F38, 0F3A, VEX, EVEX, XOP), ModRM/SIB,
 * displacement and immediate sizes (SDM vol.2 ch.2 and appendix A), and the
 * effective address of the memory operand. emulate.c executes the subset.
 */
#include <stddef.h>
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/virt/emulate.h"

#ifndef RFLAGS_VM
#define RFLAGS_VM (1ULL << 17)
#endif

#define EMU_INSN_MAX 15 /* SDM 2.3.11: longer is #GP */
#define EMU_PAGE 4096u

/* ------------------------------------------------------------ registers -- */

/* vcpu_regs is not in encoding order: index it by ModRM/SIB/opcode number. */
static const uint8_t gpr_offset[16] = {
	offsetof(struct vcpu_regs, rax), offsetof(struct vcpu_regs, rcx),
	offsetof(struct vcpu_regs, rdx), offsetof(struct vcpu_regs, rbx),
	offsetof(struct vcpu_regs, rsp), offsetof(struct vcpu_regs, rbp),
	offsetof(struct vcpu_regs, rsi), offsetof(struct vcpu_regs, rdi),
	offsetof(struct vcpu_regs, r8),	 offsetof(struct vcpu_regs, r9),
	offsetof(struct vcpu_regs, r10), offsetof(struct vcpu_regs, r11),
	offsetof(struct vcpu_regs, r12), offsetof(struct vcpu_regs, r13),
	offsetof(struct vcpu_regs, r14), offsetof(struct vcpu_regs, r15),
};

uint64_t *emu_gpr(struct vcpu_regs *regs, unsigned n)
{
	return (uint64_t *)((char *)regs + gpr_offset[n & 15]);
}

static uint64_t gpr_get(const struct vcpu_regs *regs, unsigned n)
{
	return *(const uint64_t *)((const char *)regs + gpr_offset[n & 15]);
}

/* ----------------------------------------------------------------- modes -- */

unsigned emu_code_size(const struct vcpu_regs *regs,
		       const struct vcpu_sregs *sregs)
{
	if (!(sregs->cr0 & CR0_PE) || (regs->rflags & RFLAGS_VM))
		return 2; /* real mode, virtual-8086 mode */
	if ((sregs->efer & EFER_LMA) && (sregs->cs.attr & SEG_ATTR_L))
		return 8; /* 64-bit mode: CS.L (SDM 5.2.1) */
	return (sregs->cs.attr & SEG_ATTR_DB) ? 4 : 2;
}

const struct vcpu_segment *emu_seg(const struct vcpu_sregs *sregs, int seg)
{
	switch (seg) {
	case EMU_SEG_ES:
		return &sregs->es;
	case EMU_SEG_CS:
		return &sregs->cs;
	case EMU_SEG_SS:
		return &sregs->ss;
	case EMU_SEG_FS:
		return &sregs->fs;
	case EMU_SEG_GS:
		return &sregs->gs;
	default:
		return &sregs->ds;
	}
}

uint64_t emu_linear(const struct vcpu_sregs *sregs, unsigned mode, int seg,
		    uint64_t offset)
{
	/* SDM 3.4.4: in 64-bit mode only FS and GS have a base; elsewhere
	 * linear addresses are 32 bits and wrap. */
	if (mode == 8)
		return (seg == EMU_SEG_FS || seg == EMU_SEG_GS) ?
			       emu_seg(sregs, seg)->base + offset :
			       offset;
	return (uint32_t)(emu_seg(sregs, seg)->base + offset);
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* ------------------------------------------------------- opcode tables -- */

#define A_M 0x01    /* has a ModRM byte */
#define A_I8 0x02   /* imm8 */
#define A_IZ 0x04   /* imm16 or imm32 by operand size (rel16/32 too) */
#define A_IV 0x08   /* imm16/32/64 by operand size (MOV r, imm) */
#define A_I16 0x10  /* imm16 whatever the operand size */
#define A_X 0x20    /* special: decided in code */
#define A_N64 0x40  /* invalid in 64-bit mode (#UD) */
#define A_BAD 0x80  /* undefined opcode */

/* SDM vol.2 table A-2 (one-byte opcodes). Prefixes never look here. */
static const uint8_t map_one[256] = {
	[0x00 ... 0x03] = A_M, [0x04] = A_I8, [0x05] = A_IZ,
	[0x06 ... 0x07] = A_N64,
	[0x08 ... 0x0B] = A_M, [0x0C] = A_I8, [0x0D] = A_IZ, [0x0E] = A_N64,
	[0x0F] = A_X,
	[0x10 ... 0x13] = A_M, [0x14] = A_I8, [0x15] = A_IZ,
	[0x16 ... 0x17] = A_N64,
	[0x18 ... 0x1B] = A_M, [0x1C] = A_I8, [0x1D] = A_IZ,
	[0x1E ... 0x1F] = A_N64,
	[0x20 ... 0x23] = A_M, [0x24] = A_I8, [0x25] = A_IZ, [0x27] = A_N64,
	[0x28 ... 0x2B] = A_M, [0x2C] = A_I8, [0x2D] = A_IZ, [0x2F] = A_N64,
	[0x30 ... 0x33] = A_M, [0x34] = A_I8, [0x35] = A_IZ, [0x37] = A_N64,
	[0x38 ... 0x3B] = A_M, [0x3C] = A_I8, [0x3D] = A_IZ, [0x3F] = A_N64,
	[0x60 ... 0x61] = A_N64, [0x62] = A_X, [0x63] = A_M,
	[0x68] = A_IZ, [0x69] = A_M | A_IZ, [0x6A] = A_I8, [0x6B] = A_M | A_I8,
	[0x70 ... 0x7F] = A_I8,
	[0x80] = A_M | A_I8, [0x81] = A_M | A_IZ, [0x82] = A_M | A_I8 | A_N64,
	[0x83] = A_M | A_I8, [0x84 ... 0x8E] = A_M, [0x8F] = A_X,
	[0x9A] = A_X | A_N64,
	[0xA0 ... 0xA3] = A_X, [0xA8] = A_I8, [0xA9] = A_IZ,
	[0xB0 ... 0xB7] = A_I8, [0xB8 ... 0xBF] = A_IV,
	[0xC0 ... 0xC1] = A_M | A_I8, [0xC2] = A_I16, [0xC4 ... 0xC5] = A_X,
	[0xC6] = A_M | A_I8, [0xC7] = A_M | A_IZ, [0xC8] = A_I16 | A_I8,
	[0xCA] = A_I16, [0xCD] = A_I8, [0xCE] = A_N64,
	[0xD0 ... 0xD3] = A_M, [0xD4 ... 0xD5] = A_I8 | A_N64, [0xD6] = A_N64,
	[0xD8 ... 0xDF] = A_M,
	[0xE0 ... 0xE7] = A_I8, [0xE8 ... 0xE9] = A_IZ, [0xEA] = A_X | A_N64,
	[0xEB] = A_I8,
	[0xF6 ... 0xF7] = A_M | A_X, [0xFE ... 0xFF] = A_M,
};

/* One-byte opcodes whose operands are bytes (opcode bit w = 0). */
static bool op_is_byte(uint8_t op)
{
	if (op < 0x40)
		return (op & 7) < 6 && !(op & 1);
	switch (op) {
	case 0x6C: case 0x6E: case 0x80: case 0x82: case 0x84: case 0x86:
	case 0x88: case 0x8A: case 0xA0: case 0xA2: case 0xA4: case 0xA6:
	case 0xA8: case 0xAA: case 0xAC: case 0xAE: case 0xC0: case 0xC6:
	case 0xD0: case 0xD2: case 0xE4: case 0xE6: case 0xEC: case 0xEE:
	case 0xF6: case 0xFE:
		return true;
	default:
		return op >= 0xB0 && op <= 0xB7;
	}
}

/* SDM vol.2 table A-3 (two-byte opcodes, 0F xx); AMD APM vol.3 for 0F 0F
 * (3DNow!: an imm8 suffix) and 0F 78 (EXTRQ/INSERTQ: two imm8). */
static const uint8_t map_0f[256] = {
	[0x00 ... 0x03] = A_M, [0x04] = A_BAD, [0x0A] = A_BAD, [0x0C] = A_BAD,
	[0x0D] = A_M, [0x0F] = A_M | A_I8,
	[0x10 ... 0x1F] = A_M,
	[0x20 ... 0x23] = A_M | A_X, [0x24 ... 0x27] = A_BAD,
	[0x28 ... 0x2F] = A_M,
	[0x36] = A_BAD, [0x38] = A_X, [0x39] = A_BAD, [0x3A] = A_X,
	[0x3B ... 0x3F] = A_BAD,
	[0x40 ... 0x6F] = A_M, [0x70 ... 0x73] = A_M | A_I8,
	[0x74 ... 0x76] = A_M, [0x78] = A_M | A_X, [0x79] = A_M,
	[0x7A ... 0x7B] = A_BAD, [0x7C ... 0x7F] = A_M,
	[0x80 ... 0x8F] = A_IZ, [0x90 ... 0x9F] = A_M,
	[0xA3] = A_M, [0xA4] = A_M | A_I8, [0xA5] = A_M, [0xA6 ... 0xA7] = A_BAD,
	[0xAB] = A_M, [0xAC] = A_M | A_I8, [0xAD ... 0xAF] = A_M,
	[0xB0 ... 0xB9] = A_M, [0xBA] = A_M | A_I8, [0xBB ... 0xBF] = A_M,
	[0xC0 ... 0xC1] = A_M, [0xC2] = A_M | A_I8, [0xC3] = A_M,
	[0xC4 ... 0xC6] = A_M | A_I8, [0xC7] = A_M,
	[0xD0 ... 0xFF] = A_M,
};

/* VEX/EVEX map 1 (0F) opcodes that take an imm8 (pshufd, shift groups,
 * cmpps, pinsrw, pextrw, shufps); map 3 (0F3A) always has one. */
static bool vex_map1_imm8(uint8_t op)
{
	return (op >= 0x70 && op <= 0x73) || op == 0xC2 ||
	       (op >= 0xC4 && op <= 0xC6);
}

/* -------------------------------------------------------------- fetching -- */

struct decoder {
	const struct emu_ops *ops;
	struct emu_insn *insn;
	uint64_t rip, cs_base, ip_mask;
	unsigned have; /* bytes fetched into insn->bytes */
	unsigned pos;  /* bytes consumed */
};

/* Fetch more bytes: up to the end of the page (the next page may not be
 * mapped and the instruction may not reach it) and the end of the IP range
 * (16/32-bit IP wraps within CS). */
static int dec_fetch(struct decoder *d)
{
	uint64_t off = (d->rip + d->have) & d->ip_mask;
	uint64_t lin = d->cs_base + off;
	unsigned n = EMU_INSN_MAX - d->have;

	if (d->insn->mode != 8)
		lin = (uint32_t)lin;
	if (n > EMU_PAGE - (lin & (EMU_PAGE - 1)))
		n = EMU_PAGE - (lin & (EMU_PAGE - 1));
	if (d->ip_mask != ~0ULL && n > d->ip_mask - off + 1)
		n = (unsigned)(d->ip_mask - off + 1);
	int rc = d->ops->fetch(d->ops->ctx, lin, d->insn->bytes + d->have, n);
	if (rc == EMU_FAULT)
		return EMU_FAULT;
	if (rc)
		return EMU_ERROR;
	d->have += n;
	return EMU_OK;
}

static int dec_byte(struct decoder *d, uint8_t *b)
{
	if (d->pos >= EMU_INSN_MAX)
		return EMU_UNHANDLED; /* too long: #GP on hardware */
	if (d->pos >= d->have) {
		int rc = dec_fetch(d);
		if (rc)
			return rc;
	}
	*b = d->insn->bytes[d->pos++];
	return EMU_OK;
}

/* The next byte without consuming it (VEX vs LES, XOP vs POP). */
static int dec_peek(struct decoder *d, uint8_t *b)
{
	int rc = dec_byte(d, b);
	if (rc == EMU_OK)
		d->pos--;
	return rc;
}

/* Little-endian immediate or displacement of n bytes, sign-extended. */
static int dec_signed(struct decoder *d, unsigned n, int64_t *val)
{
	uint64_t v = 0;
	uint8_t b;

	for (unsigned i = 0; i < n; i++) {
		int rc = dec_byte(d, &b);
		if (rc)
			return rc;
		v |= (uint64_t)b << (8 * i);
	}
	if (n && n < 8 && (v & (1ULL << (8 * n - 1))))
		v |= ~size_mask(n);
	*val = (int64_t)v;
	return EMU_OK;
}

/* ------------------------------------------------------------- decoding -- */

struct modrm_info {
	bool present, mem;
	bool sib;
	uint8_t sib_byte;
	unsigned disp_size;
	bool rip_rel;
};

/* SDM 2.1.5 tables 2-1..2-3, 2.2.1.6 (RIP-relative), 2.2.1.2 (REX). */
static int dec_modrm(struct decoder *d, bool reg_only, struct modrm_info *m)
{
	struct emu_insn *insn = d->insn;
	unsigned mod, rm;
	int rc = dec_byte(d, &insn->modrm);

	if (rc)
		return rc;
	insn->has_modrm = true;
	mod = insn->modrm >> 6;
	rm = insn->modrm & 7;
	insn->reg = ((insn->modrm >> 3) & 7) | ((insn->rex & 4) << 1);
	insn->rm = rm | ((insn->rex & 1) << 3);
	m->present = true;
	/* MOV to/from CR/DR: the mod field is ignored, always registers. */
	if (mod == 3 || reg_only)
		return EMU_OK;
	m->mem = true;
	if (insn->addr_size == 2) {
		if (mod == 1)
			m->disp_size = 1;
		else if (mod == 2 || rm == 6)
			m->disp_size = 2;
		return EMU_OK;
	}
	if (rm == 4) {
		rc = dec_byte(d, &m->sib_byte);
		if (rc)
			return rc;
		m->sib = true;
	}
	if (mod == 1)
		m->disp_size = 1;
	else if (mod == 2)
		m->disp_size = 4;
	else if (m->sib && (m->sib_byte & 7) == 5)
		m->disp_size = 4; /* no base */
	else if (!m->sib && rm == 5) {
		m->disp_size = 4;
		m->rip_rel = insn->mode == 8;
	}
	return EMU_OK;
}

/* VEX (C4/C5), EVEX (62) and XOP (8F): the prefix bytes, then opcode and
 * ModRM; the immediate depends on the map. */
static int dec_vex(struct decoder *d, uint8_t first, unsigned *imm)
{
	struct emu_insn *insn = d->insn;
	uint8_t p[3], op;
	unsigned nbytes = first == 0xC5 ? 1 : first == 0x62 ? 3 : 2;
	unsigned map;
	int rc;

	for (unsigned i = 0; i < nbytes; i++) {
		rc = dec_byte(d, &p[i]);
		if (rc)
			return rc;
	}
	if (first == 0xC5)
		map = 1;
	else if (first == 0x62)
		map = p[0] & 7;
	else
		map = p[0] & 0x1F;
	rc = dec_byte(d, &op);
	if (rc)
		return rc;
	insn->opcode = op;
	insn->two_byte = true;
	insn->vex = true;
	*imm = 0;
	if (first == 0x8F) {
		if (map < 8 || map > 10)
			return EMU_UNHANDLED;
		insn->map = (uint8_t)map;
		*imm = map == 8 ? 1 : map == 10 ? 4 : 0;
		return EMU_OK;
	}
	switch (map) {
	case 1:
		if (vex_map1_imm8(op))
			*imm = 1;
		break;
	case 2:
		break;
	case 3:
		*imm = 1;
		break;
	case 5:
	case 6:
		if (first == 0x62)
			break; /* EVEX maps 5 and 6 (AVX512-FP16) */
		return EMU_UNHANDLED;
	default:
		return EMU_UNHANDLED;
	}
	insn->map = (uint8_t)map;
	/* VZEROUPPER/VZEROALL are the one VEX form without a ModRM. */
	if (first != 0x62 && map == 1 && op == 0x77) {
		insn->has_modrm = false;
		return EMU_OK;
	}
	insn->has_modrm = true;
	return EMU_OK;
}

/* Prefixes, opcode, ModRM/SIB, displacement, immediate: insn->len and the
 * raw fields. *mi says where the memory operand is; *disp its displacement. */
static int dec_insn(struct decoder *d, struct modrm_info *mi, int64_t *disp)
{
	struct emu_insn *insn = d->insn;
	bool p66 = false, p67 = false;
	unsigned mode = insn->mode, imm = 0, attr = 0;
	uint8_t b, next;
	int rc;

	/* Legacy prefixes in any order, then REX (64-bit mode) right before
	 * the opcode: a REX followed by a legacy prefix is ignored (SDM
	 * 2.2.1). In 64-bit mode ES/CS/SS/DS overrides are ignored (3.4.4). */
	for (;;) {
		rc = dec_byte(d, &b);
		if (rc)
			return rc;
		if (mode == 8 && (b & 0xF0) == 0x40) {
			insn->rex = b;
			continue;
		}
		switch (b) {
		case 0xF0:
			insn->lock = true;
			break;
		case 0xF2:
		case 0xF3:
			insn->rep = true;
			insn->repne = b == 0xF2;
			break;
		case 0x26:
		case 0x2E:
		case 0x36:
		case 0x3E:
			if (mode != 8)
				insn->seg = (b >> 3) & 3; /* ES CS SS DS */
			break;
		case 0x64:
		case 0x65:
			insn->seg = b - 0x64 + EMU_SEG_FS;
			break;
		case 0x66:
			p66 = true;
			break;
		case 0x67:
			p67 = true;
			break;
		default:
			goto opcode;
		}
		insn->rex = 0;
	}
opcode:
	if (mode == 8) {
		insn->op_size = (insn->rex & 8) ? 8 : p66 ? 2 : 4;
		insn->addr_size = p67 ? 4 : 8;
	} else {
		insn->op_size = ((mode == 4) != p66) ? 4 : 2;
		insn->addr_size = ((mode == 4) != p67) ? 4 : 2;
	}
	insn->opcode = b;
	insn->reg = 0;
	insn->rm = 0;

	if (b == 0x0F) {
		rc = dec_byte(d, &b);
		if (rc)
			return rc;
		insn->two_byte = true;
		insn->opcode = b;
		insn->map = 1;
		attr = map_0f[b];
		if (b == 0x38 || b == 0x3A) {
			insn->map = b == 0x38 ? 2 : 3;
			rc = dec_byte(d, &insn->opcode);
			if (rc)
				return rc;
			attr = A_M | (b == 0x3A ? A_I8 : 0);
		} else if (b == 0x78 && (p66 || insn->repne)) {
			imm = 2; /* EXTRQ/INSERTQ ib, ib (AMD SSE4a) */
		}
	} else {
		attr = map_one[b];
		if (op_is_byte(b))
			insn->op_size = 1;
		if ((attr & A_N64) && mode == 8)
			return EMU_UNHANDLED;
	}
	if (attr & A_BAD)
		return EMU_UNHANDLED;

	if (!insn->two_byte && (attr & A_X)) {
		switch (b) {
		case 0xC4:
		case 0xC5:
		case 0x62:
			/* VEX/EVEX; outside 64-bit mode only when the next
			 * byte would be a register ModRM (else LES/LDS/BOUND). */
			rc = dec_peek(d, &next);
			if (rc)
				return rc;
			if (mode == 8 || (next & 0xC0) == 0xC0) {
				rc = dec_vex(d, b, &imm);
				if (rc)
					return rc;
				attr = insn->has_modrm ? A_M : 0;
			} else {
				attr = A_M;
			}
			break;
		case 0x8F:
			/* XOP when ModRM.reg would be non-zero (POP is /0). */
			rc = dec_peek(d, &next);
			if (rc)
				return rc;
			if (next & 0x18) {
				rc = dec_vex(d, b, &imm);
				if (rc)
					return rc;
			}
			attr = A_M;
			break;
		case 0xA0:
		case 0xA1:
		case 0xA2:
		case 0xA3:
			imm = insn->addr_size; /* moffs */
			break;
		case 0x9A:
		case 0xEA:
			imm = insn->op_size == 2 ? 4 : 6; /* ptr16:16/32 */
			break;
		default: /* F6/F7: group 3 handled after the ModRM */
			break;
		}
	}

	if (attr & A_M) {
		bool reg_only = insn->map == 1 && (attr & A_X) &&
				insn->opcode >= 0x20 && insn->opcode <= 0x23;
		rc = dec_modrm(d, reg_only, mi);
		if (rc)
			return rc;
		rc = dec_signed(d, mi->disp_size, disp);
		if (rc)
			return rc;
	}

	if (attr & A_I8)
		imm += 1;
	if (attr & A_I16)
		imm += 2;
	if (attr & A_IZ)
		imm += insn->op_size == 2 ? 2 : 4;
	if (attr & A_IV)
		imm += insn->op_size;
	/* SDM vol.2 TEST: F6 /0 ib and F7 /0 iz (and /1, an alias); the rest
	 * of group 3 (NOT NEG MUL IMUL DIV IDIV) has no immediate. */
	if (!insn->two_byte && (b == 0xF6 || b == 0xF7) &&
	    ((insn->modrm >> 3) & 7) <= 1)
		imm += b == 0xF6 ? 1 : (insn->op_size == 2 ? 2 : 4);

	/* The immediate: first 8 bytes kept (sign-extended); moffs too. */
	if (imm) {
		unsigned first = imm > 8 ? 8 : imm;
		if (!insn->two_byte && b == 0xC8)
			first = 2; /* ENTER: imm16 then imm8 */
		if (!insn->two_byte && (b == 0x9A || b == 0xEA))
			first = imm - 2; /* far pointer: offset, then selector */
		rc = dec_signed(d, first, &insn->imm);
		if (rc)
			return rc;
		for (unsigned i = first; i < imm; i++) {
			rc = dec_byte(d, &next);
			if (rc)
				return rc;
		}
	}
	insn->len = (uint8_t)d->pos;
	return EMU_OK;
}

static void dec_init(struct decoder *d, const struct emu_ops *ops,
		     const struct vcpu_regs *regs,
		     const struct vcpu_sregs *sregs, struct emu_insn *insn)
{
	memset(insn, 0, sizeof(*insn));
	memset(d, 0, sizeof(*d));
	insn->seg = -1;
	insn->mem_seg = -1;
	insn->mode = (uint8_t)emu_code_size(regs, sregs);
	d->ops = ops;
	d->insn = insn;
	d->rip = regs->rip;
	d->cs_base = insn->mode == 8 ? 0 : sregs->cs.base;
	d->ip_mask = insn->mode == 8 ? ~0ULL :
		     insn->mode == 4 ? 0xFFFFFFFFULL : 0xFFFFULL;
}

unsigned emu_insn_len(const struct emu_ops *ops, const struct vcpu_regs *regs,
		      const struct vcpu_sregs *sregs)
{
	struct decoder d;
	struct emu_insn insn;
	struct modrm_info mi = {0};
	int64_t disp = 0;

	dec_init(&d, ops, regs, sregs, &insn);
	if (dec_insn(&d, &mi, &disp))
		return 0;
	return insn.len;
}

/* 16-bit forms (SDM table 2-1): base and index of each r/m, -1 for none. */
static const int8_t ea16_base[8] = {3, 3, 5, 5, -1, -1, 5, 3};
static const int8_t ea16_index[8] = {6, 7, 6, 7, 6, 7, -1, -1};

/* The memory operand's offset and default segment (SS when based on
 * BP/SP, SDM 3.7.4), then the linear address. */
static void dec_ea(struct emu_insn *insn, const struct modrm_info *mi,
		   int64_t disp, const struct vcpu_regs *regs,
		   const struct vcpu_sregs *sregs)
{
	uint64_t amask = size_mask(insn->addr_size);
	unsigned mod = insn->modrm >> 6, rm = insn->modrm & 7;
	uint64_t off = (uint64_t)disp;
	int seg = EMU_SEG_DS;

	if (insn->addr_size == 2) {
		int base = ea16_base[rm], index = ea16_index[rm];
		if (mod == 0 && rm == 6)
			base = -1;
		if (base >= 0)
			off += gpr_get(regs, (unsigned)base);
		if (index >= 0)
			off += gpr_get(regs, (unsigned)index);
		if (base == 5)
			seg = EMU_SEG_SS;
	} else if (mi->rip_rel) {
		off += regs->rip + insn->len;
	} else if (mi->sib) {
		unsigned base = (mi->sib_byte & 7) | ((insn->rex & 1) << 3);
		unsigned index = ((mi->sib_byte >> 3) & 7) |
				 ((insn->rex & 2) << 2);
		if (index != 4)
			off += gpr_get(regs, index) << (mi->sib_byte >> 6);
		if (!(mod == 0 && (mi->sib_byte & 7) == 5)) {
			off += gpr_get(regs, base);
			if (base == 4 || base == 5)
				seg = EMU_SEG_SS;
		}
	} else if (!(mod == 0 && rm == 5)) {
		off += gpr_get(regs, insn->rm);
		if (insn->rm == 5)
			seg = EMU_SEG_SS;
	}
	if (insn->seg >= 0)
		seg = insn->seg;
	insn->mem_seg = seg;
	insn->ea_off = off & amask;
	insn->ea = emu_linear(sregs, insn->mode, seg, insn->ea_off);
}

int emu_decode(const struct emu_ops *ops, const struct vcpu_regs *regs,
	       const struct vcpu_sregs *sregs, struct emu_insn *insn,
	       struct emu_fault *fault)
{
	struct decoder d;
	struct modrm_info mi = {0};
	int64_t disp = 0;
	uint64_t amask;

	dec_init(&d, ops, regs, sregs, insn);
	int rc = dec_insn(&d, &mi, &disp);
	if (rc)
		return rc;
	amask = size_mask(insn->addr_size);
	if (mi.mem && !insn->vex) {
		insn->mem_operand = true;
		dec_ea(insn, &mi, disp, regs, sregs);
		return EMU_OK;
	}
	if (insn->two_byte)
		return EMU_OK;
	switch (insn->opcode) {
	case 0xA0: case 0xA1: case 0xA2: case 0xA3:
		/* moffs: the offset is the immediate, DS unless overridden */
		insn->mem_operand = true;
		insn->mem_seg = insn->seg >= 0 ? insn->seg : EMU_SEG_DS;
		insn->ea_off = (uint64_t)insn->imm & amask;
		insn->ea = emu_linear(sregs, insn->mode, insn->mem_seg,
				      insn->ea_off);
		break;
	case 0x6C: case 0x6D: case 0x6E: case 0x6F:
	case 0xA4: case 0xA5: case 0xA6: case 0xA7:
	case 0xAA: case 0xAB: case 0xAC: case 0xAD: case 0xAE: case 0xAF:
		/* String instructions: destination ES:rDI (no override),
		 * source DS:rSI (overridable). SDM 3.7.5.2 / vol.2 MOVS. */
		insn->mem_operand = true;
		insn->mem_seg = EMU_SEG_ES;
		insn->ea_off = regs->rdi & amask;
		insn->ea = emu_linear(sregs, insn->mode, EMU_SEG_ES,
				      insn->ea_off);
		insn->ea_src = emu_linear(sregs, insn->mode,
					  insn->seg >= 0 ? insn->seg :
							   EMU_SEG_DS,
					  regs->rsi & amask);
		break;
	default:
		break;
	}
	return EMU_OK;
}
