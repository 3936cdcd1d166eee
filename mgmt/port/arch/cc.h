/*
 * arch/cc.h - lwIP's compiler and platform glue for Keel (x86-64,
 * freestanding): printf formats, byte order, diagnostics. Found by lwIP as
 * "arch/cc.h" with mgmt/port on the include path.
 */
#ifndef KEEL_LWIP_ARCH_CC_H
#define KEEL_LWIP_ARCH_CC_H

/* GCC has no freestanding inttypes.h and lwIP's own ctype replacements
 * are fine, so lwIP is given its printf formats here. */
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H 1
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"

#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

/* mgmt/port/sys_arch.c */
unsigned int keel_rand32(void);
int keel_lwip_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void keel_lwip_assert(const char *msg, const char *file, int line)
	__attribute__((noreturn));

#define LWIP_PLATFORM_DIAG(x)      \
	do {                       \
		keel_lwip_printf x; \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) keel_lwip_assert((x), __FILE__, __LINE__)

#define PACK_STRUCT_FIELD(x) x
#define PACK_STRUCT_STRUCT __attribute__((packed))
#define PACK_STRUCT_BEGIN
#define PACK_STRUCT_END

#endif
