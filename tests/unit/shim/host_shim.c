/*
 * host_shim.c - what kernel code compiled into host unit tests needs from the
 * kernel around it: klog (captured so tests can assert on messages) and
 * err_str. Tests read test_log_* to check that a mistake was reported.
 * The klog family is weak: test_log links the real kernel/log.c instead.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/err.h"
#include "kernel/log.h"
#include "tests/unit/shim/host_shim.h"

char test_log_last[1024];
char test_log_all[65536];
unsigned test_log_count[4];
int test_log_quiet = 1;

void test_log_reset(void)
{
	test_log_last[0] = 0;
	test_log_all[0] = 0;
	memset(test_log_count, 0, sizeof(test_log_count));
}

__attribute__((weak)) void vklog(enum log_level level, const char *fmt,
				   va_list ap)
{
	vsnprintf(test_log_last, sizeof(test_log_last), fmt, ap);
	if (level <= LOG_DEBUG)
		test_log_count[level]++;
	size_t used = strlen(test_log_all);
	snprintf(test_log_all + used, sizeof(test_log_all) - used, "%s\n",
		 test_log_last);
	if (!test_log_quiet)
		fprintf(stderr, "klog[%d]: %s\n", level, test_log_last);
}

__attribute__((weak)) void klog(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vklog(level, fmt, ap);
	va_end(ap);
}

__attribute__((weak)) void kprint_line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vklog(LOG_INFO, fmt, ap);
	va_end(ap);
}
