/*
 * net.h - the management network (mgmt/net.c): one lwIP interface on the
 * first network device with a link, addressed by DHCP or by keel.cfg's ip=,
 * gw=, dns=. It prints "keel: mgmt https://<address>/ sha256=<fingerprint>"
 * when the address becomes known and whenever it changes. Management thread
 * only.
 */
#ifndef KEEL_MGMT_NET_H
#define KEEL_MGMT_NET_H

#include <stdbool.h>
#include <stdint.h>

struct keel_config;

/* lwIP up, no device yet (net_poll attaches one when there is a link). */
void net_init(const struct keel_config *cfg);
/* Everything the network needs now: attach, the device's poll, received
 * frames into lwIP, link changes, the address line. Returns the number of
 * frames handled (0: nothing happened). */
unsigned net_poll(uint64_t now_ns);
/* Whether a device is attached (the thread idles longer without). */
bool net_attached(void);
/* The interface's IPv4 address (host byte order), 0 while it has none. */
uint32_t net_address(void);

#endif
