/*
 * mgmt.h - the management agent's services to its own parts (the HTTP
 * server, the REST API): mgmt/mgmt.c and the transport implement them.
 */
#ifndef KEEL_MGMT_MGMT_H
#define KEEL_MGMT_MGMT_H

#include <stddef.h>

struct boot_info;
struct keel_config;

/* From kernel/main.c once the VMs are started: the management thread
 * (TLS, the management network, HTTPS on port 443). bi and cfg stay. */
void mgmt_start(const struct boot_info *bi, const struct keel_config *cfg);

/* len bytes from the agent's CTR_DRBG (seeded from mbedtls_hardware_poll):
 * 0, or a negative KEEL_E* code when no random bytes could be had. */
int mgmt_random(void *buf, size_t len);

#endif
