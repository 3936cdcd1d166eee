/* stdlib.h - memory and number parsing for the third-party libraries of the
 * management agent (kernel/libc/stdlib.c; floating point in float.c, visible
 * only to the FPU island). Keel's own code allocates with kmalloc. */
#ifndef KEEL_LIBC_STDLIB_H
#define KEEL_LIBC_STDLIB_H
#include <stddef.h>
void *malloc(size_t n);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
long strtol(const char *restrict s, char **restrict end, int base);
unsigned long strtoul(const char *restrict s, char **restrict end, int base);
long long strtoll(const char *restrict s, char **restrict end, int base);
unsigned long long strtoull(const char *restrict s, char **restrict end,
			    int base);
int atoi(const char *s);
int abs(int v);
long labs(long v);
#ifdef KEEL_LIBC_FPU
double strtod(const char *restrict s, char **restrict end);
#endif
#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#endif
