/*
 * images.c - the image store: kernels, initrds, firmware and disks the
 * admin uploads (PUT /api/v1/images/{name}) and VMs name. Each image is
 * one virtually contiguous buffer, sized from Content-Length before the
 * first byte arrives and filled straight from the connection, its SHA-256
 * computed on the way. An image a VM names cannot be deleted or replaced.
 */
#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "kernel/err.h"
#include "mgmt/api_internal.h"
#include "mm/mm.h"

/* An upload on its way: a slot of its own until it is complete. */
struct image_upload {
	char name[IMAGE_NAME_MAX + 1];
	uint8_t *data;
	uint64_t size, got;
	struct api_sha256 *sha;
};

static struct image images[IMAGE_SLOTS];
static unsigned image_uploads; /* in progress, counted against the slots */

bool image_name_valid(const char *name)
{
	size_t n = strnlen(name, IMAGE_NAME_MAX + 1);

	if (n == 0 || n > IMAGE_NAME_MAX || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return false;
	}
	return true;
}

const struct image *image_find(const char *name)
{
	for (unsigned i = 0; i < IMAGE_SLOTS; i++)
		if (images[i].data && !strcmp(images[i].name, name))
			return &images[i];
	return NULL;
}

void images_init(void)
{
	for (unsigned i = 0; i < IMAGE_SLOTS; i++)
		if (images[i].data)
			api_host_image_free(images[i].data, images[i].size);
	memset(images, 0, sizeof(images));
	image_uploads = 0;
}

static unsigned images_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < IMAGE_SLOTS; i++)
		n += images[i].data != NULL;
	return n;
}

static cJSON *image_json(const struct image *im)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", im->name);
	json_add_u64(o, "size", im->size);
	cJSON_AddStringToObject(o, "sha256", im->sha256);
	return o;
}

/* The path's name, checked; NULL after answering 400. */
static const char *image_arg(struct api_call *call)
{
	if (!image_name_valid(call->arg)) {
		api_fail(call, 400, "an image name is 1 to 64 of A-Z a-z 0-9 . _ - "
			 "(not . or ..)");
		return NULL;
	}
	return call->arg;
}

void api_images_list(struct api_call *call, const cJSON *json)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "images");

	for (unsigned i = 0; i < IMAGE_SLOTS; i++)
		if (images[i].data)
			cJSON_AddItemToArray(list, image_json(&images[i]));
	api_reply_json(call, 200, o);
}

void api_image_get(struct api_call *call, const cJSON *json)
{
	const char *name = image_arg(call);
	const struct image *im;

	if (!name)
		return;
	im = image_find(name);
	if (!im) {
		api_fail(call, 404, "no image named '%s'", name);
		return;
	}
	api_reply_json(call, 200, image_json(im));
}

void api_image_delete(struct api_call *call, const cJSON *json)
{
	const char *name = image_arg(call), *vm;
	struct image *im;

	if (!name)
		return;
	im = (struct image *)image_find(name);
	if (!im) {
		api_fail(call, 404, "no image named '%s'", name);
		return;
	}
	if (api_vm_uses_image(name, &vm)) {
		api_fail(call, 409, "image '%s' is used by vm %s", name, vm);
		return;
	}
	api_host_image_free(im->data, im->size);
	memset(im, 0, sizeof(*im));
	api_reply_empty(call, 204);
}

/* PUT: check everything the head tells, take the memory, then stream. */
void api_image_put(struct api_call *call, const cJSON *json)
{
	const char *name = image_arg(call), *vm;
	struct image_upload *up;
	uint64_t size = call->content_length, avail;

	if (!name)
		return;
	if (call->chunked || !call->has_length) {
		api_fail(call, 411, "an image upload needs a Content-Length");
		return;
	}
	if (size == 0) {
		api_fail(call, 400, "an image cannot be empty");
		return;
	}
	if (size > IMAGE_SIZE_MAX) {
		api_fail(call, 413, "an image is at most %llu MiB",
			 (unsigned long long)(IMAGE_SIZE_MAX >> 20));
		return;
	}
	if (api_vm_uses_image(name, &vm)) {
		api_fail(call, 409, "image '%s' is used by vm %s", name, vm);
		return;
	}
	/* A new name needs a slot (a replacement takes its old one). */
	if (!image_find(name) && images_count() + image_uploads >= IMAGE_SLOTS) {
		api_fail(call, 507, "Keel holds at most %u images", IMAGE_SLOTS);
		return;
	}
	avail = api_host_mem_available();
	if (avail < IMAGE_HEADROOM || size > avail - IMAGE_HEADROOM) {
		api_fail(call, 507, "not enough free memory for %llu MiB (%llu MiB "
			 "free for guests and images)",
			 (unsigned long long)((size + (1 << 20) - 1) >> 20),
			 (unsigned long long)(avail >> 20));
		return;
	}
	up = kzalloc(sizeof(*up));
	if (!up) {
		api_fail(call, 503, "out of memory");
		return;
	}
	snprintf(up->name, sizeof(up->name), "%s", name);
	up->size = size;
	up->data = api_host_image_alloc(size);
	up->sha = up->data ? api_host_sha256_new() : NULL;
	if (!up->sha) {
		if (up->data)
			api_host_image_free(up->data, size);
		kfree(up);
		api_fail(call, 507, "no contiguous %llu MiB free",
			 (unsigned long long)((size + (1 << 20) - 1) >> 20));
		return;
	}
	image_uploads++;
	call->priv = up;
	call->next = API_STREAM_BODY;
}

int api_image_stream_write(struct api_call *call, const uint8_t *p, size_t n)
{
	struct image_upload *up = call->priv;

	if (!up || n > up->size - up->got) {
		api_fail(call, 400, "more bytes than Content-Length");
		return KEEL_ERANGE;
	}
	memcpy(up->data + up->got, p, n);
	api_host_sha256_update(up->sha, p, n);
	up->got += n;
	return 0;
}

void api_image_stream_end(struct api_call *call, bool complete)
{
	static const char hex[] = "0123456789abcdef";
	struct image_upload *up = call->priv;
	struct image *slot = NULL, *old;
	uint8_t digest[32];
	const char *vm;

	if (!up)
		return;
	call->priv = NULL;
	image_uploads--;
	if (!complete || up->got != up->size) {
		if (complete)
			api_fail(call, 400, "the body ended early");
		api_host_sha256_free(up->sha);
		api_host_image_free(up->data, up->size);
		kfree(up);
		return;
	}
	api_host_sha256_final(up->sha, digest);
	/* A VM may have named the old image while this one streamed. */
	old = (struct image *)image_find(up->name);
	if (old && api_vm_uses_image(up->name, &vm)) {
		api_fail(call, 409, "image '%s' is used by vm %s", up->name, vm);
		api_host_image_free(up->data, up->size);
		kfree(up);
		return;
	}
	if (old) {
		api_host_image_free(old->data, old->size);
		slot = old;
	} else {
		for (unsigned i = 0; i < IMAGE_SLOTS && !slot; i++)
			if (!images[i].data)
				slot = &images[i];
	}
	if (!slot) { /* the old image went and others took the slots */
		api_fail(call, 507, "Keel holds at most %u images", IMAGE_SLOTS);
		api_host_image_free(up->data, up->size);
		kfree(up);
		return;
	}
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->name, up->name, sizeof(slot->name));
	slot->data = up->data;
	slot->size = up->size;
	for (unsigned i = 0; i < 32; i++) {
		slot->sha256[2 * i] = hex[digest[i] >> 4];
		slot->sha256[2 * i + 1] = hex[digest[i] & 15];
	}
	kfree(up);
	api_reply_json(call, old ? 200 : 201, image_json(slot));
	api_add_header(call, "Location: %s/images/%s", API_PREFIX, slot->name);
}
