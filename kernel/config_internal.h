/*
 * config_internal.h - what the keel.cfg parser (config.c) and its key tables
 * (config_keys.c) share: how a key's value is read and where it goes. Not
 * for the rest of Keel; config.h is the contract.
 */
#ifndef KEEL_CONFIG_INTERNAL_H
#define KEEL_CONFIG_INTERNAL_H

#include "kernel/config.h"

struct cfg_span {
	const char *p;
	size_t n;
};

/* How a key's value is read and where it goes. */
enum cfg_kind {
	CFG_K_UINT,    /* decimal or 0x hex in [min, max] */
	CFG_K_PORT,    /* an I/O port: like UINT, shown in hex */
	CFG_K_BAUD,    /* one of cfg_bauds[] */
	CFG_K_SIZE,    /* config_parse_size() in [min, max], then aligned up */
	CFG_K_WORD,    /* one of words[], case-insensitive */
	CFG_K_CONSOLE, /* comma list of words[] */
	CFG_K_TEXT,    /* free text that fits the char array */
	CFG_K_PATH,    /* a struct cfg_file, path only */
	CFG_K_MODULE,  /* appends "path [args]" to a struct cfg_file array */
	CFG_K_IPNET,   /* a struct cfg_ipv4_net: address/prefix or "dhcp" */
	CFG_K_IPV4,    /* a uint32_t unicast address, or "none" */
	CFG_K_PASSWORD, /* pbkdf2-sha256:...; never shown in messages */
};

struct cfg_word {
	const char *word;
	unsigned value;
};

struct cfg_key {
	const char *name;
	enum cfg_kind kind;
	size_t off, size;  /* its field in struct keel_config or cfg_vm */
	size_t count_off;  /* MODULE: its counter (an unsigned) */
	uint64_t min, max; /* UINT, PORT, SIZE; MODULE: max is the array size */
	uint64_t align;    /* SIZE: round up to this power of two, 0: no */
	const struct cfg_word *words; /* WORD, CONSOLE */
	/* What a wrong value is told: "is out of range (0-1024)", "is not halt
	 * or reboot", ...; MODULE: the start of "too many modules" */
	const char *bad;
};

/* Both end with an entry whose name is NULL. */
extern const struct cfg_key cfg_host_keys[];
extern const struct cfg_key cfg_vm_keys[];

/* The baud rates serial_baud= accepts. */
bool cfg_baud_ok(uint64_t v);

/* Value checks of the network keys: NULL and the value stored in *out, or
 * what is wrong with it ("is not an IPv4 address", ...). */
const char *cfg_ipv4_parse(struct cfg_span s, uint32_t *out);
const char *cfg_ipnet_parse(struct cfg_span s, struct cfg_ipv4_net *out);
const char *cfg_password_check(struct cfg_span s);

#endif
