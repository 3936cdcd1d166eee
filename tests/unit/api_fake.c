/*
 * api_fake.c - the fake kernel behind the REST API's unit tests (see
 * api_fake.h), and mgmt_random (mgmt/mgmt.h) from a counter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "kernel/err.h"
#include "mgmt/mgmt.h"
#include "tests/unit/api_fake.h"

struct fake_host fake;

static char fake_log_text[FAKE_LOG_KEEP][64];

void fake_reset(void)
{
	for (unsigned i = 0; i < 64; i++)
		free(fake.vms[i].cmdline);
	memset(&fake, 0, sizeof(fake));
	fake.next_id = 1;
	fake.mem_available = 2048ULL << 20;
}

struct fake_vm *fake_vm_add(const char *name, enum api_vm_state state)
{
	for (unsigned i = 0; i < 64; i++) {
		struct fake_vm *v = &fake.vms[i];
		if (v->live)
			continue;
		memset(v, 0, sizeof(*v));
		v->live = true;
		v->id = fake.next_id++;
		snprintf(v->name, sizeof(v->name), "%s", name);
		v->state = state;
		v->cpus = 1;
		v->mib = 256;
		v->fifo_room = 16;
		return v;
	}
	return NULL;
}

struct fake_vm *fake_vm_by_name(const char *name)
{
	for (unsigned i = 0; i < 64; i++)
		if (fake.vms[i].live && !strcmp(fake.vms[i].name, name))
			return &fake.vms[i];
	return NULL;
}

static struct fake_vm *by_id(unsigned id)
{
	for (unsigned i = 0; i < 64; i++)
		if (fake.vms[i].live && fake.vms[i].id == id)
			return &fake.vms[i];
	return NULL;
}

void fake_console_write(struct fake_vm *v, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v->console[v->written++ % FAKE_CONSOLE_SIZE] = s[i];
}

void fake_log(const char *line)
{
	snprintf(fake_log_text[fake.log_next % FAKE_LOG_KEEP],
		 sizeof(fake_log_text[0]), "%s", line);
	fake.log_next++;
}

static void info(const struct fake_vm *v, struct api_vm_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = v->id;
	memcpy(out->name, v->name, sizeof(out->name));
	out->state = v->state;
	out->cpus = v->cpus;
	out->memory_mib = v->mib;
	out->cmdline = v->cmdline;
}

unsigned api_host_vm_list(struct api_vm_info *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 64 && n < max; i++)
		if (fake.vms[i].live)
			info(&fake.vms[i], &out[n++]);
	return n;
}

int api_host_vm_get(unsigned id, struct api_vm_info *out)
{
	struct fake_vm *v = by_id(id);

	if (!v)
		return KEEL_ENOENT;
	info(v, out);
	return 0;
}

int api_host_vm_find(const char *name, struct api_vm_info *out)
{
	struct fake_vm *v = fake_vm_by_name(name);

	if (!v)
		return KEEL_ENOENT;
	info(v, out);
	return 0;
}

/* The formats the kernel tells apart (kernel/virt/load.c). */
int api_host_vm_create(const struct api_vm_spec *spec, unsigned *id,
		       char *why, size_t why_len)
{
	const uint8_t *k = spec->kernel;
	bool linux_ = false;
	struct fake_vm *v;

	if (k) {
		linux_ = spec->kernel_size >= 0x206 && !memcmp(k + 0x202, "HdrS", 4);
		bool elf = spec->kernel_size >= 16 && !memcmp(k, "\177ELF", 4) &&
			   k[4] == 2;
		if (!linux_ && !elf) {
			snprintf(why, why_len, "kernel: not a kernel");
			return KEEL_EINVAL;
		}
		if (spec->initrd && !linux_) {
			snprintf(why, why_len, "initrd: only a Linux kernel takes "
				 "an initrd");
			return KEEL_EINVAL;
		}
	}
	if (fake_vm_by_name(spec->name))
		return KEEL_EEXIST;
	v = fake_vm_add(spec->name, API_VM_CREATED);
	if (!v)
		return KEEL_EBUSY;
	v->cpus = spec->cpus;
	v->mib = spec->memory_mib;
	v->cmdline = spec->cmdline ? strdup(spec->cmdline) : NULL;
	v->kernel = spec->kernel;
	v->initrd = spec->initrd;
	v->firmware = spec->firmware;
	*id = v->id;
	return 0;
}

int api_host_vm_action(unsigned id, enum api_vm_action action)
{
	static const enum api_vm_state after[API_VM_ACTION_COUNT] = {
		[API_VM_START] = API_VM_RUNNING, [API_VM_STOP] = API_VM_RUNNING,
		[API_VM_POWEROFF] = API_VM_STOPPED,
		[API_VM_PAUSE] = API_VM_PAUSED, [API_VM_RESUME] = API_VM_RUNNING,
	};
	struct fake_vm *v = by_id(id);
	int err = fake.action_error;

	if (!v)
		return KEEL_ENOENT;
	fake.action_error = 0;
	if (err)
		return err;
	fake.actions[action]++;
	if (action == API_VM_DELETE) {
		free(v->cmdline);
		memset(v, 0, sizeof(*v));
	} else if (action != API_VM_RESET) {
		v->state = after[action];
	}
	return 0;
}

int api_host_vm_console_read(unsigned id, uint64_t *pos, char *buf,
			     size_t cap, size_t *n, uint64_t *written)
{
	struct fake_vm *v = by_id(id);
	uint64_t w, oldest, p, k;

	if (!v)
		return KEEL_ENOENT;
	w = v->written;
	oldest = w > FAKE_CONSOLE_SIZE ? w - FAKE_CONSOLE_SIZE : 0;
	p = *pos < oldest ? oldest : *pos > w ? w : *pos;
	k = w - p < cap ? w - p : cap;
	for (uint64_t i = 0; i < k; i++)
		buf[i] = v->console[(p + i) % FAKE_CONSOLE_SIZE];
	*pos = p;
	*n = (size_t)k;
	*written = w;
	return 0;
}

long api_host_vm_console_write(unsigned id, const char *buf, size_t len)
{
	struct fake_vm *v = by_id(id);
	size_t n;

	if (!v)
		return KEEL_ENOENT;
	n = len < v->fifo_room ? len : v->fifo_room;
	if (v->typed_len + n > sizeof(v->typed))
		n = sizeof(v->typed) - v->typed_len;
	memcpy(v->typed + v->typed_len, buf, n);
	v->typed_len += n;
	return (long)n;
}

void api_host_info(struct api_host_info *h)
{
	h->version = "test";
	h->cpus = 4;
	h->memory_total_mib = 4096;
	h->memory_free_mib = 3000;
	h->virt = "svm";
	h->uptime_s = 42;
}

uint64_t api_host_mem_available(void)
{
	return fake.mem_available;
}

size_t api_host_log_read(uint64_t *seq, char *buf, size_t len)
{
	uint64_t first = fake.log_next > FAKE_LOG_KEEP ?
				 fake.log_next - FAKE_LOG_KEEP : 0;
	size_t used = 0;

	if (*seq < first)
		*seq = first;
	while (*seq < fake.log_next) {
		char line[80];
		int n = snprintf(line, sizeof(line), "%s\n",
				 fake_log_text[*seq % FAKE_LOG_KEEP]);
		if (used + (size_t)n > len)
			break;
		memcpy(buf + used, line, (size_t)n);
		used += (size_t)n;
		(*seq)++;
	}
	return used;
}

void *api_host_image_alloc(uint64_t size)
{
	void *p;

	if (fake.image_alloc_fails)
		return NULL;
	p = malloc(size);
	if (p)
		fake.image_bytes_live += size;
	return p;
}

void api_host_image_free(void *p, uint64_t size)
{
	fake.image_bytes_live -= size;
	free(p);
}

void api_host_console_print(const char *line)
{
	snprintf(fake.console_line, sizeof(fake.console_line), "%s", line);
	fake.console_lines++;
}

const char *api_host_password_hash(void)
{
	return fake.password_hash;
}

int api_host_pbkdf2_sha256(const uint8_t *pw, size_t pw_len,
			   const uint8_t *salt, size_t salt_len,
			   uint32_t iterations, uint8_t *key, size_t key_len)
{
	return PKCS5_PBKDF2_HMAC((const char *)pw, (int)pw_len, salt,
				 (int)salt_len, (int)iterations, EVP_sha256(),
				 (int)key_len, key) ? 0 : KEEL_EIO;
}

struct api_sha256 {
	EVP_MD_CTX *ctx;
};

struct api_sha256 *api_host_sha256_new(void)
{
	struct api_sha256 *s = malloc(sizeof(*s));

	s->ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL);
	return s;
}

void api_host_sha256_update(struct api_sha256 *s, const void *p, size_t n)
{
	EVP_DigestUpdate(s->ctx, p, n);
}

void api_host_sha256_final(struct api_sha256 *s, uint8_t digest[32])
{
	EVP_DigestFinal_ex(s->ctx, digest, NULL);
	api_host_sha256_free(s);
}

void api_host_sha256_free(struct api_sha256 *s)
{
	if (!s)
		return;
	EVP_MD_CTX_free(s->ctx);
	free(s);
}

int mgmt_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	if (fake.random_fails)
		return KEEL_EIO;
	/* Distinct bytes on every call, not secret: a test fake. */
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(fake.random_calls * 131 + i * 29 + (i >> 3) * 7);
	fake.random_calls++;
	return 0;
}
