/*
 * table.c - keelctl's output for people: aligned columns, sizes and
 * durations in words. Every cell comes from the server, so control
 * characters are replaced before they reach the admin's terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "keelctl.h"

size_t table_width(const char *s)
{
	size_t w = 0;

	/* UTF-8 continuation bytes are 10xxxxxx (RFC 3629 section 3). */
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* A copy of s with C0 controls and DEL as '?', so that a name cannot move
 * the cursor or change the terminal's state. */
static char *clean_copy(const char *s)
{
	char *c = strdup(s ? s : "-");

	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

void table_puts(const char *s, FILE *out)
{
	char *c = clean_copy(s);

	if (c)
		fputs(c, out);
	free(c);
}

int table_init(struct table *t, unsigned ncols, const char *const *head,
	       uint32_t right)
{
	memset(t, 0, sizeof(*t));
	if (ncols == 0 || ncols > TABLE_COLS_MAX)
		return KEEL_EINVAL;
	t->ncols = ncols;
	t->right = right;
	if (head) {
		t->header = true;
		return table_add(t, head);
	}
	return 0;
}

int table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, sizeof(*n) * cap * t->ncols);

		if (!n)
			return KEEL_ENOMEM;
		t->cells = n;
		t->cap = cap;
	}
	for (unsigned c = 0; c < t->ncols; c++) {
		char *s = clean_copy(cells[c]);

		if (!s) {
			while (c--)
				free(t->cells[t->nrows * t->ncols + c]);
			return KEEL_ENOMEM;
		}
		t->cells[t->nrows * t->ncols + c] = s;
	}
	t->nrows++;
	return 0;
}

void table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_COLS_MAX] = { 0 };

	for (unsigned r = 0; r < t->nrows; r++)
		for (unsigned c = 0; c < t->ncols; c++) {
			size_t w = table_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (unsigned r = 0; r < t->nrows; r++) {
		/* The last column is not padded: no trailing blanks, unless it
		 * is right-aligned. */
		for (unsigned c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t pad = width[c] - table_width(s);
			bool right = (t->right >> c) & 1;
			bool last = c + 1 == t->ncols;

			if (c)
				fputs("  ", out);
			if (right)
				fprintf(out, "%*s", (int)pad, "");
			fputs(s, out);
			if (!right && !last)
				fprintf(out, "%*s", (int)pad, "");
		}
		fputc('\n', out);
	}
}

void table_free(struct table *t)
{
	for (unsigned i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void table_format_size(uint64_t bytes, char *out, size_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	unsigned u = 0;

	if (bytes < 1024) {
		snprintf(out, n, "%llu B", (unsigned long long)bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	/* One decimal below 100 ("13.5 MiB"), none above ("512 MiB"); a
	 * round number has none either. */
	if (v * 10 + 0.5 >= 1000 || (uint64_t)(v * 10 + 0.5) % 10 == 0)
		snprintf(out, n, "%.0f %s", v, unit[u]);
	else
		snprintf(out, n, "%.1f %s", v, unit[u]);
}

void table_format_duration(uint64_t s, char *out, size_t n)
{
	uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;

	if (d)
		snprintf(out, n, "%llud %lluh %llum %llus", (unsigned long long)d,
			 (unsigned long long)h, (unsigned long long)m,
			 (unsigned long long)sec);
	else if (h)
		snprintf(out, n, "%lluh %llum %llus", (unsigned long long)h,
			 (unsigned long long)m, (unsigned long long)sec);
	else if (m)
		snprintf(out, n, "%llum %llus", (unsigned long long)m,
			 (unsigned long long)sec);
	else
		snprintf(out, n, "%llus", (unsigned long long)sec);
}
