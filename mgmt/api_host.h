/*
 * api_host.h - what the REST API needs of the kernel around it: VMs, the
 * log, memory, the local console, the configured password and the crypto
 * of mbedTLS. mgmt/api_kernel.c implements it in Keel; the unit tests
 * implement it with fakes, so mgmt/api*.c, auth.c and images.c run on the
 * host unchanged. Management thread only.
 */
#ifndef KEEL_MGMT_API_HOST_H
#define KEEL_MGMT_API_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- VMs ---- */

enum api_vm_state {
	API_VM_CREATED = 0,
	API_VM_RUNNING,
	API_VM_PAUSED,
	API_VM_STOPPED,
};

enum api_vm_action {
	API_VM_START = 0,
	API_VM_STOP,	 /* the ACPI power button: the guest decides */
	API_VM_POWEROFF, /* now */
	API_VM_RESET,
	API_VM_PAUSE,
	API_VM_RESUME,
	API_VM_DELETE,
	API_VM_ACTION_COUNT
};

#define API_VM_NAME_MAX 32 /* = VM_NAME_MAX, NUL included */

struct api_vm_info {
	unsigned id;
	char name[API_VM_NAME_MAX];
	enum api_vm_state state;
	unsigned cpus;
	uint64_t memory_mib;
	const char *cmdline; /* the VM's own copy, or NULL; valid until the
				next call here that may delete a VM */
};

/* What POST /vms asks for; the images are the API's and outlive the VM. */
struct api_vm_spec {
	const char *name;
	unsigned cpus;
	uint64_t memory_mib;
	const void *kernel;   /* exactly one of kernel and firmware */
	size_t kernel_size;
	const void *initrd;   /* or NULL */
	size_t initrd_size;
	const void *firmware; /* or NULL */
	size_t firmware_size;
	const char *cmdline;  /* or NULL */
};

/* Every VM (at most max), in creation order. */
unsigned api_host_vm_list(struct api_vm_info *out, unsigned max);
/* One VM by id or by name: 0, or KEEL_ENOENT. */
int api_host_vm_get(unsigned id, struct api_vm_info *out);
int api_host_vm_find(const char *name, struct api_vm_info *out);
/* Make a VM (state created). 0 and *id; KEEL_ENOTSUP with why when the
 * kernel is none of Linux bzImage, Multiboot, ELF64; KEEL_EINVAL with why
 * for a combination the loader refuses (an initrd for a non-Linux kernel);
 * KEEL_EEXIST, KEEL_ENOMEM, KEEL_EBUSY (no free VM slot), or KEEL_ENOTSUP
 * with why when the machine has no hardware virtualization. */
int api_host_vm_create(const struct api_vm_spec *spec, unsigned *id,
		       char *why, size_t why_len);
/* Carry out an action the state machine allowed (API_VM_DELETE frees
 * the VM). 0, or KEEL_EBUSY when the VM's state changed meanwhile. */
int api_host_vm_action(unsigned id, enum api_vm_action action);
/* Serial output: bytes [*pos, ...) of everything the VM wrote, as far as
 * its ring still holds them (*pos moves up to the oldest byte kept), at
 * most cap. *written is the total so far. KEEL_ENOENT when gone. */
int api_host_vm_console_read(unsigned id, uint64_t *pos, char *buf,
			     size_t cap, size_t *n, uint64_t *written);
/* Bytes typed for the VM's serial port: how many its UART took (the
 * rest is for later); len when the VM cannot take input (stopped);
 * KEEL_ENOENT when gone. */
long api_host_vm_console_write(unsigned id, const char *buf, size_t len);

/* ---- the host ---- */

struct api_host_info {
	const char *version;
	unsigned cpus;
	uint64_t memory_total_mib, memory_free_mib;
	const char *virt; /* "svm", "vmx", "none" */
	uint64_t uptime_s;
};
void api_host_info(struct api_host_info *h);
/* Bytes guests and images may still take (free memory above Keel's
 * reserve). */
uint64_t api_host_mem_available(void);
/* Keel's log as text lines from record *seq on (kernel/log.h log_read). */
size_t api_host_log_read(uint64_t *seq, char *buf, size_t len);

/* Image memory: size bytes, virtually contiguous, or NULL. */
void *api_host_image_alloc(uint64_t size);
void api_host_image_free(void *p, uint64_t size);

/* A line for the local consoles only: never into the log the API serves. */
void api_host_console_print(const char *line);
/* keel.cfg's password= ("pbkdf2-sha256:..."), or "" when none is set. */
const char *api_host_password_hash(void);

/* ---- crypto (mbedTLS in Keel) ---- */

/* PBKDF2-HMAC-SHA256 (RFC 8018 5.2): 0 or a KEEL_E* code. */
int api_host_pbkdf2_sha256(const uint8_t *pw, size_t pw_len,
			   const uint8_t *salt, size_t salt_len,
			   uint32_t iterations, uint8_t *key, size_t key_len);
/* SHA-256 over a stream (image uploads); new returns NULL when out of
 * memory; final writes the digest and frees; free alone abandons. */
struct api_sha256;
struct api_sha256 *api_host_sha256_new(void);
void api_host_sha256_update(struct api_sha256 *s, const void *p, size_t n);
void api_host_sha256_final(struct api_sha256 *s, uint8_t digest[32]);
void api_host_sha256_free(struct api_sha256 *s);

#endif
