/*
 * test_emulate.c - the MMIO instruction emulator (kernel/virt/decode.c,
 * emulate.c) against a fake guest: a table of encodings with their effects
 * in every mode, RFLAGS checked against the host CPU running the same
 * instruction, REP strings, segments and faults, and emu_insn_len on a
 * corpus of instructions whose lengths come from GNU as and objdump.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/err.h"
#include "kernel/virt/emulate.h"
#include "tests/unit/shim/host_shim.h"

#define PAGE 4096u
#define CODE_LA 0x3000ULL /* the code page */
#define DATA_LA 0x7000ULL /* two data pages */
#define HIGH_LA 0x100007000ULL /* a page above 4 GiB (FS/GS bases) */

#define FL_CF 0x001ULL
#define FL_PF 0x004ULL
#define FL_AF 0x010ULL
#define FL_ZF 0x040ULL
#define FL_SF 0x080ULL
#define FL_DF 0x400ULL
#define FL_OF 0x800ULL
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* ------------------------------------------------------------ fake guest -- */

#define MAX_PAGES 16
#define MAX_LOG 64

struct fake_page {
	uint64_t la;
	bool ro;
	uint8_t data[PAGE];
};

struct access {
	char kind; /* 'r' or 'w' */
	uint64_t la;
	unsigned size;
	uint64_t val;
};

static struct fake {
	struct fake_page pages[MAX_PAGES];
	unsigned npages;
	struct access log[MAX_LOG];
	unsigned nlog;
	struct emu_fault fault; /* what the callbacks record */
	uint64_t eio_la;	/* data accesses to this page fail (device) */
	unsigned fetches;
	bool crossed;		/* a fetch asked across a page boundary */
} fk;

static struct fake_page *page_find(uint64_t la)
{
	for (unsigned i = 0; i < fk.npages; i++)
		if (fk.pages[i].la == (la & ~(uint64_t)(PAGE - 1)))
			return &fk.pages[i];
	return NULL;
}

static uint8_t *page_of(uint64_t la)
{
	struct fake_page *p = page_find(la);

	return p ? p->data : NULL;
}

static uint8_t *map_page(uint64_t la)
{
	struct fake_page *p = &fk.pages[fk.npages++];

	assert_true(fk.npages <= MAX_PAGES);
	p->la = la & ~(uint64_t)(PAGE - 1);
	p->ro = false;
	memset(p->data, 0, PAGE);
	return p->data;
}

static void fake_fault(uint64_t la, uint32_t err)
{
	fk.fault = (struct emu_fault){.vector = 14, .has_error = true,
				      .error = err, .cr2 = la};
}

static int fake_fetch(void *ctx, uint64_t gva, uint8_t *buf, unsigned len)
{
	assert_ptr_equal(ctx, &fk);
	fk.fetches++;
	if ((gva & (PAGE - 1)) + len > PAGE)
		fk.crossed = true;
	for (unsigned i = 0; i < len; i++) {
		uint8_t *p = page_of(gva + i);
		if (!p) {
			fake_fault(gva + i, 0x10);
			return EMU_FAULT;
		}
		buf[i] = p[(gva + i) & (PAGE - 1)];
	}
	return 0;
}

static int fake_data(uint64_t gva, unsigned size, bool write, uint64_t *val)
{
	uint64_t v = 0;

	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	for (unsigned i = 0; i < size; i++) {
		uint64_t la = gva + i;
		struct fake_page *p = page_find(la);
		if (fk.eio_la && (la & ~(uint64_t)(PAGE - 1)) == fk.eio_la)
			return KEEL_EIO;
		if (!p || (write && p->ro)) {
			fake_fault(la, (write ? 2 : 0) | (p ? 1 : 0));
			return EMU_FAULT;
		}
	}
	for (unsigned i = 0; i < size; i++) {
		uint8_t *p = page_of(gva + i) + ((gva + i) & (PAGE - 1));
		if (write)
			*p = (uint8_t)(*val >> (8 * i));
		else
			v |= (uint64_t)*p << (8 * i);
	}
	if (!write)
		*val = v;
	if (fk.nlog < MAX_LOG)
		fk.log[fk.nlog++] = (struct access){write ? 'w' : 'r', gva,
						    size, write ? *val : v};
	return 0;
}

static int fake_read(void *ctx, uint64_t gva, unsigned size, uint64_t *val)
{
	assert_ptr_equal(ctx, &fk);
	*val = 0xDEADBEEFDEADBEEFULL; /* the emulator must not use it on error */
	return fake_data(gva, size, false, val);
}

static int fake_write(void *ctx, uint64_t gva, unsigned size, uint64_t val)
{
	assert_ptr_equal(ctx, &fk);
	return fake_data(gva, size, true, &val);
}

static const struct emu_ops fake_ops = {
	.fetch = fake_fetch,
	.read = fake_read,
	.write = fake_write,
	.ctx = &fk,
};

static uint64_t peek64(uint64_t la)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)page_of(la + i)[(la + i) & (PAGE - 1)] << (8 * i);
	return v;
}

static void poke(uint64_t la, const void *src, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		page_of(la + i)[(la + i) & (PAGE - 1)] = ((const uint8_t *)src)[i];
}

static void poke64(uint64_t la, uint64_t v)
{
	poke(la, &v, 8);
}

/* ----------------------------------------------------------------- modes -- */

enum mode { M_REAL, M_PROT16, M_PROT32, M_COMPAT, M_LONG };

/* Register n (encoding order) starts as a value whose bytes all differ, so
 * a write of the wrong width or to the wrong register shows. */
static uint64_t reg_init(unsigned n)
{
	return 0x8877665544332211ULL ^ (n * 0x0101010101010101ULL);
}

static void seg_set(struct vcpu_segment *s, uint16_t attr, uint32_t limit)
{
	s->sel = 0x10;
	s->base = 0;
	s->attr = attr;
	s->limit = limit;
}

static void mode_setup(enum mode m, struct vcpu_regs *r, struct vcpu_sregs *s)
{
	uint16_t data = 0x93, code = 0x9B;
	uint32_t limit = 0xFFFF;

	memset(r, 0, sizeof(*r));
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < 16; i++)
		*emu_gpr(r, i) = reg_init(i);
	r->rflags = 0x2;
	r->rip = CODE_LA;
	switch (m) {
	case M_REAL:
		s->cr0 = 0x10;
		break;
	case M_PROT16:
		s->cr0 = 0x11;
		break;
	case M_PROT32:
		s->cr0 = 0x11;
		data = 0xC93;
		code = 0xC9B;
		limit = 0xFFFFFFFF;
		break;
	case M_COMPAT:
	case M_LONG:
		s->cr0 = 0x80010011;
		s->cr4 = 0x20;
		s->efer = 0x500; /* LME | LMA */
		data = 0xC93;
		code = m == M_LONG ? 0xA9B : 0xC9B;
		limit = 0xFFFFFFFF;
		break;
	}
	seg_set(&s->cs, code, limit);
	seg_set(&s->ds, data, limit);
	seg_set(&s->es, data, limit);
	seg_set(&s->fs, data, limit);
	seg_set(&s->gs, data, limit);
	seg_set(&s->ss, data, limit);
	if (m == M_REAL)
		s->cs.sel = s->ds.sel = s->es.sel = s->ss.sel = 0;
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	map_page(CODE_LA);
	map_page(DATA_LA);
	map_page(DATA_LA + PAGE);
	return 0;
}

static void put_code(uint64_t la, const char *code, unsigned len)
{
	poke(la, code, len);
}

/* ------------------------------------------------------ encoding table -- */

enum { RAX = 1, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12,
       R13, R14, R15, FL };

#define INIT(r) (0x8877665544332211ULL ^ ((uint64_t)(r) - 1) * 0x0101010101010101ULL)
#define LO8(x, v) (((x) & ~0xFFULL) | (v))
#define HI8(x, v) (((x) & ~0xFF00ULL) | ((uint64_t)(v) << 8))
#define LO16(x, v) (((x) & ~0xFFFFULL) | (v))
#define M0 0x1122334455667788ULL /* the data qword unless a case says */
#define C(s) s, sizeof(s) - 1

struct rv {
	uint8_t reg; /* RAX..R15, FL; 0 ends the list */
	uint64_t val;
};

struct ecase {
	const char *name;
	enum mode mode;
	const char *code;
	unsigned len;	    /* the code's bytes = the instruction's length */
	struct rv in[4];    /* registers set before (others: INIT, FL 0x2) */
	uint64_t mem;	    /* the qword at DATA_LA before; 0: M0 */
	int status;
	struct rv out[4];   /* registers that change (all others must not) */
	uint64_t mem_out;   /* the qword at DATA_LA after; 0: unchanged */
	const char *acc;    /* the data accesses, in order */
	uint8_t vector;	    /* EMU_FAULT raised by the emulator */
};

/* Cases leave trailing fields out (no vector unless a fault is raised). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct ecase cases[] = {
	/* ---- MOV stores, every width, high bytes, REX ---- */
	{"mov [rbx],eax", M_LONG, C("\x89\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{0}}, 0x1122334444332211, "w4@7000"},
	{"mov [rbx],al", M_LONG, C("\x88\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{0}}, 0x1122334455667711, "w1@7000"},
	{"mov [rbx],ah", M_LONG, C("\x88\x23"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{0}}, 0x1122334455667722, "w1@7000"},
	{"rex mov [rbx],spl", M_LONG, C("\x40\x88\x23"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{0}}, 0x1122334455667715, "w1@7000"},
	{"mov [rbx],ax", M_LONG, C("\x66\x89\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{0}}, 0x1122334455662211, "w2@7000"},
	{"mov [rbx],rax", M_LONG, C("\x48\x89\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{0}}, INIT(RAX), "w8@7000"},
	{"mov [r9],r8", M_LONG, C("\x4d\x89\x01"), {{R9, DATA_LA}}, 0, EMU_OK,
	 {{0}}, INIT(R8), "w8@7000"},
	{"mov [r12],r15d", M_LONG, C("\x45\x89\x3c\x24"), {{R12, DATA_LA}}, 0,
	 EMU_OK, {{0}}, 0x112233444b3c2d1e, "w4@7000"},
	/* ---- MOV loads: 32-bit writes zero-extend, 8/16 keep the rest ---- */
	{"mov eax,[rbx]", M_LONG, C("\x8b\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"mov ax,[rbx]", M_LONG, C("\x66\x8b\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"mov al,[rbx]", M_LONG, C("\x8a\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RAX, LO8(INIT(RAX), 0x88)}}, 0, "r1@7000"},
	{"mov ah,[rbx]", M_LONG, C("\x8a\x23"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RAX, HI8(INIT(RAX), 0x88)}}, 0, "r1@7000"},
	{"mov bh,[rsi]", M_LONG, C("\x8a\x3e"), {{RSI, DATA_LA}}, 0, EMU_OK,
	 {{RBX, HI8(INIT(RBX), 0x88)}}, 0, "r1@7000"},
	{"rex mov dil,[rsi]", M_LONG, C("\x40\x8a\x3e"), {{RSI, DATA_LA}}, 0,
	 EMU_OK, {{RDI, LO8(INIT(RDI), 0x88)}}, 0, "r1@7000"},
	{"mov r10,[rbx]", M_LONG, C("\x4c\x8b\x13"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{R10, M0}}, 0, "r8@7000"},
	{"mov r11d,[rbx]", M_LONG, C("\x44\x8b\x1b"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{R11, 0x55667788}}, 0, "r4@7000"},
	{"mov r14w,[rbx]", M_LONG, C("\x66\x44\x8b\x33"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{R14, LO16(INIT(R14), 0x7788)}}, 0, "r2@7000"},
	/* ---- addressing forms ---- */
	{"mov rax,[rip+disp32]", M_LONG, C("\x48\x8b\x05\xf9\x3f\x00\x00"),
	 {{0}}, 0, EMU_OK, {{RAX, M0}}, 0, "r8@7000"},
	{"mov [rbx+rcx*4+disp8],eax", M_LONG, C("\x89\x44\x8b\x10"),
	 {{RBX, DATA_LA - 0x18}, {RCX, 2}}, 0, EMU_OK, {{0}},
	 0x1122334444332211, "w4@7000"},
	{"mov eax,[rcx*8+disp32] (no base)", M_LONG,
	 C("\x8b\x04\xcd\x80\x6f\x00\x00"), {{RCX, 0x10}}, 0, EMU_OK,
	 {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"mov eax,[r12+r13*2] (REX.X REX.B)", M_LONG, C("\x43\x8b\x04\x6c"),
	 {{R12, DATA_LA - 16}, {R13, 8}}, 0, EMU_OK, {{RAX, 0x55667788}}, 0,
	 "r4@7000"},
	{"mov ecx,[rax+r12] (index r12)", M_LONG, C("\x42\x8b\x0c\x20"),
	 {{RAX, DATA_LA - 5}, {R12, 5}}, 0, EMU_OK, {{RCX, 0x55667788}}, 0,
	 "r4@7000"},
	{"mov eax,[rsp] (SIB, no index)", M_LONG, C("\x8b\x04\x24"),
	 {{RSP, DATA_LA}}, 0, EMU_OK, {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"mov eax,[r13+0] (mod 01)", M_LONG, C("\x41\x8b\x45\x00"),
	 {{R13, DATA_LA}}, 0, EMU_OK, {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"mov eax,[rbp-8]", M_LONG, C("\x8b\x45\xf8"), {{RBP, DATA_LA + 8}}, 0,
	 EMU_OK, {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"mov eax,[rbx+disp32]", M_LONG, C("\x8b\x83\x00\x10\x00\x00"),
	 {{RBX, DATA_LA - 0x1000}}, 0, EMU_OK, {{RAX, 0x55667788}}, 0,
	 "r4@7000"},
	{"mov eax,[ebx] (67: 32-bit address)", M_LONG, C("\x67\x8b\x03"),
	 {{RBX, 0xFFFFFFFF00007000ULL}}, 0, EMU_OK, {{RAX, 0x55667788}}, 0,
	 "r4@7000"},
	/* ---- MOV immediate and moffs ---- */
	{"mov byte [rbx],imm8", M_LONG, C("\xc6\x03\x5a"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{0}}, 0x112233445566775a, "w1@7000"},
	{"mov word [rbx],imm16", M_LONG, C("\x66\xc7\x03\x34\x12"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{0}}, 0x1122334455661234, "w2@7000"},
	{"mov dword [rbx],imm32", M_LONG, C("\xc7\x03\x78\x56\x34\x12"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{0}}, 0x1122334412345678, "w4@7000"},
	{"mov qword [rbx],imm32 sign-extended", M_LONG,
	 C("\x48\xc7\x03\xfe\xff\xff\xff"), {{RBX, DATA_LA}}, 0, EMU_OK, {{0}},
	 0xfffffffffffffffe, "w8@7000"},
	{"mov al,moffs64", M_LONG, C("\xa0\x00\x70\x00\x00\x00\x00\x00\x00"),
	 {{0}}, 0, EMU_OK, {{RAX, LO8(INIT(RAX), 0x88)}}, 0, "r1@7000"},
	{"mov moffs64,rax", M_LONG,
	 C("\x48\xa3\x00\x70\x00\x00\x00\x00\x00\x00"), {{0}}, 0, EMU_OK,
	 {{0}}, INIT(RAX), "w8@7000"},
	{"mov moffs64,ax", M_LONG,
	 C("\x66\xa3\x00\x70\x00\x00\x00\x00\x00\x00"), {{0}}, 0, EMU_OK,
	 {{0}}, 0x1122334455662211, "w2@7000"},
	{"mov eax,moffs32 (67)", M_LONG, C("\x67\xa1\x00\x70\x00\x00"), {{0}},
	 0, EMU_OK, {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"mov moffs8,al", M_LONG, C("\xa2\x00\x70\x00\x00\x00\x00\x00\x00"),
	 {{0}}, 0, EMU_OK, {{0}}, 0x1122334455667711, "w1@7000"},
	/* ---- MOVZX / MOVSX / MOVSXD ---- */
	{"movzx eax,byte [rbx]", M_LONG, C("\x0f\xb6\x03"), {{RBX, DATA_LA}},
	 0, EMU_OK, {{RAX, 0x88}}, 0, "r1@7000"},
	{"movzx ax,byte [rbx]", M_LONG, C("\x66\x0f\xb6\x03"), {{RBX, DATA_LA}},
	 0, EMU_OK, {{RAX, LO16(INIT(RAX), 0x88)}}, 0, "r1@7000"},
	{"movzx rax,word [rbx]", M_LONG, C("\x48\x0f\xb7\x03"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{RAX, 0x7788}}, 0, "r2@7000"},
	{"movsx eax,byte [rbx]", M_LONG, C("\x0f\xbe\x03"), {{RBX, DATA_LA}},
	 0, EMU_OK, {{RAX, 0xffffff88}}, 0, "r1@7000"},
	{"movsx rax,word [rbx]", M_LONG, C("\x48\x0f\xbf\x03"),
	 {{RBX, DATA_LA}}, 0x89ab, EMU_OK, {{RAX, 0xffffffffffff89ab}}, 0,
	 "r2@7000"},
	{"movsx r8w,byte [rbx]", M_LONG, C("\x66\x44\x0f\xbe\x03"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{R8, LO16(INIT(R8), 0xff88)}}, 0,
	 "r1@7000"},
	{"movsx cx,ah", M_LONG, C("\x66\x0f\xbe\xcc"), {{0}}, 0, EMU_OK,
	 {{RCX, LO16(INIT(RCX), 0x0022)}}, 0, ""},
	{"movzx eax,dil (REX)", M_LONG, C("\x40\x0f\xb6\xc7"), {{0}}, 0, EMU_OK,
	 {{RAX, 0x16}}, 0, ""},
	{"movzx eax,bh (no REX)", M_LONG, C("\x0f\xb6\xc7"), {{0}}, 0, EMU_OK,
	 {{RAX, 0x21}}, 0, ""},
	{"movsxd rax,[rbx]", M_LONG, C("\x48\x63\x03"), {{RBX, DATA_LA}},
	 0x89abcdef, EMU_OK, {{RAX, 0xffffffff89abcdef}}, 0, "r4@7000"},
	{"movsxd eax,[rbx] (no REX.W)", M_LONG, C("\x63\x03"),
	 {{RBX, DATA_LA}}, 0x89abcdef, EMU_OK, {{RAX, 0x89abcdef}}, 0,
	 "r4@7000"},
	{"movsxd r9,ecx", M_LONG, C("\x4c\x63\xc9"), {{0}}, 0, EMU_OK,
	 {{R9, 0x45322310}}, 0, ""},
	/* ---- ALU: flags from an independent model (see the reference
	 * test for the host CPU's) ---- */
	{"add [rbx],eax", M_LONG, C("\x01\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{FL, 0x886}}, 0x1122334499999999, "r4@7000 w4@7000"},
	{"add eax,[rbx]", M_LONG, C("\x03\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RAX, 0x99999999}, {FL, 0x886}}, 0, "r4@7000"},
	{"add al,imm8", M_LONG, C("\x04\x12"), {{0}}, 0, EMU_OK,
	 {{RAX, LO8(INIT(RAX), 0x23)}, {FL, 0x2}}, 0, ""},
	{"add rax,imm32 (-1)", M_LONG, C("\x48\x05\xff\xff\xff\xff"), {{0}}, 0,
	 EMU_OK, {{RAX, 0x8877665544332210}, {FL, 0x93}}, 0, ""},
	{"sub [rbx],al", M_LONG, C("\x28\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{FL, 0x806}}, 0x1122334455667777, "r1@7000 w1@7000"},
	{"cmp [rbx],eax (no write)", M_LONG, C("\x39\x03"), {{RBX, DATA_LA}},
	 0, EMU_OK, {{FL, 0x6}}, 0, "r4@7000"},
	{"test [rbx],ecx", M_LONG, C("\x85\x0b"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{FL, 0x6}}, 0, "r4@7000"},
	{"and byte [rbx],imm8", M_LONG, C("\x80\x23\x0f"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{FL, 0x2}}, 0x1122334455667708, "r1@7000 w1@7000"},
	{"or word [rbx],imm16", M_LONG, C("\x66\x81\x0b\x00\x08"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x6}}, 0x1122334455667f88,
	 "r2@7000 w2@7000"},
	{"xor dword [rbx],imm8 sign-extended", M_LONG, C("\x83\x33\xff"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x86}}, 0x11223344aa998877,
	 "r4@7000 w4@7000"},
	{"adc [rbx],ecx with CF", M_LONG, C("\x11\x0b"),
	 {{RBX, DATA_LA}, {FL, 0x3}}, 0, EMU_OK, {{FL, 0x886}},
	 0x112233449a989a99, "r4@7000 w4@7000"},
	{"sbb rcx,[rbx] with CF", M_LONG, C("\x48\x1b\x0b"),
	 {{RBX, DATA_LA}, {FL, 0x3}}, 0, EMU_OK,
	 {{RCX, 0x7854340fefcbab87}, {FL, 0x816}}, 0, "r8@7000"},
	{"cmp qword [rbx],imm8", M_LONG, C("\x48\x83\x3b\x01"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x6}}, 0, "r8@7000"},
	{"add word [rbx],imm8 -1", M_LONG, C("\x66\x83\x03\xff"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x17}}, 0x1122334455667787,
	 "r2@7000 w2@7000"},
	{"test byte [rbx],imm8 (F6 /0)", M_LONG, C("\xf6\x03\x80"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x82}}, 0, "r1@7000"},
	{"test dword [rbx],imm32 (F7 /1)", M_LONG,
	 C("\xf7\x0b\x00\x00\x00\x80"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{FL, 0x46}}, 0, "r4@7000"},
	{"test al,imm8 (A8)", M_LONG, C("\xa8\x88"), {{FL, 0x8d7}}, 0, EMU_OK,
	 {{FL, 0x46}}, 0, ""},
	{"test eax,imm32 (A9)", M_LONG, C("\xa9\x11\x22\x33\x44"), {{0}}, 0,
	 EMU_OK, {{FL, 0x6}}, 0, ""},
	{"add ecx,edx (registers)", M_LONG, C("\x01\xd1"), {{0}}, 0, EMU_OK,
	 {{RCX, 0x8b634323}, {FL, 0x882}}, 0, ""},
	{"add ah,dl", M_LONG, C("\x00\xd4"), {{0}}, 0, EMU_OK,
	 {{RAX, HI8(INIT(RAX), 0x35)}, {FL, 0x6}}, 0, ""},
	{"sub r15,r14", M_LONG, C("\x4d\x29\xf7"), {{0}}, 0, EMU_OK,
	 {{R15, 0xff00ff00ff00ff}, {FL, 0x16}}, 0, ""},
	{"or r8b,imm8", M_LONG, C("\x41\x80\xc8\x01"), {{0}}, 0, EMU_OK,
	 {{R8, LO8(INIT(R8), 0x19)}, {FL, 0x2}}, 0, ""},
	{"sub eax,imm32 (2D)", M_LONG, C("\x2d\x11\x22\x33\x44"), {{0}}, 0,
	 EMU_OK, {{RAX, 0}, {FL, 0x46}}, 0, ""},
	{"xor rax,rax keeps DF and IF", M_LONG, C("\x48\x31\xc0"),
	 {{FL, 0x603}}, 0, EMU_OK, {{RAX, 0}, {FL, 0x646}}, 0, ""},
	/* ---- XCHG: read, then write ---- */
	{"xchg [rbx],eax", M_LONG, C("\x87\x03"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RAX, 0x55667788}}, 0x1122334444332211, "r4@7000 w4@7000"},
	{"xchg [rbx],cl", M_LONG, C("\x86\x0b"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RCX, LO8(INIT(RCX), 0x88)}}, 0x1122334455667710, "r1@7000 w1@7000"},
	{"xchg [rbx],ch", M_LONG, C("\x86\x2b"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RCX, HI8(INIT(RCX), 0x88)}}, 0x1122334455667723, "r1@7000 w1@7000"},
	{"xchg r8,r9", M_LONG, C("\x4d\x87\xc8"), {{0}}, 0, EMU_OK,
	 {{R8, INIT(R9)}, {R9, INIT(R8)}}, 0, ""},
	{"lock xchg [rbx],rax", M_LONG, C("\xf0\x48\x87\x03"), {{RBX, DATA_LA}},
	 0, EMU_OK, {{RAX, M0}}, INIT(RAX), "r8@7000 w8@7000"},
	/* ---- LOCK: fine on read-modify-write to memory, else #UD ---- */
	{"lock add [rbx],eax", M_LONG, C("\xf0\x01\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{FL, 0x886}}, 0x1122334499999999, "r4@7000 w4@7000"},
	{"lock mov [rbx],eax", M_LONG, C("\xf0\x89\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_FAULT, {{0}}, 0, "", 6},
	{"lock add eax,[rbx]", M_LONG, C("\xf0\x03\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_FAULT, {{0}}, 0, "", 6},
	{"lock cmp [rbx],eax", M_LONG, C("\xf0\x39\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_FAULT, {{0}}, 0, "", 6},
	{"lock test [rbx],eax", M_LONG, C("\xf0\x85\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_FAULT, {{0}}, 0, "", 6},
	{"lock add dword [rbx],imm8", M_LONG, C("\xf0\x83\x03\x01"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x2}}, 0x1122334455667789,
	 "r4@7000 w4@7000"},
	{"lock cmp dword [rbx],imm8", M_LONG, C("\xf0\x83\x3b\x01"),
	 {{RBX, DATA_LA}}, 0, EMU_FAULT, {{0}}, 0, "", 6},
	{"lock add ecx,edx", M_LONG, C("\xf0\x01\xd1"), {{0}}, 0, EMU_FAULT,
	 {{0}}, 0, "", 6},
	{"lock stosb", M_LONG, C("\xf0\xaa"), {{0}}, 0, EMU_FAULT, {{0}}, 0, "",
	 6},
	/* ---- prefixes ---- */
	{"rex before 66 is ignored", M_LONG, C("\x48\x66\x89\x03"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{0}}, 0x1122334455662211, "w2@7000"},
	{"REX.W beats 66", M_LONG, C("\x66\x48\x89\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{0}}, INIT(RAX), "w8@7000"},
	{"two REX: the last counts", M_LONG, C("\x48\x40\x89\x03"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{0}}, 0x1122334444332211, "w4@7000"},
	{"F3 on mov is ignored", M_LONG, C("\xf3\x89\x03"), {{RBX, DATA_LA}},
	 0, EMU_OK, {{0}}, 0x1122334444332211, "w4@7000"},
	/* ---- outside the subset ---- */
	{"nop", M_LONG, C("\x90"), {{0}}, 0, EMU_UNHANDLED},
	{"inc dword [rbx]", M_LONG, C("\xff\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_UNHANDLED},
	{"not dword [rbx]", M_LONG, C("\xf7\x13"), {{RBX, DATA_LA}}, 0,
	 EMU_UNHANDLED},
	{"neg byte [rbx]", M_LONG, C("\xf6\x1b"), {{RBX, DATA_LA}}, 0,
	 EMU_UNHANDLED},
	{"mov rax,imm64", M_LONG, C("\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08"),
	 {{0}}, 0, EMU_UNHANDLED},
	{"lodsb", M_LONG, C("\xac"), {{0}}, 0, EMU_UNHANDLED},
	{"cmpsb", M_LONG, C("\xa6"), {{0}}, 0, EMU_UNHANDLED},
	{"xabort", M_LONG, C("\xc6\xf8\x00"), {{0}}, 0, EMU_UNHANDLED},
	{"xbegin", M_LONG, C("\xc7\xf8\x00\x00\x00\x00"), {{0}}, 0,
	 EMU_UNHANDLED},
	{"movdqu xmm0,[rbx]", M_LONG, C("\xf3\x0f\x6f\x03"), {{RBX, DATA_LA}},
	 0, EMU_UNHANDLED},
	{"VEX map 1 B6 is not MOVZX", M_LONG, C("\xc5\xf8\xb6\x03"),
	 {{RBX, DATA_LA}}, 0, EMU_UNHANDLED},
	{"cmpxchg [rbx],eax", M_LONG, C("\x0f\xb1\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_UNHANDLED},
	{"movbe eax,[rbx]", M_LONG, C("\x0f\x38\xf0\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_UNHANDLED},
	{"pop [rbx]", M_LONG, C("\x8f\x03"), {{RBX, DATA_LA}}, 0, EMU_UNHANDLED},
	{"lea eax,[rbx]", M_LONG, C("\x8d\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_UNHANDLED},
	{"mov es,[rbx]", M_LONG, C("\x8e\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_UNHANDLED},
	{"xchg eax,ecx (91)", M_LONG, C("\x91"), {{0}}, 0, EMU_UNHANDLED},
	{"cpuid", M_LONG, C("\x0f\xa2"), {{0}}, 0, EMU_UNHANDLED},
	{"push es: invalid in 64-bit mode", M_LONG, C("\x06"), {{0}}, 0,
	 EMU_UNHANDLED},
	{"0F 04: undefined", M_LONG, C("\x0f\x04"), {{0}}, 0, EMU_UNHANDLED},
	{"16 bytes: too long", M_LONG,
	 C("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x89\x03"),
	 {{RBX, DATA_LA}}, 0, EMU_UNHANDLED},
	/* ---- 32-bit protected mode ---- */
	{"p32 mov [ebx],eax (upper RBX ignored)", M_PROT32, C("\x89\x03"),
	 {{RBX, 0xFFFFFFFF00007000ULL}}, 0, EMU_OK, {{0}}, 0x1122334444332211,
	 "w4@7000"},
	{"p32 mov [ebx],ax", M_PROT32, C("\x66\x89\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{0}}, 0x1122334455662211, "w2@7000"},
	{"p32 mov eax,[ebx]", M_PROT32, C("\x8b\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"p32 addr16 mov [bx],eax", M_PROT32, C("\x67\x89\x07"),
	 {{RBX, 0xFFFF7000ULL}}, 0, EMU_OK, {{0}}, 0x1122334444332211,
	 "w4@7000"},
	{"p32 mov eax,moffs32", M_PROT32, C("\xa1\x00\x70\x00\x00"), {{0}}, 0,
	 EMU_OK, {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"p32 mov al,moffs16 (67)", M_PROT32, C("\x67\xa0\x00\x70"), {{0}}, 0,
	 EMU_OK, {{RAX, LO8(INIT(RAX), 0x88)}}, 0, "r1@7000"},
	{"p32 add dword [ebx],imm32", M_PROT32, C("\x81\x03\x01\x00\x00\x00"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x2}}, 0x1122334455667789,
	 "r4@7000 w4@7000"},
	{"p32 mov [esp+ebp*2+disp8],eax", M_PROT32, C("\x89\x44\x6c\x10"),
	 {{RSP, DATA_LA - 0x10 - 0x20}, {RBP, 0x10}}, 0, EMU_OK, {{0}},
	 0x1122334444332211, "w4@7000"},
	{"p32 movsxd is ARPL", M_PROT32, C("\x63\x03"), {{RBX, DATA_LA}}, 0,
	 EMU_UNHANDLED},
	{"p32 48 is DEC, not REX", M_PROT32, C("\x48"), {{0}}, 0,
	 EMU_UNHANDLED},
	/* ---- compatibility mode ---- */
	{"compat mov [ebx],eax", M_COMPAT, C("\x89\x03"),
	 {{RBX, 0xFFFFFFFF00007000ULL}}, 0, EMU_OK, {{0}}, 0x1122334444332211,
	 "w4@7000"},
	{"compat 48 is DEC", M_COMPAT, C("\x48"), {{0}}, 0, EMU_UNHANDLED},
	/* ---- real mode: 16-bit forms ---- */
	{"real mov [bx],ax", M_REAL, C("\x89\x07"), {{RBX, 0x12347000}}, 0,
	 EMU_OK, {{0}}, 0x1122334455662211, "w2@7000"},
	{"real mov [bx],eax (66)", M_REAL, C("\x66\x89\x07"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{0}}, 0x1122334444332211, "w4@7000"},
	{"real mov [ebx],eax (66 67)", M_REAL, C("\x66\x67\x89\x03"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{0}}, 0x1122334444332211, "w4@7000"},
	{"real mov ax,[bx+si]", M_REAL, C("\x8b\x00"),
	 {{RBX, 0x6000}, {RSI, 0x1000}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real mov ax,[bx+di]", M_REAL, C("\x8b\x01"),
	 {{RBX, 0x6000}, {RDI, 0x1000}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real mov ax,[bp+si]", M_REAL, C("\x8b\x02"),
	 {{RBP, 0x6000}, {RSI, 0x1000}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real mov ax,[bp+di]", M_REAL, C("\x8b\x03"),
	 {{RBP, 0x6000}, {RDI, 0x1000}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real mov ax,[si]", M_REAL, C("\x8b\x04"), {{RSI, DATA_LA}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real mov ax,[di]", M_REAL, C("\x8b\x05"), {{RDI, DATA_LA}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real mov ax,[disp16]", M_REAL, C("\x8b\x06\x00\x70"), {{0}}, 0,
	 EMU_OK, {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real mov ax,[bx]", M_REAL, C("\x8b\x07"), {{RBX, DATA_LA}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real mov al,[bx+di+disp8]", M_REAL, C("\x8a\x41\x10"),
	 {{RBX, 0x6000}, {RDI, 0xff0}}, 0, EMU_OK,
	 {{RAX, LO8(INIT(RAX), 0x88)}}, 0, "r1@7000"},
	{"real mov [bp+disp16],ax", M_REAL, C("\x89\x86\x00\x70"), {{RBP, 0}},
	 0, EMU_OK, {{0}}, 0x1122334455662211, "w2@7000"},
	{"real [bx+si] wraps at 64 KiB", M_REAL, C("\x8b\x00"),
	 {{RBX, 0xffff}, {RSI, 0x7001}}, 0, EMU_OK,
	 {{RAX, LO16(INIT(RAX), 0x7788)}}, 0, "r2@7000"},
	{"real [bx+disp16] wraps", M_REAL, C("\x8b\x87\x00\x80"),
	 {{RBX, 0xf000}}, 0, EMU_OK, {{RAX, LO16(INIT(RAX), 0x7788)}}, 0,
	 "r2@7000"},
	{"real movzx ax,byte [bx]", M_REAL, C("\x0f\xb6\x07"), {{RBX, DATA_LA}},
	 0, EMU_OK, {{RAX, LO16(INIT(RAX), 0x88)}}, 0, "r1@7000"},
	{"real add word [bx],imm8 -1", M_REAL, C("\x83\x07\xff"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x17}}, 0x1122334455667787,
	 "r2@7000 w2@7000"},
	{"real test byte [bx],imm8", M_REAL, C("\xf6\x07\x08"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{FL, 0x2}}, 0, "r1@7000"},
	{"real mov eax,moffs16 (66)", M_REAL, C("\x66\xa1\x00\x70"), {{0}}, 0,
	 EMU_OK, {{RAX, 0x55667788}}, 0, "r4@7000"},
	{"real 0x40 is INC", M_REAL, C("\x40"), {{0}}, 0, EMU_UNHANDLED},
	/* ---- 16-bit protected mode ---- */
	{"p16 mov [bx],ax", M_PROT16, C("\x89\x07"), {{RBX, DATA_LA}}, 0,
	 EMU_OK, {{0}}, 0x1122334455662211, "w2@7000"},
	{"p16 mov [ebx],eax (66 67)", M_PROT16, C("\x66\x67\x89\x03"),
	 {{RBX, DATA_LA}}, 0, EMU_OK, {{0}}, 0x1122334444332211, "w4@7000"},
};
#pragma GCC diagnostic pop

static uint64_t *reg_ptr(struct vcpu_regs *r, unsigned id)
{
	return id == FL ? &r->rflags : emu_gpr(r, id - 1);
}

static void format_log(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < fk.nlog && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%c%u@%llx",
				      i ? " " : "", fk.log[i].kind,
				      fk.log[i].size,
				      (unsigned long long)fk.log[i].la);
}

static void run_case(const struct ecase *c)
{
	struct vcpu_regs r, want;
	struct vcpu_sregs s;
	struct emu_fault fault = {0};
	uint64_t mem = c->mem ? c->mem : M0;
	char log[256];
	int st;

	setup(NULL);
	mode_setup(c->mode, &r, &s);
	for (unsigned i = 0; i < 4 && c->in[i].reg; i++)
		*reg_ptr(&r, c->in[i].reg) = c->in[i].val;
	put_code(r.rip, c->code, c->len);
	poke64(DATA_LA, mem);
	want = r;
	for (unsigned i = 0; i < 4 && c->out[i].reg; i++)
		*reg_ptr(&want, c->out[i].reg) = c->out[i].val;
	if (c->status == EMU_OK)
		want.rip += c->len;

	st = emu_execute(&fake_ops, &r, &s, &fault);
	format_log(log, sizeof(log));
	if (st != c->status || memcmp(&r, &want, sizeof(r)) ||
	    peek64(DATA_LA) != (c->mem_out ? c->mem_out : mem) ||
	    (c->acc && strcmp(log, c->acc)) ||
	    (st == EMU_FAULT && fault.vector != c->vector)) {
		print_error("case '%s': status %d (want %d), mem %#llx (want "
			    "%#llx), accesses '%s' (want '%s'), vector %u\n",
			    c->name, st, c->status,
			    (unsigned long long)peek64(DATA_LA),
			    (unsigned long long)(c->mem_out ? c->mem_out : mem),
			    log, c->acc ? c->acc : "", fault.vector);
		for (unsigned i = RAX; i <= FL; i++)
			if (*reg_ptr(&r, i) != *reg_ptr(&want, i))
				print_error("  reg %u = %#llx, want %#llx\n", i,
					    (unsigned long long)*reg_ptr(&r, i),
					    (unsigned long long)*reg_ptr(&want, i));
		if (r.rip != want.rip)
			print_error("  rip = %#llx, want %#llx\n",
				    (unsigned long long)r.rip,
				    (unsigned long long)want.rip);
		fail();
	}
	if (st == EMU_OK || st == EMU_UNHANDLED) {
		/* emu_insn_len agrees on the length (0: undecodable) */
		unsigned len;

		want.rip = CODE_LA;
		len = emu_insn_len(&fake_ops, &want, &s);
		if (c->len <= 15 && len != c->len &&
		    !(st == EMU_UNHANDLED && len == 0)) {
			print_error("case '%s': emu_insn_len %u, want %u\n",
				    c->name, len, c->len);
			fail();
		}
	}
}

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* ------------------------------------------- flags against the host CPU -- */

/* Run the real instruction on the host. The asm pushes below the red zone
 * (host code keeps locals there) and uses registers only. */
#define HOST_ALU(name, insn, type, cons)                                       \
	static uint64_t name(uint64_t a, uint64_t b, uint64_t *fl)             \
	{                                                                      \
		type x = (type)a, y = (type)b;                                 \
		uint64_t f = *fl;                                              \
		__asm__ volatile("sub $128, %%rsp\n\t"                         \
				 "push %[f]\n\t"                               \
				 "popfq\n\t" insn " %[y], %[x]\n\t"            \
				 "pushfq\n\t"                                  \
				 "pop %[f]\n\t"                                \
				 "cld\n\t" /* the ABI wants DF clear */        \
				 "add $128, %%rsp"                             \
				 : [x] "+" cons(x), [f] "+r"(f)                \
				 : [y] cons(y)                                 \
				 : "cc");                                      \
		*fl = f;                                                       \
		return x;                                                      \
	}
#define HOST_ALU4(op)                                                          \
	HOST_ALU(host_##op##b, #op "b", uint8_t, "q")                          \
	HOST_ALU(host_##op##w, #op "w", uint16_t, "r")                         \
	HOST_ALU(host_##op##l, #op "l", uint32_t, "r")                         \
	HOST_ALU(host_##op##q, #op "q", uint64_t, "r")
HOST_ALU4(add)
HOST_ALU4(or)
HOST_ALU4(adc)
HOST_ALU4(sbb)
HOST_ALU4(and)
HOST_ALU4(sub)
HOST_ALU4(xor)
HOST_ALU4(cmp)
HOST_ALU4(test)

typedef uint64_t (*host_fn)(uint64_t, uint64_t, uint64_t *);
#define HOST_ROW(op) {host_##op##b, host_##op##w, host_##op##l, host_##op##q}
/* In ALU-number order (opcode bits 5:3), then TEST. */
static const host_fn host_alu[9][4] = {
	HOST_ROW(add), HOST_ROW(or),  HOST_ROW(adc),
	HOST_ROW(sbb), HOST_ROW(and), HOST_ROW(sub),
	HOST_ROW(xor), HOST_ROW(cmp), HOST_ROW(test),
};

static const uint64_t alu_values[] = {
	0, 1, 2, 0x0F, 0x10, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF,
	0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000ULL,
	0x7FFFFFFFFFFFFFFFULL, 0x8000000000000000ULL, 0xFFFFFFFFFFFFFFFFULL,
	0x123456789ABCDEF0ULL, 0xFEDCBA9876543210ULL,
};
#define NVALUES (sizeof(alu_values) / sizeof(alu_values[0]))

static unsigned size_index(unsigned size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

/* One emulated "op [rbx], rcx" (or "op [rbx], imm8" with imm >= 0) against
 * the host's result and flags. */
static void alu_check(unsigned op, unsigned size, uint64_t a, uint64_t b,
		      uint64_t flags_in, int imm)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;
	struct emu_fault fault;
	uint8_t code[8];
	unsigned n = 0;
	uint64_t mask = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	uint64_t host_fl = flags_in, want, got, care = FL_ARITH;
	uint64_t before = 0xA5A5A5A5A5A5A5A5ULL;

	if (size == 2)
		code[n++] = 0x66;
	if (size == 8)
		code[n++] = 0x48;
	if (imm >= 0) {
		/* TEST has no imm8 form: F6/F7 /0 with a full immediate
		 * would change the encoding, so group 1 only. */
		code[n++] = size == 1 ? 0x80 : 0x83;
		code[n++] = (uint8_t)(0x03 | (op << 3));
		code[n++] = (uint8_t)imm;
		b = (uint64_t)(int64_t)(int8_t)imm;
	} else {
		code[n++] = (uint8_t)(op == 8 ? 0x84 : op << 3) + (size > 1);
		code[n++] = 0x0B; /* [rbx], rcx */
	}
	want = host_alu[op][size_index(size)](a, b, &host_fl) & mask;
	if (op == 4 || op == 1 || op == 6 || op == 8)
		care &= ~FL_AF; /* undefined for the logical ops (SDM) */

	setup(NULL);
	mode_setup(M_LONG, &r, &s);
	r.rbx = DATA_LA;
	r.rcx = b;
	r.rflags = flags_in;
	put_code(r.rip, (const char *)code, n);
	poke64(DATA_LA, (a & mask) | (before & ~mask));
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_OK);
	got = peek64(DATA_LA);
	if (op == 7 || op == 8)
		want = a & mask; /* CMP and TEST leave memory alone */
	if ((got & mask) != want || (got & ~mask) != (before & ~mask) ||
	    (r.rflags & care) != (host_fl & care) ||
	    (r.rflags & ~FL_ARITH) != (flags_in & ~FL_ARITH)) {
		print_error("alu op %u size %u a %#llx b %#llx flags %#llx: "
			    "result %#llx want %#llx, flags %#llx want %#llx\n",
			    op, size, (unsigned long long)a,
			    (unsigned long long)b, (unsigned long long)flags_in,
			    (unsigned long long)(got & mask),
			    (unsigned long long)want,
			    (unsigned long long)r.rflags,
			    (unsigned long long)host_fl);
		fail();
	}
	assert_int_equal(r.rip, CODE_LA + n);
}

static void test_alu_flags_vs_host(void **state)
{
	static const unsigned sizes[] = {1, 2, 4, 8};
	/* all arithmetic flags clear, or all set with DF: CF feeds ADC/SBB
	 * and every flag must be replaced, not or-ed */
	static const uint64_t flags_in[] = {0x2, 0x2 | FL_ARITH | FL_DF};

	for (unsigned op = 0; op < 9; op++)
		for (unsigned si = 0; si < 4; si++)
			for (unsigned i = 0; i < NVALUES; i++)
				for (unsigned j = 0; j < NVALUES; j++)
					for (unsigned f = 0; f < 2; f++)
						alu_check(op, sizes[si],
							  alu_values[i],
							  alu_values[j],
							  flags_in[f], -1);
}

static void test_alu_imm8_vs_host(void **state)
{
	static const unsigned sizes[] = {1, 2, 4, 8};
	static const int imms[] = {0, 1, 0x7F, 0x80, 0xFF, 0x10};

	for (unsigned op = 0; op < 8; op++)
		for (unsigned si = 0; si < 4; si++)
			for (unsigned i = 0; i < NVALUES; i++)
				for (unsigned k = 0; k < 6; k++)
					alu_check(op, sizes[si], alu_values[i],
						  0, 0x2 | FL_CF, imms[k]);
}

/* The host really clears AF for the logical ops, as the emulator does
 * (the SDM leaves it undefined; this shows where the two could differ). */
static void test_logical_af_matches_host(void **state)
{
	uint64_t fl = 0x2 | FL_AF;

	host_andl(0x1F, 0x0F, &fl);
	if (fl & FL_AF)
		print_message("note: this host sets AF on AND\n");
	alu_check(4, 4, 0x1F, 0x0F, 0x2 | FL_AF, -1);
}

/* ---------------------------------------------------------- helpers -- */

static int run(enum mode m, struct vcpu_regs *r, struct vcpu_sregs *s,
	       const char *code, unsigned len)
{
	struct emu_fault fault = {.vector = 0xEE};

	put_code(r->rip, code, len);
	(void)m;
	fk.nlog = 0;
	memset(&fk.fault, 0, sizeof(fk.fault));
	return emu_execute(&fake_ops, r, s, &fault);
}

#define RUN(m, r, s, code) run(m, r, s, code, sizeof(code) - 1)

static struct emu_fault last_fault;

/* Run expecting EMU_FAULT raised by the emulator (not a callback). */
static int run_raise(struct vcpu_regs *r, struct vcpu_sregs *s,
		     const char *code, unsigned len)
{
	int st;

	put_code(r->rip, code, len);
	fk.nlog = 0;
	memset(&last_fault, 0, sizeof(last_fault));
	st = emu_execute(&fake_ops, r, s, &last_fault);
	return st;
}

#define RAISE(r, s, code) run_raise(r, s, code, sizeof(code) - 1)

/* ------------------------------------------------------------ strings -- */

static void test_rep_stos_forward_batches(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_LONG, &r, &s);
	r.rdi = DATA_LA;
	r.rcx = 5000; /* more than EMU_REP_MAX */
	assert_int_equal(RUN(M_LONG, &r, &s, "\xf3\xaa"), EMU_RETRY);
	assert_int_equal(r.rcx, 5000 - EMU_REP_MAX);
	assert_int_equal(r.rdi, DATA_LA + EMU_REP_MAX);
	assert_int_equal(r.rip, CODE_LA); /* not done: run it again */
	assert_int_equal(RUN(M_LONG, &r, &s, "\xf3\xaa"), EMU_OK);
	assert_int_equal(r.rcx, 0);
	assert_int_equal(r.rdi, DATA_LA + 5000);
	assert_int_equal(r.rip, CODE_LA + 2);
	for (unsigned i = 0; i < 5000; i++)
		assert_int_equal(page_of(DATA_LA + i)[(DATA_LA + i) & 4095], 0x11);
	assert_int_equal(page_of(DATA_LA + 5000)[(DATA_LA + 5000) & 4095], 0);
	assert_int_equal(r.rax, INIT(RAX));
}

static void test_rep_stos_backward(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;
	uint64_t top = DATA_LA + 2 * PAGE - 8;

	mode_setup(M_LONG, &r, &s);
	r.rdi = top;
	r.rcx = 10;
	r.rflags |= FL_DF;
	assert_int_equal(RUN(M_LONG, &r, &s, "\xf3\x48\xab"), EMU_OK);
	assert_int_equal(r.rcx, 0);
	assert_int_equal(r.rdi, top - 80);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(peek64(top - 8 * i), INIT(RAX));
	assert_int_equal(peek64(top - 80), 0);
	assert_int_equal(fk.log[0].la, top);
	assert_int_equal(fk.log[1].la, top - 8);
	assert_int_equal(r.rflags, 0x2 | FL_DF); /* STOS sets no flags */
}

static void test_stos_single(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_LONG, &r, &s);
	r.rdi = DATA_LA;
	assert_int_equal(RUN(M_LONG, &r, &s, "\x66\xab"), EMU_OK);
	assert_int_equal(peek64(DATA_LA), 0x2211);
	assert_int_equal(r.rdi, DATA_LA + 2);
	assert_int_equal(r.rcx, INIT(RCX)); /* no REP: RCX untouched */
	assert_int_equal(r.rip, CODE_LA + 2);
}

static void test_rep_movs_forward(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_LONG, &r, &s);
	poke64(DATA_LA, 0x0807060504030201ULL);
	poke64(DATA_LA + 8, 0x100F0E0D0C0B0A09ULL);
	r.rsi = DATA_LA;
	r.rdi = DATA_LA + 0x100;
	r.rcx = 3;
	assert_int_equal(RUN(M_LONG, &r, &s, "\xf3\xa5"), EMU_OK);
	assert_int_equal(peek64(DATA_LA + 0x100), 0x0807060504030201ULL);
	assert_int_equal(peek64(DATA_LA + 0x108), 0x0C0B0A09ULL);
	assert_int_equal(r.rsi, DATA_LA + 12);
	assert_int_equal(r.rdi, DATA_LA + 0x10C);
	assert_int_equal(r.rcx, 0);
	assert_int_equal(fk.nlog, 6);
	assert_int_equal(fk.log[0].kind, 'r');
	assert_int_equal(fk.log[0].la, DATA_LA);
	assert_int_equal(fk.log[1].kind, 'w');
	assert_int_equal(fk.log[1].la, DATA_LA + 0x100);
	assert_int_equal(fk.log[5].la, DATA_LA + 0x108);
}

static void test_rep_movs_backward(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_LONG, &r, &s);
	poke64(DATA_LA, 0x0807060504030201ULL);
	r.rsi = DATA_LA + 7;
	r.rdi = DATA_LA + 0x107;
	r.rcx = 3;
	r.rflags |= FL_DF;
	assert_int_equal(RUN(M_LONG, &r, &s, "\xf3\xa4"), EMU_OK);
	assert_int_equal(peek64(DATA_LA + 0x100), 0x0807060000000000ULL);
	assert_int_equal(r.rsi, DATA_LA + 4);
	assert_int_equal(r.rdi, DATA_LA + 0x104);
}

static void test_rep_movs_batches_and_zero(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_LONG, &r, &s);
	for (unsigned i = 0; i < PAGE; i++)
		page_of(DATA_LA)[i] = (uint8_t)(i * 7);
	r.rsi = DATA_LA;
	r.rdi = DATA_LA + PAGE;
	r.rcx = EMU_REP_MAX; /* exactly one batch: done in one call */
	assert_int_equal(RUN(M_LONG, &r, &s, "\xf3\xa4"), EMU_OK);
	assert_int_equal(r.rcx, 0);
	assert_memory_equal(page_of(DATA_LA), page_of(DATA_LA + PAGE), PAGE);

	r.rip = CODE_LA;
	r.rcx = 0; /* nothing to do, still advances */
	fk.nlog = 0;
	assert_int_equal(RUN(M_LONG, &r, &s, "\xf3\xa4"), EMU_OK);
	assert_int_equal(fk.nlog, 0);
	assert_int_equal(r.rip, CODE_LA + 2);
	assert_int_equal(r.rsi, DATA_LA + PAGE);

	r.rip = CODE_LA;
	r.rsi = DATA_LA;
	r.rdi = DATA_LA + 1;
	r.rcx = EMU_REP_MAX + 1;
	assert_int_equal(RUN(M_LONG, &r, &s, "\xf3\xa4"), EMU_RETRY);
	assert_int_equal(r.rcx, 1);
	assert_int_equal(r.rip, CODE_LA);
}

/* Real mode: CX counts, SI/DI wrap at 64 KiB and keep their upper bits. */
static void test_rep_addr16(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_REAL, &r, &s);
	map_page(0x1F000);
	map_page(0x10000);
	s.es.base = 0x10000;
	s.es.sel = 0x1000;
	r.rdi = 0xABCD00000000FFFFULL;
	r.rcx = 0x1234000000000003ULL;
	assert_int_equal(RUN(M_REAL, &r, &s, "\xf3\xaa"), EMU_OK);
	assert_int_equal(r.rcx, 0x1234000000000000ULL);
	assert_int_equal(r.rdi, 0xABCD000000000002ULL);
	assert_int_equal(fk.log[0].la, 0x1FFFF);
	assert_int_equal(fk.log[1].la, 0x10000);
	assert_int_equal(fk.log[2].la, 0x10001);
	assert_int_equal(r.rip, CODE_LA + 2);
}

/* 67 in 64-bit mode: ECX and EDI, written as 32-bit registers. */
static void test_rep_addr32_in_long_mode(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_LONG, &r, &s);
	r.rdi = 0xFFFFFFFF00007000ULL;
	r.rcx = 0xFFFFFFFF00000002ULL;
	assert_int_equal(RUN(M_LONG, &r, &s, "\x67\xf3\xaa"), EMU_OK);
	assert_int_equal(r.rcx, 0);
	assert_int_equal(r.rdi, 0x7002);
	assert_int_equal(fk.log[0].la, 0x7000);
}

/* An iteration that faults keeps the ones before it: RCX/RDI say how far
 * it got, RIP stays; the fault is the callback's, *fault untouched. */
static void test_rep_fault_midway(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;
	struct emu_fault fault = {.vector = 0xEE};

	mode_setup(M_LONG, &r, &s);
	r.rdi = DATA_LA + 2 * PAGE - 2;
	r.rcx = 5;
	put_code(r.rip, "\xf3\xaa", 2);
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_FAULT);
	assert_int_equal(r.rcx, 3);
	assert_int_equal(r.rdi, DATA_LA + 2 * PAGE);
	assert_int_equal(r.rip, CODE_LA);
	assert_int_equal(fk.fault.vector, 14);
	assert_int_equal(fk.fault.cr2, DATA_LA + 2 * PAGE);
	assert_int_equal(fk.fault.error, 2);
	assert_int_equal(fault.vector, 0xEE);
}

static void test_movs_segments(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	/* 64-bit: FS override on the source counts, ES base does not */
	mode_setup(M_LONG, &r, &s);
	map_page(HIGH_LA);
	page_of(HIGH_LA)[0] = 0x5A;
	s.fs.base = 0x100000000ULL;
	s.es.base = 0x5000;
	r.rsi = DATA_LA;
	r.rdi = DATA_LA + 0x100;
	assert_int_equal(RUN(M_LONG, &r, &s, "\x64\xa4"), EMU_OK);
	assert_int_equal(fk.log[0].la, HIGH_LA);
	assert_int_equal(fk.log[1].la, DATA_LA + 0x100);
	assert_int_equal(page_of(DATA_LA)[0x100], 0x5A);

	/* 32-bit: DS for the source (or the override), always ES for the
	 * destination */
	setup(NULL);
	mode_setup(M_PROT32, &r, &s);
	s.ds.base = 0x1000;
	s.es.base = 0x2000;
	s.fs.base = 0x3000;
	r.rsi = 0x6000;
	r.rdi = 0x5100;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\xa4"), EMU_OK);
	assert_int_equal(fk.log[0].la, 0x7000);
	assert_int_equal(fk.log[1].la, 0x7100);
	r.rip = CODE_LA;
	r.rsi = 0x4000;
	r.rdi = 0x5200;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x64\xa4"), EMU_OK);
	assert_int_equal(fk.log[0].la, 0x7000);
	assert_int_equal(fk.log[1].la, 0x7200);
	r.rip = CODE_LA;
	r.rdi = 0x5300;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x2e\xaa"), EMU_OK);
	assert_int_equal(fk.log[0].la, 0x7300); /* STOS ignores overrides */
}

/* ----------------------------------------------------------- segments -- */

static uint64_t last_la(void)
{
	assert_true(fk.nlog > 0);
	return fk.log[fk.nlog - 1].la;
}

static void test_segments_prot32(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_PROT32, &r, &s);
	s.ds.base = 0x1000;
	s.ss.base = 0x3000;
	s.fs.base = 0x2000;
	r.rbx = 0x6000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	r.rip = CODE_LA;
	r.rbx = 0x5000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x64\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	r.rip = CODE_LA;
	r.rbx = 0x4000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x36\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	/* EBP and ESP bases default to SS */
	r.rip = CODE_LA;
	r.rbp = 0x4000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x8b\x45\x00"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	r.rip = CODE_LA;
	r.rsp = 0x4000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x8b\x04\x24"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	/* ...but an index of EBP does not, and an override wins */
	r.rip = CODE_LA;
	r.rbx = 0x5000;
	r.rbp = 0x1000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x8b\x04\x2b"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	r.rip = CODE_LA;
	r.rbp = 0x6000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x3e\x8b\x45\x00"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	/* SIB without base (mod 00, base 101) is DS even though base=EBP */
	r.rip = CODE_LA;
	r.rcx = 0x1000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x8b\x04\x0d\x00\x50\x00\x00"),
			 EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	/* the linear address wraps at 4 GiB */
	r.rip = CODE_LA;
	s.ds.base = 0xFFFFF000;
	r.rbx = 0x8000;
	assert_int_equal(RUN(M_PROT32, &r, &s, "\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
}

static void test_segments_long(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_LONG, &r, &s);
	map_page(HIGH_LA);
	s.ds.base = 0x1000; /* ignored in 64-bit mode */
	s.cs.base = 0x1000;
	s.ss.base = 0x1000;
	s.fs.base = 0x100000000ULL;
	s.gs.base = 0xFFFFF000ULL;
	r.rbx = DATA_LA;
	assert_int_equal(RUN(M_LONG, &r, &s, "\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), DATA_LA);
	r.rip = CODE_LA;
	assert_int_equal(RUN(M_LONG, &r, &s, "\x2e\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), DATA_LA);
	r.rip = CODE_LA;
	r.rbp = DATA_LA;
	assert_int_equal(RUN(M_LONG, &r, &s, "\x8b\x45\x00"), EMU_OK);
	assert_int_equal(last_la(), DATA_LA);
	r.rip = CODE_LA;
	assert_int_equal(RUN(M_LONG, &r, &s, "\x64\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), HIGH_LA);
	r.rip = CODE_LA;
	r.rbx = 0x8000;
	assert_int_equal(RUN(M_LONG, &r, &s, "\x65\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), HIGH_LA); /* no 4 GiB wrap here */
	r.rip = CODE_LA;
	r.rbx = DATA_LA;
	/* a DS override after FS is ignored, FS stays */
	assert_int_equal(RUN(M_LONG, &r, &s, "\x64\x3e\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), HIGH_LA);
}

static void test_segments_real(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_REAL, &r, &s);
	s.ds.sel = 0x600;
	s.ds.base = 0x6000;
	s.es.base = 0x5000;
	s.ss.base = 0x4000;
	r.rbx = 0x1000;
	assert_int_equal(RUN(M_REAL, &r, &s, "\x8b\x07"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	r.rip = CODE_LA;
	r.rbx = 0x2000;
	assert_int_equal(RUN(M_REAL, &r, &s, "\x26\x8b\x07"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	r.rip = CODE_LA;
	r.rbp = 0x3000;
	assert_int_equal(RUN(M_REAL, &r, &s, "\x8b\x46\x00"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	r.rip = CODE_LA;
	r.rbp = 0x2000;
	r.rsi = 0x1000;
	assert_int_equal(RUN(M_REAL, &r, &s, "\x8b\x02"), EMU_OK);
	assert_int_equal(last_la(), 0x7000);
	r.rip = CODE_LA;
	assert_int_equal(RUN(M_REAL, &r, &s, "\x8b\x06\x00\x10"), EMU_OK);
	assert_int_equal(last_la(), 0x7000); /* disp16 alone: DS */
	/* 32-bit addressing in real mode (unreal: a 4 GiB limit) */
	r.rip = CODE_LA;
	map_page(0x17000);
	s.ds.limit = 0xFFFFFFFF;
	s.ds.base = 0;
	r.rbx = 0x17000;
	assert_int_equal(RUN(M_REAL, &r, &s, "\x67\x8b\x03"), EMU_OK);
	assert_int_equal(last_la(), 0x17000);
}

static void test_segment_limits(void **state)
{
	struct vcpu_regs r, before;
	struct vcpu_sregs s;

	mode_setup(M_PROT32, &r, &s);
	s.ds.limit = 0x6FFF;
	r.rbx = DATA_LA;
	before = r;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 13);
	assert_true(last_fault.has_error);
	assert_int_equal(last_fault.error, 0);
	assert_int_equal(fk.nlog, 0);
	assert_memory_equal(&r, &before, sizeof(r));
	/* the last byte counts */
	s.ds.limit = 0x7002;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	assert_int_equal(RAISE(&r, &s, "\x66\x8b\x03"), EMU_OK);
	/* SS: #SS */
	r = before;
	s.ss.limit = 0x6FFF;
	r.rbp = DATA_LA;
	assert_int_equal(RAISE(&r, &s, "\x8b\x45\x00"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 12);
	/* expand-down: valid above the limit */
	r = before;
	s.ds.attr = 0xC97;
	s.ds.limit = 0x6FFF;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_OK);
	r = before;
	s.ds.limit = 0x7000;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 13);
	/* a null (not present) segment */
	s.ds.attr = 0;
	s.ds.limit = 0xFFFFFFFF;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	/* MOVS checks both segments */
	mode_setup(M_PROT32, &r, &s);
	s.es.limit = 0x7000;
	r.rsi = DATA_LA;
	r.rdi = DATA_LA;
	assert_int_equal(RAISE(&r, &s, "\xa5"), EMU_FAULT);
	assert_int_equal(fk.nlog, 1); /* the read happened, the write did not */
	/* real mode: a word at 0xFFFF is #GP without an error code */
	mode_setup(M_REAL, &r, &s);
	r.rbx = 0xFFFF;
	assert_int_equal(RAISE(&r, &s, "\x8b\x07"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 13);
	assert_false(last_fault.has_error);
	/* 64-bit mode has no limits */
	mode_setup(M_LONG, &r, &s);
	s.ds.limit = 0;
	s.ds.attr = 0;
	r.rbx = DATA_LA;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_OK);
}

static void test_canonical(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(M_LONG, &r, &s);
	r.rbx = 0x0000800000000000ULL;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 13);
	assert_true(last_fault.has_error);
	r.rbp = 0x0000800000000000ULL;
	assert_int_equal(RAISE(&r, &s, "\x8b\x45\x00"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 12);
	r.rbx = 0x00007FFFFFFFFFFEULL; /* the last byte is not canonical */
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 13);
	r.rbx = 0xFFFF800000000000ULL; /* canonical: the callback faults */
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 0);
	assert_int_equal(fk.fault.cr2, 0xFFFF800000000000ULL);
	/* FS base pushing it out */
	s.fs.base = 0x00007FFFFFFFF000ULL;
	r.rbx = 0x1000;
	assert_int_equal(RAISE(&r, &s, "\x64\x8b\x03"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 13);
	/* with LA57, 57 bits */
	s.cr4 |= 1ULL << 12;
	r.rbx = 0x0000800000000000ULL;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 0);
	assert_int_equal(fk.fault.cr2, 0x0000800000000000ULL);
	r.rbx = 0x0100000000000000ULL;
	assert_int_equal(RAISE(&r, &s, "\x8b\x03"), EMU_FAULT);
	assert_int_equal(last_fault.vector, 13);
}

/* ------------------------------------------------- faults and errors -- */

static void test_fetch_fault(void **state)
{
	struct vcpu_regs r, before;
	struct vcpu_sregs s;
	struct emu_fault fault = {.vector = 0xEE};
	struct emu_insn insn;

	mode_setup(M_LONG, &r, &s);
	r.rip = CODE_LA + PAGE - 1; /* "mov eax,[rbx]" split, 2nd page absent */
	r.rbx = DATA_LA;
	put_code(r.rip, "\x8b", 1);
	before = r;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_FAULT);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(fk.fault.vector, 14);
	assert_int_equal(fk.fault.cr2, CODE_LA + PAGE);
	assert_int_equal(fault.vector, 0xEE);
	assert_int_equal(fk.nlog, 0);
	assert_false(fk.crossed);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_FAULT);
	assert_int_equal(emu_insn_len(&fake_ops, &r, &s), 0);
	/* a prefix alone at the end of the page: same */
	put_code(r.rip, "\x48", 1);
	assert_int_equal(emu_insn_len(&fake_ops, &r, &s), 0);
	/* nothing mapped at all */
	r.rip = 0x123000;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_FAULT);
	assert_int_equal(fk.fault.cr2, 0x123000);
	/* and with the next page there, it runs, in two fetches */
	map_page(CODE_LA + PAGE);
	r = before;
	poke64(DATA_LA, M0);
	put_code(CODE_LA + PAGE - 1, "\x8b\x03", 2);
	fk.fetches = 0;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_OK);
	assert_int_equal(r.rax, 0x55667788);
	assert_int_equal(r.rip, CODE_LA + PAGE + 1);
	assert_int_equal(fk.fetches, 2);
	assert_false(fk.crossed);
}

/* A fetch callback that fails (not a fault) is EMU_ERROR. */
static int failing_fetch(void *ctx, uint64_t gva, uint8_t *buf, unsigned len)
{
	return KEEL_ERANGE;
}

static void test_fetch_error(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;
	struct emu_fault fault;
	struct emu_ops ops = fake_ops;

	ops.fetch = failing_fetch;
	mode_setup(M_LONG, &r, &s);
	assert_int_equal(emu_execute(&ops, &r, &s, &fault), EMU_ERROR);
	assert_int_equal(emu_insn_len(&ops, &r, &s), 0);
}

static void test_ip_wrap(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	/* real mode: the instruction wraps from IP 0xFFFF to 0 */
	mode_setup(M_REAL, &r, &s);
	map_page(0xF000);
	map_page(0x0000);
	s.cs.base = 0;
	r.rip = 0xFFFF;
	r.rbx = DATA_LA;
	poke64(DATA_LA, M0);
	page_of(0xF000)[0xFFF] = 0x8B;
	page_of(0x0000)[0] = 0x07;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &(struct emu_fault){0}),
			 EMU_OK);
	assert_int_equal(r.rip, 1);
	assert_int_equal(r.rax, LO16(INIT(RAX), 0x7788));
	assert_int_equal(emu_insn_len(&fake_ops, &(struct vcpu_regs){.rip = 0xFFFF,
			.rflags = 2}, &s), 2);
	/* RIP advance wraps at 16 bits */
	r.rip = 0xFFFE;
	page_of(0xF000)[0xFFE] = 0x89;
	page_of(0xF000)[0xFFF] = 0x07;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &(struct emu_fault){0}),
			 EMU_OK);
	assert_int_equal(r.rip, 0);
	/* with a CS base: linear = base + IP */
	mode_setup(M_REAL, &r, &s);
	s.cs.base = 0x1000;
	s.cs.sel = 0x100;
	r.rip = 0x2000;
	r.rbx = DATA_LA;
	put_code(0x3000, "\x89\x07", 2);
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &(struct emu_fault){0}),
			 EMU_OK);
	assert_int_equal(r.rip, 0x2002);
	/* 32-bit: EIP wraps at 4 GiB */
	mode_setup(M_PROT32, &r, &s);
	map_page(0xFFFFF000);
	r.rip = 0xFFFFFFFE;
	r.rbx = DATA_LA;
	page_of(0xFFFFF000)[0xFFE] = 0x89;
	page_of(0xFFFFF000)[0xFFF] = 0x03;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &(struct emu_fault){0}),
			 EMU_OK);
	assert_int_equal(r.rip, 0);
	/* 64-bit: no wrap */
	mode_setup(M_LONG, &r, &s);
	map_page(0x1FFFFF000ULL);
	r.rip = 0x1FFFFFFFEULL;
	r.rbx = DATA_LA;
	page_of(0x1FFFFF000ULL)[0xFFE] = 0x89;
	page_of(0x1FFFFF000ULL)[0xFFF] = 0x03;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &(struct emu_fault){0}),
			 EMU_OK);
	assert_int_equal(r.rip, 0x200000000ULL);
}

static void test_data_fault_and_error(void **state)
{
	struct vcpu_regs r, before;
	struct vcpu_sregs s;
	struct emu_fault fault = {.vector = 0xEE};

	mode_setup(M_LONG, &r, &s);
	r.rbx = 0x5000; /* not mapped */
	put_code(r.rip, "\x89\x03", 2);
	before = r;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_FAULT);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(fk.fault.vector, 14);
	assert_int_equal(fk.fault.cr2, 0x5000);
	assert_int_equal(fk.fault.error, 2);
	assert_int_equal(fault.vector, 0xEE);
	/* a device error */
	r.rbx = DATA_LA;
	fk.eio_la = DATA_LA;
	before = r;
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_ERROR);
	assert_memory_equal(&r, &before, sizeof(r));
	put_code(r.rip, "\x8b\x03", 2);
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_ERROR);
	assert_memory_equal(&r, &before, sizeof(r));
}

/* XCHG and ALU ops: when the write faults nothing else changes. */
static void test_write_fault_changes_nothing(void **state)
{
	struct vcpu_regs r, before;
	struct vcpu_sregs s;
	struct emu_fault fault;

	mode_setup(M_LONG, &r, &s);
	r.rbx = DATA_LA;
	before = r;
	fk.eio_la = 0;
	/* the fake's data page becomes read-only: writes #PF */
	for (unsigned i = 0; i < fk.npages; i++)
		if (fk.pages[i].la == DATA_LA)
			fk.pages[i].ro = true;
	put_code(r.rip, "\x87\x03", 2);
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_FAULT);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(fk.fault.error, 3);
	put_code(r.rip, "\x01\x03", 2);
	assert_int_equal(emu_execute(&fake_ops, &r, &s, &fault), EMU_FAULT);
	assert_memory_equal(&r, &before, sizeof(r)); /* flags too */
	assert_int_equal(peek64(DATA_LA), 0);
}

/* ------------------------------------------------------------- decode -- */

static void test_decode_fields(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;
	struct emu_insn insn;
	struct emu_fault fault;

	mode_setup(M_LONG, &r, &s);
	s.fs.base = 0x1000;
	r.rbx = 0xFFFFFFFF00000100ULL;
	r.rcx = 0x10;
	put_code(r.rip, "\x64\x67\x48\x8b\x84\x8b\x78\x56\x34\x12", 10);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.len, 10);
	assert_int_equal(insn.opcode, 0x8B);
	assert_false(insn.two_byte);
	assert_int_equal(insn.mode, 8);
	assert_int_equal(insn.op_size, 8);
	assert_int_equal(insn.addr_size, 4);
	assert_int_equal(insn.seg, EMU_SEG_FS);
	assert_int_equal(insn.mem_seg, EMU_SEG_FS);
	assert_int_equal(insn.rex, 0x48);
	assert_int_equal(insn.modrm, 0x84);
	assert_true(insn.has_modrm);
	assert_true(insn.mem_operand);
	assert_int_equal(insn.ea_off, 0x123457B8);
	assert_int_equal(insn.ea, 0x123467B8);
	assert_memory_equal(insn.bytes, "\x64\x67\x48\x8b\x84\x8b\x78\x56\x34\x12",
			    10);

	/* default SS for an RBP base, recorded even where its base is 0 */
	put_code(r.rip, "\x8b\x45\x10", 3);
	r.rbp = 0x5000;
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.mem_seg, EMU_SEG_SS);
	assert_int_equal(insn.ea, 0x5010);
	assert_int_equal(insn.seg, -1);

	/* rep / repne: the last one counts, both mean repeat */
	put_code(r.rip, "\xf3\xa4", 2);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_true(insn.rep);
	assert_false(insn.repne);
	put_code(r.rip, "\xf2\xa4", 2);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_true(insn.rep);
	assert_true(insn.repne);
	put_code(r.rip, "\xf2\xf3\xa4", 3);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_true(insn.rep);
	assert_false(insn.repne);
	assert_int_equal(insn.len, 3);

	/* 0F 20: MOV from CR, the mod bits ignored (no memory operand) */
	put_code(r.rip, "\x0f\x20\x00", 3);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.len, 3);
	assert_true(insn.two_byte);
	assert_int_equal(insn.map, 1);
	assert_false(insn.mem_operand);

	/* VEX: decoded for its length, no memory operand computed */
	put_code(r.rip, "\xc5\xf8\x10\x43\x10", 5);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.len, 5);
	assert_true(insn.vex);
	assert_int_equal(insn.map, 1);
	assert_int_equal(insn.opcode, 0x10);
	assert_false(insn.mem_operand);

	/* 0F 38 map */
	put_code(r.rip, "\x66\x0f\x38\x00\x03", 5);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.map, 2);
	assert_int_equal(insn.opcode, 0x00);
	assert_true(insn.mem_operand);

	/* immediates: ENTER keeps its imm16, far pointers their offset */
	mode_setup(M_PROT32, &r, &s);
	put_code(r.rip, "\xc8\x34\x12\x05", 4);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.len, 4);
	assert_int_equal(insn.imm, 0x1234);
	put_code(r.rip, "\xea\x78\x56\x34\x12\x08\x00", 7);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.len, 7);
	assert_int_equal(insn.imm, 0x12345678);
	put_code(r.rip, "\x6a\xfe", 2);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.imm, -2);
	mode_setup(M_LONG, &r, &s);

	/* undefined */
	put_code(r.rip, "\x0f\x0a", 2);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault),
			 EMU_UNHANDLED);
}

/* What the core's string I/O needs: INS/OUTS decoded, ea (ES:rDI) and
 * ea_src (DS:rSI or the override). */
static void test_decode_string_io(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;
	struct emu_insn insn;
	struct emu_fault fault;

	mode_setup(M_PROT32, &r, &s);
	s.ds.base = 0x1000;
	s.es.base = 0x2000;
	s.fs.base = 0x3000;
	r.rsi = 0x10;
	r.rdi = 0x20;
	put_code(r.rip, "\x64\xf3\x66\x6f", 4); /* rep outsw fs: */
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.len, 4);
	assert_true(insn.rep);
	assert_int_equal(insn.op_size, 2);
	assert_int_equal(insn.addr_size, 4);
	assert_int_equal(insn.seg, EMU_SEG_FS);
	assert_int_equal(insn.ea_src, 0x3010);
	assert_int_equal(insn.ea, 0x2020);
	put_code(r.rip, "\x67\x6c", 2); /* insb, 16-bit addressing */
	r.rdi = 0xFFFF0020;
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.op_size, 1);
	assert_int_equal(insn.addr_size, 2);
	assert_int_equal(insn.ea, 0x2020);
	/* moffs with GS in 64-bit mode */
	mode_setup(M_LONG, &r, &s);
	s.gs.base = 0x10000;
	put_code(r.rip, "\x65\xa1\x00\x70\x00\x00\x00\x00\x00\x00", 10);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.len, 10);
	assert_int_equal(insn.ea, 0x17000);
}

/* RIP-relative with 67: EIP-relative, truncated to 32 bits. */
static void test_decode_rip_relative(void **state)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;
	struct emu_insn insn;
	struct emu_fault fault;

	mode_setup(M_LONG, &r, &s);
	map_page(0xFFFFF000);
	r.rip = 0xFFFFFFF0;
	put_code(r.rip, "\x67\x8b\x05\x10\x70\x00\x00", 7);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.ea, 0x7007);
	put_code(r.rip, "\x8b\x05\x10\x70\x00\x00", 6);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.ea, 0x100007006ULL);
	/* the immediate counts in the next-RIP base */
	r.rip = CODE_LA;
	put_code(r.rip, "\xc7\x05\x00\x10\x00\x00\x78\x56\x34\x12", 10);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.ea, CODE_LA + 10 + 0x1000);
	/* in 32-bit mode the same ModRM is an absolute disp32 */
	mode_setup(M_PROT32, &r, &s);
	put_code(r.rip, "\x8b\x05\x00\x70\x00\x00", 6);
	assert_int_equal(emu_decode(&fake_ops, &r, &s, &insn, &fault), EMU_OK);
	assert_int_equal(insn.ea, 0x7000);
}

static void test_helpers(void **state)
{
	struct vcpu_regs r = {0};
	struct vcpu_sregs s = {0};

	r.r8 = 8;
	r.rsp = 4;
	assert_ptr_equal(emu_gpr(&r, 0), &r.rax);
	assert_ptr_equal(emu_gpr(&r, 1), &r.rcx);
	assert_ptr_equal(emu_gpr(&r, 2), &r.rdx);
	assert_ptr_equal(emu_gpr(&r, 3), &r.rbx);
	assert_ptr_equal(emu_gpr(&r, 4), &r.rsp);
	assert_ptr_equal(emu_gpr(&r, 5), &r.rbp);
	assert_ptr_equal(emu_gpr(&r, 6), &r.rsi);
	assert_ptr_equal(emu_gpr(&r, 7), &r.rdi);
	assert_ptr_equal(emu_gpr(&r, 15), &r.r15);
	assert_int_equal(*emu_gpr(&r, 8), 8);
	/* modes */
	assert_int_equal(emu_code_size(&r, &s), 2);
	s.cr0 = 1;
	assert_int_equal(emu_code_size(&r, &s), 2);
	s.cs.attr = SEG_ATTR_DB;
	assert_int_equal(emu_code_size(&r, &s), 4);
	r.rflags = 1u << 17; /* virtual-8086 */
	assert_int_equal(emu_code_size(&r, &s), 2);
	r.rflags = 2;
	s.efer = 1u << 10;
	assert_int_equal(emu_code_size(&r, &s), 4); /* compatibility */
	s.cs.attr = SEG_ATTR_L;
	assert_int_equal(emu_code_size(&r, &s), 8);
	s.efer = 0; /* L without LMA means nothing */
	assert_int_equal(emu_code_size(&r, &s), 2);
	/* linear addresses */
	s.ds.base = 0xFFFFFFF0;
	s.fs.base = 0x1000;
	assert_int_equal(emu_linear(&s, 4, EMU_SEG_DS, 0x20), 0x10);
	assert_int_equal(emu_linear(&s, 8, EMU_SEG_DS, 0x20), 0x20);
	assert_int_equal(emu_linear(&s, 8, EMU_SEG_FS, 0x20), 0x1020);
	assert_ptr_equal(emu_seg(&s, EMU_SEG_GS), &s.gs);
	assert_ptr_equal(emu_seg(&s, -1), &s.ds);
}

/* ----------------------------------------------------- length corpus -- */

struct len_case {
	unsigned mode; /* 16, 32, 64 */
	unsigned len;
	const char *bytes;
};

/* Generated once from GNU as 2.40: each instruction between two labels
 * (its length is the assembler's), cross-checked with objdump -d of the
 * same bytes (one instruction of that length); the mnemonic is objdump's. */
static const struct len_case len_cases[] = {
	{64, 2, "\x0f\xa2"}, /* cpuid */
	{64, 2, "\x0f\x32"}, /* rdmsr */
	{64, 2, "\x0f\x30"}, /* wrmsr */
	{64, 3, "\x0f\x01\xd9"}, /* vmmcall */
	{64, 3, "\x0f\x01\xc1"}, /* vmcall */
	{64, 1, "\xf4"}, /* hlt */
	{64, 2, "\x0f\x08"}, /* invd */
	{64, 2, "\x0f\x09"}, /* wbinvd */
	{64, 3, "\x66\x0f\xa2"}, /* data16 cpuid */
	{64, 3, "\x48\x0f\xa2"}, /* rex.W cpuid */
	{64, 3, "\xf3\x0f\xa2"}, /* repz cpuid */
	{64, 2, "\xf2\xf4"}, /* repnz hlt */
	{64, 3, "\x2e\x0f\xa2"}, /* cs cpuid */
	{64, 2, "\x64\xf4"}, /* fs hlt */
	{64, 7, "\x66\x67\xf3\x2e\x48\x0f\xa2"}, /* data16 addr32 repz cs rex.W cpuid */
	{64, 4, "\xf3\x0f\x01\xd9"}, /* vmgexit */
	{64, 4, "\x48\x66\x0f\x09"}, /* rex.W data16 wbinvd: a REX before 66 is ignored (by hand) */
	{64, 4, "\x66\x0f\x01\xc1"}, /* data16 vmcall */
	{64, 3, "\x40\x0f\x32"}, /* rex rdmsr */
	{64, 8, "\x26\x36\x3e\x64\x65\x66\x67\xf4"}, /* es ss ds fs gs data16 addr32 hlt */
	{64, 2, "\x0f\x31"}, /* rdtsc */
	{64, 3, "\x0f\x01\xf9"}, /* rdtscp */
	{64, 2, "\x0f\x33"}, /* rdpmc */
	{64, 3, "\x0f\x01\xd0"}, /* xgetbv */
	{64, 3, "\x0f\x01\xd1"}, /* xsetbv */
	{64, 2, "\x89\x03"}, /* mov %eax,(%rbx) */
	{64, 2, "\x88\x03"}, /* mov %al,(%rbx) */
	{64, 3, "\x66\x89\x03"}, /* mov %ax,(%rbx) */
	{64, 3, "\x48\x89\x03"}, /* mov %rax,(%rbx) */
	{64, 3, "\x4d\x89\x01"}, /* mov %r8,(%r9) */
	{64, 4, "\x45\x89\x3c\x24"}, /* mov %r15d,(%r12) */
	{64, 3, "\x40\x88\x37"}, /* mov %sil,(%rdi) */
	{64, 2, "\x88\x27"}, /* mov %ah,(%rdi) */
	{64, 2, "\x8a\x20"}, /* mov (%rax),%ah */
	{64, 7, "\x48\x8b\x05\x78\x56\x34\x12"}, /* mov 0x12345678(%rip),%rax # 0x123456e3 */
	{64, 6, "\x89\x05\xf0\xff\xff\xff"}, /* mov %eax,-0x10(%rip) # 0x61 */
	{64, 7, "\x67\x8b\x05\x12\x00\x00\x00"}, /* mov 0x12(%eip),%eax # 0x8a */
	{64, 9, "\xa0\x88\x77\x66\x55\x44\x33\x22\x11"}, /* movabs 0x1122334455667788,%al */
	{64, 9, "\xa1\x88\x77\x66\x55\x44\x33\x22\x11"}, /* movabs 0x1122334455667788,%eax */
	{64, 10, "\x48\xa3\x88\x77\x66\x55\x44\x33\x22\x11"}, /* movabs %rax,0x1122334455667788 */
	{64, 10, "\x66\xa3\x88\x77\x66\x55\x44\x33\x22\x11"}, /* movabs %ax,0x1122334455667788 */
	{64, 6, "\x67\xa1\x78\x56\x34\x12"}, /* addr32 mov 0x12345678,%eax */
	{64, 6, "\x67\xa0\x78\x56\x34\x12"}, /* addr32 mov 0x12345678,%al */
	{64, 6, "\x67\xa3\x78\x56\x34\x12"}, /* addr32 mov %eax,0x12345678 */
	{64, 9, "\x64\x48\x8b\x04\x25\x28\x00\x00\x00"}, /* mov %fs:0x28,%rax */
	{64, 3, "\x65\x8b\x08"}, /* mov %gs:(%rax),%ecx */
	{64, 3, "\x8b\x04\x24"}, /* mov (%rsp),%eax */
	{64, 3, "\x8b\x45\x00"}, /* mov 0x0(%rbp),%eax */
	{64, 4, "\x41\x8b\x04\x24"}, /* mov (%r12),%eax */
	{64, 4, "\x41\x8b\x45\x00"}, /* mov 0x0(%r13),%eax */
	{64, 4, "\x8b\x44\x24\x12"}, /* mov 0x12(%rsp),%eax */
	{64, 6, "\x8b\x85\x45\x23\x01\x00"}, /* mov 0x12345(%rbp),%eax */
	{64, 7, "\x8b\x0c\xc5\x00\x00\x00\x00"}, /* mov 0x0(,%rax,8),%ecx */
	{64, 8, "\x42\x8b\x0c\x9d\x78\x56\x34\x12"}, /* mov 0x12345678(,%r11,4),%ecx */
	{64, 4, "\x8b\x4c\x58\x12"}, /* mov 0x12(%rax,%rbx,2),%ecx */
	{64, 5, "\x4f\x8b\x54\x08\x80"}, /* mov -0x80(%r8,%r9,1),%r10 */
	{64, 3, "\x8b\x04\x20"}, /* mov (%rax,%riz,1),%eax */
	{64, 7, "\x8b\x04\x25\x34\x12\x00\x00"}, /* mov 0x1234,%eax */
	{64, 3, "\x67\x8b\x00"}, /* mov (%eax),%eax */
	{64, 4, "\x67\x8b\x04\x8c"}, /* mov (%esp,%ecx,4),%eax */
	{64, 3, "\xc6\x00\x12"}, /* movb $0x12,(%rax) */
	{64, 5, "\x66\xc7\x00\x34\x12"}, /* movw $0x1234,(%rax) */
	{64, 6, "\xc7\x00\x78\x56\x34\x12"}, /* movl $0x12345678,(%rax) */
	{64, 7, "\x48\xc7\x00\x88\xa9\xcb\xed"}, /* movq $0xffffffffedcba988,(%rax) */
	{64, 12, "\x48\xc7\x84\xd8\x00\x01\x00\x00\x12\x00\x00\x00"}, /* movq $0x12,0x100(%rax,%rbx,8) */
	{64, 9, "\x66\xc7\x05\x78\x56\x34\x12\x34\x12"}, /* movw $0x1234,0x12345678(%rip) # 0x1234579f */
	{64, 7, "\xc6\x05\xff\xff\xff\xff\x01"}, /* movb $0x1,-0x1(%rip) # 0x12d */
	{64, 3, "\x0f\xb6\x00"}, /* movzbl (%rax),%eax */
	{64, 4, "\x66\x0f\xb6\x00"}, /* movzbw (%rax),%ax */
	{64, 3, "\x0f\xb7\x00"}, /* movzwl (%rax),%eax */
	{64, 4, "\x48\x0f\xb6\x00"}, /* movzbq (%rax),%rax */
	{64, 4, "\x4c\x0f\xb7\x08"}, /* movzwq (%rax),%r9 */
	{64, 3, "\x0f\xbe\x00"}, /* movsbl (%rax),%eax */
	{64, 3, "\x0f\xbf\x00"}, /* movswl (%rax),%eax */
	{64, 4, "\x66\x0f\xbe\xc4"}, /* movsbw %ah,%ax */
	{64, 4, "\x48\x0f\xbf\x00"}, /* movswq (%rax),%rax */
	{64, 3, "\x48\x63\x00"}, /* movslq (%rax),%rax */
	{64, 3, "\x4c\x63\xc0"}, /* movslq %eax,%r8 */
	{64, 2, "\x63\x00"}, /* movsxd (%rax),%eax */
	{64, 1, "\xaa"}, /* stos %al,%es:(%rdi) */
	{64, 2, "\x66\xab"}, /* stos %ax,%es:(%rdi) */
	{64, 1, "\xab"}, /* stos %eax,%es:(%rdi) */
	{64, 2, "\x48\xab"}, /* stos %rax,%es:(%rdi) */
	{64, 2, "\xf3\xaa"}, /* rep stos %al,%es:(%rdi) */
	{64, 3, "\xf3\x48\xab"}, /* rep stos %rax,%es:(%rdi) */
	{64, 1, "\xa4"}, /* movsb %ds:(%rsi),%es:(%rdi) */
	{64, 2, "\x48\xa5"}, /* movsq %ds:(%rsi),%es:(%rdi) */
	{64, 2, "\xf3\xa5"}, /* rep movsl %ds:(%rsi),%es:(%rdi) */
	{64, 3, "\x66\xf3\xa5"}, /* rep movsw %ds:(%rsi),%es:(%rdi) */
	{64, 3, "\x67\xf3\xa4"}, /* rep movsb %ds:(%esi),%es:(%edi) */
	{64, 1, "\xac"}, /* lods %ds:(%rsi),%al */
	{64, 2, "\x66\xaf"}, /* scas %es:(%rdi),%ax */
	{64, 1, "\xa7"}, /* cmpsl %es:(%rdi),%ds:(%rsi) */
	{64, 2, "\xf2\xae"}, /* repnz scas %es:(%rdi),%al */
	{64, 1, "\x6c"}, /* insb (%dx),%es:(%rdi) */
	{64, 2, "\x66\x6f"}, /* outsw %ds:(%rsi),(%dx) */
	{64, 2, "\xf3\x6e"}, /* rep outsb %ds:(%rsi),(%dx) */
	{64, 2, "\xf3\x6d"}, /* rep insl (%dx),%es:(%rdi) */
	{64, 2, "\x04\x01"}, /* add $0x1,%al */
	{64, 4, "\x66\x05\x34\x12"}, /* add $0x1234,%ax */
	{64, 5, "\x05\x78\x56\x34\x12"}, /* add $0x12345678,%eax */
	{64, 6, "\x48\x05\x78\x56\x34\x12"}, /* add $0x12345678,%rax */
	{64, 3, "\x83\xc1\x01"}, /* add $0x1,%ecx */
	{64, 5, "\x66\x81\xc1\x34\x12"}, /* add $0x1234,%cx */
	{64, 6, "\x81\xc1\x56\x34\x12\x00"}, /* add $0x123456,%ecx */
	{64, 5, "\x66\x81\x03\x34\x12"}, /* addw $0x1234,(%rbx) */
	{64, 4, "\x80\x04\x8b\x01"}, /* addb $0x1,(%rbx,%rcx,4) */
	{64, 8, "\x81\x44\x24\x10\x78\x56\x34\x12"}, /* addl $0x12345678,0x10(%rsp) */
	{64, 5, "\x49\x83\x04\x24\xff"}, /* addq $0xffffffffffffffff,(%r12) */
	{64, 8, "\x49\x81\x04\x24\x78\x56\x34\x12"}, /* addq $0x12345678,(%r12) */
	{64, 2, "\x01\x00"}, /* add %eax,(%rax) */
	{64, 2, "\x02\x00"}, /* add (%rax),%al */
	{64, 3, "\x4c\x11\x00"}, /* adc %r8,(%rax) */
	{64, 3, "\x66\x1b\x00"}, /* sbb (%rax),%ax */
	{64, 3, "\x29\x77\x12"}, /* sub %esi,0x12(%rdi) */
	{64, 3, "\x80\xe3\x0f"}, /* and $0xf,%bl */
	{64, 5, "\x66\x81\x08\x00\x01"}, /* orw $0x100,(%rax) */
	{64, 3, "\x80\x30\x80"}, /* xorb $0x80,(%rax) */
	{64, 6, "\x81\x38\x78\x56\x34\x12"}, /* cmpl $0x12345678,(%rax) */
	{64, 2, "\x38\x00"}, /* cmp %al,(%rax) */
	{64, 4, "\x49\x83\xfb\xff"}, /* cmp $0xffffffffffffffff,%r11 */
	{64, 3, "\xf0\x01\x00"}, /* lock add %eax,(%rax) */
	{64, 5, "\xf0\x48\x83\x08\x01"}, /* lock orq $0x1,(%rax) */
	{64, 3, "\xf0\x87\x03"}, /* lock xchg %eax,(%rbx) */
	{64, 2, "\x86\x03"}, /* xchg %al,(%rbx) */
	{64, 2, "\x49\x90"}, /* xchg %rax,%r8 */
	{64, 1, "\x91"}, /* xchg %eax,%ecx */
	{64, 2, "\x84\x00"}, /* test %al,(%rax) */
	{64, 3, "\x48\x85\xc0"}, /* test %rax,%rax */
	{64, 3, "\xf6\xc3\x01"}, /* test $0x1,%bl */
	{64, 3, "\xf6\x00\x01"}, /* testb $0x1,(%rax) */
	{64, 5, "\x66\xf7\x00\x34\x12"}, /* testw $0x1234,(%rax) */
	{64, 6, "\xf7\x00\x78\x56\x34\x12"}, /* testl $0x12345678,(%rax) */
	{64, 7, "\x48\xf7\x00\x78\x56\x34\x12"}, /* testq $0x12345678,(%rax) */
	{64, 2, "\xa8\x12"}, /* test $0x12,%al */
	{64, 4, "\x66\xa9\x34\x12"}, /* test $0x1234,%ax */
	{64, 5, "\xa9\x78\x56\x34\x12"}, /* test $0x12345678,%eax */
	{64, 6, "\x48\xa9\x78\x56\x34\x12"}, /* test $0x12345678,%rax */
	{64, 3, "\xf6\x08\x12"}, /* testb $0x12,(%rax) */
	{64, 5, "\x66\xf7\x08\x34\x12"}, /* testw $0x1234,(%rax) */
	{64, 2, "\xf7\x10"}, /* notl (%rax) */
	{64, 3, "\x66\xf7\xd8"}, /* neg %ax */
	{64, 2, "\xf6\x21"}, /* mulb (%rcx) */
	{64, 3, "\xf7\x68\x10"}, /* imull 0x10(%rax) */
	{64, 3, "\x48\xf7\x30"}, /* divq (%rax) */
	{64, 2, "\xf7\xf9"}, /* idiv %ecx */
	{64, 2, "\xff\x00"}, /* incl (%rax) */
	{64, 2, "\xfe\xc8"}, /* dec %al */
	{64, 2, "\xff\x10"}, /* call *(%rax) */
	{64, 2, "\xff\xe0"}, /* jmp *%rax */
	{64, 2, "\xff\x28"}, /* ljmp *(%rax) */
	{64, 2, "\xff\x18"}, /* lcall *(%rax) */
	{64, 2, "\xff\x30"}, /* push (%rax) */
	{64, 2, "\x8f\x00"}, /* pop (%rax) */
	{64, 5, "\x68\x78\x56\x34\x12"}, /* push $0x12345678 */
	{64, 4, "\x66\x68\x34\x12"}, /* pushw $0x1234 */
	{64, 2, "\x6a\x01"}, /* push $0x1 */
	{64, 1, "\x50"}, /* push %rax */
	{64, 2, "\x41\x5c"}, /* pop %r12 */
	{64, 10, "\x48\xb8\x88\x77\x66\x55\x44\x33\x22\x11"}, /* movabs $0x1122334455667788,%rax */
	{64, 6, "\x41\xb8\x78\x56\x34\x12"}, /* mov $0x12345678,%r8d */
	{64, 5, "\x66\x41\xb9\x34\x12"}, /* mov $0x1234,%r9w */
	{64, 3, "\x41\xb2\x08"}, /* mov $0x8,%r10b */
	{64, 2, "\xb4\x12"}, /* mov $0x12,%ah */
	{64, 7, "\x48\xc7\xc0\x78\x56\x34\x12"}, /* mov $0x12345678,%rax */
	{64, 4, "\xc8\x10\x00\x01"}, /* enter $0x10,$0x1 */
	{64, 1, "\xc9"}, /* leave */
	{64, 1, "\xc3"}, /* ret */
	{64, 3, "\xc2\x08\x00"}, /* ret $0x8 */
	{64, 2, "\x48\xcb"}, /* lretq */
	{64, 4, "\x48\xca\x08\x00"}, /* lretq $0x8 */
	{64, 2, "\xcd\x80"}, /* int $0x80 */
	{64, 1, "\xcc"}, /* int3 */
	{64, 1, "\xf1"}, /* int1 */
	{64, 2, "\x48\xcf"}, /* iretq */
	{64, 1, "\xcf"}, /* iret */
	{64, 2, "\xeb\x0e"}, /* jmp 0x294 */
	{64, 5, "\xe9\xfb\x0f\x00\x00"}, /* jmp 0x1286 */
	{64, 5, "\xe8\xfb\x0f\x00\x00"}, /* call 0x128b */
	{64, 2, "\x74\x0e"}, /* je 0x2a0 */
	{64, 6, "\x0f\x85\xfa\x0f\x00\x00"}, /* jne 0x1292 */
	{64, 2, "\xe3\x0e"}, /* jrcxz 0x2a8 */
	{64, 2, "\xe2\x0e"}, /* loop 0x2aa */
	{64, 4, "\x66\xe9\x00\x00"}, /* jmpw 0x2a0 */
	{64, 4, "\x66\xe8\x00\x00"}, /* callw 0x2a4 */
	{64, 5, "\x66\x0f\x84\x00\x00"}, /* je 0x2a9 */
	{64, 7, "\x66\x48\xe9\x00\x00\x00\x00"}, /* data16 rex.W jmp 0x2b0 */
	{64, 3, "\x6b\x00\x12"}, /* imul $0x12,(%rax),%eax */
	{64, 6, "\x69\x00\x78\x56\x34\x12"}, /* imul $0x12345678,(%rax),%eax */
	{64, 5, "\x66\x69\xc8\x34\x12"}, /* imul $0x1234,%ax,%cx */
	{64, 3, "\x0f\xaf\x08"}, /* imul (%rax),%ecx */
	{64, 3, "\xc1\xe0\x03"}, /* shl $0x3,%eax */
	{64, 2, "\xd0\x28"}, /* shrb (%rax) */
	{64, 3, "\x48\xd3\xfa"}, /* sar %cl,%rdx */
	{64, 2, "\xd1\xc0"}, /* rol %eax */
	{64, 4, "\x0f\xa4\x00\x03"}, /* shld $0x3,%eax,(%rax) */
	{64, 3, "\x0f\xad\x00"}, /* shrd %cl,%eax,(%rax) */
	{64, 4, "\x0f\xba\xe0\x03"}, /* bt $0x3,%eax */
	{64, 3, "\x0f\xab\x00"}, /* bts %eax,(%rax) */
	{64, 5, "\x48\x0f\xba\x38\x3f"}, /* btcq $0x3f,(%rax) */
	{64, 3, "\x0f\xbc\x00"}, /* bsf (%rax),%eax */
	{64, 3, "\x0f\xbd\xc8"}, /* bsr %eax,%ecx */
	{64, 2, "\x0f\xc8"}, /* bswap %eax */
	{64, 3, "\x49\x0f\xcc"}, /* bswap %r12 */
	{64, 3, "\x0f\x44\x00"}, /* cmove (%rax),%eax */
	{64, 4, "\x4d\x0f\x45\xc8"}, /* cmovne %r8,%r9 */
	{64, 3, "\x0f\x94\xc0"}, /* sete %al */
	{64, 3, "\x0f\x95\x00"}, /* setne (%rax) */
	{64, 3, "\x0f\xb1\x03"}, /* cmpxchg %eax,(%rbx) */
	{64, 4, "\xf0\x0f\xc7\x08"}, /* lock cmpxchg8b (%rax) */
	{64, 5, "\xf0\x48\x0f\xc7\x08"}, /* lock cmpxchg16b (%rax) */
	{64, 3, "\x0f\xc1\x03"}, /* xadd %eax,(%rbx) */
	{64, 5, "\x48\x8d\x4c\x98\x10"}, /* lea 0x10(%rax,%rbx,4),%rcx */
	{64, 7, "\x48\x8d\x05\x10\x00\x00\x00"}, /* lea 0x10(%rip),%rax # 0x321 */
	{64, 2, "\x66\x98"}, /* cbtw */
	{64, 1, "\x98"}, /* cwtl */
	{64, 2, "\x48\x98"}, /* cltq */
	{64, 2, "\x66\x99"}, /* cwtd */
	{64, 1, "\x99"}, /* cltd */
	{64, 2, "\x48\x99"}, /* cqto */
	{64, 1, "\x9e"}, /* sahf */
	{64, 1, "\x9f"}, /* lahf */
	{64, 1, "\x9c"}, /* pushf */
	{64, 1, "\x9d"}, /* popf */
	{64, 1, "\xf8"}, /* clc */
	{64, 1, "\xf9"}, /* stc */
	{64, 1, "\xfa"}, /* cli */
	{64, 1, "\xfb"}, /* sti */
	{64, 1, "\xfc"}, /* cld */
	{64, 1, "\xfd"}, /* std */
	{64, 1, "\xf5"}, /* cmc */
	{64, 1, "\x90"}, /* nop */
	{64, 2, "\xf3\x90"}, /* pause */
	{64, 5, "\x66\x0f\x1f\x04\x00"}, /* nopw (%rax,%rax,1) */
	{64, 3, "\x0f\x1f\x00"}, /* nopl (%rax) */
	{64, 10, "\x66\x2e\x0f\x1f\x84\x00\x00\x00\x00\x00"}, /* cs nopw 0x0(%rax,%rax,1) */
	{64, 4, "\xf3\x0f\x1e\xfa"}, /* endbr64 */
	{64, 2, "\xe4\x60"}, /* in $0x60,%al */
	{64, 2, "\xe5\x60"}, /* in $0x60,%eax */
	{64, 2, "\xe6\x80"}, /* out %al,$0x80 */
	{64, 3, "\x66\xe7\x80"}, /* out %ax,$0x80 */
	{64, 1, "\xec"}, /* in (%dx),%al */
	{64, 1, "\xed"}, /* in (%dx),%eax */
	{64, 1, "\xef"}, /* out %eax,(%dx) */
	{64, 1, "\xd7"}, /* xlat %ds:(%rbx) */
	{64, 3, "\x0f\x01\x10"}, /* lgdt (%rax) */
	{64, 4, "\x0f\x01\x40\x10"}, /* sgdt 0x10(%rax) */
	{64, 3, "\x0f\x01\x18"}, /* lidt (%rax) */
	{64, 3, "\x0f\x00\xd0"}, /* lldt %ax */
	{64, 3, "\x0f\x00\xd8"}, /* ltr %ax */
	{64, 3, "\x0f\x00\xc8"}, /* str %eax */
	{64, 3, "\x0f\x01\xe0"}, /* smsw %eax */
	{64, 3, "\x0f\x01\xf0"}, /* lmsw %ax */
	{64, 3, "\x0f\x01\x38"}, /* invlpg (%rax) */
	{64, 3, "\x0f\x01\xf8"}, /* swapgs */
	{64, 2, "\x0f\x05"}, /* syscall */
	{64, 3, "\x48\x0f\x07"}, /* sysretq */
	{64, 2, "\x0f\x34"}, /* sysenter */
	{64, 3, "\x48\x0f\x35"}, /* sysexitq */
	{64, 2, "\x0f\x06"}, /* clts */
	{64, 2, "\x0f\x0b"}, /* ud2 */
	{64, 3, "\x0f\xb9\x00"}, /* ud1 (%rax),%eax */
	{64, 3, "\x0f\xff\x00"}, /* ud0 (%rax),%eax */
	{64, 3, "\x0f\x02\x00"}, /* lar (%rax),%eax */
	{64, 4, "\x66\x0f\x03\xc0"}, /* lsl %ax,%ax */
	{64, 3, "\x0f\x00\xe0"}, /* verr %ax */
	{64, 3, "\x0f\x20\xc0"}, /* mov %cr0,%rax */
	{64, 3, "\x0f\x22\xd8"}, /* mov %rax,%cr3 */
	{64, 4, "\x41\x0f\x20\xe0"}, /* mov %cr4,%r8 */
	{64, 4, "\x44\x0f\x22\xc0"}, /* mov %rax,%cr8 */
	{64, 3, "\x0f\x21\xf8"}, /* mov %db7,%rax */
	{64, 3, "\x0f\x23\xc0"}, /* mov %rax,%db0 */
	{64, 3, "\x0f\x20\x00"}, /* mov %cr0,%rax */
	{64, 3, "\x0f\x22\x18"}, /* mov %rax,%cr3 */
	{64, 3, "\x0f\x21\x05"}, /* mov %db0,%rbp */
	{64, 2, "\x8c\xd8"}, /* mov %ds,%eax */
	{64, 2, "\x8e\xd8"}, /* mov %eax,%ds */
	{64, 2, "\x8c\x00"}, /* mov %es,(%rax) */
	{64, 2, "\x8e\x10"}, /* mov (%rax),%ss */
	{64, 3, "\x0f\x01\xd8"}, /* vmrun */
	{64, 3, "\x0f\x01\xda"}, /* vmload */
	{64, 3, "\x0f\x01\xdb"}, /* vmsave */
	{64, 3, "\x0f\x01\xdc"}, /* stgi */
	{64, 3, "\x0f\x01\xdd"}, /* clgi */
	{64, 3, "\x0f\x01\xde"}, /* skinit */
	{64, 3, "\x0f\x01\xdf"}, /* invlpga */
	{64, 3, "\x0f\x01\xc2"}, /* vmlaunch */
	{64, 3, "\x0f\x01\xc3"}, /* vmresume */
	{64, 3, "\x0f\x01\xc4"}, /* vmxoff */
	{64, 4, "\xf3\x0f\xc7\x30"}, /* vmxon (%rax) */
	{64, 3, "\x0f\xc7\x30"}, /* vmptrld (%rax) */
	{64, 3, "\x0f\xc7\x38"}, /* vmptrst (%rax) */
	{64, 4, "\x66\x0f\xc7\x30"}, /* vmclear (%rax) */
	{64, 3, "\x0f\x78\xc3"}, /* vmread %rax,%rbx */
	{64, 3, "\x0f\x79\x18"}, /* vmwrite (%rax),%rbx */
	{64, 5, "\x66\x0f\x38\x80\x00"}, /* invept (%rax),%rax */
	{64, 5, "\x66\x0f\x38\x81\x00"}, /* invvpid (%rax),%rax */
	{64, 5, "\x66\x0f\x38\x82\x00"}, /* invpcid (%rax),%rax */
	{64, 3, "\x0f\x01\xc8"}, /* monitor %rax,%ecx,%edx */
	{64, 3, "\x0f\x01\xc9"}, /* mwait %eax,%ecx */
	{64, 3, "\x0f\xc7\xf0"}, /* rdrand %eax */
	{64, 4, "\x48\x0f\xc7\xf8"}, /* rdseed %rax */
	{64, 5, "\xf3\x48\x0f\xae\xc0"}, /* rdfsbase %rax */
	{64, 5, "\xf3\x48\x0f\xae\xd8"}, /* wrgsbase %rax */
	{64, 3, "\x0f\xae\x20"}, /* xsave (%rax) */
	{64, 3, "\x0f\xae\x28"}, /* xrstor (%rax) */
	{64, 3, "\x0f\xae\x30"}, /* xsaveopt (%rax) */
	{64, 3, "\x0f\xae\x00"}, /* fxsave (%rax) */
	{64, 4, "\x48\x0f\xae\x08"}, /* fxrstor64 (%rax) */
	{64, 3, "\x0f\xae\xe8"}, /* lfence */
	{64, 3, "\x0f\xae\xf0"}, /* mfence */
	{64, 3, "\x0f\xae\xf8"}, /* sfence */
	{64, 3, "\x0f\xae\x38"}, /* clflush (%rax) */
	{64, 4, "\x66\x0f\xae\x38"}, /* clflushopt (%rax) */
	{64, 3, "\x0f\x18\x08"}, /* prefetcht0 (%rax) */
	{64, 3, "\x0f\x0d\x08"}, /* prefetchw (%rax) */
	{64, 3, "\x0f\xae\x10"}, /* ldmxcsr (%rax) */
	{64, 2, "\xd9\x00"}, /* flds (%rax) */
	{64, 3, "\xdd\x43\x10"}, /* fldl 0x10(%rbx) */
	{64, 2, "\xd8\xc1"}, /* fadd %st(1),%st */
	{64, 2, "\xdf\xe0"}, /* fnstsw %ax */
	{64, 2, "\xdb\xe3"}, /* fninit */
	{64, 2, "\xdf\x38"}, /* fistpll (%rax) */
	{64, 1, "\x9b"}, /* fwait */
	{64, 3, "\x0f\x28\x00"}, /* movaps (%rax),%xmm0 */
	{64, 3, "\x0f\x11\x08"}, /* movups %xmm1,(%rax) */
	{64, 5, "\x66\x45\x0f\x6f\xc8"}, /* movdqa %xmm8,%xmm9 */
	{64, 5, "\x66\x48\x0f\x7e\xc0"}, /* movq %xmm0,%rax */
	{64, 4, "\x66\x0f\x6e\xc0"}, /* movd %eax,%xmm0 */
	{64, 9, "\xf3\x44\x0f\x6f\x3d\x78\x56\x34\x12"}, /* movdqu 0x12345678(%rip),%xmm15 # 0x12345ad2 */
	{64, 3, "\x0f\x58\xc1"}, /* addps %xmm1,%xmm0 */
	{64, 4, "\xf2\x0f\x58\x10"}, /* addsd (%rax),%xmm2 */
	{64, 4, "\x66\x0f\xef\xc9"}, /* pxor %xmm1,%xmm1 */
	{64, 5, "\x66\x0f\x70\xd1\x01"}, /* pshufd $0x1,%xmm1,%xmm2 */
	{64, 4, "\x0f\x70\xd1\x01"}, /* pshufw $0x1,%mm1,%mm2 */
	{64, 5, "\x66\x0f\x71\xd1\x03"}, /* psrlw $0x3,%xmm1 */
	{64, 4, "\x0f\x73\xf1\x03"}, /* psllq $0x3,%mm1 */
	{64, 5, "\x66\x0f\x73\xfb\x04"}, /* pslldq $0x4,%xmm3 */
	{64, 5, "\x66\x0f\xc4\xc0\x01"}, /* pinsrw $0x1,%eax,%xmm0 */
	{64, 5, "\x66\x0f\xc5\xc0\x01"}, /* pextrw $0x1,%xmm0,%eax */
	{64, 4, "\x0f\xc6\xc1\x01"}, /* shufps $0x1,%xmm1,%xmm0 */
	{64, 4, "\x0f\xc2\xc1\x01"}, /* cmpltps %xmm1,%xmm0 */
	{64, 5, "\xf2\x0f\xc2\x00\x01"}, /* cmpltsd (%rax),%xmm0 */
	{64, 6, "\x66\x0f\x3a\x0f\xc1\x03"}, /* palignr $0x3,%xmm1,%xmm0 */
	{64, 5, "\x66\x0f\x38\x00\xc1"}, /* pshufb %xmm1,%xmm0 */
	{64, 4, "\x0f\x38\x00\x00"}, /* pshufb (%rax),%mm0 */
	{64, 6, "\x66\x0f\x3a\x0e\x00\x03"}, /* pblendw $0x3,(%rax),%xmm0 */
	{64, 6, "\x66\x0f\x3a\x16\xc0\x01"}, /* pextrd $0x1,%xmm0,%eax */
	{64, 7, "\x66\x48\x0f\x3a\x22\xc0\x01"}, /* pinsrq $0x1,%rax,%xmm0 */
	{64, 6, "\x66\x0f\x3a\x08\xc1\x01"}, /* roundps $0x1,%xmm1,%xmm0 */
	{64, 6, "\x66\x0f\x3a\x63\xc1\x03"}, /* pcmpistri $0x3,%xmm1,%xmm0 */
	{64, 5, "\x66\x0f\x38\x30\xc1"}, /* pmovzxbw %xmm1,%xmm0 */
	{64, 5, "\xf2\x0f\x38\xf0\xc0"}, /* crc32 %al,%eax */
	{64, 6, "\xf2\x48\x0f\x38\xf1\x00"}, /* crc32q (%rax),%rax */
	{64, 4, "\xf3\x0f\xb8\xc8"}, /* popcnt %eax,%ecx */
	{64, 4, "\xf3\x0f\xbc\x00"}, /* tzcnt (%rax),%eax */
	{64, 5, "\xf3\x48\x0f\xbd\xd8"}, /* lzcnt %rax,%rbx */
	{64, 4, "\x0f\x38\xf0\x00"}, /* movbe (%rax),%eax */
	{64, 5, "\x66\x0f\x38\xdc\xc1"}, /* aesenc %xmm1,%xmm0 */
	{64, 6, "\x66\x0f\x3a\xdf\xc1\x01"}, /* aeskeygenassist $0x1,%xmm1,%xmm0 */
	{64, 6, "\x66\x0f\x3a\x44\xc1\x01"}, /* pclmulhqlqdq %xmm1,%xmm0 */
	{64, 5, "\x0f\x3a\xcc\xc1\x01"}, /* sha1rnds4 $0x1,%xmm1,%xmm0 */
	{64, 4, "\x0f\x38\xcb\xc1"}, /* sha256rnds2 %xmm0,%xmm1,%xmm0 */
	{64, 2, "\x0f\x77"}, /* emms */
	{64, 6, "\x66\x0f\x78\xc0\x02\x01"}, /* extrq $0x1,$0x2,%xmm0 */
	{64, 6, "\xf2\x0f\x78\xc1\x02\x01"}, /* insertq $0x1,$0x2,%xmm1,%xmm0 */
	{64, 4, "\x66\x0f\x79\xc1"}, /* extrq %xmm1,%xmm0 */
	{64, 4, "\x0f\x0f\xc1\x9e"}, /* pfadd %mm1,%mm0 */
	{64, 4, "\x0f\x0f\x00\xb4"}, /* pfmul (%rax),%mm0 */
	{64, 2, "\x0f\x0e"}, /* femms */
	{64, 4, "\xc5\xec\x58\xd9"}, /* vaddps %ymm1,%ymm2,%ymm3 */
	{64, 4, "\xc5\xe8\x58\x18"}, /* vaddps (%rax),%xmm2,%xmm3 */
	{64, 9, "\xc5\x2d\x58\x9c\x98\x78\x56\x34\x12"}, /* vaddpd 0x12345678(%rax,%rbx,4),%ymm10,%ymm11 */
	{64, 5, "\xc4\x41\x7e\x6f\x08"}, /* vmovdqu (%r8),%ymm9 */
	{64, 5, "\xc5\xfd\x70\xd1\x01"}, /* vpshufd $0x1,%ymm1,%ymm2 */
	{64, 5, "\xc5\xe9\x73\xd1\x03"}, /* vpsrlq $0x3,%xmm1,%xmm2 */
	{64, 5, "\xc5\xf0\xc6\x10\x01"}, /* vshufps $0x1,(%rax),%xmm1,%xmm2 */
	{64, 5, "\xc5\xec\xc2\xd9\x01"}, /* vcmpltps %ymm1,%ymm2,%ymm3 */
	{64, 5, "\xc5\xf1\xc4\xd0\x01"}, /* vpinsrw $0x1,%eax,%xmm1,%xmm2 */
	{64, 6, "\xc4\xe3\xfd\x00\x08\x1b"}, /* vpermq $0x1b,(%rax),%ymm1 */
	{64, 6, "\xc4\xe3\x6d\x02\xd9\x03"}, /* vpblendd $0x3,%ymm1,%ymm2,%ymm3 */
	{64, 6, "\xc4\xe3\x6d\x38\xd9\x01"}, /* vinserti128 $0x1,%xmm1,%ymm2,%ymm3 */
	{64, 5, "\xc4\xe2\x7d\x18\x08"}, /* vbroadcastss (%rax),%ymm1 */
	{64, 5, "\xc4\xe2\x6d\x00\xd9"}, /* vpshufb %ymm1,%ymm2,%ymm3 */
	{64, 5, "\xc4\xe2\x6d\xb8\xd9"}, /* vfmadd231ps %ymm1,%ymm2,%ymm3 */
	{64, 6, "\xc4\xe2\x75\x92\x1c\x90"}, /* vgatherdps %ymm1,(%rax,%ymm2,4),%ymm3 */
	{64, 3, "\xc5\xf8\x77"}, /* vzeroupper */
	{64, 3, "\xc5\xfc\x77"}, /* vzeroall */
	{64, 5, "\xc4\xe2\x60\xf2\xc8"}, /* andn %eax,%ebx,%ecx */
	{64, 5, "\xc4\xe2\x78\xf7\x0b"}, /* bextr %eax,(%rbx),%ecx */
	{64, 6, "\xc4\xe3\x7b\xf0\xd8\x03"}, /* rorx $0x3,%eax,%ebx */
	{64, 5, "\xc4\xe2\xf9\xf7\x0b"}, /* shlx %rax,(%rbx),%rcx */
	{64, 5, "\xc4\xe2\x63\xf5\xc8"}, /* pdep %eax,%ebx,%ecx */
	{64, 6, "\x62\xf1\x6c\x48\x58\xd9"}, /* vaddps %zmm1,%zmm2,%zmm3 */
	{64, 7, "\x62\xf1\x74\x48\x58\x50\x01"}, /* vaddps 0x40(%rax),%zmm1,%zmm2 */
	{64, 10, "\x62\xf1\x74\x48\x58\x90\x44\x00\x00\x00"}, /* vaddps 0x44(%rax),%zmm1,%zmm2 */
	{64, 6, "\x62\xf1\x74\xd9\x58\x10"}, /* vaddps (%rax){1to16},%zmm1,%zmm2{%k1}{z} */
	{64, 7, "\x62\xf3\x6d\x48\x25\xd9\x96"}, /* vpternlogd $0x96,%zmm1,%zmm2,%zmm3 */
	{64, 7, "\x62\xf1\x7d\x48\x70\xd1\x01"}, /* vpshufd $0x1,%zmm1,%zmm2 */
	{64, 7, "\x62\xf1\xed\x48\x73\xd1\x03"}, /* vpsrlq $0x3,%zmm1,%zmm2 */
	{64, 7, "\x62\xf1\x6c\x48\xc2\xc9\x01"}, /* vcmpltps %zmm1,%zmm2,%k1 */
	{64, 6, "\x62\x61\xfe\x48\x6f\x38"}, /* vmovdqu64 (%rax),%zmm31 */
	{64, 7, "\x62\xf2\x7d\x49\x90\x1c\x90"}, /* vpgatherdd (%rax,%zmm2,4),%zmm3{%k1} */
	{64, 4, "\xc5\xf8\x93\xc1"}, /* kmovw %k1,%eax */
	{64, 4, "\xc5\xec\x41\xd9"}, /* kandw %k1,%k2,%k3 */
	{64, 6, "\x62\xf5\x6c\x48\x58\xd9"}, /* vaddph %zmm1,%zmm2,%zmm3 */
	{64, 6, "\x62\xf6\x7d\x48\x13\xd1"}, /* vcvtph2psx %ymm1,%zmm2 */
	{64, 6, "\x8f\xe8\x78\xc0\xd1\x01"}, /* vprotb $0x1,%xmm1,%xmm2 */
	{64, 5, "\x8f\xe9\x60\x90\xd1"}, /* vprotb %xmm3,%xmm1,%xmm2 */
	{64, 6, "\x8f\xe8\x68\xa2\xe1\x30"}, /* vpcmov %xmm3,%xmm1,%xmm2,%xmm4 */
	{64, 5, "\x8f\xe9\x78\x80\xd1"}, /* vfrczps %xmm1,%xmm2 */
	{64, 6, "\x8f\xe8\x68\xcc\xd9\x01"}, /* vpcomleb %xmm1,%xmm2,%xmm3 */
	{64, 9, "\x8f\xea\x78\x10\xd8\x34\x12\x00\x00"}, /* bextr $0x1234,%eax,%ebx */
	{64, 5, "\x8f\xe9\x60\x01\xc8"}, /* blcfill %eax,%ebx */
	{64, 5, "\x8f\xe9\x78\x12\xc0"}, /* llwpcb %eax */
	{64, 9, "\x8f\xea\x60\x12\xc0\x78\x56\x34\x12"}, /* lwpins $0x12345678,%eax,%ebx */
	{64, 2, "\x0f\xa1"}, /* pop %fs */
	{64, 2, "\x0f\xa8"}, /* push %gs */
	{32, 2, "\x0f\xa2"}, /* cpuid */
	{32, 2, "\x0f\x32"}, /* rdmsr */
	{32, 2, "\x0f\x30"}, /* wrmsr */
	{32, 3, "\x0f\x01\xd9"}, /* vmmcall */
	{32, 3, "\x0f\x01\xc1"}, /* vmcall */
	{32, 1, "\xf4"}, /* hlt */
	{32, 2, "\x0f\x08"}, /* invd */
	{32, 2, "\x0f\x09"}, /* wbinvd */
	{32, 3, "\x66\x0f\xa2"}, /* data16 cpuid */
	{32, 3, "\xf3\x0f\xa2"}, /* repz cpuid */
	{32, 6, "\x66\x67\xf3\x2e\x0f\xa2"}, /* data16 addr16 repz cs cpuid */
	{32, 6, "\x26\x36\x3e\x64\x65\xf4"}, /* es ss ds fs gs hlt */
	{32, 2, "\x8b\x03"}, /* mov (%ebx),%eax */
	{32, 5, "\xa3\x78\x56\x34\x12"}, /* mov %eax,0x12345678 */
	{32, 5, "\xa1\x78\x56\x34\x12"}, /* mov 0x12345678,%eax */
	{32, 5, "\xa0\x78\x56\x34\x12"}, /* mov 0x12345678,%al */
	{32, 6, "\x66\xa3\x78\x56\x34\x12"}, /* mov %ax,0x12345678 */
	{32, 4, "\x67\xa1\x34\x12"}, /* addr16 mov 0x1234,%eax */
	{32, 4, "\x8b\x44\x24\x12"}, /* mov 0x12(%esp),%eax */
	{32, 3, "\x8b\x45\x00"}, /* mov 0x0(%ebp),%eax */
	{32, 7, "\x8b\x0c\xc5\x00\x00\x00\x00"}, /* mov 0x0(,%eax,8),%ecx */
	{32, 4, "\x8b\x4c\x58\x12"}, /* mov 0x12(%eax,%ebx,2),%ecx */
	{32, 4, "\x67\x66\x8b\x00"}, /* mov (%bx,%si),%ax */
	{32, 6, "\x67\x66\x8b\x83\x34\x12"}, /* mov 0x1234(%bp,%di),%ax */
	{32, 5, "\x67\x66\xa1\x34\x12"}, /* addr16 mov 0x1234,%ax */
	{32, 6, "\xc7\x00\x78\x56\x34\x12"}, /* movl $0x12345678,(%eax) */
	{32, 5, "\x66\xc7\x00\x34\x12"}, /* movw $0x1234,(%eax) */
	{32, 7, "\xc6\x80\x78\x56\x34\x12\x12"}, /* movb $0x12,0x12345678(%eax) */
	{32, 5, "\x66\x81\x03\x34\x12"}, /* addw $0x1234,(%ebx) */
	{32, 6, "\x81\x03\x78\x56\x34\x12"}, /* addl $0x12345678,(%ebx) */
	{32, 3, "\x83\x03\x01"}, /* addl $0x1,(%ebx) */
	{32, 4, "\x66\x05\x34\x12"}, /* add $0x1234,%ax */
	{32, 5, "\x05\x78\x56\x34\x12"}, /* add $0x12345678,%eax */
	{32, 3, "\xf6\x00\x12"}, /* testb $0x12,(%eax) */
	{32, 5, "\x66\xf7\x00\x34\x12"}, /* testw $0x1234,(%eax) */
	{32, 6, "\xf7\x00\x78\x56\x34\x12"}, /* testl $0x12345678,(%eax) */
	{32, 2, "\xf7\x10"}, /* notl (%eax) */
	{32, 3, "\x0f\xb6\x00"}, /* movzbl (%eax),%eax */
	{32, 3, "\x0f\xbf\xc0"}, /* movswl %ax,%eax */
	{32, 2, "\xf3\xa4"}, /* rep movsb %ds:(%esi),%es:(%edi) */
	{32, 2, "\xf3\xab"}, /* rep stos %eax,%es:(%edi) */
	{32, 3, "\x67\xf3\xaa"}, /* rep stos %al,%es:(%di) */
	{32, 2, "\xc4\x18"}, /* les (%eax),%ebx */
	{32, 3, "\xc5\x48\x12"}, /* lds 0x12(%eax),%ecx */
	{32, 3, "\x0f\xb2\x20"}, /* lss (%eax),%esp */
	{32, 2, "\x62\x03"}, /* bound %eax,(%ebx) */
	{32, 2, "\x63\x03"}, /* arpl %ax,(%ebx) */
	{32, 2, "\x62\x03"}, /* bound %eax,(%ebx) */
	{32, 4, "\xc5\xe8\x58\xd9"}, /* vaddps %xmm1,%xmm2,%xmm3 */
	{32, 4, "\xc5\xec\x58\x18"}, /* vaddps (%eax),%ymm2,%ymm3 */
	{32, 6, "\xc4\xe3\xfd\x00\x08\x1b"}, /* vpermq $0x1b,(%eax),%ymm1 */
	{32, 6, "\x62\xf1\x6c\x48\x58\xd9"}, /* vaddps %zmm1,%zmm2,%zmm3 */
	{32, 7, "\x62\xf1\x74\x48\x58\x50\x01"}, /* vaddps 0x40(%eax),%zmm1,%zmm2 */
	{32, 6, "\x8f\xe8\x78\xc0\xd1\x01"}, /* vprotb $0x1,%xmm1,%xmm2 */
	{32, 2, "\x8f\x00"}, /* pop (%eax) */
	{32, 1, "\x60"}, /* pusha */
	{32, 1, "\x61"}, /* popa */
	{32, 1, "\x37"}, /* aaa */
	{32, 1, "\x27"}, /* daa */
	{32, 1, "\x2f"}, /* das */
	{32, 1, "\x3f"}, /* aas */
	{32, 2, "\xd4\x0a"}, /* aam $0xa */
	{32, 2, "\xd5\x0a"}, /* aad $0xa */
	{32, 1, "\xce"}, /* into */
	{32, 1, "\xd6"}, /* (bad) */
	{32, 1, "\x06"}, /* push %es */
	{32, 1, "\x1f"}, /* pop %ds */
	{32, 1, "\x0e"}, /* push %cs */
	{32, 1, "\x16"}, /* push %ss */
	{32, 1, "\x17"}, /* pop %ss */
	{32, 1, "\x40"}, /* inc %eax */
	{32, 1, "\x4f"}, /* dec %edi */
	{32, 5, "\x68\x78\x56\x34\x12"}, /* push $0x12345678 */
	{32, 4, "\x66\x68\x34\x12"}, /* pushw $0x1234 */
	{32, 2, "\x6a\x01"}, /* push $0x1 */
	{32, 5, "\xb8\x78\x56\x34\x12"}, /* mov $0x12345678,%eax */
	{32, 4, "\x66\xb8\x34\x12"}, /* mov $0x1234,%ax */
	{32, 7, "\xea\x78\x56\x34\x12\x10\x00"}, /* ljmp $0x10,$0x12345678 */
	{32, 7, "\x9a\x78\x56\x34\x12\x10\x00"}, /* lcall $0x10,$0x12345678 */
	{32, 6, "\x66\xea\x34\x12\x10\x00"}, /* ljmpw $0x10,$0x1234 */
	{32, 6, "\x66\x9a\x34\x12\x10\x00"}, /* lcallw $0x10,$0x1234 */
	{32, 5, "\xe9\xfb\x0f\x00\x00"}, /* jmp 0x1117 */
	{32, 5, "\xe8\xfb\x0f\x00\x00"}, /* call 0x111c */
	{32, 2, "\xeb\x0e"}, /* jmp 0x131 */
	{32, 6, "\x0f\x85\xfa\x0f\x00\x00"}, /* jne 0x1123 */
	{32, 4, "\x66\xe9\x00\x00"}, /* jmpw 0x12d */
	{32, 5, "\x66\x0f\x84\x00\x00"}, /* je 0x132 */
	{32, 2, "\xe3\x0e"}, /* jecxz 0x142 */
	{32, 4, "\xc8\x08\x00\x00"}, /* enter $0x8,$0x0 */
	{32, 3, "\xc2\x04\x00"}, /* ret $0x4 */
	{32, 1, "\xcb"}, /* lret */
	{32, 1, "\xcf"}, /* iret */
	{32, 2, "\xcd\x80"}, /* int $0x80 */
	{32, 3, "\x0f\x20\xc0"}, /* mov %cr0,%eax */
	{32, 3, "\x0f\x22\xd8"}, /* mov %eax,%cr3 */
	{32, 3, "\x0f\x23\xf8"}, /* mov %eax,%db7 */
	{32, 3, "\x0f\x01\x10"}, /* lgdtl (%eax) */
	{32, 4, "\x0f\x01\x5b\x12"}, /* lidtl 0x12(%ebx) */
	{32, 2, "\xe4\x60"}, /* in $0x60,%al */
	{32, 1, "\xef"}, /* out %eax,(%dx) */
	{32, 2, "\xd9\x00"}, /* flds (%eax) */
	{32, 3, "\x0f\x28\x00"}, /* movaps (%eax),%xmm0 */
	{32, 5, "\x66\x0f\x70\xd1\x01"}, /* pshufd $0x1,%xmm1,%xmm2 */
	{32, 6, "\x66\x0f\x3a\x0f\xc1\x03"}, /* palignr $0x3,%xmm1,%xmm0 */
	{32, 2, "\x87\x03"}, /* xchg %eax,(%ebx) */
	{32, 4, "\xf0\x0f\xc1\x03"}, /* lock xadd %eax,(%ebx) */
	{16, 2, "\x0f\xa2"}, /* cpuid */
	{16, 2, "\x0f\x32"}, /* rdmsr */
	{16, 2, "\x0f\x30"}, /* wrmsr */
	{16, 3, "\x0f\x01\xd9"}, /* vmmcall */
	{16, 3, "\x0f\x01\xc1"}, /* vmcall */
	{16, 1, "\xf4"}, /* hlt */
	{16, 2, "\x0f\x08"}, /* invd */
	{16, 2, "\x0f\x09"}, /* wbinvd */
	{16, 3, "\x66\x0f\xa2"}, /* data32 cpuid */
	{16, 6, "\x66\x67\xf3\x2e\x0f\xa2"}, /* data32 addr32 repz cs cpuid */
	{16, 2, "\x8b\x00"}, /* mov (%bx,%si),%ax */
	{16, 2, "\x8a\x01"}, /* mov (%bx,%di),%al */
	{16, 2, "\x8b\x02"}, /* mov (%bp,%si),%ax */
	{16, 2, "\x8b\x03"}, /* mov (%bp,%di),%ax */
	{16, 2, "\x8b\x04"}, /* mov (%si),%ax */
	{16, 2, "\x8b\x05"}, /* mov (%di),%ax */
	{16, 3, "\x8a\x46\x00"}, /* mov 0x0(%bp),%al */
	{16, 2, "\x8b\x07"}, /* mov (%bx),%ax */
	{16, 3, "\x8b\x40\x12"}, /* mov 0x12(%bx,%si),%ax */
	{16, 4, "\x8b\x80\x34\x12"}, /* mov 0x1234(%bx,%si),%ax */
	{16, 3, "\x8b\x46\xee"}, /* mov -0x12(%bp),%ax */
	{16, 4, "\x8b\x86\x34\x12"}, /* mov 0x1234(%bp),%ax */
	{16, 3, "\xa1\x34\x12"}, /* mov 0x1234,%ax */
	{16, 3, "\xa0\x34\x12"}, /* mov 0x1234,%al */
	{16, 3, "\xa3\x34\x12"}, /* mov %ax,0x1234 */
	{16, 3, "\xa2\x34\x12"}, /* mov %al,0x1234 */
	{16, 7, "\x67\x66\xa1\x78\x56\x34\x12"}, /* addr32 mov 0x12345678,%eax */
	{16, 3, "\x67\x8b\x00"}, /* mov (%eax),%ax */
	{16, 5, "\x67\x8b\x44\x8c\x12"}, /* mov 0x12(%esp,%ecx,4),%ax */
	{16, 3, "\x66\x8b\x07"}, /* mov (%bx),%eax */
	{16, 4, "\xc7\x07\x34\x12"}, /* movw $0x1234,(%bx) */
	{16, 7, "\x66\xc7\x07\x78\x56\x34\x12"}, /* movl $0x12345678,(%bx) */
	{16, 5, "\xc6\x87\x34\x12\x12"}, /* movb $0x12,0x1234(%bx) */
	{16, 3, "\xb8\x34\x12"}, /* mov $0x1234,%ax */
	{16, 6, "\x66\xb8\x78\x56\x34\x12"}, /* mov $0x12345678,%eax */
	{16, 2, "\xb4\x12"}, /* mov $0x12,%ah */
	{16, 4, "\x81\x07\x34\x12"}, /* addw $0x1234,(%bx) */
	{16, 3, "\x83\x07\x01"}, /* addw $0x1,(%bx) */
	{16, 7, "\x66\x81\x07\x78\x56\x34\x12"}, /* addl $0x12345678,(%bx) */
	{16, 3, "\x05\x34\x12"}, /* add $0x1234,%ax */
	{16, 6, "\x66\x05\x78\x56\x34\x12"}, /* add $0x12345678,%eax */
	{16, 4, "\xf7\x07\x34\x12"}, /* testw $0x1234,(%bx) */
	{16, 7, "\x66\xf7\x07\x78\x56\x34\x12"}, /* testl $0x12345678,(%bx) */
	{16, 3, "\xf6\xc4\x12"}, /* test $0x12,%ah */
	{16, 3, "\xa9\x34\x12"}, /* test $0x1234,%ax */
	{16, 2, "\xf7\x17"}, /* notw (%bx) */
	{16, 3, "\x0f\xb6\x07"}, /* movzbw (%bx),%ax */
	{16, 4, "\x66\x0f\xb6\x07"}, /* movzbl (%bx),%eax */
	{16, 3, "\x0f\xbe\xc0"}, /* movsbw %al,%ax */
	{16, 2, "\xf3\xa4"}, /* rep movsb %ds:(%si),%es:(%di) */
	{16, 2, "\xf3\xa5"}, /* rep movsw %ds:(%si),%es:(%di) */
	{16, 2, "\xf3\xaa"}, /* rep stos %al,%es:(%di) */
	{16, 3, "\x66\xf3\xab"}, /* rep stos %eax,%es:(%di) */
	{16, 3, "\x67\xf3\xa4"}, /* rep movsb %ds:(%esi),%es:(%edi) */
	{16, 2, "\xc4\x07"}, /* les (%bx),%ax */
	{16, 2, "\xc5\x34"}, /* lds (%si),%si */
	{16, 5, "\xea\x5b\xe0\x00\xf0"}, /* ljmp $0xf000,$0xe05b */
	{16, 8, "\x66\xea\x78\x56\x34\x12\x08\x00"}, /* ljmpl $0x8,$0x12345678 */
	{16, 5, "\x9a\x34\x12\x10\x00"}, /* lcall $0x10,$0x1234 */
	{16, 3, "\xe9\xfd\x0f"}, /* jmp 0x10c8 */
	{16, 2, "\xeb\x0e"}, /* jmp 0xdb */
	{16, 3, "\xe8\xfd\x0f"}, /* call 0x10cd */
	{16, 4, "\x0f\x85\xfc\x0f"}, /* jne 0x10d0 */
	{16, 2, "\x74\x0e"}, /* je 0xe4 */
	{16, 6, "\x66\xe9\x00\x00\x01\x00"}, /* jmpl 0x100dc */
	{16, 2, "\xe3\x0e"}, /* jcxz 0xec */
	{16, 3, "\x68\x34\x12"}, /* push $0x1234 */
	{16, 2, "\x6a\x01"}, /* push $0x1 */
	{16, 6, "\x66\x68\x78\x56\x34\x12"}, /* pushl $0x12345678 */
	{16, 4, "\xc8\x08\x00\x00"}, /* enter $0x8,$0x0 */
	{16, 3, "\xc2\x04\x00"}, /* ret $0x4 */
	{16, 1, "\xcb"}, /* lret */
	{16, 1, "\xcf"}, /* iret */
	{16, 2, "\xcd\x10"}, /* int $0x10 */
	{16, 1, "\xcc"}, /* int3 */
	{16, 3, "\x0f\x20\xc0"}, /* mov %cr0,%eax */
	{16, 3, "\x0f\x22\xc0"}, /* mov %eax,%cr0 */
	{16, 3, "\x0f\x01\x17"}, /* lgdtw (%bx) */
	{16, 6, "\x66\x0f\x01\x16\x34\x12"}, /* lgdtl 0x1234 */
	{16, 3, "\x0f\x01\x1c"}, /* lidtw (%si) */
	{16, 2, "\xe4\x60"}, /* in $0x60,%al */
	{16, 2, "\xe6\x80"}, /* out %al,$0x80 */
	{16, 1, "\xed"}, /* in (%dx),%ax */
	{16, 1, "\x6c"}, /* insb (%dx),%es:(%di) */
	{16, 1, "\x6f"}, /* outsw %ds:(%si),(%dx) */
	{16, 1, "\xfa"}, /* cli */
	{16, 1, "\xfb"}, /* sti */
	{16, 1, "\x9c"}, /* pushf */
	{16, 2, "\x87\x07"}, /* xchg %ax,(%bx) */
	{16, 3, "\xf0\x87\x07"}, /* lock xchg %ax,(%bx) */
	{16, 2, "\xd9\x07"}, /* flds (%bx) */
	{16, 1, "\x0e"}, /* push %cs */
	{16, 1, "\x1f"}, /* pop %ds */
	{16, 2, "\xd4\x0a"}, /* aam $0xa */
};

static enum mode len_mode(unsigned m)
{
	return m == 64 ? M_LONG : m == 32 ? M_PROT32 : M_REAL;
}

static unsigned len_at(enum mode m, uint64_t rip)
{
	struct vcpu_regs r;
	struct vcpu_sregs s;

	mode_setup(m, &r, &s);
	r.rip = rip;
	return emu_insn_len(&fake_ops, &r, &s);
}

static void len_fail(const struct len_case *c, const char *where, unsigned got)
{
	char hex[64] = "";

	for (unsigned i = 0; i < c->len && i < 15; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ",
			 (uint8_t)c->bytes[i]);
	print_error("%u-bit [%s] %s: length %u, want %u\n", c->mode, hex, where,
		    got, c->len);
	fail();
}

/* Each instruction three ways: at a page start with junk after it; ending
 * exactly at the end of a page whose successor is not mapped (nothing past
 * the instruction may be fetched); and split across two pages at every
 * point (fetches never cross a page). emu_decode agrees. */
static void test_insn_len_corpus(void **state)
{
	static const char junk[15] = "\x66\x0f\x38\x48\xc4\xf0\x62\xff\xff\xff"
				     "\xff\xff\xff\xff";
	const size_t n = sizeof(len_cases) / sizeof(len_cases[0]);

	assert_true(n > 600);
	for (size_t i = 0; i < n; i++) {
		const struct len_case *c = &len_cases[i];
		enum mode m = len_mode(c->mode);
		struct vcpu_regs r;
		struct vcpu_sregs s;
		struct emu_insn insn;
		struct emu_fault fault;
		unsigned got;

		setup(NULL);
		put_code(CODE_LA, c->bytes, c->len);
		put_code(CODE_LA + c->len, junk, sizeof(junk));
		got = len_at(m, CODE_LA);
		if (got != c->len)
			len_fail(c, "at a page start", got);
		mode_setup(m, &r, &s);
		if (emu_decode(&fake_ops, &r, &s, &insn, &fault) != EMU_OK ||
		    insn.len != c->len)
			len_fail(c, "emu_decode", insn.len);

		put_code(CODE_LA + PAGE - c->len, c->bytes, c->len);
		got = len_at(m, CODE_LA + PAGE - c->len);
		if (got != c->len)
			len_fail(c, "at a page end", got);

		map_page(CODE_LA + PAGE);
		put_code(CODE_LA + PAGE, junk, sizeof(junk));
		for (unsigned k = 1; k < c->len; k++) {
			put_code(CODE_LA + PAGE - k, c->bytes, c->len);
			got = len_at(m, CODE_LA + PAGE - k);
			if (got != c->len)
				len_fail(c, "across pages", got);
		}
		if (fk.crossed)
			len_fail(c, "fetched across a page", 0);
	}
}

/* The instructions the SVM path skips without NRIP save, with prefixes, in
 * each mode (most are in the corpus too; these spell out the modes). */
static void test_insn_len_exits(void **state)
{
	static const struct {
		const char *bytes;
		unsigned len;
	} exits[] = {
		{"\x0f\xa2", 2},		 /* cpuid */
		{"\x0f\x32", 2},		 /* rdmsr */
		{"\x0f\x30", 2},		 /* wrmsr */
		{"\x0f\x01\xd9", 3},		 /* vmmcall */
		{"\xf4", 1},			 /* hlt */
		{"\x0f\x08", 2},		 /* invd */
		{"\x0f\x09", 2},		 /* wbinvd */
		{"\x66\x0f\xa2", 3},
		{"\xf3\x0f\x09", 3},
		{"\x2e\x3e\xf4", 3},
		{"\xf0\x66\x67\x0f\x32", 5},
	};
	static const enum mode modes[] = {M_REAL, M_PROT16, M_PROT32, M_COMPAT,
					  M_LONG};

	for (unsigned mi = 0; mi < 5; mi++)
		for (unsigned i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
			setup(NULL);
			put_code(CODE_LA, exits[i].bytes, exits[i].len);
			assert_int_equal(len_at(modes[mi], CODE_LA),
					 exits[i].len);
		}
	/* REX only in 64-bit mode */
	setup(NULL);
	put_code(CODE_LA, "\x48\x0f\xa2", 3);
	assert_int_equal(len_at(M_LONG, CODE_LA), 3);
	assert_int_equal(len_at(M_COMPAT, CODE_LA), 1); /* dec eax */
}

static void test_insn_len_bad(void **state)
{
	/* 14 prefixes and a one-byte opcode: 15, fine; one more: too long */
	put_code(CODE_LA, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"
			  "\x66\x90", 15);
	assert_int_equal(len_at(M_LONG, CODE_LA), 15);
	put_code(CODE_LA, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"
			  "\x66\x66\x90", 16);
	assert_int_equal(len_at(M_LONG, CODE_LA), 0);
	/* an immediate that would go past 15 */
	put_code(CODE_LA, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"
			  "\x48\xb8\x00", 15);
	assert_int_equal(len_at(M_LONG, CODE_LA), 0);
	/* undefined opcodes, and ones invalid in 64-bit mode */
	put_code(CODE_LA, "\x0f\x04", 2);
	assert_int_equal(len_at(M_LONG, CODE_LA), 0);
	put_code(CODE_LA, "\x0f\xa6", 2);
	assert_int_equal(len_at(M_PROT32, CODE_LA), 0);
	put_code(CODE_LA, "\x06", 1);
	assert_int_equal(len_at(M_LONG, CODE_LA), 0);
	assert_int_equal(len_at(M_PROT32, CODE_LA), 1);
	put_code(CODE_LA, "\xd5\x0a", 2);
	assert_int_equal(len_at(M_LONG, CODE_LA), 0);
	assert_int_equal(len_at(M_REAL, CODE_LA), 2);
	/* VEX with a map that does not exist */
	put_code(CODE_LA, "\xc4\xe7\x79\x00\xc0", 5);
	assert_int_equal(len_at(M_LONG, CODE_LA), 0);
	/* nothing mapped */
	assert_int_equal(len_at(M_LONG, 0x500000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_table, setup),
		cmocka_unit_test_setup(test_alu_flags_vs_host, setup),
		cmocka_unit_test_setup(test_alu_imm8_vs_host, setup),
		cmocka_unit_test_setup(test_logical_af_matches_host, setup),
		cmocka_unit_test_setup(test_rep_stos_forward_batches, setup),
		cmocka_unit_test_setup(test_rep_stos_backward, setup),
		cmocka_unit_test_setup(test_stos_single, setup),
		cmocka_unit_test_setup(test_rep_movs_forward, setup),
		cmocka_unit_test_setup(test_rep_movs_backward, setup),
		cmocka_unit_test_setup(test_rep_movs_batches_and_zero, setup),
		cmocka_unit_test_setup(test_rep_addr16, setup),
		cmocka_unit_test_setup(test_rep_addr32_in_long_mode, setup),
		cmocka_unit_test_setup(test_rep_fault_midway, setup),
		cmocka_unit_test_setup(test_movs_segments, setup),
		cmocka_unit_test_setup(test_segments_prot32, setup),
		cmocka_unit_test_setup(test_segments_long, setup),
		cmocka_unit_test_setup(test_segments_real, setup),
		cmocka_unit_test_setup(test_segment_limits, setup),
		cmocka_unit_test_setup(test_canonical, setup),
		cmocka_unit_test_setup(test_fetch_fault, setup),
		cmocka_unit_test_setup(test_fetch_error, setup),
		cmocka_unit_test_setup(test_ip_wrap, setup),
		cmocka_unit_test_setup(test_data_fault_and_error, setup),
		cmocka_unit_test_setup(test_write_fault_changes_nothing, setup),
		cmocka_unit_test_setup(test_decode_fields, setup),
		cmocka_unit_test_setup(test_decode_string_io, setup),
		cmocka_unit_test_setup(test_decode_rip_relative, setup),
		cmocka_unit_test_setup(test_helpers, setup),
		cmocka_unit_test_setup(test_insn_len_corpus, setup),
		cmocka_unit_test_setup(test_insn_len_exits, setup),
		cmocka_unit_test_setup(test_insn_len_bad, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
