/* stdio.h - formatted output into buffers; the kernel has no FILE. */
#ifndef KEEL_LIBC_STDIO_H
#define KEEL_LIBC_STDIO_H
#include <stdarg.h>
#include <stddef.h>
int snprintf(char *restrict s, size_t n, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict s, size_t n, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
#endif
