/*
 * fbcon.c - the framebuffer text console: turns log lines into glyphs on the
 * linear framebuffer UEFI's GOP left us (DESIGN.md section 3, Console).
 *
 * Owns one struct fbcon (grid, cursor, re-entry guard) and the mapping of the
 * framebuffer. It takes no lock: the log layer serialises writes, and the
 * guard in fbcon_write_text() covers panic's console_emergency_write().
 */
#include <stdbool.h>
#include <string.h>

#include "drivers/fbcon.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "mm/mm.h"

/* How long a writer waits for a busy console before writing anyway: long
 * enough for any ordinary write to finish (a full redraw under TCG takes
 * milliseconds), short enough that a panic's first line is not lost behind a
 * CPU that died while printing. */
#define FBCON_SPIN_LIMIT (1ul << 22)

static inline void fbcon_cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* ---- Pixel format ---- */

/* Place an 8-bit colour component into a bitmask field. Returns false for a
 * mask we cannot use (empty or with holes). */
static bool fbcon_pack_component(uint32_t mask, uint32_t value8, uint32_t *px)
{
	if (!mask)
		return false;
	unsigned shift = (unsigned)__builtin_ctz(mask);
	uint32_t field = mask >> shift;
	if (field & (field + 1)) /* not a contiguous run of ones */
		return false;
	unsigned bits = 0;
	while (field >> bits)
		bits++;
	uint32_t v = bits >= 8 ? value8 << (bits - 8) : value8 >> (8 - bits);
	*px |= (v << shift) & mask;
	return true;
}

/* Encode 0xRRGGBB for the framebuffer (UEFI spec 12.9, EFI_GRAPHICS_PIXEL_FORMAT:
 * RGBX and BGRX are byte orders in memory, little-endian 32-bit pixels). */
static int fbcon_encode_rgb(const struct boot_framebuffer *fb, uint32_t rgb,
			    uint32_t *px)
{
	uint32_t r = (rgb >> 16) & 0xFF, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;

	*px = 0;
	switch (fb->format) {
	case BOOT_FB_RGBX:
		*px = r | g << 8 | b << 16;
		return 0;
	case BOOT_FB_BGRX:
		*px = b | g << 8 | r << 16;
		return 0;
	case BOOT_FB_BITMASK:
		if ((fb->red_mask & fb->green_mask) ||
		    (fb->red_mask & fb->blue_mask) ||
		    (fb->green_mask & fb->blue_mask))
			return KEEL_ENOTSUP;
		if (!fbcon_pack_component(fb->red_mask, r, px) ||
		    !fbcon_pack_component(fb->green_mask, g, px) ||
		    !fbcon_pack_component(fb->blue_mask, b, px))
			return KEEL_ENOTSUP;
		return 0;
	default:
		return KEEL_ENOTSUP;
	}
}

/* ---- Geometry ---- */

int fbcon_setup(struct fbcon *con, const struct boot_framebuffer *fb)
{
	memset(con, 0, sizeof(*con));
	if (!fb || !fb->phys || fb->format == BOOT_FB_NONE) {
		log_info("fbcon: no framebuffer");
		return KEEL_ENOTSUP;
	}
	if (fb->bpp != 32 || fb->width == 0 || fb->height == 0 ||
	    fb->width > FBCON_MAX_DIM || fb->height > FBCON_MAX_DIM ||
	    fb->pitch % 4 || fb->pitch < (uint64_t)fb->width * 4) {
		log_warn("fbcon: unusable framebuffer %ux%u bpp %u pitch %u",
			 fb->width, fb->height, fb->bpp, fb->pitch);
		return KEEL_ENOTSUP;
	}
	if (fbcon_encode_rgb(fb, FBCON_FG_RGB, &con->fg) ||
	    fbcon_encode_rgb(fb, FBCON_BG_RGB, &con->bg)) {
		log_warn("fbcon: unsupported pixel format %u (masks %x %x %x)",
			 fb->format, fb->red_mask, fb->green_mask, fb->blue_mask);
		return KEEL_ENOTSUP;
	}

	con->width = fb->width;
	con->height = fb->height;
	con->pitch = fb->pitch;
	/* Never write past what the firmware says the framebuffer spans. */
	if (fb->size && fb->size < (uint64_t)fb->pitch * fb->height)
		con->height = (uint32_t)(fb->size / fb->pitch);

	con->scale = 1;
	if (con->width >= FBCON_SCALE2_WIDTH && con->height >= 2 * FBCON_GLYPH_H)
		con->scale = 2;
	unsigned cw = FBCON_GLYPH_W * con->scale, ch = FBCON_GLYPH_H * con->scale;
	if (con->width < cw || con->height < ch) {
		log_warn("fbcon: framebuffer %ux%u too small for one glyph",
			 con->width, con->height);
		return KEEL_ENOTSUP;
	}
	con->margin = FBCON_MARGIN * con->scale;
	if (con->width < 2 * con->margin + cw || con->height < 2 * con->margin + ch)
		con->margin = 0;
	con->cols = (con->width - 2 * con->margin) / cw;
	con->rows = (con->height - 2 * con->margin) / ch;
	con->spin_limit = FBCON_SPIN_LIMIT;
	return 0;
}

size_t fbcon_shadow_bytes(const struct fbcon *con)
{
	return 2 * (size_t)con->rows * con->cols;
}

void fbcon_start(struct fbcon *con, void *fb_virt, void *shadow)
{
	size_t cells = (size_t)con->rows * con->cols;

	con->fb = fb_virt;
	con->grid = shadow;
	con->shown = con->grid + cells;
	memset(con->grid, ' ', cells);
	memset(con->shown, ' ', cells);
	con->top = con->row = con->col = 0;
	con->utf8_left = 0;

	for (uint32_t y = 0; y < con->height; y++) {
		uint32_t *px = (uint32_t *)(con->fb + (size_t)y * con->pitch);
		for (uint32_t x = 0; x < con->width; x++)
			px[x] = con->bg;
	}
}

/* ---- Text into the grid ---- */

/* The cursor is kept in locals during a write and clamped on the way in, so a
 * write racing a forced one can only misplace text. */
struct fbcon_cursor {
	unsigned top, row, col;
};

static uint8_t *fbcon_grid_row(struct fbcon *con, const struct fbcon_cursor *cur,
			       unsigned row)
{
	return con->grid + (size_t)((cur->top + row) % con->rows) * con->cols;
}

static void fbcon_newline(struct fbcon *con, struct fbcon_cursor *cur)
{
	cur->col = 0;
	if (cur->row + 1 < con->rows) {
		cur->row++;
		return;
	}
	/* Scroll: the old first row becomes the new, blank, last row. */
	cur->top = (cur->top + 1) % con->rows;
	memset(fbcon_grid_row(con, cur, con->rows - 1), ' ', con->cols);
}

static void fbcon_put(struct fbcon *con, struct fbcon_cursor *cur, uint32_t cp)
{
	switch (cp) {
	case '\n':
		fbcon_newline(con, cur);
		return;
	case '\r':
		cur->col = 0;
		return;
	case '\t':
		if (cur->col < con->cols) {
			cur->col = (cur->col / FBCON_TAB + 1) * FBCON_TAB;
			if (cur->col > con->cols)
				cur->col = con->cols;
		}
		return;
	case '\b':
		if (cur->col > 0)
			cur->col--;
		return;
	}

	uint8_t glyph = '?';
	if ((cp >= 0x20 && cp < 0x7F) || (cp >= 0xA0 && cp <= 0xFF))
		glyph = (uint8_t)cp;
	/* Wrap only when a glyph follows, so a line of exactly cols characters
	 * and its '\n' take one row, not two. */
	if (cur->col >= con->cols)
		fbcon_newline(con, cur);
	fbcon_grid_row(con, cur, cur->row)[cur->col++] = glyph;
}

/* UTF-8 (RFC 3629) to code points; anything malformed (stray continuation,
 * truncated or overlong sequence, bytes C0, C1, F5..FF) becomes one '?'. */
static void fbcon_feed(struct fbcon *con, struct fbcon_cursor *cur, uint8_t b)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};

	if (con->utf8_left) {
		if ((b & 0xC0) == 0x80) {
			con->utf8_cp = con->utf8_cp << 6 | (b & 0x3F);
			if (--con->utf8_left)
				return;
			unsigned n = con->utf8_len < 5 ? con->utf8_len : 0;
			uint32_t cp = con->utf8_cp;
			fbcon_put(con, cur, cp >= min_cp[n] && n ? cp : '?');
			return;
		}
		con->utf8_left = 0;
		fbcon_put(con, cur, '?');
	}
	if (b < 0x80) {
		fbcon_put(con, cur, b);
	} else if (b >= 0xC2 && b <= 0xDF) {
		con->utf8_cp = b & 0x1F;
		con->utf8_len = 2;
	} else if (b >= 0xE0 && b <= 0xEF) {
		con->utf8_cp = b & 0x0F;
		con->utf8_len = 3;
	} else if (b >= 0xF0 && b <= 0xF4) {
		con->utf8_cp = b & 0x07;
		con->utf8_len = 4;
	} else {
		fbcon_put(con, cur, '?');
		return;
	}
	if (b >= 0x80)
		con->utf8_left = con->utf8_len - 1;
}

/* ---- Grid onto the framebuffer ---- */

static void fbcon_draw_cell(struct fbcon *con, unsigned row, unsigned col,
			    uint8_t ch)
{
	const uint8_t *glyph = font_8x16[ch];
	unsigned s = con->scale;
	uint32_t fg = con->fg, bg = con->bg;
	uint8_t *line = con->fb +
			(size_t)(con->margin + row * FBCON_GLYPH_H * s) * con->pitch +
			(size_t)(con->margin + col * FBCON_GLYPH_W * s) * 4;

	for (unsigned gy = 0; gy < FBCON_GLYPH_H; gy++) {
		unsigned bits = glyph[gy];
		for (unsigned sy = 0; sy < s; sy++, line += con->pitch) {
			uint32_t *px = (uint32_t *)line;
			for (unsigned gx = 0; gx < FBCON_GLYPH_W; gx++) {
				uint32_t v = bits & (0x80u >> gx) ? fg : bg;
				for (unsigned sx = 0; sx < s; sx++)
					*px++ = v;
			}
		}
	}
}

static void fbcon_render(struct fbcon *con, const struct fbcon_cursor *cur)
{
	for (unsigned r = 0; r < con->rows; r++) {
		const uint8_t *want = fbcon_grid_row(con, cur, r);
		uint8_t *have = con->shown + (size_t)r * con->cols;
		if (!memcmp(want, have, con->cols))
			continue;
		for (unsigned c = 0; c < con->cols; c++) {
			uint8_t ch = want[c];
			if (ch != have[c]) {
				fbcon_draw_cell(con, r, c, ch);
				have[c] = ch;
			}
		}
	}
}

/* The re-entry guard: wait spin_limit pauses for another writer, then go
 * ahead anyway (it may be a CPU that died while printing). */
static void fbcon_enter(struct fbcon *con)
{
	unsigned long spins = 0;
	while (__atomic_exchange_n(&con->busy, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&con->busy, __ATOMIC_RELAXED) &&
		       spins < con->spin_limit) {
			fbcon_cpu_relax();
			spins++;
		}
		if (spins >= con->spin_limit) {
			con->forced++;
			break;
		}
	}
}

/* Released even after a forced entry: the holder may never come back. */
static void fbcon_leave(struct fbcon *con)
{
	__atomic_store_n(&con->busy, 0, __ATOMIC_RELEASE);
}

static bool fbcon_ready(const struct fbcon *con)
{
	return con->grid && con->rows && con->cols;
}

void fbcon_queue_text(struct fbcon *con, const char *s, size_t len)
{
	if (!fbcon_ready(con))
		return;
	fbcon_enter(con);
	struct fbcon_cursor cur = {con->top, con->row, con->col};
	if (cur.top >= con->rows)
		cur.top = 0;
	if (cur.row >= con->rows)
		cur.row = con->rows - 1;
	if (cur.col > con->cols)
		cur.col = con->cols;
	if (con->utf8_left > 3 || con->utf8_len > 4)
		con->utf8_left = 0;

	for (size_t i = 0; i < len; i++)
		fbcon_feed(con, &cur, (uint8_t)s[i]);
	con->top = cur.top;
	con->row = cur.row;
	con->col = cur.col;
	fbcon_leave(con);
}

void fbcon_show(struct fbcon *con)
{
	if (!fbcon_ready(con))
		return;
	fbcon_enter(con);
	struct fbcon_cursor cur = {con->top < con->rows ? con->top : 0, 0, 0};
	fbcon_render(con, &cur);
	/* Drain the write-combining buffers now: the next thing a panicking CPU
	 * does may be HLT (SDM Vol. 3A, "Buffering of Write Combining Memory
	 * Locations": WC writes are only guaranteed visible after a fence). */
	__asm__ volatile("sfence" ::: "memory");
	fbcon_leave(con);
}

void fbcon_write_text(struct fbcon *con, const char *s, size_t len)
{
	fbcon_queue_text(con, s, len);
	fbcon_show(con);
}

/* ---- The kernel's console ---- */

static struct fbcon fbcon_main;

static void fbcon_console_write(struct console *c, const char *s, size_t len)
{
	fbcon_queue_text(&fbcon_main, s, len);
}

static void fbcon_console_flush(struct console *c)
{
	fbcon_show(&fbcon_main);
}

static struct console fbcon_console = {
	.name = "fb",
	.write = fbcon_console_write,
	.flush = fbcon_console_flush,
};

int fbcon_init(const struct boot_framebuffer *fb)
{
	struct fbcon con;

	if (fbcon_main.grid)
		return KEEL_EBUSY;
	int err = fbcon_setup(&con, fb);
	if (err)
		return err;

	void *va = mm_map_mmio(fb->phys, (uint64_t)con.pitch * con.height,
			       PT_R | PT_W | PT_WC);
	if (!va) {
		log_err("fbcon: cannot map framebuffer at %#llx",
			(unsigned long long)fb->phys);
		return KEEL_ENOMEM;
	}
	size_t bytes = fbcon_shadow_bytes(&con);
	unsigned order = 0;
	while ((PAGE_SIZE << order) < bytes && order < PMM_MAX_ORDER)
		order++;
	uint64_t pa = pmm_alloc(order, PMM_ZERO);
	if (!pa) {
		log_err("fbcon: no memory for a %zu-byte text grid", bytes);
		return KEEL_ENOMEM;
	}

	fbcon_start(&con, va, phys_to_virt(pa));
	fbcon_main = con;
	console_register(&fbcon_console);
	log_info("fbcon: %ux%u pitch %u at %#llx, %ux%u text, scale %u",
		 con.width, con.height, con.pitch,
		 (unsigned long long)fb->phys, con.cols, con.rows, con.scale);
	return 0;
}
