/*
 * fbcon.h - the text console on the firmware's (GOP) framebuffer: log lines in
 * light grey on black, 8x16 glyphs (doubled from 2560 pixels wide), scrolling.
 *
 * fbcon_init() is what the kernel calls. The renderer underneath works on any
 * memory that looks like a 32-bpp framebuffer, so host unit tests drive the
 * same code on a malloc'd buffer through the functions below it.
 */
#ifndef KEEL_DRIVERS_FBCON_H
#define KEEL_DRIVERS_FBCON_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"

/*
 * Map the framebuffer write-combining, clear it, and register the console
 * "fb" (which replays the log so far onto it). Call after mm_init (needs
 * mm_map_mmio and pmm_alloc). Returns 0; KEEL_ENOTSUP when there is no
 * framebuffer or it is not a 32-bpp RGBX/BGRX/bitmask one we can use;
 * KEEL_ENOMEM when mapping or the shadow grid fails; KEEL_EBUSY when called
 * twice.
 */
int fbcon_init(const struct boot_framebuffer *fb);

/* ---- The renderer (exposed for tests/unit/test_fbcon.c). ---- */

#define FBCON_GLYPH_W 8
#define FBCON_GLYPH_H 16
#define FBCON_MARGIN 4	      /* pixels around the text, times the scale */
#define FBCON_SCALE2_WIDTH 2560 /* glyphs are doubled from this width on */
#define FBCON_MAX_DIM 16384   /* larger width/height is refused as bogus */
#define FBCON_TAB 8
#define FBCON_FG_RGB 0xAAAAAAu /* light grey, VGA's colour 7 */
#define FBCON_BG_RGB 0x000000u

/* 8x16 glyphs indexed by Latin-1 code point (drivers/font.c, Terminus Font). */
extern const uint8_t font_8x16[256][16];

/*
 * One screen. The text lives in a grid of Latin-1 bytes (a ring of rows, so a
 * scroll moves no memory); 'shown' is what the framebuffer shows now. Text
 * goes into the grid; showing draws only the cells that differ from 'shown': the
 * framebuffer is never read (write-combining reads are slow) and scrolling a
 * mostly blank screen stays cheap under emulation.
 */
struct fbcon {
	uint8_t *fb;	 /* framebuffer, virtual; pitch * height bytes */
	uint32_t width;	 /* pixels */
	uint32_t height; /* pixels (clipped to what fb->size covers) */
	uint32_t pitch;	 /* bytes per line */
	uint32_t fg, bg; /* pixel values in the framebuffer's format */
	unsigned scale;	 /* 1, or 2 on wide screens */
	unsigned margin; /* pixels left and top of the text */
	unsigned cols, rows;

	uint8_t *grid;	/* rows * cols; screen row r is ring row (top + r) % rows */
	uint8_t *shown; /* rows * cols, by screen row */
	unsigned top;	/* ring index of the first screen row */
	unsigned row;	/* cursor: screen row, < rows */
	unsigned col;	/* cursor: column, <= cols (== cols: wrap before the next glyph) */
	uint32_t utf8_cp;    /* code point being decoded */
	unsigned utf8_left;  /* continuation bytes still expected */
	unsigned utf8_len;   /* length of the sequence being decoded */

	/* Re-entry guard: 0 free, 1 busy. A writer that finds it busy waits
	 * spin_limit pauses for it, then writes anyway (panic from another CPU
	 * or an exception inside a write); every index is clamped so that this
	 * can garble text but never write outside the buffers. */
	int busy;
	unsigned long spin_limit;
	unsigned long forced; /* writes that went ahead without the guard */
};

/* Check fb and fill con's geometry and colours (nothing is touched yet).
 * Returns 0 or KEEL_ENOTSUP. */
int fbcon_setup(struct fbcon *con, const struct boot_framebuffer *fb);
/* Bytes of shadow memory fbcon_start() needs after fbcon_setup(). */
size_t fbcon_shadow_bytes(const struct fbcon *con);
/* Attach the mapped framebuffer and the shadow memory, clear the screen. */
void fbcon_start(struct fbcon *con, void *fb_virt, void *shadow);
/* Put text into the grid (UTF-8; '\n', '\r', '\t', '\b' understood; code
 * points outside Latin-1 and other control characters shown as '?');
 * fbcon_show() draws what changed since it last ran, so many lines cost one
 * redraw; fbcon_write_text() does both. No allocation, no lock, work with
 * interrupts off. */
void fbcon_queue_text(struct fbcon *con, const char *s, size_t len);
void fbcon_show(struct fbcon *con);
void fbcon_write_text(struct fbcon *con, const char *s, size_t len);

#endif
