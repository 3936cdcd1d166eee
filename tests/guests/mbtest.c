/*
 * mbtest.c - a Multiboot (v1) kernel that checks what its boot loader gave
 * it (Multiboot Specification 0.6.96, 3.2 and 3.3): machine state, info
 * flags, memory sizes, memory map, command line, modules. 32-bit, paging
 * off, no libc, its own small console on COM1.
 *
 * Its command line says what to expect (whitespace-separated keys):
 *   mem=<size>          the VM's RAM (K/M/G suffix), required
 *   expect_mods=<n>     the number of modules (default 0)
 *   debug_exit=<port>   where to write the result (default Keel's test
 *                       device end port 0xA01)
 * Module i (from 1) must begin with "KEELMOD<i>" and end with '\n'; when
 * text follows "KEELMOD<i> " on its first line, that text must equal the
 * module's string ("path args", as keel.cfg's module= line gave it).
 *
 * Prints "mbtest: <check> ok [...]" or "mbtest: <check> FAIL <why>" per
 * check, "mbtest: done failures=<n>", then writes n (0: all ok) to the
 * debug-exit port as one byte and halts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1 0x3F8
#define TESTDEV_END 0xA01
#define MB_BOOT_MAGIC 0x2BADB002u
#define PAGE 4096u

/* From mbstart.S and mbtest.ld. */
extern uint32_t mb_entry_eax, mb_entry_ebx, mb_entry_cr0, mb_entry_eflags;
extern volatile uint32_t mb_entered;
extern char __load_start[], __bss_end[];

/* 3.3, written out here rather than shared with Keel: the test reads the
 * specification, not the loader's header. */
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off,
		vbe_interface_len;
	uint64_t framebuffer_addr;
	uint32_t framebuffer_pitch, framebuffer_width, framebuffer_height;
	uint8_t framebuffer_bpp, framebuffer_type;
	uint8_t color_info[6];
} __attribute__((packed));

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
} __attribute__((packed));

/* ------------------------------------------------------------ console -- */

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "d"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static void putc_com1(char c)
{
	/* Wait for THRE (16550 LSR bit 5), a bounded number of times. */
	for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}

static void puts_com1(const char *s)
{
	while (*s)
		putc_com1(*s++);
}

/* A line under construction: text, hex and decimal numbers. */
struct line {
	char buf[200];
	unsigned len;
};

static void l_str(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
	l->buf[l->len] = '\0';
}

static void l_hex(struct line *l, uint64_t v)
{
	char t[19];
	unsigned n = 0;

	t[n++] = '0';
	t[n++] = 'x';
	bool started = false;
	for (int sh = 60; sh >= 0; sh -= 4) {
		unsigned d = (unsigned)(v >> sh) & 0xF;
		if (!d && !started && sh)
			continue;
		started = true;
		t[n++] = "0123456789abcdef"[d];
	}
	t[n] = '\0';
	l_str(l, t);
}

static void l_dec(struct line *l, uint32_t v)
{
	char t[11];
	unsigned n = sizeof(t) - 1;

	t[n] = '\0';
	do {
		t[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	l_str(l, t + n);
}

/* ------------------------------------------------------------- checks -- */

static unsigned failures;

/* One check's result: "mbtest: <name> ok [detail]" or "... FAIL <why>". */
static void report(const char *name, bool ok, const struct line *detail)
{
	puts_com1("mbtest: ");
	puts_com1(name);
	puts_com1(ok ? " ok" : " FAIL");
	if (detail && detail->len) {
		putc_com1(' ');
		puts_com1(detail->buf);
	}
	putc_com1('\n');
	if (!ok)
		failures++;
}

/* A failure reason: keep the first. */
static void why(struct line *l, bool *ok, const char *s)
{
	if (*ok)
		l->len = 0;
	if (*ok)
		l_str(l, s);
	*ok = false;
}

/* --------------------------------------------------------- strings -- */

static size_t str_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

static bool str_eq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* The value of key=... in a whitespace-separated command line, or NULL;
 * *len its length. */
static const char *cmdline_value(const char *cmd, const char *key, size_t *len)
{
	size_t klen = str_len(key, 64);
	const char *p = cmd;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *tok = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if ((size_t)(p - tok) > klen && str_eq_n(tok, key, klen) &&
		    tok[klen] == '=') {
			*len = (size_t)(p - tok) - klen - 1;
			return tok + klen + 1;
		}
	}
	return NULL;
}

/* Decimal or 0x hex, with an optional K/M/G suffix. false when malformed. */
static bool parse_num(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	unsigned base = 10;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		v = v * base + d;
	}
	if (i < len) {
		unsigned shift = 0;
		switch (s[i]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		default: return false;
		}
		if (i + 1 != len)
			return false;
		v <<= shift;
	}
	*out = v;
	return true;
}

/* --------------------------------------------------------- the checks -- */

static const struct mb_info *info;
static uint64_t mem_expected;
static uint32_t mods_expected;
static uint16_t exit_port = TESTDEV_END;

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* [addr, addr + len) inside one available (type 1) mmap entry. */
static bool in_usable(uint64_t addr, uint64_t len)
{
	uint32_t off = 0;

	while (off + 4 <= info->mmap_length) {
		const struct mb_mmap *e =
			(const struct mb_mmap *)(uintptr_t)(info->mmap_addr + off);
		if (e->type == 1 && addr >= e->base &&
		    addr + len <= e->base + e->length)
			return true;
		off += e->size + 4;
	}
	return false;
}

static void check_magic(void)
{
	struct line l = {0};

	l_str(&l, "eax=");
	l_hex(&l, mb_entry_eax);
	report("magic", mb_entry_eax == MB_BOOT_MAGIC, &l);
}

/* 3.2: protected mode, paging off, IF and VM clear; CS a 32-bit execute/
 * read segment of 4 GiB, the data segments read/write of 4 GiB. */
static void check_state(void)
{
	struct line l = {0};
	bool ok = true;
	uint16_t sel[6];
	const char *names[6] = {"cs", "ds", "es", "fs", "gs", "ss"};

	asm volatile("mov %%cs, %0" : "=r"(sel[0]));
	asm volatile("mov %%ds, %0" : "=r"(sel[1]));
	asm volatile("mov %%es, %0" : "=r"(sel[2]));
	asm volatile("mov %%fs, %0" : "=r"(sel[3]));
	asm volatile("mov %%gs, %0" : "=r"(sel[4]));
	asm volatile("mov %%ss, %0" : "=r"(sel[5]));
	if (!(mb_entry_cr0 & 1))
		why(&l, &ok, "CR0.PE clear");
	if (mb_entry_cr0 & 0x80000000u)
		why(&l, &ok, "CR0.PG set");
	if (mb_entry_eflags & (1u << 9))
		why(&l, &ok, "EFLAGS.IF set");
	if (mb_entry_eflags & (1u << 17))
		why(&l, &ok, "EFLAGS.VM set");
	for (unsigned i = 0; i < 6; i++) {
		uint32_t ar = 0, limit = 0, zf_ar = 0, zf_lim = 0;
		asm volatile("lar %k2, %0; setz %b1"
			     : "=r"(ar), "=q"(zf_ar)
			     : "r"((uint32_t)sel[i]));
		asm volatile("lsl %k2, %0; setz %b1"
			     : "=r"(limit), "=q"(zf_lim)
			     : "r"((uint32_t)sel[i]));
		/* LAR: bits 11:8 type, 12 S, 15 P, 22 D/B, 23 G. */
		uint32_t type = (ar >> 8) & 0xF;
		bool code_ok = (type & 0xA) == 0xA; /* code, readable */
		bool data_ok = (type & 0xA) == 0x2; /* data, writable */
		if (!(zf_ar & 1) || !(zf_lim & 1) || limit != 0xFFFFFFFFu ||
		    !(ar & (1u << 15)) || !(ar & (1u << 22)) ||
		    !(i == 0 ? code_ok : data_ok)) {
			if (ok) {
				l.len = 0;
				l_str(&l, names[i]);
				l_str(&l, " is not a flat 32-bit ");
				l_str(&l, i == 0 ? "code" : "data");
				l_str(&l, " segment: sel=");
				l_hex(&l, sel[i]);
				l_str(&l, " ar=");
				l_hex(&l, ar);
				l_str(&l, " limit=");
				l_hex(&l, limit);
			}
			ok = false;
		}
	}
	if (ok) {
		l_str(&l, "cr0=");
		l_hex(&l, mb_entry_cr0);
		l_str(&l, " eflags=");
		l_hex(&l, mb_entry_eflags);
	}
	report("state", ok, &l);
}

static void check_flags(void)
{
	const uint32_t want = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) |
			      (1u << 9);
	struct line l = {0};
	bool ok = true;

	if ((info->flags & want) != want)
		why(&l, &ok, "mem, cmdline, mods, mmap or loader name missing");
	/* The header asked for video (bit 2); there is no framebuffer, so
	 * the loader must say none (3.3: bits 11 and 12). */
	if (info->flags & ((1u << 11) | (1u << 12)))
		why(&l, &ok, "VBE or framebuffer claimed");
	if (!ok)
		l_str(&l, ": ");
	l_str(&l, "flags=");
	l_hex(&l, info->flags);
	report("flags", ok, &l);
}

static void check_loader_name(void)
{
	struct line l = {0};
	bool ok = (info->flags & (1u << 9)) && info->boot_loader_name;

	if (ok) {
		const char *s = (const char *)(uintptr_t)info->boot_loader_name;
		ok = str_len(s, 64) == 4 && str_eq_n(s, "Keel", 4);
		l_str(&l, "\"");
		l_str(&l, s);
		l_str(&l, "\"");
	}
	report("loader-name", ok, &l);
}

/* The command line: present, terminated, with the keys this test reads. */
static void check_cmdline(void)
{
	struct line l = {0};
	bool ok = true;
	const char *cmd = "";
	const char *v;
	size_t len;

	if (!(info->flags & (1u << 2)) || !info->cmdline)
		why(&l, &ok, "no command line");
	else
		cmd = (const char *)(uintptr_t)info->cmdline;
	if (ok && str_len(cmd, 4096) == 4096)
		why(&l, &ok, "command line not terminated within 4 KiB");
	if (ok) {
		v = cmdline_value(cmd, "mem", &len);
		if (!v || !parse_num(v, len, &mem_expected) || !mem_expected)
			why(&l, &ok, "no valid mem= in the command line");
		v = cmdline_value(cmd, "expect_mods", &len);
		uint64_t n = 0;
		if (v && !parse_num(v, len, &n))
			why(&l, &ok, "expect_mods= is not a number");
		mods_expected = (uint32_t)n;
		v = cmdline_value(cmd, "debug_exit", &len);
		if (v && (!parse_num(v, len, &n) || !n || n > 0xFFFF))
			why(&l, &ok, "debug_exit= is not a port");
		else if (v)
			exit_port = (uint16_t)n;
	}
	if (ok) {
		l_str(&l, "\"");
		l_str(&l, cmd);
		l_str(&l, "\"");
	}
	report("cmdline", ok, &l);
}

/* The memory map: records of size 20, sorted, disjoint, types 1 and 2; the
 * available RAM is what the VM has (Keel: [0, mem) up to 3 GiB, the rest
 * from 4 GiB, less the EBDA and BIOS holes below 1 MiB). */
static void check_mmap(void)
{
	struct line l = {0};
	bool ok = true;
	uint64_t low = mem_expected < 0xC0000000ULL ? mem_expected : 0xC0000000ULL;
	uint64_t top = mem_expected <= 0xC0000000ULL ? mem_expected
						     : mem_expected + 0x40000000ULL;
	uint64_t prev_end = 0, usable_top = 0;
	unsigned count = 0;

	if (!(info->flags & (1u << 6)) || !info->mmap_length) {
		why(&l, &ok, "no memory map");
		report("mmap", ok, &l);
		return;
	}
	if (!mem_expected)
		why(&l, &ok, "no mem= to compare with");
	for (uint32_t off = 0; off < info->mmap_length; count++) {
		const struct mb_mmap *e =
			(const struct mb_mmap *)(uintptr_t)(info->mmap_addr + off);
		if (e->size != 20)
			why(&l, &ok, "an entry's size field is not 20");
		if (e->type != 1 && e->type != 2)
			why(&l, &ok, "an entry's type is neither 1 nor 2");
		if (!e->length)
			why(&l, &ok, "an empty entry");
		if (count && e->base < prev_end)
			why(&l, &ok, "entries unsorted or overlapping");
		prev_end = e->base + e->length;
		if (e->type == 1 && prev_end > usable_top)
			usable_top = prev_end;
		off += e->size + 4;
		if (count > 64) {
			why(&l, &ok, "more than 64 entries");
			break;
		}
	}
	if (ok && !in_usable(0, 0x9F000))
		why(&l, &ok, "[0, 0x9F000) is not available");
	if (ok && low > 0x100000 && !in_usable(0x100000, low - 0x100000))
		why(&l, &ok, "[1 MiB, end of low RAM) is not available");
	if (ok && usable_top != top) {
		why(&l, &ok, "available RAM ends at ");
		l_hex(&l, usable_top);
		l_str(&l, ", want ");
		l_hex(&l, top);
	}
	/* Nothing available in the VGA/BIOS area 0xA0000-0xFFFFF. */
	for (uint64_t a = 0xA0000; ok && a < 0x100000; a += PAGE)
		if (in_usable(a, 1))
			why(&l, &ok, "0xA0000-0xFFFFF is available");
	if (ok) {
		l_dec(&l, count);
		l_str(&l, " entries, available RAM up to ");
		l_hex(&l, usable_top);
	}
	report("mmap", ok, &l);
}

/* mem_lower / mem_upper agree with the map (3.3: mem_upper is KiB from
 * 1 MiB to the first hole). */
static void check_mem(void)
{
	struct line l = {0};
	bool ok = (info->flags & 1) != 0;
	uint64_t lower_end = 0, upper_end = 0x100000;
	uint32_t off = 0;

	if (!ok)
		why(&l, &ok, "flags bit 0 clear");
	while (ok && off < info->mmap_length) {
		const struct mb_mmap *e =
			(const struct mb_mmap *)(uintptr_t)(info->mmap_addr + off);
		if (e->type == 1 && e->base == 0)
			lower_end = e->length;
		if (e->type == 1 && e->base == 0x100000)
			upper_end = e->base + e->length;
		off += e->size + 4;
	}
	if (lower_end > 0xA0000)
		lower_end = 0xA0000;
	if (ok && info->mem_lower != (uint32_t)(lower_end >> 10))
		why(&l, &ok, "mem_lower disagrees with the map");
	if (ok && info->mem_upper != (uint32_t)((upper_end - 0x100000) >> 10))
		why(&l, &ok, "mem_upper disagrees with the map");
	if (ok && (info->mem_lower > 640 || info->mem_lower < 600))
		why(&l, &ok, "mem_lower is not about 640 KiB");
	l_str(&l, ok ? "" : ": ");
	l_str(&l, "mem_lower=");
	l_dec(&l, info->mem_lower);
	l_str(&l, " mem_upper=");
	l_dec(&l, info->mem_upper);
	report("mem", ok, &l);
}

/* Where the info structure itself lies: available RAM, not in the kernel. */
static void check_info_place(void)
{
	struct line l = {0};
	bool ok = true;
	uint32_t kstart = (uint32_t)(uintptr_t)__load_start;
	uint32_t kend = (uint32_t)(uintptr_t)__bss_end;

	if (!in_usable(mb_entry_ebx, sizeof(struct mb_info)))
		why(&l, &ok, "the info structure is not in available RAM");
	if (overlaps(mb_entry_ebx, sizeof(struct mb_info), kstart, kend - kstart))
		why(&l, &ok, "the info structure overlaps the kernel");
	if (info->mmap_length &&
	    overlaps(info->mmap_addr, info->mmap_length, kstart, kend - kstart))
		why(&l, &ok, "the memory map overlaps the kernel");
	l_str(&l, ok ? "ebx=" : ": ebx=");
	l_hex(&l, mb_entry_ebx);
	report("info", ok, &l);
}

static void check_module(unsigned i, const struct mb_module *m)
{
	struct line l = {0};
	bool ok = true;
	char name[16] = "module";
	char tag[9] = "KEELMOD";
	uint32_t kstart = (uint32_t)(uintptr_t)__load_start;
	uint32_t kend = (uint32_t)(uintptr_t)__bss_end;
	const struct mb_module *mods =
		(const struct mb_module *)(uintptr_t)info->mods_addr;

	name[6] = (char)('1' + i);
	name[7] = '\0';
	tag[7] = (char)('1' + i);
	tag[8] = '\0';
	if (m->mod_start % PAGE)
		why(&l, &ok, "not page-aligned (header flags bit 0)");
	if (m->mod_end <= m->mod_start + 8)
		why(&l, &ok, "end not above start + 8");
	if (ok && !in_usable(m->mod_start, m->mod_end - m->mod_start))
		why(&l, &ok, "not in available RAM");
	if (ok && overlaps(m->mod_start, m->mod_end - m->mod_start, kstart,
			   kend - kstart))
		why(&l, &ok, "overlaps the kernel");
	if (ok && overlaps(m->mod_start, m->mod_end - m->mod_start, mb_entry_ebx,
			   sizeof(struct mb_info)))
		why(&l, &ok, "overlaps the info structure");
	for (unsigned j = 0; ok && j < info->mods_count; j++)
		if (j != i && overlaps(m->mod_start, m->mod_end - m->mod_start,
				       mods[j].mod_start,
				       mods[j].mod_end - mods[j].mod_start))
			why(&l, &ok, "overlaps another module");
	const char *data = (const char *)(uintptr_t)m->mod_start;
	if (ok && !str_eq_n(data, tag, 8))
		why(&l, &ok, "content does not begin with KEELMOD<n>");
	if (ok && data[m->mod_end - m->mod_start - 1] != '\n')
		why(&l, &ok, "last byte (mod_end - 1) is not a newline");
	const char *s = (const char *)(uintptr_t)m->string;
	if (ok && (!m->string || !str_len(s, 1024) || str_len(s, 1024) == 1024))
		why(&l, &ok, "no string, or an empty or unterminated one");
	if (ok && data[8] == ' ') {
		/* "KEELMOD<n> <expected string>\n" */
		const char *want = data + 9;
		size_t wlen = 0;
		while (want + wlen < data + (m->mod_end - m->mod_start) &&
		       want[wlen] != '\n')
			wlen++;
		if (wlen && (str_len(s, 1024) != wlen || !str_eq_n(s, want, wlen)))
			why(&l, &ok, "string differs from the one in the module");
	}
	if (!ok)
		l_str(&l, ":");
	l_str(&l, ok ? "start=" : " start=");
	l_hex(&l, m->mod_start);
	l_str(&l, " end=");
	l_hex(&l, m->mod_end);
	if (m->string) {
		l_str(&l, " string=\"");
		l_str(&l, s);
		l_str(&l, "\"");
	}
	report(name, ok, &l);
}

static void check_modules(void)
{
	struct line l = {0};
	bool ok = true;
	uint32_t n = (info->flags & (1u << 3)) ? info->mods_count : 0;

	if (n != mods_expected) {
		why(&l, &ok, "count ");
		l_dec(&l, n);
		l_str(&l, ", want ");
		l_dec(&l, mods_expected);
	} else {
		l_dec(&l, n);
	}
	report("modules", ok, &l);
	if (n > 9)
		n = 9;
	const struct mb_module *mods =
		(const struct mb_module *)(uintptr_t)info->mods_addr;
	for (unsigned i = 0; i < n; i++)
		check_module(i, mods + i);
}

/* Only vCPU 0 may run a Multiboot kernel; the others wait for INIT-SIPI
 * (which this kernel never sends). Give a wrongly started one time to
 * arrive first. */
static void check_ap_wait(void)
{
	struct line l = {0};

	for (volatile unsigned i = 0; i < 2000000; i++)
		asm volatile("pause");
	uint32_t n = mb_entered;
	l_dec(&l, n);
	l_str(&l, " vCPU(s) entered");
	report("ap-wait", n == 1, &l);
}

void mbtest_main(void);

void mbtest_main(void)
{
	struct line l = {0};

	info = (const struct mb_info *)(uintptr_t)mb_entry_ebx;
	puts_com1("mbtest: start\n");
	check_magic();
	if (mb_entry_eax == MB_BOOT_MAGIC) {
		check_state();
		check_flags();
		check_loader_name();
		check_cmdline();
		check_mmap();
		check_mem();
		check_info_place();
		check_modules();
	}
	check_ap_wait();
	l_str(&l, "failures=");
	l_dec(&l, failures);
	puts_com1("mbtest: done ");
	puts_com1(l.buf);
	putc_com1('\n');
	/* Keel's debug-exit device stops the VM with status = the byte. */
	outb(exit_port, (uint8_t)(failures > 255 ? 255 : failures));
}
