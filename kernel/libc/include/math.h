/* math.h - the little floating point cJSON needs (kernel/libc/float.c). Only
 * code built as an FPU island (-DKEEL_LIBC_FPU, without -mgeneral-regs-only)
 * may use it. */
#ifndef KEEL_LIBC_MATH_H
#define KEEL_LIBC_MATH_H
#ifdef KEEL_LIBC_FPU
double fabs(double x);
double floor(double x);
#define NAN (__builtin_nan(""))
#define INFINITY (__builtin_inf())
#define HUGE_VAL (__builtin_huge_val())
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#endif
#endif
