/*
 * api_fake.h - a fake of mgmt/api_host.h for the REST API's unit tests:
 * VMs as plain records whose lifecycle calls just set the state, a serial
 * ring like vm->console, a log ring like kernel/log.c's, memory from
 * malloc with a settable "available", OpenSSL for PBKDF2 and SHA-256.
 */
#ifndef KEEL_TESTS_API_FAKE_H
#define KEEL_TESTS_API_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/api_host.h"

#define FAKE_CONSOLE_SIZE 16384 /* = VM_CONSOLE_SIZE */
#define FAKE_LOG_KEEP 8		/* records the fake log ring keeps */

struct fake_vm {
	bool live;
	unsigned id;
	char name[API_VM_NAME_MAX];
	enum api_vm_state state;
	unsigned cpus;
	uint64_t mib;
	char *cmdline;
	const void *kernel, *initrd, *firmware;
	char console[FAKE_CONSOLE_SIZE];
	uint64_t written;
	char typed[8192];
	size_t typed_len;
	unsigned fifo_room; /* bytes the UART takes per call */
};

struct fake_host {
	struct fake_vm vms[64];
	unsigned next_id;
	uint64_t mem_available;
	char password_hash[256];
	char console_line[512];	    /* the last api_host_console_print */
	unsigned console_lines;
	bool random_fails;
	bool image_alloc_fails;
	uint64_t image_bytes_live;  /* allocated and not freed */
	unsigned actions[API_VM_ACTION_COUNT];
	int action_error;	    /* api_host_vm_action returns this once */
	uint64_t log_next;	    /* records written so far */
	unsigned random_calls;
};

extern struct fake_host fake;

void fake_reset(void);
/* A VM as keel.cfg would have made it (no images known to the API). */
struct fake_vm *fake_vm_add(const char *name, enum api_vm_state state);
struct fake_vm *fake_vm_by_name(const char *name);
void fake_console_write(struct fake_vm *v, const char *s, size_t n);
void fake_log(const char *line);

#endif
