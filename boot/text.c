/*
 * text.c - converts between the firmware's UCS-2 strings and the ASCII the
 * configuration and kernel use, and between keel.cfg paths and the forms the
 * FAT file protocol and TFTP want. Input comes from firmware, the boot menu
 * or keel.cfg: every length is bounded.
 */
#include <string.h>

#include "boot/text.h"
#include "kernel/err.h"

static int text_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int text_is_printable(int c)
{
	return c >= 0x20 && c <= 0x7E;
}

static int text_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Does the token s[0..len) end in ".efi", ignoring case? */
static int text_ends_in_efi(const char *s, size_t len)
{
	static const char ext[] = ".efi";

	if (len < 4)
		return 0;
	for (size_t i = 0; i < 4; i++)
		if (text_lower(s[len - 4 + i]) != ext[i])
			return 0;
	return 1;
}

/* Length of the first token of s (quoted or bare) and of its text. */
static size_t text_first_token(const char *s, size_t *text_start,
			       size_t *text_len)
{
	size_t i = 0;

	if (s[0] == '"') {
		i = 1;
		while (s[i] && s[i] != '"')
			i++;
		*text_start = 1;
		*text_len = i - 1;
		return s[i] == '"' ? i + 1 : i;
	}
	while (s[i] && !text_is_space(s[i]))
		i++;
	*text_start = 0;
	*text_len = i;
	return i;
}

int text_load_options(const void *opts, size_t bytes, char *out,
		      size_t out_size)
{
	size_t n = 0, skip = 0, tok, start, len;
	uint16_t c;

	if (out_size == 0)
		return KEEL_ERANGE;
	for (size_t i = 0; i + 1 < bytes; i += 2) {
		memcpy(&c, (const char *)opts + i, sizeof(c));
		if (c == 0)
			break;
		if (!text_is_printable(c) && !text_is_space(c))
			return KEEL_EINVAL;
		if (n + 1 >= out_size)
			return KEEL_ERANGE;
		out[n++] = text_is_space(c) ? ' ' : (char)c;
	}
	out[n] = 0;

	while (out[skip] == ' ')
		skip++;
	tok = text_first_token(out + skip, &start, &len);
	if (text_ends_in_efi(out + skip + start, len)) {
		skip += tok;
		while (out[skip] == ' ')
			skip++;
	}
	memmove(out, out + skip, n - skip + 1);
	return (int)(n - skip);
}

/* Path without its leading separators; KEEL_EINVAL if empty or binary. */
static int text_path_body(const char *path, const char **body, size_t *len)
{
	while (*path == '\\' || *path == '/')
		path++;
	*body = path;
	*len = strlen(path);
	if (*len == 0)
		return KEEL_EINVAL;
	for (size_t i = 0; i < *len; i++)
		if (!text_is_printable(path[i]))
			return KEEL_EINVAL;
	return 0;
}

int text_path_to_tftp(const char *path, char *out, size_t out_size)
{
	const char *body;
	size_t len;
	int err = text_path_body(path, &body, &len);

	if (err)
		return err;
	if (len + 1 > out_size)
		return KEEL_ERANGE;
	for (size_t i = 0; i < len; i++)
		out[i] = body[i] == '\\' ? '/' : body[i];
	out[len] = 0;
	return 0;
}

int text_path_to_ucs2(const char *path, uint16_t *out, size_t out_chars)
{
	const char *body;
	size_t len;
	int err = text_path_body(path, &body, &len);

	if (err)
		return err;
	if (len + 2 > out_chars)
		return KEEL_ERANGE;
	out[0] = '\\';
	for (size_t i = 0; i < len; i++)
		out[i + 1] = body[i] == '/' ? '\\' : (uint16_t)body[i];
	out[len + 1] = 0;
	return 0;
}

size_t text_ucs2_to_ascii(const uint16_t *s, char *out, size_t out_size)
{
	size_t n = 0;

	if (out_size == 0)
		return 0;
	for (; s[n] && n + 1 < out_size; n++)
		out[n] = text_is_printable(s[n]) ? (char)s[n] : '?';
	out[n] = 0;
	return n;
}
