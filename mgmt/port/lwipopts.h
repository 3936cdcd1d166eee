/*
 * lwipopts.h - lwIP 2.2 options for Keel's management network: NO_SYS (no
 * threads; the management thread, mgmt/mgmt.c, makes every lwIP call), raw
 * API, IPv4 with ARP, ICMP and the DHCP client, TCP for the HTTPS server.
 * All memory is static (.bss). Adapted from shared/recipes/freestanding-libs.
 */
#ifndef KEEL_LWIPOPTS_H
#define KEEL_LWIPOPTS_H

/* ---- system: one context, no OS ---- */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* only the management thread calls lwIP */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0
#define LWIP_TIMERS 1		      /* sys_now(): mgmt/port/sys_arch.c */
#define LWIP_RAND() ((u32_t)keel_rand32()) /* DHCP xid, TCP ISN, ports */

/* ---- memory ---- */
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8
#define MEM_SIZE (256 * 1024) /* TX data (tcp_write copies), 16 x TCP_SND_BUF */
#define MEMP_NUM_PBUF 64
#define PBUF_POOL_SIZE 256 /* RX; a connection holds up to TCP_WND of them */
#define PBUF_POOL_BUFSIZE                                                   \
	LWIP_MEM_ALIGN_SIZE(TCP_MSS + 40 + PBUF_LINK_ENCAPSULATION_HLEN + \
			    PBUF_LINK_HLEN)
#define MEMP_NUM_RAW_PCB 0
#define MEMP_NUM_UDP_PCB 2	/* DHCP */
#define MEMP_NUM_TCP_PCB 40	/* MGMT_CONN_MAX connections + TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define MEMP_NUM_TCP_SEG 512
#define MEMP_NUM_REASSDATA 4
#define MEMP_NUM_FRAG_PBUF 8
#define MEMP_NUM_ARP_QUEUE 16
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2)

/* ---- link, IPv4 ---- */
#define LWIP_ETHERNET 1
#define LWIP_ARP 1
#define ARP_TABLE_SIZE 16
#define ARP_QUEUEING 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define LWIP_IPV4 1
#define IP_FORWARD 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_DHCP 1
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_ACD 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0 /* dns= is kept in keel_cfg; nothing resolves names yet */
#define LWIP_UDP 1 /* DHCP */
#define LWIP_NETIF_HOSTNAME 1 /* DHCP option 12: "keel" */
#define LWIP_NETIF_STATUS_CALLBACK 1 /* the address line on every change */
#define LWIP_NETIF_LINK_CALLBACK 1

/* IPv4 only for now: the console line and the API name one IPv4 address. */
#define LWIP_IPV6 0

/* ---- TCP ---- */
#define LWIP_TCP 1
#define TCP_MSS 1460
/* 46 KiB of receive window (no window scaling: at most 64 KiB) keeps an
 * image upload going over a link with some latency; RX pbufs come from
 * the pool, shared by all connections. mgmt.c opens the window only as
 * mbedTLS reads, so a connection's unread pbuf chain stays below the
 * window and its u16 tot_len cannot overflow. */
#define TCP_WND (32 * TCP_MSS)
#define TCP_SND_BUF (8 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_SACK_OUT 0
#define TCP_LISTEN_BACKLOG 1
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_WND_SCALE 0
#define LWIP_ALTCP 0
#define LWIP_ALTCP_TLS 0 /* lwIP 2.2's glue targets mbedTLS 2; mgmt/tls.c is ours */

/* ---- checksums, misc ---- */
#define LWIP_CHKSUM_ALGORITHM 3
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_CHECK_IP 1
#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0
#define LWIP_DEBUG 0
#define LWIP_PERF 0
#define LWIP_SINGLE_NETIF 0
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF 0

#endif
