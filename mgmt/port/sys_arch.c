/*
 * sys_arch.c - what lwIP (NO_SYS) asks of the system: the millisecond clock
 * for its timers, random numbers (TCP initial sequence numbers, DHCP
 * transaction ids, ports) and its diagnostics.
 */
#include <stdarg.h>
#include <stdio.h>

#include "kernel/arch/x86.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "lwip/arch.h"
#include "lwip/sys.h"
#include "mgmt/tls.h"

/* lwIP's timers want milliseconds that wrap at 2^32 (timeouts.c). */
u32_t sys_now(void)
{
	return (u32_t)(time_ns() / 1000000);
}

/* From the agent's CTR_DRBG (mgmt/tls.c); lwIP only runs once that is
 * seeded. Should a reseed fail, TCP still needs some ISN: take the TSC
 * through a mixer and say so (RFC 6528 wants unpredictable ISNs). */
unsigned int keel_rand32(void)
{
	static bool warned;
	uint32_t v;

	if (tls_random(&v, sizeof(v)) == 0)
		return v;
	if (!warned) {
		log_err("mgmt: the random generator failed; TCP sequence "
			"numbers are now predictable");
		warned = true;
	}
	uint64_t x = rdtsc() * 0x9E3779B97F4A7C15ull;
	return (unsigned int)(x ^ x >> 29);
}

int keel_lwip_printf(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_debug("lwip: %s", line);
	return n;
}

/* A broken invariant inside the network stack ends the management service,
 * not the hypervisor and its VMs (STYLE.md, errors). */
void keel_lwip_assert(const char *msg, const char *file, int line)
{
	log_err("mgmt: lwIP assertion \"%s\" failed at %s:%d; the management "
		"service stops", msg, file, line);
	thread_exit();
}
