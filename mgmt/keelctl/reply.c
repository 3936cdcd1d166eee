/*
 * reply.c - what the API's answers mean to keelctl: the JSON error shape
 * {"error", "code"}, a console reply's text and next offset, and the JSON
 * members the tables show. Replies come from the network: every member is
 * type-checked, and text for the terminal loses its control characters.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "keelctl.h"

void reply_free(struct reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int reply_error(const struct reply *r, char *out, size_t n)
{
	cJSON *o = cJSON_ParseWithLength(r->body ? r->body : "", r->len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	char line[200];
	size_t k = 0;

	if (cJSON_IsString(e) && *e->valuestring) {
		snprintf(line, sizeof(line), "%s", e->valuestring);
	} else {
		/* Not the API's error shape: the first line of what came. */
		for (size_t i = 0; r->body && i < r->len && k < 120; i++) {
			if (r->body[i] == '\n' || r->body[i] == '\r')
				break;
			line[k++] = r->body[i];
		}
		line[k] = 0;
		if (!k)
			snprintf(line, sizeof(line), "no details");
	}
	cJSON_Delete(o);
	/* The message comes from the server: no terminal controls. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(out, n, "%s (HTTP %ld)", line, r->status);
	return 0;
}

static bool json_reply(const struct reply *r)
{
	return !strncasecmp(r->content_type, "application/json", 16);
}

static bool number_of(const cJSON *o, const char *const *keys,
		      unsigned long long *v)
{
	for (; *keys; keys++) {
		const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, *keys);

		if (cJSON_IsNumber(j) && j->valuedouble >= 0) {
			*v = (unsigned long long)j->valuedouble;
			return true;
		}
	}
	return false;
}

int reply_console(struct reply *r, unsigned long long since, const char **data,
		  size_t *len, unsigned long long *next)
{
	static const char *const text_keys[] = { "data", "output", "text",
						  "console", NULL };
	static const char *const next_keys[] = { "next", "end", "next_offset",
						  NULL };
	static const char *const start_keys[] = { "offset", "start", "since",
						   NULL };
	unsigned long long start;

	if (!json_reply(r)) {
		/* Plain text: the bytes themselves; the next offset from the
		 * X-Console-Next header when the server sent one. */
		char *end;

		*data = r->body;
		*len = r->len;
		*next = since + r->len;
		if (r->next_offset[0]) {
			unsigned long long v = strtoull(r->next_offset, &end, 10);

			if (*end || end == r->next_offset)
				return KEEL_ECORRUPT;
			*next = v;
		}
		return 0;
	}

	cJSON *o = cJSON_ParseWithLength(r->body, r->len);
	const cJSON *t = NULL;
	size_t tl;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return KEEL_ECORRUPT;
	}
	for (const char *const *k = text_keys; *k && !cJSON_IsString(t); k++)
		t = cJSON_GetObjectItemCaseSensitive(o, *k);
	if (!cJSON_IsString(t)) {
		cJSON_Delete(o);
		return KEEL_ECORRUPT;
	}
	/* The decoded text is never longer than its JSON form: it goes back
	 * into the reply's buffer, which outlives the parse. */
	tl = strlen(t->valuestring);
	memmove(r->body, t->valuestring, tl + 1);
	*data = r->body;
	*len = tl;
	if (!number_of(o, next_keys, next)) {
		if (!number_of(o, start_keys, &start))
			start = since;
		*next = start + tl;
	}
	cJSON_Delete(o);
	return 0;
}

/* The text of a JSON member for a table cell; NULL prints "-". */
const char *reply_field(const cJSON *o, const char *key, char *buf, size_t n)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsString(j))
		return *j->valuestring ? j->valuestring : NULL;
	if (cJSON_IsNumber(j)) {
		if (j->valuedouble == (double)(long long)j->valuedouble)
			snprintf(buf, n, "%lld", (long long)j->valuedouble);
		else
			snprintf(buf, n, "%g", j->valuedouble);
		return buf;
	}
	if (cJSON_IsBool(j))
		return cJSON_IsTrue(j) ? "yes" : "no";
	return NULL;
}

bool reply_number(const cJSON *o, const char *key, double *v)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(j) || j->valuedouble < 0)
		return false;
	*v = j->valuedouble;
	return true;
}

/* A list reply: a JSON array, or an object holding one under key. */
const cJSON *reply_list(const cJSON *o, const char *key)
{
	if (cJSON_IsArray(o))
		return o;
	o = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsArray(o) ? o : NULL;
}
