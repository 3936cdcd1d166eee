/*
 * api_vms.c - the VM routes: create from uploaded images (every field of
 * the body checked), list, look up by id or name, the lifecycle as one
 * table of allowed transitions, delete, and the serial console, polled
 * (GET .../console?since=) or live over a WebSocket. Remembers which
 * images each VM it made names, so those images stay while the VM exists.
 */
#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "kernel/err.h"
#include "mgmt/api_internal.h"
#include "mm/mm.h"

#define VM_DEFAULT_CPUS 1
#define VM_DEFAULT_MIB 256    /* as keel.cfg's default */
#define VM_CPUS_MAX 64	      /* = VM_MAX_VCPUS */
#define CONSOLE_READ_MAX 16384 /* = VM_CONSOLE_SIZE: the whole ring */
#define CONSOLE_PENDING 4096  /* typed bytes the UART has not taken yet */

/* The images a VM made here names ("" none). */
struct vm_images {
	bool live;
	unsigned id;
	char kernel[IMAGE_NAME_MAX + 1], initrd[IMAGE_NAME_MAX + 1];
	char firmware[IMAGE_NAME_MAX + 1], disk[IMAGE_NAME_MAX + 1];
};

struct console_ws {
	unsigned vm;
	uint64_t pos;
	char pending[CONSOLE_PENDING];
	size_t pending_len;
};

static struct vm_images vm_images[API_VMS_MAX];

void api_vms_init(void)
{
	memset(vm_images, 0, sizeof(vm_images));
}

/* ------------------------------------------------------ pure functions -- */

const char *api_vm_state_name(enum api_vm_state s)
{
	switch (s) {
	case API_VM_CREATED: return "created";
	case API_VM_RUNNING: return "running";
	case API_VM_PAUSED: return "paused";
	case API_VM_STOPPED: return "stopped";
	}
	return "?";
}

int api_vm_next_state(enum api_vm_state from, enum api_vm_action action)
{
	/* [from][action]: the state after, -1 not allowed. */
	static const signed char next[4][API_VM_ACTION_COUNT] = {
		[API_VM_CREATED] = {
			[API_VM_START] = API_VM_RUNNING, [API_VM_STOP] = -1,
			[API_VM_POWEROFF] = -1, [API_VM_RESET] = -1,
			[API_VM_PAUSE] = -1, [API_VM_RESUME] = -1,
			[API_VM_DELETE] = API_VM_CREATED,
		},
		[API_VM_RUNNING] = {
			[API_VM_START] = -1, [API_VM_STOP] = API_VM_RUNNING,
			[API_VM_POWEROFF] = API_VM_STOPPED,
			[API_VM_RESET] = API_VM_RUNNING,
			[API_VM_PAUSE] = API_VM_PAUSED, [API_VM_RESUME] = -1,
			[API_VM_DELETE] = -1,
		},
		[API_VM_PAUSED] = {
			[API_VM_START] = -1, [API_VM_STOP] = -1,
			[API_VM_POWEROFF] = API_VM_STOPPED,
			[API_VM_RESET] = API_VM_PAUSED, [API_VM_PAUSE] = -1,
			[API_VM_RESUME] = API_VM_RUNNING, [API_VM_DELETE] = -1,
		},
		[API_VM_STOPPED] = {
			[API_VM_START] = -1, [API_VM_STOP] = -1,
			[API_VM_POWEROFF] = -1, [API_VM_RESET] = -1,
			[API_VM_PAUSE] = -1, [API_VM_RESUME] = -1,
			[API_VM_DELETE] = API_VM_STOPPED,
		},
	};

	if ((unsigned)from > API_VM_STOPPED ||
	    (unsigned)action >= API_VM_ACTION_COUNT)
		return -1;
	return next[from][action];
}

bool api_vm_name_valid(const char *name)
{
	size_t n = strnlen(name, API_VM_NAME_MAX);
	bool digits = true;

	if (n == 0 || n >= API_VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
		digits &= ch >= '0' && ch <= '9';
	}
	return !digits; /* "12" would read as an id in a URL */
}

/* ---------------------------------------------------- the image table -- */

static struct vm_images *vm_images_of(unsigned id)
{
	for (unsigned i = 0; i < API_VMS_MAX; i++)
		if (vm_images[i].live && vm_images[i].id == id)
			return &vm_images[i];
	return NULL;
}

bool api_vm_uses_image(const char *image, const char **vm)
{
	static struct api_vm_info v;

	for (unsigned i = 0; i < API_VMS_MAX; i++) {
		struct vm_images *m = &vm_images[i];

		if (!m->live)
			continue;
		/* A VM deleted elsewhere (Keel's shell) no longer holds any. */
		if (api_host_vm_get(m->id, &v)) {
			m->live = false;
			continue;
		}
		if (!strcmp(m->kernel, image) || !strcmp(m->initrd, image) ||
		    !strcmp(m->firmware, image) || !strcmp(m->disk, image)) {
			*vm = v.name;
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------- answers -- */

static void add_name_or_null(cJSON *o, const char *key, const char *name)
{
	if (name && name[0])
		cJSON_AddStringToObject(o, key, name);
	else
		cJSON_AddNullToObject(o, key);
}

/* DESIGN.md section 10: {"id", "name", "state", "cpus", "memory_mib",
 * "kernel", "initrd", "cmdline", "firmware", "disk"}. */
static cJSON *vm_json(const struct api_vm_info *v)
{
	const struct vm_images *m = vm_images_of(v->id);
	cJSON *o = cJSON_CreateObject();
	char id[16];

	snprintf(id, sizeof(id), "%u", v->id);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddStringToObject(o, "state", api_vm_state_name(v->state));
	json_add_u64(o, "cpus", v->cpus);
	json_add_u64(o, "memory_mib", v->memory_mib);
	add_name_or_null(o, "kernel", m ? m->kernel : NULL);
	add_name_or_null(o, "initrd", m ? m->initrd : NULL);
	if (v->cmdline)
		json_add_bytes(o, "cmdline", v->cmdline, strlen(v->cmdline));
	else
		cJSON_AddNullToObject(o, "cmdline");
	add_name_or_null(o, "firmware", m ? m->firmware : NULL);
	add_name_or_null(o, "disk", m ? m->disk : NULL);
	return o;
}

/* The VM the path names: its id (digits), else its name. */
static bool vm_lookup(struct api_call *call, struct api_vm_info *v)
{
	const char *a = call->arg;
	size_t n = strlen(a);
	uint64_t id = 0;
	bool digits = n > 0 && n <= 10;

	for (size_t i = 0; i < n && digits; i++) {
		digits = a[i] >= '0' && a[i] <= '9';
		id = id * 10 + (uint64_t)(a[i] - '0');
	}
	if (digits && id <= 0xFFFFFFFFu && !api_host_vm_get((unsigned)id, v))
		return true;
	if (!api_host_vm_find(a, v))
		return true;
	api_fail(call, 404, "no VM with id or name '%s'", a);
	return false;
}

void api_vms_list(struct api_call *call, const cJSON *json)
{
	static struct api_vm_info vms[API_VMS_MAX];
	unsigned n = api_host_vm_list(vms, API_VMS_MAX);
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "vms");

	for (unsigned i = 0; i < n; i++)
		cJSON_AddItemToArray(list, vm_json(&vms[i]));
	api_reply_json(call, 200, o);
}

void api_vm_get(struct api_call *call, const cJSON *json)
{
	struct api_vm_info v;

	if (vm_lookup(call, &v))
		api_reply_json(call, 200, vm_json(&v));
}

/* ----------------------------------------------------------- create -- */

/* An optional image field: NULL/absent is none, else a stored image. */
static bool body_image(struct api_call *call, const cJSON *json,
		       const char *key, const struct image **im)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(json, key);

	*im = NULL;
	if (!f || cJSON_IsNull(f))
		return true;
	if (!cJSON_IsString(f) || !image_name_valid(f->valuestring)) {
		api_fail(call, 400, "%s: the name of an image is needed", key);
		return false;
	}
	*im = image_find(f->valuestring);
	if (!*im) {
		api_fail(call, 400, "%s: no image named '%s'", key, f->valuestring);
		return false;
	}
	return true;
}

/* An optional integer in [lo, hi], or def when absent. */
static bool body_uint(struct api_call *call, const cJSON *json,
		      const char *key, uint64_t lo, uint64_t hi, uint64_t def,
		      uint64_t *out)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(json, key);
	int64_t v;

	*out = def;
	if (!f)
		return true;
	if (!json_int(f, &v)) {
		api_fail(call, 400, "%s: an integer is needed", key);
		return false;
	}
	if (v < (int64_t)lo || (uint64_t)v > hi) {
		api_fail(call, 400, "%s: %lld is outside %llu..%llu", key,
			 (long long)v, (unsigned long long)lo,
			 (unsigned long long)hi);
		return false;
	}
	*out = (uint64_t)v;
	return true;
}

static void copy_name(char *dst, const struct image *im)
{
	snprintf(dst, IMAGE_NAME_MAX + 1, "%s", im ? im->name : "");
}

void api_vm_create(struct api_call *call, const cJSON *json)
{
	static const char *const fields[] = {"name", "cpus", "memory_mib",
		"kernel", "initrd", "cmdline", "firmware", "disk", NULL};
	const struct image *kernel, *initrd, *firmware, *disk;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "name");
	const cJSON *cmdline = cJSON_GetObjectItemCaseSensitive(json, "cmdline");
	struct api_vm_spec spec = {0};
	struct vm_images *slot = NULL;
	struct api_vm_info v;
	uint64_t cpus, mib, avail = api_host_mem_available() >> 20;
	const char *bad;
	char why[160] = "";
	unsigned id;
	int err;

	if (!json_members_known(json, fields, &bad)) {
		api_fail(call, 400, "unknown or repeated field '%s'", bad);
		return;
	}
	if (!cJSON_IsString(name) || !api_vm_name_valid(name->valuestring)) {
		api_fail(call, 400, "name: 1 to 31 of A-Z a-z 0-9 _ -, not only "
			 "digits");
		return;
	}
	if (!body_uint(call, json, "cpus", 1, VM_CPUS_MAX, VM_DEFAULT_CPUS, &cpus))
		return;
	if (avail < 1) {
		api_fail(call, 507, "no memory is free for a VM");
		return;
	}
	if (!body_uint(call, json, "memory_mib", 1, avail, VM_DEFAULT_MIB, &mib))
		return;
	if (mib > avail) {
		api_fail(call, 400, "memory_mib: %llu is more than the %llu MiB "
			 "free", (unsigned long long)mib, (unsigned long long)avail);
		return;
	}
	if (cmdline && !cJSON_IsNull(cmdline) &&
	    (!cJSON_IsString(cmdline) ||
	     strlen(cmdline->valuestring) >= API_CMDLINE_MAX)) {
		api_fail(call, 400, "cmdline: a string of at most %u bytes is needed",
			 API_CMDLINE_MAX - 1);
		return;
	}
	if (!body_image(call, json, "kernel", &kernel) ||
	    !body_image(call, json, "initrd", &initrd) ||
	    !body_image(call, json, "firmware", &firmware) ||
	    !body_image(call, json, "disk", &disk))
		return;
	if (!kernel == !firmware) {
		api_fail(call, 400, "exactly one of kernel and firmware is needed");
		return;
	}
	if (firmware && (initrd || cJSON_IsString(cmdline))) {
		api_fail(call, 400, "initrd and cmdline go with a kernel, not "
			 "firmware");
		return;
	}
	if (!api_host_vm_find(name->valuestring, &v)) {
		api_fail(call, 409, "a VM named '%s' exists (id %u)",
			 name->valuestring, v.id);
		return;
	}
	for (unsigned i = 0; i < API_VMS_MAX && !slot; i++) {
		if (vm_images[i].live && api_host_vm_get(vm_images[i].id, &v))
			vm_images[i].live = false; /* deleted elsewhere */
		if (!vm_images[i].live)
			slot = &vm_images[i];
	}
	if (!slot) {
		api_fail(call, 409, "Keel holds at most %u VMs", API_VMS_MAX);
		return;
	}

	spec.name = name->valuestring;
	spec.cpus = (unsigned)cpus;
	spec.memory_mib = mib;
	if (kernel) {
		spec.kernel = kernel->data;
		spec.kernel_size = kernel->size;
	}
	if (initrd) {
		spec.initrd = initrd->data;
		spec.initrd_size = initrd->size;
	}
	if (firmware) {
		spec.firmware = firmware->data;
		spec.firmware_size = firmware->size;
	}
	spec.cmdline = cJSON_IsString(cmdline) ? cmdline->valuestring : NULL;
	err = api_host_vm_create(&spec, &id, why, sizeof(why));
	switch (err) {
	case 0:
		break;
	case KEEL_EINVAL:
		api_fail(call, 400, "%s", why[0] ? why : "the loader refused it");
		return;
	case KEEL_ENOTSUP:
		api_fail(call, 503, "%s", why[0] ? why : "no hardware virtualization");
		return;
	case KEEL_EEXIST:
		api_fail(call, 409, "a VM named '%s' exists", spec.name);
		return;
	case KEEL_EBUSY:
		api_fail(call, 409, "Keel holds no more VMs");
		return;
	case KEEL_ENOMEM:
		api_fail(call, 507, "not enough memory for the VM");
		return;
	default:
		api_fail(call, 500, "the VM was not created: %s", err_str(err));
		return;
	}
	memset(slot, 0, sizeof(*slot));
	slot->live = true;
	slot->id = id;
	copy_name(slot->kernel, kernel);
	copy_name(slot->initrd, initrd);
	copy_name(slot->firmware, firmware);
	copy_name(slot->disk, disk);
	if (api_host_vm_get(id, &v)) {
		api_fail(call, 500, "the VM vanished");
		return;
	}
	api_reply_json(call, 201, vm_json(&v));
	api_add_header(call, "Location: %s/vms/%u", API_PREFIX, id);
}

/* -------------------------------------------------------- lifecycle -- */

static const char *const action_names[API_VM_ACTION_COUNT] = {
	[API_VM_START] = "start",     [API_VM_STOP] = "stop",
	[API_VM_POWEROFF] = "poweroff", [API_VM_RESET] = "reset",
	[API_VM_PAUSE] = "pause",     [API_VM_RESUME] = "resume",
	[API_VM_DELETE] = "delete",
};

static void vm_action(struct api_call *call, enum api_vm_action action,
		      int status)
{
	struct api_vm_info v;
	int err;

	if (!vm_lookup(call, &v))
		return;
	if (api_vm_next_state(v.state, action) < 0) {
		if (action == API_VM_START && v.state == API_VM_STOPPED)
			api_fail(call, 409, "vm %s is stopped: a stopped VM does "
				 "not start again; delete it and create it anew",
				 v.name);
		else
			api_fail(call, 409, "vm %s is %s: cannot %s it", v.name,
				 api_vm_state_name(v.state), action_names[action]);
		return;
	}
	err = api_host_vm_action(v.id, action);
	if (err) {
		struct api_vm_info now;
		if (api_host_vm_get(v.id, &now))
			now = v;
		api_fail(call, err == KEEL_EBUSY ? 409 : 500,
			 "vm %s (%s): %s failed: %s", v.name,
			 api_vm_state_name(now.state), action_names[action],
			 err_str(err));
		return;
	}
	if (action == API_VM_DELETE) {
		struct vm_images *m = vm_images_of(v.id);
		if (m)
			m->live = false;
		api_reply_empty(call, 204);
		return;
	}
	if (!api_host_vm_get(v.id, &v))
		api_reply_json(call, status, vm_json(&v));
	else
		api_reply_empty(call, 204);
}

void api_vm_delete(struct api_call *call, const cJSON *json)
{
	vm_action(call, API_VM_DELETE, 204);
}

void api_vm_start(struct api_call *call, const cJSON *json)
{
	vm_action(call, API_VM_START, 200);
}

/* The power button: the guest decides, later (202). */
void api_vm_stop(struct api_call *call, const cJSON *json)
{
	vm_action(call, API_VM_STOP, 202);
}

void api_vm_poweroff(struct api_call *call, const cJSON *json)
{
	vm_action(call, API_VM_POWEROFF, 200);
}

void api_vm_reset(struct api_call *call, const cJSON *json)
{
	vm_action(call, API_VM_RESET, 200);
}

void api_vm_pause(struct api_call *call, const cJSON *json)
{
	vm_action(call, API_VM_PAUSE, 200);
}

void api_vm_resume(struct api_call *call, const cJSON *json)
{
	vm_action(call, API_VM_RESUME, 200);
}

/* ---------------------------------------------------------- console -- */

/* {"since": offset of data's first byte, "next": the offset to ask for
 * next, "data": text}; or the bytes themselves for Accept: text/plain.
 * Both say the next offset in X-Console-Next. */
void api_vm_console(struct api_call *call, const cJSON *json)
{
	struct api_vm_info v;
	uint64_t since = 0, written;
	size_t n;
	bool bad;
	char *buf;

	if (!vm_lookup(call, &v))
		return;
	if (!api_query_u64(call->query, "since", &since, &bad) && bad) {
		api_fail(call, 400, "since: a byte offset is needed");
		return;
	}
	buf = kmalloc(CONSOLE_READ_MAX);
	if (!buf) {
		api_fail(call, 503, "out of memory");
		return;
	}
	if (api_host_vm_console_read(v.id, &since, buf, CONSOLE_READ_MAX, &n,
				     &written)) {
		kfree(buf);
		api_fail(call, 404, "vm %s is gone", v.name);
		return;
	}
	if (call->accept && strstr(call->accept, "text/plain") &&
	    !strstr(call->accept, "application/json")) {
		api_reply_empty(call, 200);
		call->resp.content_type = "text/plain; charset=utf-8";
		call->resp.body = buf;
		call->resp.body_len = n;
	} else {
		cJSON *o = cJSON_CreateObject();
		json_add_u64(o, "since", since);
		json_add_u64(o, "next", since + n);
		json_add_bytes(o, "data", buf, n);
		kfree(buf);
		api_reply_json(call, 200, o);
	}
	api_add_header(call, "X-Console-Next: %llu",
		       (unsigned long long)(since + n));
}

void api_vm_console_ws(struct api_call *call, const cJSON *json)
{
	struct api_vm_info v;
	struct console_ws *ws;
	uint64_t since = 0;
	bool bad;

	if (!vm_lookup(call, &v))
		return;
	if (!api_query_u64(call->query, "since", &since, &bad) && bad) {
		api_fail(call, 400, "since: a byte offset is needed");
		return;
	}
	ws = kzalloc(sizeof(*ws));
	if (!ws) {
		api_fail(call, 503, "out of memory");
		return;
	}
	ws->vm = v.id;
	ws->pos = since; /* 0: everything the ring still holds */
	call->priv = ws;
	call->next = API_WEBSOCKET;
}

/* Typed bytes the UART has room for now. */
static int console_flush(struct console_ws *ws)
{
	long n;

	if (!ws->pending_len)
		return 0;
	n = api_host_vm_console_write(ws->vm, ws->pending, ws->pending_len);
	if (n < 0)
		return (int)n;
	memmove(ws->pending, ws->pending + n, ws->pending_len - (size_t)n);
	ws->pending_len -= (size_t)n;
	return 0;
}

void api_console_ws_input(struct api_call *call, const uint8_t *p, size_t n)
{
	struct console_ws *ws = call->priv;
	size_t room;

	if (!ws)
		return;
	/* A paste larger than the pending buffer loses its tail: a serial
	 * line has no flow control either. */
	room = sizeof(ws->pending) - ws->pending_len;
	if (n > room)
		n = room;
	memcpy(ws->pending + ws->pending_len, p, n);
	ws->pending_len += n;
	console_flush(ws);
}

size_t api_console_ws_poll(struct api_call *call, uint8_t *buf, size_t cap,
			   int *close_code, const char **reason)
{
	struct console_ws *ws = call->priv;
	uint64_t written;
	size_t n = 0;

	if (!ws)
		return 0;
	if (console_flush(ws) ||
	    api_host_vm_console_read(ws->vm, &ws->pos, (char *)buf, cap, &n,
				     &written)) {
		*close_code = 1000; /* RFC 6455 7.4.1: normal closure */
		*reason = "the VM was deleted";
		return 0;
	}
	ws->pos += n;
	return n;
}

void api_console_ws_end(struct api_call *call)
{
	kfree(call->priv);
	call->priv = NULL;
}
