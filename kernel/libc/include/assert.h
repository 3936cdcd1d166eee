/* assert.h - for the third-party libraries: a failed assert() is a broken
 * invariant and panics (kernel/libc/stdlib.c). Keel's own code uses BUG_ON. */
#ifndef KEEL_LIBC_ASSERT_H
#define KEEL_LIBC_ASSERT_H
void keel_assert_fail(const char *expr, const char *file, int line)
	__attribute__((noreturn));
#define assert(e) ((e) ? (void)0 : keel_assert_fail(#e, __FILE__, __LINE__))
#ifndef __cplusplus
#define static_assert _Static_assert
#endif
#endif
