/* printf_host.c - the kernel's printf.c under the names keel_snprintf and
 * keel_vsnprintf, so a host test can compare it with the C library's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#define snprintf keel_snprintf
#define vsnprintf keel_vsnprintf
int keel_snprintf(char *restrict s, size_t n, const char *restrict fmt, ...);
int keel_vsnprintf(char *restrict s, size_t n, const char *restrict fmt,
		   va_list ap);
#include "kernel/libc/printf.c"
