/* limits.h - GCC's own limits.h without the chain to a C library's
 * (see shared/recipes/freestanding-libs: Debian's fixed header needs this). */
#ifndef KEEL_LIBC_LIMITS_H
#define KEEL_LIBC_LIMITS_H
#define _LIBC_LIMITS_H_ 1
#include_next <limits.h>
#endif
