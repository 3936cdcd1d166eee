/*
 * test_fbcon.c - host tests of the framebuffer console (drivers/fbcon.c): the
 * renderer draws into a malloc'd "framebuffer" with guard bytes around it and
 * in the pitch padding; the tests read the text back from the pixels (matching
 * each cell against the font) so they check what a person would see.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/fbcon.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"

#define GUARD 4096
#define POISON 0x5A

/* ---- A fake framebuffer ---- */

struct fakefb {
	struct boot_framebuffer bfb;
	uint8_t *mem;	/* GUARD + pitch * height + GUARD */
	uint8_t *pixels; /* mem + GUARD */
	size_t bytes;	/* pitch * height */
	struct fbcon con;
	void *shadow;
};

static void fakefb_desc(struct boot_framebuffer *b, uint32_t w, uint32_t h,
			uint32_t pitch)
{
	memset(b, 0, sizeof(*b));
	b->phys = 0xC0000000;
	b->width = w;
	b->height = h;
	b->pitch = pitch;
	b->size = (uint64_t)pitch * h;
	b->bpp = 32;
	b->format = BOOT_FB_BGRX;
}

/* Set up and start a console on a fresh buffer; every byte starts poisoned so
 * that bytes the console must not touch (guards, pitch padding) can be told. */
static struct fakefb *fakefb_new(uint32_t w, uint32_t h, uint32_t pitch)
{
	struct fakefb *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	fakefb_desc(&f->bfb, w, h, pitch);
	f->bytes = (size_t)pitch * h;
	f->mem = malloc(f->bytes + 2 * GUARD);
	assert_non_null(f->mem);
	memset(f->mem, POISON, f->bytes + 2 * GUARD);
	f->pixels = f->mem + GUARD;
	assert_int_equal(fbcon_setup(&f->con, &f->bfb), 0);
	f->shadow = malloc(fbcon_shadow_bytes(&f->con));
	assert_non_null(f->shadow);
	fbcon_start(&f->con, f->pixels, f->shadow);
	return f;
}

/* Nothing outside [pixels, pixels + bytes) and no pitch padding was written. */
static void fakefb_check_bounds(const struct fakefb *f)
{
	for (size_t i = 0; i < GUARD; i++) {
		assert_int_equal(f->mem[i], POISON);
		assert_int_equal(f->mem[GUARD + f->bytes + i], POISON);
	}
	size_t used = (size_t)f->bfb.width * 4;
	for (uint32_t y = 0; y < f->bfb.height; y++)
		for (size_t x = used; x < f->bfb.pitch; x++)
			assert_int_equal(f->pixels[(size_t)y * f->bfb.pitch + x],
					 POISON);
}

static void fakefb_free(struct fakefb *f)
{
	fakefb_check_bounds(f);
	free(f->shadow);
	free(f->mem);
	free(f);
}

static void fakefb_write(struct fakefb *f, const char *s)
{
	fbcon_write_text(&f->con, s, strlen(s));
}

static uint32_t fakefb_pixel(const struct fakefb *f, uint32_t x, uint32_t y)
{
	uint32_t v;
	memcpy(&v, f->pixels + (size_t)y * f->bfb.pitch + (size_t)x * 4, 4);
	return v;
}

/* Read back one cell: the glyph whose bitmap its pixels show, or '#' when the
 * pixels are not a glyph (a colour other than fg/bg, an uneven scaled block). */
static char fakefb_read_cell(const struct fakefb *f, unsigned row, unsigned col)
{
	const struct fbcon *c = &f->con;
	unsigned s = c->scale;
	uint8_t bits[16];

	for (unsigned gy = 0; gy < 16; gy++) {
		bits[gy] = 0;
		for (unsigned gx = 0; gx < 8; gx++) {
			uint32_t x0 = c->margin + (col * 8 + gx) * s;
			uint32_t y0 = c->margin + (row * 16 + gy) * s;
			uint32_t v = fakefb_pixel(f, x0, y0);
			if (v != c->fg && v != c->bg)
				return '#';
			for (unsigned sy = 0; sy < s; sy++)
				for (unsigned sx = 0; sx < s; sx++)
					if (fakefb_pixel(f, x0 + sx, y0 + sy) != v)
						return '#';
			if (v == c->fg)
				bits[gy] |= 0x80 >> gx;
		}
	}
	for (unsigned ch = 0x20; ch < 0x100; ch++) {
		if (ch >= 0x7F && ch < 0xA0)
			continue;
		if (!memcmp(bits, font_8x16[ch], 16))
			return (char)ch;
	}
	return '#';
}

/* One screen row as text, trailing blanks cut. */
static const char *fakefb_read_row(const struct fakefb *f, unsigned row)
{
	static char line[4096];
	unsigned n = f->con.cols;
	assert_true(n < sizeof(line));
	for (unsigned c = 0; c < n; c++)
		line[c] = fakefb_read_cell(f, row, c);
	while (n && line[n - 1] == ' ')
		n--;
	line[n] = 0;
	return line;
}

/* Every pixel outside the text area (the margin and the leftover right and
 * bottom strips) is background. */
static void fakefb_check_border(const struct fakefb *f)
{
	const struct fbcon *c = &f->con;
	uint32_t x1 = c->margin + c->cols * 8 * c->scale;
	uint32_t y1 = c->margin + c->rows * 16 * c->scale;
	for (uint32_t y = 0; y < c->height; y++)
		for (uint32_t x = 0; x < c->width; x++)
			if (y < c->margin || y >= y1 || x < c->margin || x >= x1)
				assert_int_equal(fakefb_pixel(f, x, y), c->bg);
}

/* ---- Setup: what is accepted and the geometry chosen ---- */

static void test_setup_rejects_bad_framebuffers(void **state)
{
	struct boot_framebuffer b;
	struct fbcon c;

	assert_int_equal(fbcon_setup(&c, NULL), KEEL_ENOTSUP);
	fakefb_desc(&b, 640, 480, 2560);
	b.phys = 0;
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 640, 480, 2560);
	b.format = BOOT_FB_NONE;
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	b.format = 7;
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 640, 480, 2560);
	b.bpp = 24;
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	b.bpp = 16;
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 0, 480, 2560);
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 640, 0, 2560);
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 640, 480, 2556); /* pitch < width * 4 */
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 640, 480, 2562); /* pitch not a whole pixel */
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 0x40000001u, 480, 0); /* width * 4 overflows 32 bits */
	b.pitch = 4;
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 20000, 480, 80000);
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 7, 16, 28); /* narrower than one glyph */
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 8, 15, 32); /* lower than one glyph */
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	fakefb_desc(&b, 640, 480, 2560);
	b.size = 2560 * 10; /* firmware says only 10 lines exist */
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	assert_true(test_log_count[LOG_WARN] > 0);
}

static void test_setup_bitmask_formats(void **state)
{
	struct boot_framebuffer b;
	struct fbcon c;

	fakefb_desc(&b, 640, 480, 2560);
	b.format = BOOT_FB_BITMASK;
	b.red_mask = 0xF800; /* 5:6:5 inside a 32-bit pixel */
	b.green_mask = 0x07E0;
	b.blue_mask = 0x001F;
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.fg, (0xAAu >> 3) << 11 | (0xAAu >> 2) << 5 | 0xAAu >> 3);
	assert_int_equal(c.bg, 0);

	b.red_mask = 0x3FF00000; /* 10:10:10 */
	b.green_mask = 0x000FFC00;
	b.blue_mask = 0x000003FF;
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.fg, 0x2A8u << 20 | 0x2A8u << 10 | 0x2A8u);

	b.blue_mask = 0;
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	b.blue_mask = 0x000FFC00; /* overlaps green */
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);
	b.blue_mask = 0x00000305; /* holes */
	assert_int_equal(fbcon_setup(&c, &b), KEEL_ENOTSUP);

	fakefb_desc(&b, 640, 480, 2560);
	b.format = BOOT_FB_RGBX;
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.fg, 0x00AAAAAA);
	assert_int_equal(c.bg, 0);
}

static void test_setup_geometry(void **state)
{
	struct boot_framebuffer b;
	struct fbcon c;

	fakefb_desc(&b, 1024, 768, 4096);
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.scale, 1);
	assert_int_equal(c.margin, 4);
	assert_int_equal(c.cols, (1024 - 8) / 8);
	assert_int_equal(c.rows, (768 - 8) / 16);
	assert_int_equal(fbcon_shadow_bytes(&c), 2 * 127 * 47);

	fakefb_desc(&b, 2559, 1600, 2559 * 4);
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.scale, 1);

	fakefb_desc(&b, 2560, 1600, 2560 * 4);
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.scale, 2);
	assert_int_equal(c.margin, 8);
	assert_int_equal(c.cols, (2560 - 16) / 16);
	assert_int_equal(c.rows, (1600 - 16) / 32);

	fakefb_desc(&b, 2560, 20, 2560 * 4); /* too low for doubled glyphs */
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.scale, 1);
	assert_int_equal(c.rows, 1);

	fakefb_desc(&b, 12, 20, 64); /* no room for a margin */
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.margin, 0);
	assert_int_equal(c.cols, 1);
	assert_int_equal(c.rows, 1);

	fakefb_desc(&b, 800, 600, 3200);
	b.size = 3200 * 300; /* less than pitch * height: clip */
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.height, 300);
	assert_int_equal(c.rows, (300 - 8) / 16);
	b.size = 0; /* unknown: trust pitch * height */
	assert_int_equal(fbcon_setup(&c, &b), 0);
	assert_int_equal(c.height, 600);
}

/* ---- Rendering ---- */

static void test_start_clears_to_background(void **state)
{
	struct fakefb *f = fakefb_new(100, 50, 432);
	for (uint32_t y = 0; y < 50; y++)
		for (uint32_t x = 0; x < 100; x++)
			assert_int_equal(fakefb_pixel(f, x, y), f->con.bg);
	assert_string_equal(fakefb_read_row(f, 0), "");
	fakefb_free(f);
}

static void test_glyph_pixels(void **state)
{
	struct fakefb *f = fakefb_new(640, 480, 2600);
	fakefb_write(f, "A\n");
	/* Check 'A' bit by bit against the font, at the margin. */
	int lit = 0;
	for (unsigned gy = 0; gy < 16; gy++)
		for (unsigned gx = 0; gx < 8; gx++) {
			uint32_t v = fakefb_pixel(f, 4 + gx, 4 + gy);
			int on = font_8x16['A'][gy] & (0x80 >> gx);
			assert_int_equal(v, on ? 0x00AAAAAAu : 0u);
			lit += !!on;
		}
	assert_true(lit > 10); /* the font really has an 'A' */
	assert_string_equal(fakefb_read_row(f, 0), "A");
	assert_string_equal(fakefb_read_row(f, 1), "");
	fakefb_check_border(f);
	fakefb_free(f);
}

static void test_text_and_lines(void **state)
{
	struct fakefb *f = fakefb_new(640, 480, 2560);
	fakefb_write(f, "[    0.001] I keel: hello, world!\n");
	fakefb_write(f, "second line ~{|}`\n");
	assert_string_equal(fakefb_read_row(f, 0), "[    0.001] I keel: hello, world!");
	assert_string_equal(fakefb_read_row(f, 1), "second line ~{|}`");
	assert_string_equal(fakefb_read_row(f, 2), "");
	assert_int_equal(f->con.row, 2);
	assert_int_equal(f->con.col, 0);
	/* A line may come in pieces. */
	fakefb_write(f, "abc");
	fakefb_write(f, "def\n");
	assert_string_equal(fakefb_read_row(f, 2), "abcdef");
	fakefb_free(f);
}

static void test_wrap(void **state)
{
	/* 13 columns: (8*13 + 8 + 3) pixels wide. */
	struct fakefb *f = fakefb_new(8 * 13 + 11, 200, (8 * 13 + 11) * 4);
	assert_int_equal(f->con.cols, 13);

	fakefb_write(f, "0123456789abcdefg\n");
	assert_string_equal(fakefb_read_row(f, 0), "0123456789abc");
	assert_string_equal(fakefb_read_row(f, 1), "defg");
	/* Exactly a full row then '\n': one row, not an extra blank one. */
	fakefb_write(f, "ABCDEFGHIJKLM\nnext\n");
	assert_string_equal(fakefb_read_row(f, 2), "ABCDEFGHIJKLM");
	assert_string_equal(fakefb_read_row(f, 3), "next");
	assert_string_equal(fakefb_read_row(f, 4), "");
	fakefb_check_border(f);
	fakefb_free(f);
}

static void test_scroll(void **state)
{
	struct fakefb *f = fakefb_new(320, 8 + 16 * 5, 320 * 4);
	char buf[64];
	assert_int_equal(f->con.rows, 5);

	for (int i = 1; i <= 12; i++) {
		snprintf(buf, sizeof(buf), "line %d%s\n", i,
			 i % 2 ? " odd and longer" : "");
		fakefb_write(f, buf);
	}
	/* The last '\n' leaves the bottom row blank for the cursor. */
	assert_string_equal(fakefb_read_row(f, 0), "line 9 odd and longer");
	assert_string_equal(fakefb_read_row(f, 1), "line 10");
	assert_string_equal(fakefb_read_row(f, 2), "line 11 odd and longer");
	assert_string_equal(fakefb_read_row(f, 3), "line 12");
	assert_string_equal(fakefb_read_row(f, 4), "");
	assert_int_equal(f->con.row, 4);

	/* Many lines in one write, more than a screen. */
	fakefb_write(f, "a\nb\nc\nd\ne\nf\ng");
	assert_string_equal(fakefb_read_row(f, 0), "c");
	assert_string_equal(fakefb_read_row(f, 3), "f");
	assert_string_equal(fakefb_read_row(f, 4), "g");
	fakefb_check_border(f);
	fakefb_free(f);
}

static void test_unchanged_cells_not_redrawn(void **state)
{
	struct fakefb *f = fakefb_new(320, 8 + 16 * 4, 320 * 4);
	fakefb_write(f, "aaaa\nbbbb\n");
	/* Paint a marker in row 0, column 10: blank before and after a scroll,
	 * so the renderer must leave it alone. */
	uint32_t x = 4 + 10 * 8, y = 4 + 3;
	memset(f->pixels + (size_t)y * f->bfb.pitch + (size_t)x * 4, 0x11, 4);
	fakefb_write(f, "cccc\ndddd\n"); /* scrolls once */
	assert_string_equal(fakefb_read_row(f, 0), "bbbb      #");
	assert_string_equal(fakefb_read_row(f, 2), "dddd");
	assert_int_equal(fakefb_pixel(f, x, y), 0x11111111u);
	/* A cell whose character changes is redrawn. */
	memset(f->pixels + (size_t)(4 + 3) * f->bfb.pitch + 4 * 4, 0x11, 4);
	fakefb_write(f, "x\n"); /* scroll: row 0 becomes "cccc" */
	assert_string_equal(fakefb_read_row(f, 0), "cccc      #");
	fakefb_free(f);
}

static void test_control_characters(void **state)
{
	struct fakefb *f = fakefb_new(640, 200, 2560);

	fakefb_write(f, "a\tb\tc\n");
	assert_string_equal(fakefb_read_row(f, 0), "a       b       c");
	fakefb_write(f, "12345678\tx\n"); /* at a tab stop: the next one */
	assert_string_equal(fakefb_read_row(f, 1), "12345678        x");
	fakefb_write(f, "hello\rJ\n");
	assert_string_equal(fakefb_read_row(f, 2), "Jello");
	fakefb_write(f, "ab\bc\b\b\b\bX\n"); /* backspace stops at column 0 */
	assert_string_equal(fakefb_read_row(f, 3), "Xc");
	fakefb_write(f, "\x01|\x1b[0m|\x7f|\n");
	assert_string_equal(fakefb_read_row(f, 4), "?|?[0m|?|");
	fakefb_free(f);

	/* A tab near the end of a row stops at the edge; the next glyph wraps. */
	f = fakefb_new(8 * 13 + 8, 200, (8 * 13 + 8) * 4);
	assert_int_equal(f->con.cols, 13);
	fakefb_write(f, "0123456789a\tZ\n");
	assert_string_equal(fakefb_read_row(f, 0), "0123456789a");
	assert_string_equal(fakefb_read_row(f, 1), "Z");
	fakefb_write(f, "0123456789abc\t\tQ\n"); /* tab in pending wrap: no-op */
	assert_string_equal(fakefb_read_row(f, 2), "0123456789abc");
	assert_string_equal(fakefb_read_row(f, 3), "Q");
	fakefb_write(f, "0123456789abc\bW\n"); /* backspace out of pending wrap */
	assert_string_equal(fakefb_read_row(f, 4), "0123456789abW");
	fakefb_free(f);
}

static void test_utf8(void **state)
{
	struct fakefb *f = fakefb_new(640, 300, 2560);

	fakefb_write(f, "caf\xc3\xa9 \xc2\xb0" "C \xc3\x9f\n"); /* Latin-1: glyphs */
	assert_string_equal(fakefb_read_row(f, 0), "caf\xe9 \xb0" "C \xdf");
	fakefb_write(f, "\xe2\x82\xac|\xf0\x9f\x98\x80|\n"); /* euro, emoji: one '?' */
	assert_string_equal(fakefb_read_row(f, 1), "?|?|");
	fakefb_write(f, "\x80|\xbf|\xff|\xf5|\xc0\x80|\xc1\xbf|\n"); /* never valid */
	assert_string_equal(fakefb_read_row(f, 2), "?|?|?|?|??|??|");
	fakefb_write(f, "\xe0\x80\x80|\xf0\x80\x80\x80|\n"); /* overlong */
	assert_string_equal(fakefb_read_row(f, 3), "?|?|");
	fakefb_write(f, "\xc3" "A|\xe2\x82\n"); /* truncated */
	assert_string_equal(fakefb_read_row(f, 4), "?A|?");
	/* A sequence split across writes. */
	fakefb_write(f, "x\xc3");
	fakefb_write(f, "\xa9y\n");
	assert_string_equal(fakefb_read_row(f, 5), "x\xe9y");
	/* C1 control code points (U+0080..U+009F) have no glyph. */
	fakefb_write(f, "\xc2\x85\xc2\xa0|\n");
	assert_string_equal(fakefb_read_row(f, 6), "? |");
	fakefb_free(f);
}

static void test_reentry_guard(void **state)
{
	struct fakefb *f = fakefb_new(320, 100, 1280);

	/* Another writer holds the guard and never lets go: after a bounded
	 * wait the text goes out anyway and the guard is freed. */
	f->con.busy = 1;
	f->con.spin_limit = 100;
	fakefb_write(f, "panic: x\n");
	assert_string_equal(fakefb_read_row(f, 0), "panic: x");
	assert_int_equal(f->con.forced, 1);
	assert_int_equal(f->con.busy, 0);
	fakefb_write(f, "more\n");
	assert_int_equal(f->con.forced, 1);
	assert_string_equal(fakefb_read_row(f, 1), "more");

	/* State left garbled by an interrupted writer is clamped, not trusted. */
	f->con.row = 1000;
	f->con.col = 1000;
	f->con.top = 77;
	f->con.utf8_left = 9;
	f->con.utf8_len = 200;
	fakefb_write(f, "\xa9still fine\n");
	fakefb_check_border(f);
	fakefb_free(f);
}

static void test_odd_sizes_stay_in_bounds(void **state)
{
	static const uint32_t sizes[][3] = {
		{8, 16, 32},   {9, 17, 48},    {13, 37, 64},   {31, 31, 124},
		{100, 50, 432}, {641, 479, 2600}, {2560, 40, 10240},
		{2565, 97, 10300},
	};
	char text[600];
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = (char)(i % 23 == 22 ? '\n' : i % 9 == 8 ? '\t' : 'a' + i % 26);
	text[sizeof(text) - 1] = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct fakefb *f = fakefb_new(sizes[i][0], sizes[i][1], sizes[i][2]);
		assert_true(f->con.cols >= 1 && f->con.rows >= 1);
		fakefb_write(f, text);
		fakefb_write(f, "\xc3\xa9\b\b\b\r\t\t\t\t\t\t\t\t\t\t\t\t\tend\n");
		fakefb_check_border(f);
		fakefb_free(f);
	}
}

static void test_scale2(void **state)
{
	struct fakefb *f = fakefb_new(2560, 130, 2560 * 4 + 64);
	assert_int_equal(f->con.scale, 2);
	assert_int_equal(f->con.rows, 3);
	fakefb_write(f, "Keel 2x\nok\n");
	assert_string_equal(fakefb_read_row(f, 0), "Keel 2x");
	assert_string_equal(fakefb_read_row(f, 1), "ok");
	fakefb_check_border(f);
	fakefb_free(f);
}

static void test_write_before_start_is_ignored(void **state)
{
	struct fbcon c;
	memset(&c, 0, sizeof(c));
	fbcon_write_text(&c, "x\n", 2); /* no grid, no framebuffer: no crash */
	assert_int_equal(c.row, 0);
}

/* ---- fbcon_init against a fake kernel ---- */

uint64_t mm_direct_offset;
static int mock_map_fail, mock_alloc_fail;
static uint8_t *mock_fb;
static uint64_t mock_map_len;
static unsigned mock_map_prot;
static void *mock_pages;
static unsigned mock_order;
static struct console *mock_console;

void *mm_map_mmio(uint64_t pa, uint64_t len, unsigned prot)
{
	if (mock_map_fail)
		return NULL;
	mock_map_len = len;
	mock_map_prot = prot;
	mock_fb = malloc(len);
	memset(mock_fb, POISON, len);
	return mock_fb;
}

uint64_t pmm_alloc(unsigned order, unsigned flags)
{
	if (mock_alloc_fail)
		return 0;
	assert_true(flags & PMM_ZERO);
	mock_order = order;
	mock_pages = calloc(1, PAGE_SIZE << order);
	return (uint64_t)(uintptr_t)mock_pages; /* mm_direct_offset is 0 */
}

void console_register(struct console *con)
{
	mock_console = con;
}

static void test_init(void **state)
{
	struct boot_framebuffer b;

	assert_int_equal(fbcon_init(NULL), KEEL_ENOTSUP);
	fakefb_desc(&b, 1280, 800, 1280 * 4);
	b.bpp = 24;
	assert_int_equal(fbcon_init(&b), KEEL_ENOTSUP);
	assert_null(mock_console);

	fakefb_desc(&b, 1280, 800, 1280 * 4);
	mock_map_fail = 1;
	assert_int_equal(fbcon_init(&b), KEEL_ENOMEM);
	mock_map_fail = 0;
	mock_alloc_fail = 1;
	assert_int_equal(fbcon_init(&b), KEEL_ENOMEM);
	free(mock_fb);
	mock_alloc_fail = 0;
	assert_null(mock_console);

	test_log_reset();
	assert_int_equal(fbcon_init(&b), 0);
	assert_int_equal(mock_map_len, 1280 * 4 * 800);
	assert_true(mock_map_prot & PT_WC);
	assert_true(mock_map_prot & PT_W);
	/* 159 x 49 cells, twice: 15582 bytes, 4 pages. */
	assert_int_equal(mock_order, 2);
	assert_non_null(mock_console);
	assert_string_equal(mock_console->name, "fb");
	assert_non_null(strstr(test_log_all, "159x49 text"));

	/* The registered console draws onto the mapped framebuffer. */
	struct fakefb f;
	memset(&f, 0, sizeof(f));
	f.bfb = b;
	f.pixels = mock_fb;
	assert_int_equal(fbcon_setup(&f.con, &b), 0);
	/* write() fills the grid; flush() draws, once for many lines. */
	mock_console->write(mock_console, "[ 0.5] I keel: ready\n", 21);
	assert_string_equal(fakefb_read_row(&f, 0), "");
	mock_console->write(mock_console, "second\n", 7);
	assert_non_null(mock_console->flush);
	mock_console->flush(mock_console);
	assert_string_equal(fakefb_read_row(&f, 0), "[ 0.5] I keel: ready");
	assert_string_equal(fakefb_read_row(&f, 1), "second");
	assert_int_equal(fakefb_pixel(&f, 1279, 799), 0);

	assert_int_equal(fbcon_init(&b), KEEL_EBUSY);
	free(mock_fb);
	free(mock_pages);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_rejects_bad_framebuffers),
		cmocka_unit_test(test_setup_bitmask_formats),
		cmocka_unit_test(test_setup_geometry),
		cmocka_unit_test(test_start_clears_to_background),
		cmocka_unit_test(test_glyph_pixels),
		cmocka_unit_test(test_text_and_lines),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_scroll),
		cmocka_unit_test(test_unchanged_cells_not_redrawn),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_reentry_guard),
		cmocka_unit_test(test_odd_sizes_stay_in_bounds),
		cmocka_unit_test(test_scale2),
		cmocka_unit_test(test_write_before_start_is_ignored),
		cmocka_unit_test(test_init),
	};
	return cmocka_run_group_tests(tests, 0, 0);
}
