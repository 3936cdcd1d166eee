/* host_shim.h - captured klog output for host unit tests (see host_shim.c). */
#ifndef KEEL_HOST_SHIM_H
#define KEEL_HOST_SHIM_H

extern char test_log_last[1024];
extern char test_log_all[65536]; /* every message since the last reset, '\n' separated */
extern unsigned test_log_count[4]; /* by enum log_level */
extern int test_log_quiet;         /* 0: also print messages to stderr */
void test_log_reset(void);

#endif
