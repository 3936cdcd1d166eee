/* stdio.h - formatted output into buffers; the kernel has no FILE. */
#ifndef KEEL_LIBC_STDIO_H
#define KEEL_LIBC_STDIO_H
#include <stdarg.h>
#include <stddef.h>
int snprintf(char *restrict s, size_t n, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict s, size_t n, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
#ifdef KEEL_LIBC_FPU
/* cJSON only (kernel/libc/float.c): unbounded, and with %g / %lg. */
int sprintf(char *restrict s, const char *restrict fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sscanf(const char *restrict s, const char *restrict fmt, ...)
	__attribute__((format(scanf, 2, 3)));
#endif
#endif
