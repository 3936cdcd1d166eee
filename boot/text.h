/*
 * text.h - the text conversions the loader needs (boot/text.c): UEFI load
 * options to an ASCII command line, keel.cfg paths to FAT and TFTP form,
 * UCS-2 to ASCII. Pure code: host unit tests run it.
 */
#ifndef KEEL_BOOT_TEXT_H
#define KEEL_BOOT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * LoadOptions (UCS-2, UEFI 2.10 9.1) to an ASCII command line in out.
 * Stops at the first NUL. Drops the first token when it ends in ".efi": the
 * UEFI shell passes the program's own path first. Returns the length (out is
 * NUL-terminated; out_size >= bytes / 2 + 1 always suffices), KEEL_EINVAL
 * when the data is not printable ASCII text (boot manager options often
 * carry binary data: EDK2's auto-created ones hold a GUID), KEEL_ERANGE when
 * out is too small.
 */
int text_load_options(const void *opts, size_t bytes, char *out,
		      size_t out_size);

/* "\keel\x.bin" or "/keel/x.bin" -> "keel/x.bin" (TFTP names are relative to
 * the server's root). 0, KEEL_EINVAL (empty or not printable) or
 * KEEL_ERANGE (too long). */
int text_path_to_tftp(const char *path, char *out, size_t out_size);

/* "/keel/x.bin" -> L"\keel\x.bin" (EFI_FILE_PROTOCOL.Open wants '\' and an
 * absolute path, UEFI 2.10 13.5). Same results as text_path_to_tftp. */
int text_path_to_ucs2(const char *path, uint16_t *out, size_t out_chars);

/* NUL-terminated UCS-2 to ASCII, anything not printable as '?', truncated
 * to out_size - 1 characters. Returns the length. */
size_t text_ucs2_to_ascii(const uint16_t *s, char *out, size_t out_size);

#endif
