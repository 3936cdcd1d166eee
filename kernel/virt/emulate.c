/*
 * emulate.c - executes the MMIO subset of x86 (emulate.h) that decode.c
 * decodes: operands in registers or behind ops->read/write, RFLAGS of the
 * ALU ops computed as SDM vol.1 3.4.3.1 and vol.2 define them, REP strings
 * in bounded batches, segment limits and canonical checks of each access.
 */
#include <stddef.h>

#include "kernel/arch/x86.h"
#include "kernel/virt/emulate.h"

#ifndef CR4_LA57
#define CR4_LA57 (1ULL << 12)
#endif
#ifndef RFLAGS_VM
#define RFLAGS_VM (1ULL << 17)
#endif

#define FL_CF (1ULL << 0)
#define FL_PF (1ULL << 2)
#define FL_AF (1ULL << 4)
#define FL_ZF (1ULL << 6)
#define FL_SF (1ULL << 7)
#define FL_DF (1ULL << 10)
#define FL_OF (1ULL << 11)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#define VEC_UD 6
#define VEC_SS 12
#define VEC_GP 13

/* The ALU operation numbers are the opcode's bits 5:3 (00-3D) and the ModRM
 * reg of group 1 (80-83): SDM vol.2 table A-6. */
enum alu_op {
	ALU_ADD = 0,
	ALU_OR = 1,
	ALU_ADC = 2,
	ALU_SBB = 3,
	ALU_AND = 4,
	ALU_SUB = 5,
	ALU_XOR = 6,
	ALU_CMP = 7,
	ALU_TEST = 8,
};

struct emu_ctx {
	const struct emu_ops *ops;
	struct vcpu_regs *regs;
	const struct vcpu_sregs *sregs;
	struct emu_fault *fault;
	struct emu_insn insn;
};

/* An operand: a register (number, AH..BH for high), seg:offset, or the
 * instruction's immediate. */
struct emu_opnd {
	bool mem;
	bool imm;
	bool high8;
	unsigned reg;
	int seg;
	uint64_t off;
	unsigned size;
};

static uint64_t mask_of(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static uint64_t sign_extend(uint64_t v, unsigned size)
{
	uint64_t sign = 1ULL << (size * 8 - 1);

	v &= mask_of(size);
	return (v ^ sign) - sign;
}

static int emu_raise(struct emu_ctx *c, uint8_t vector, bool has_error)
{
	c->fault->vector = vector;
	c->fault->has_error = has_error;
	c->fault->error = 0;
	c->fault->cr2 = 0;
	return EMU_FAULT;
}

/* ------------------------------------------------------------ registers -- */

/* Without REX, byte registers 4-7 are AH CH DH BH (SDM vol.1 3.4.1.1). */
static struct emu_opnd opnd_reg(const struct emu_insn *insn, unsigned reg,
				unsigned size)
{
	struct emu_opnd o = {.reg = reg, .size = size};

	if (size == 1 && !insn->rex && reg >= 4 && reg < 8) {
		o.reg = reg - 4;
		o.high8 = true;
	}
	return o;
}

static uint64_t reg_read(struct emu_ctx *c, const struct emu_opnd *o)
{
	uint64_t v = *emu_gpr(c->regs, o->reg);

	if (o->high8)
		return (v >> 8) & 0xFF;
	return v & mask_of(o->size);
}

/* 32-bit results zero-extend to 64 bits, 8/16-bit ones keep the rest. */
static void reg_write(struct emu_ctx *c, const struct emu_opnd *o, uint64_t v)
{
	uint64_t *r = emu_gpr(c->regs, o->reg);

	if (o->high8)
		*r = (*r & ~0xFF00ULL) | ((v & 0xFF) << 8);
	else if (o->size == 4)
		*r = (uint32_t)v;
	else if (o->size == 8)
		*r = v;
	else
		*r = (*r & ~mask_of(o->size)) | (v & mask_of(o->size));
}

/* A register used as an address (rSI, rDI, rCX) updated at address size. */
static void reg_write_addr(struct emu_ctx *c, unsigned reg, uint64_t v)
{
	struct emu_opnd o = {.reg = reg, .size = c->insn.addr_size};

	reg_write(c, &o, v);
}

/* --------------------------------------------------------------- memory -- */

/* SDM vol.3 5.3: offsets beyond the limit (or inside it for expand-down)
 * fault with #GP(0), #SS(0) for SS; a null segment faults in protected
 * mode. Real mode has only the limit (hidden, 0xFFFF unless "unreal"). */
static bool seg_limit_ok(const struct emu_ctx *c, int seg, uint64_t off,
			 unsigned size)
{
	const struct vcpu_segment *s = emu_seg(c->sregs, seg);
	bool prot = (c->sregs->cr0 & CR0_PE) && !(c->regs->rflags & RFLAGS_VM);
	uint64_t last = off + size - 1;

	if (!prot)
		return last <= s->limit;
	if (!(s->attr & SEG_ATTR_P))
		return false;
	/* Data segment (S=1, type bit 3 clear) with expand-down (type bit 2). */
	if ((s->attr & SEG_ATTR_S) && (s->attr & 0xC) == 0x4) {
		uint64_t top = (s->attr & SEG_ATTR_DB) ? 0xFFFFFFFFULL : 0xFFFFULL;
		return off > s->limit && last <= top;
	}
	return last <= s->limit;
}

/* SDM vol.3 4.5 / vol.1 3.3.7.1: 48 (57 with LA57) significant bits. */
static bool canonical(const struct emu_ctx *c, uint64_t la)
{
	unsigned bits = (c->sregs->cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(la << (64 - bits)) >> (64 - bits);

	return (uint64_t)s == la;
}

static int mem_access(struct emu_ctx *c, int seg, uint64_t off, unsigned size,
		      bool write, uint64_t *val)
{
	const struct emu_insn *insn = &c->insn;
	uint64_t la;
	int rc;

	off &= mask_of(insn->addr_size);
	la = emu_linear(c->sregs, insn->mode, seg, off);
	if (insn->mode == 8) {
		if (!canonical(c, la) || !canonical(c, la + size - 1))
			return emu_raise(c, seg == EMU_SEG_SS ? VEC_SS : VEC_GP,
					 true);
	} else if (!seg_limit_ok(c, seg, off, size)) {
		/* Real-mode exceptions push no error code. */
		return emu_raise(c, seg == EMU_SEG_SS ? VEC_SS : VEC_GP,
				 (c->sregs->cr0 & CR0_PE) != 0);
	}
	if (write)
		rc = c->ops->write(c->ops->ctx, la, size, *val & mask_of(size));
	else
		rc = c->ops->read(c->ops->ctx, la, size, val);
	if (rc == EMU_FAULT)
		return EMU_FAULT;
	if (rc)
		return EMU_ERROR;
	if (!write)
		*val &= mask_of(size);
	return EMU_OK;
}

static int opnd_read(struct emu_ctx *c, const struct emu_opnd *o, uint64_t *v)
{
	if (o->mem)
		return mem_access(c, o->seg, o->off, o->size, false, v);
	if (o->imm)
		*v = (uint64_t)c->insn.imm & mask_of(o->size);
	else
		*v = reg_read(c, o);
	return EMU_OK;
}

static int opnd_write(struct emu_ctx *c, const struct emu_opnd *o, uint64_t v)
{
	if (o->mem)
		return mem_access(c, o->seg, o->off, o->size, true, &v);
	reg_write(c, o, v);
	return EMU_OK;
}

/* The ModRM r/m operand (register or memory) of a given size. */
static struct emu_opnd opnd_rm(const struct emu_insn *insn, unsigned size)
{
	struct emu_opnd o;

	if (!insn->mem_operand)
		return opnd_reg(insn, insn->rm, size);
	o = (struct emu_opnd){.mem = true, .seg = insn->mem_seg,
			      .off = insn->ea_off, .size = size};
	return o;
}

/* ------------------------------------------------------------------ ALU -- */

static bool parity_even(uint64_t v)
{
	uint8_t p = (uint8_t)v;

	p ^= p >> 4;
	p ^= p >> 2;
	p ^= p >> 1;
	return !(p & 1);
}

/* One ALU operation at a size; the new CF PF AF ZF SF OF in *flags (the
 * other bits of *flags untouched). SDM vol.1 appendix A, vol.2 ADD/ADC/SUB/
 * SBB/AND/OR/XOR/CMP/TEST: AF is undefined for the logical ops and cleared
 * here. */
static uint64_t alu_exec(enum alu_op op, unsigned size, uint64_t a, uint64_t b,
			 uint64_t *flags)
{
	uint64_t m = mask_of(size), sign = 1ULL << (size * 8 - 1);
	uint64_t cin = (*flags & FL_CF) ? 1 : 0, res, f = 0;

	a &= m;
	b &= m;
	switch (op) {
	case ALU_ADD:
	case ALU_ADC:
		if (op == ALU_ADD)
			cin = 0;
		res = (a + b + cin) & m;
		if (cin ? res <= a : res < a)
			f |= FL_CF;
		if ((a ^ res) & (b ^ res) & sign)
			f |= FL_OF;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case ALU_SUB:
	case ALU_SBB:
	case ALU_CMP:
		if (op != ALU_SBB)
			cin = 0;
		res = (a - b - cin) & m;
		if (cin ? a <= b : a < b)
			f |= FL_CF;
		if ((a ^ b) & (a ^ res) & sign)
			f |= FL_OF;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case ALU_OR:
		res = a | b;
		break;
	case ALU_XOR:
		res = a ^ b;
		break;
	default: /* AND, TEST */
		res = a & b;
		break;
	}
	if (!res)
		f |= FL_ZF;
	if (res & sign)
		f |= FL_SF;
	if (parity_even(res))
		f |= FL_PF;
	*flags = (*flags & ~FL_ARITH) | f;
	return res;
}

/* dst = dst op src; CMP and TEST only set flags. Memory is read once and
 * written once; nothing changes when either access fails. */
static int emu_alu(struct emu_ctx *c, enum alu_op op,
		   const struct emu_opnd *dst, const struct emu_opnd *src)
{
	uint64_t a, b, res, flags = c->regs->rflags;
	int rc;

	rc = opnd_read(c, dst, &a);
	if (!rc)
		rc = opnd_read(c, src, &b);
	if (rc)
		return rc;
	res = alu_exec(op, dst->size, a, b, &flags);
	if (op != ALU_CMP && op != ALU_TEST) {
		rc = opnd_write(c, dst, res);
		if (rc)
			return rc;
	}
	c->regs->rflags = flags;
	return EMU_OK;
}

static int emu_move(struct emu_ctx *c, const struct emu_opnd *dst,
		    const struct emu_opnd *src)
{
	uint64_t v;
	int rc = opnd_read(c, src, &v);

	if (rc)
		return rc;
	return opnd_write(c, dst, v);
}

/* -------------------------------------------------------------- strings -- */

/* MOVS/STOS (SDM vol.2 MOVS, STOS, REP): element by element, rSI/rDI step
 * by the size (backwards with DF), rCX counts at address size. */
static int emu_string(struct emu_ctx *c)
{
	const struct emu_insn *insn = &c->insn;
	struct vcpu_regs *r = c->regs;
	uint64_t amask = mask_of(insn->addr_size);
	unsigned size = insn->op_size;
	uint64_t step = (r->rflags & FL_DF) ? -(uint64_t)size : size;
	bool movs = insn->opcode == 0xA4 || insn->opcode == 0xA5;
	int src_seg = insn->seg >= 0 ? insn->seg : EMU_SEG_DS;
	uint64_t count = 1, v;
	unsigned done = 0;
	int rc;

	if (insn->rep) {
		count = r->rcx & amask;
		if (!count)
			return EMU_OK;
	}
	for (;;) {
		if (movs) {
			rc = mem_access(c, src_seg, r->rsi, size, false, &v);
			if (rc)
				return rc;
		} else {
			v = r->rax & mask_of(size);
		}
		rc = mem_access(c, EMU_SEG_ES, r->rdi, size, true, &v);
		if (rc)
			return rc;
		reg_write_addr(c, 7, r->rdi + step);
		if (movs)
			reg_write_addr(c, 6, r->rsi + step);
		if (!insn->rep)
			return EMU_OK;
		reg_write_addr(c, 1, --count);
		if (!count)
			return EMU_OK;
		if (++done == EMU_REP_MAX)
			return EMU_RETRY;
	}
}

/* ------------------------------------------------------------- dispatch -- */

/* Whether the instruction is in the subset (emulate.h). */
static bool emu_known(const struct emu_insn *insn)
{
	uint8_t op = insn->opcode;
	unsigned ext = (insn->modrm >> 3) & 7;

	if (insn->vex)
		return false;
	if (insn->two_byte)
		return insn->map == 1 && (op == 0xB6 || op == 0xB7 ||
					  op == 0xBE || op == 0xBF);
	if (op < 0x40)
		return (op & 7) < 6;
	switch (op) {
	case 0x63:
		return insn->mode == 8;
	case 0x80 ... 0x8B:
	case 0xA0 ... 0xA5:
	case 0xA8 ... 0xAB:
		return true;
	case 0xC6:
	case 0xC7:
		return ext == 0;
	case 0xF6:
	case 0xF7:
		return ext <= 1;
	default:
		return false;
	}
}

/* SDM vol.2 LOCK: only the read-modify-write forms with a memory
 * destination take it; anything else is #UD. */
static bool lock_allowed(const struct emu_insn *insn)
{
	uint8_t op = insn->opcode;

	if (insn->two_byte || !insn->mem_operand)
		return false;
	if (op < 0x40)
		return (op & 7) < 2 && (op >> 3) != ALU_CMP;
	if (op >= 0x80 && op <= 0x83)
		return ((insn->modrm >> 3) & 7) != ALU_CMP;
	return op == 0x86 || op == 0x87;
}

static int emu_one_byte(struct emu_ctx *c)
{
	const struct emu_insn *insn = &c->insn;
	unsigned sz = insn->op_size, op = insn->opcode;
	unsigned ext = (insn->modrm >> 3) & 7;
	struct emu_opnd rm = opnd_rm(insn, sz);
	struct emu_opnd reg = opnd_reg(insn, insn->reg, sz);
	struct emu_opnd acc = opnd_reg(insn, 0, sz);
	struct emu_opnd imm = {.imm = true, .size = sz};
	struct emu_opnd moffs = {.mem = true, .seg = insn->mem_seg,
				 .off = insn->ea_off, .size = sz};
	uint64_t a, b;
	int rc;

	if (op < 0x40 && (op & 7) < 6) {
		enum alu_op alu = (enum alu_op)(op >> 3);
		switch (op & 7) {
		case 0:
		case 1:
			return emu_alu(c, alu, &rm, &reg);
		case 2:
		case 3:
			return emu_alu(c, alu, &reg, &rm);
		default:
			return emu_alu(c, alu, &acc, &imm);
		}
	}
	switch (op) {
	case 0x63: /* MOVSXD r, r/m32 (r/m16 with 66): 64-bit mode only */
		if (insn->mode != 8)
			return EMU_UNHANDLED; /* ARPL */
		rm = opnd_rm(insn, sz == 2 ? 2 : 4);
		rc = opnd_read(c, &rm, &a);
		if (rc)
			return rc;
		return opnd_write(c, &reg, sign_extend(a, rm.size));
	case 0x80:
	case 0x81:
	case 0x82:
	case 0x83: /* group 1; 83 sign-extends its imm8 (decode did) */
		return emu_alu(c, (enum alu_op)ext, &rm, &imm);
	case 0x84:
	case 0x85:
		return emu_alu(c, ALU_TEST, &rm, &reg);
	case 0x86:
	case 0x87:
		/* XCHG: read both, write memory first so that a failed write
		 * leaves the register as it was. */
		rc = opnd_read(c, &rm, &a);
		if (!rc)
			rc = opnd_read(c, &reg, &b);
		if (!rc)
			rc = opnd_write(c, &rm, b);
		if (rc)
			return rc;
		return opnd_write(c, &reg, a);
	case 0x88:
	case 0x89:
		return emu_move(c, &rm, &reg);
	case 0x8A:
	case 0x8B:
		return emu_move(c, &reg, &rm);
	case 0xA0:
	case 0xA1:
		return emu_move(c, &acc, &moffs);
	case 0xA2:
	case 0xA3:
		return emu_move(c, &moffs, &acc);
	case 0xA4:
	case 0xA5:
	case 0xAA:
	case 0xAB:
		return emu_string(c);
	case 0xA8:
	case 0xA9:
		return emu_alu(c, ALU_TEST, &acc, &imm);
	case 0xC6:
	case 0xC7:
		if (ext != 0)
			return EMU_UNHANDLED; /* XABORT, XBEGIN */
		return emu_move(c, &rm, &imm);
	case 0xF6:
	case 0xF7:
		if (ext > 1)
			return EMU_UNHANDLED; /* NOT NEG MUL IMUL DIV IDIV */
		return emu_alu(c, ALU_TEST, &rm, &imm);
	default:
		return EMU_UNHANDLED;
	}
}

/* MOVZX/MOVSX (0F B6/B7/BE/BF): a byte or word source, extended to the
 * operand size. */
static int emu_two_byte(struct emu_ctx *c)
{
	const struct emu_insn *insn = &c->insn;
	uint8_t op = insn->opcode;
	struct emu_opnd src, dst;
	uint64_t v;
	int rc;

	if (insn->map != 1 || (op != 0xB6 && op != 0xB7 && op != 0xBE &&
			       op != 0xBF))
		return EMU_UNHANDLED;
	src = opnd_rm(insn, (op & 1) ? 2 : 1);
	dst = opnd_reg(insn, insn->reg, insn->op_size);
	rc = opnd_read(c, &src, &v);
	if (rc)
		return rc;
	if (op & 8)
		v = sign_extend(v, src.size);
	return opnd_write(c, &dst, v);
}

/* RIP past the instruction; IP/EIP wrap outside 64-bit mode. */
static void emu_advance(struct emu_ctx *c)
{
	uint64_t rip = c->regs->rip + c->insn.len;

	if (c->insn.mode == 2)
		rip &= 0xFFFF;
	else if (c->insn.mode == 4)
		rip &= 0xFFFFFFFF;
	c->regs->rip = rip;
}

int emu_execute(const struct emu_ops *ops, struct vcpu_regs *regs,
		const struct vcpu_sregs *sregs, struct emu_fault *fault)
{
	struct emu_ctx c = {.ops = ops, .regs = regs, .sregs = sregs,
			    .fault = fault};
	int rc = emu_decode(ops, regs, sregs, &c.insn, fault);

	if (rc)
		return rc;
	if (!emu_known(&c.insn))
		return EMU_UNHANDLED;
	if (c.insn.lock && !lock_allowed(&c.insn))
		return emu_raise(&c, VEC_UD, false);
	rc = c.insn.two_byte ? emu_two_byte(&c) : emu_one_byte(&c);
	if (rc == EMU_OK)
		emu_advance(&c);
	return rc;
}
