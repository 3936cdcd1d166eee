/*
 * keelctl.c - the admin's command line for Keel's management API
 * (DESIGN.md sections 6 and 10): reads the command line and the user's
 * keelctl.conf, makes the calls under /api/v1 and prints tables for people
 * or the API's JSON for scripts. Exit codes are in keelctl.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "keelctl.h"

#define KEELCTL_VERSION "1.0"
#define PASSWORD_MAX 1024

struct ctx {
	struct args a;
	struct conf conf;
	char conf_path[4096];
	char host[256];	 /* the host used: --host, else the config's */
	bool same_host;	 /* ... is the one the config is about */
	char pin[65];	 /* fingerprint used, or "" */
	struct client *c;
};

/* ------------------------------------------------------------ helpers ---- */

void keelctl_report(const struct reply *r)
{
	char msg[300];

	reply_error(r, msg, sizeof(msg));
	fprintf(stderr, "keelctl: %s\n", msg);
}

static void print_raw(const struct reply *r)
{
	if (!r->len)
		return;
	fwrite(r->body, 1, r->len, stdout);
	if (r->body[r->len - 1] != '\n')
		putchar('\n');
}

/* One call: the exit code, and the parsed JSON reply in *out (NULL if it
 * was not JSON). A 2xx answer is success; --json prints it as it came. */
static int call(struct ctx *x, const char *method, const char *path,
		const char *body, cJSON **out, struct reply *keep)
{
	struct reply r;
	char err[KEELCTL_ERR_MAX];

	if (out)
		*out = NULL;
	if (client_request(x->c, method, path, body, &r, err, sizeof(err))) {
		fprintf(stderr, "keelctl: %s\n", err);
		return EXIT_CONN;
	}
	if (r.status < 200 || r.status > 299) {
		keelctl_report(&r);
		if (x->a.spec->cmd == CMD_LOGIN)
			;
		else if (r.status == 401 && !x->conf.token[0])
			fprintf(stderr, "keelctl: not logged in: keelctl "
				"--host %s login\n", x->host);
		else if (r.status == 401)
			fprintf(stderr, "keelctl: the session ended: keelctl "
				"login\n");
		reply_free(&r);
		return EXIT_API;
	}
	if (x->a.json)
		print_raw(&r);
	if (out && r.len) {
		*out = cJSON_ParseWithLength(r.body, r.len);
		if (!*out) {
			fprintf(stderr, "keelctl: the server's reply is not "
				"JSON\n");
			reply_free(&r);
			return EXIT_API;
		}
	}
	if (keep)
		*keep = r;
	else
		reply_free(&r);
	return EXIT_OK;
}

static int name_path(char *out, size_t n, const char *fmt, const char *name)
{
	char esc[768];

	if (args_escape(name, esc, sizeof(esc))) {
		fprintf(stderr, "keelctl: name too long\n");
		return EXIT_USAGE;
	}
	snprintf(out, n, fmt, esc);
	return EXIT_OK;
}

/* -------------------------------------------------------- passwords ---- */

/* One line from f without its line end; KEEL_ERANGE if too long. */
static int read_line(FILE *f, char *buf, size_t n)
{
	size_t len;

	if (!fgets(buf, (int)n, f))
		return KEEL_ENOENT;
	len = strlen(buf);
	if (len == n - 1 && buf[len - 1] != '\n')
		return KEEL_ERANGE;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = 0;
	return 0;
}

/* Ask on the terminal with echo off. */
static int prompt_password(const char *prompt, char *buf, size_t n)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	int r;

	if (!tty)
		return KEEL_ENOENT;
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
		r = read_line(tty, buf, n);
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	} else {
		r = read_line(tty, buf, n);
	}
	fclose(tty);
	return r;
}

/* The password: from stdin when asked or when stdin is not a terminal,
 * else prompted (twice when confirm). */
static int get_password(bool from_stdin, bool confirm, char *buf, size_t n)
{
	char again[PASSWORD_MAX];
	int r;

	if (from_stdin || !isatty(STDIN_FILENO)) {
		r = read_line(stdin, buf, n);
	} else {
		r = prompt_password("Password: ", buf, n);
		if (!r && confirm) {
			r = prompt_password("Again: ", again, sizeof(again));
			if (!r && strcmp(buf, again)) {
				fprintf(stderr, "keelctl: the passwords "
					"differ\n");
				OPENSSL_cleanse(again, sizeof(again));
				return EXIT_USAGE;
			}
			OPENSSL_cleanse(again, sizeof(again));
		}
	}
	if (r == KEEL_ERANGE) {
		fprintf(stderr, "keelctl: password longer than %d bytes\n",
			PASSWORD_MAX - 2);
		return EXIT_USAGE;
	}
	if (r) {
		fprintf(stderr, "keelctl: no password given\n");
		return EXIT_USAGE;
	}
	if (!buf[0]) {
		fprintf(stderr, "keelctl: the password is empty\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int cmd_hash_password(struct ctx *x)
{
	char pw[PASSWORD_MAX], line[PWHASH_LINE_MAX];
	int r = get_password(false, true, pw, sizeof(pw));

	if (r)
		return r;
	r = pwhash_make(pw, x->a.iterations, line, sizeof(line));
	OPENSSL_cleanse(pw, sizeof(pw));
	if (r) {
		fprintf(stderr, "keelctl: hashing failed\n");
		return EXIT_USAGE;
	}
	printf("%s\n", line);
	return EXIT_OK;
}

/* ---------------------------------------------------------- session ---- */

static int save_conf(struct ctx *x)
{
	char err[KEELCTL_ERR_MAX];

	if (conf_save(&x->conf, x->conf_path, err, sizeof(err))) {
		fprintf(stderr, "keelctl: %s\n", err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int cmd_login(struct ctx *x)
{
	char pw[PASSWORD_MAX];
	cJSON *req, *o = NULL;
	const cJSON *tok;
	char *body;
	int r = get_password(x->a.opt[OPT_PASSWORD_STDIN] != NULL, false, pw,
			     sizeof(pw));

	if (r)
		return r;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "password", pw);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (!body)
		return EXIT_USAGE;
	r = call(x, "POST", "/session", body, &o, NULL);
	OPENSSL_cleanse(body, strlen(body));
	cJSON_free(body);
	if (r)
		return r;
	tok = cJSON_GetObjectItemCaseSensitive(o, "token");
	if (!cJSON_IsString(tok) || !*tok->valuestring ||
	    strlen(tok->valuestring) >= sizeof(x->conf.token)) {
		fprintf(stderr, "keelctl: the server sent no usable token\n");
		cJSON_Delete(o);
		return EXIT_API;
	}
	if (!x->same_host)
		memset(&x->conf, 0, sizeof(x->conf));
	snprintf(x->conf.host, sizeof(x->conf.host), "%s", x->host);
	snprintf(x->conf.token, sizeof(x->conf.token), "%s", tok->valuestring);
	cJSON_Delete(o);
	if (x->pin[0]) {
		memcpy(x->conf.fingerprint, x->pin, sizeof(x->pin));
	} else if (x->a.insecure) {
		/* Trust on first use: what --insecure let through is pinned
		 * from now on, as ssh does with a new host key. */
		const char *seen = client_peer_fingerprint(x->c);

		snprintf(x->conf.fingerprint, sizeof(x->conf.fingerprint),
			 "%s", seen);
		if (seen[0])
			fprintf(stderr, "keelctl: certificate not checked; "
				"pinned sha256=%s from now on (compare it with "
				"Keel's console)\n", seen);
	} else {
		x->conf.fingerprint[0] = 0; /* trusted through the CAs */
	}
	r = save_conf(x);
	if (!r && !x->a.json)
		printf("logged in to %s\n", x->host);
	return r;
}

static int cmd_logout(struct ctx *x)
{
	int r = EXIT_OK;

	if (!x->conf.token[0]) {
		if (!x->a.json)
			printf("not logged in\n");
		return EXIT_OK;
	}
	r = call(x, "DELETE", "/session", NULL, NULL, NULL);
	/* Forget the token whatever the server said: an expired one is of
	 * no use either. A connection failure keeps it (it may be valid). */
	if (r == EXIT_CONN)
		return r;
	x->conf.token[0] = 0;
	if (save_conf(x))
		return EXIT_USAGE;
	if (!x->a.json)
		printf("logged out of %s\n", x->host);
	return EXIT_OK;
}

/* ------------------------------------------------------------ views ---- */

static void add_kv(struct table *t, const char *k, const char *v)
{
	const char *row[2] = { k, v };

	table_add(t, row);
}

static int cmd_host(struct ctx *x)
{
	cJSON *o;
	struct table t;
	char b[64], mem[96], up[64];
	double total, free_mib, uptime;
	int r = call(x, "GET", "/host", NULL, &o, NULL);

	if (r || x->a.json)
		goto out;
	table_init(&t, 2, NULL, 0);
	add_kv(&t, "version", reply_field(o, "version", b, sizeof(b)));
	add_kv(&t, "cpus", reply_field(o, "cpus", b, sizeof(b)));
	if (reply_number(o, "memory_total_mib", &total) &&
	    reply_number(o, "memory_free_mib", &free_mib)) {
		snprintf(mem, sizeof(mem), "%.0f MiB free of %.0f MiB",
			 free_mib, total);
		add_kv(&t, "memory", mem);
	}
	add_kv(&t, "virt", reply_field(o, "virt", b, sizeof(b)));
	if (reply_number(o, "uptime_s", &uptime)) {
		table_format_duration((uint64_t)uptime, up, sizeof(up));
		add_kv(&t, "uptime", up);
	}
	add_kv(&t, "vms", reply_field(o, "vms", b, sizeof(b)));
	table_print(&t, stdout);
	table_free(&t);
out:
	cJSON_Delete(o);
	return r;
}

static void image_row(struct table *t, const cJSON *img)
{
	char name[64], sha[80], size[32];
	double v;
	const char *row[3] = { reply_field(img, "name", name, sizeof(name)), NULL,
			       reply_field(img, "sha256", sha, sizeof(sha)) };

	if (reply_number(img, "size", &v)) {
		table_format_size((uint64_t)v, size, sizeof(size));
		row[1] = size;
	}
	table_add(t, row);
}

static int cmd_images(struct ctx *x)
{
	static const char *const head[] = { "NAME", "SIZE", "SHA256" };
	cJSON *o;
	const cJSON *list, *img;
	struct table t;
	int r = call(x, "GET", "/images", NULL, &o, NULL);

	if (r || x->a.json)
		goto out;
	list = reply_list(o, "images");
	if (!list) {
		fprintf(stderr, "keelctl: the image list is not a list\n");
		r = EXIT_API;
		goto out;
	}
	table_init(&t, 3, head, 1u << 1);
	cJSON_ArrayForEach(img, list)
		image_row(&t, img);
	table_print(&t, stdout);
	table_free(&t);
out:
	cJSON_Delete(o);
	return r;
}

static int cmd_image(struct ctx *x)
{
	char path[1024], b[80], size[32];
	cJSON *o = NULL;
	struct table t;
	double v;
	int r = name_path(path, sizeof(path), "/images/%s", x->a.pos[0]);

	if (!r)
		r = call(x, "GET", path, NULL, &o, NULL);
	if (!r && !x->a.json && o) {
		table_init(&t, 2, NULL, 0);
		add_kv(&t, "name", reply_field(o, "name", b, sizeof(b)));
		if (reply_number(o, "size", &v)) {
			table_format_size((uint64_t)v, size, sizeof(size));
			snprintf(b, sizeof(b), "%s (%.0f bytes)", size, v);
			add_kv(&t, "size", b);
		}
		add_kv(&t, "sha256", reply_field(o, "sha256", b, sizeof(b)));
		table_print(&t, stdout);
		table_free(&t);
	}
	cJSON_Delete(o);
	return r;
}

static int cmd_image_upload(struct ctx *x)
{
	char path[1024], sha[65], err[KEELCTL_ERR_MAX], size[32];
	struct reply rep;
	struct stat st;
	cJSON *o = NULL;
	const cJSON *s;
	FILE *f;
	int r = name_path(path, sizeof(path), "/images/%s", x->a.pos[0]);

	if (r)
		return r;
	f = fopen(x->a.pos[1], "rb");
	if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "keelctl: %s: %s\n", x->a.pos[1],
			f ? "not a regular file" : strerror(errno));
		if (f)
			fclose(f);
		return EXIT_USAGE;
	}
	r = client_upload(x->c, path, f, (uint64_t)st.st_size, sha, &rep, err,
			  sizeof(err));
	fclose(f);
	if (r) {
		fprintf(stderr, "keelctl: %s\n", err);
		return EXIT_CONN;
	}
	if (rep.status < 200 || rep.status > 299) {
		keelctl_report(&rep);
		reply_free(&rep);
		return EXIT_API;
	}
	if (x->a.json)
		print_raw(&rep);
	if (rep.len)
		o = cJSON_ParseWithLength(rep.body, rep.len);
	reply_free(&rep);
	/* What arrived must be what was sent. */
	s = cJSON_GetObjectItemCaseSensitive(o, "sha256");
	if (cJSON_IsString(s) && strcasecmp(s->valuestring, sha)) {
		fprintf(stderr, "keelctl: the server has sha256=%.64s for %s, "
			"but the file has %s\n", s->valuestring, x->a.pos[0],
			sha);
		cJSON_Delete(o);
		return EXIT_API;
	}
	cJSON_Delete(o);
	table_format_size((uint64_t)st.st_size, size, sizeof(size));
	if (!x->a.json)
		printf("uploaded %s: %s, sha256 %s\n", x->a.pos[0], size, sha);
	return EXIT_OK;
}

static void vm_show(const cJSON *o)
{
	static const char *const keys[] = { "id", "name", "state", "cpus",
					    "kernel", "initrd", "cmdline",
					    "firmware", "disk" };
	struct table t;
	char b[64], mem[32];
	double v;

	table_init(&t, 2, NULL, 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		add_kv(&t, keys[i], reply_field(o, keys[i], b, sizeof(b)));
		if (i == 3 && reply_number(o, "memory_mib", &v)) {
			snprintf(mem, sizeof(mem), "%.0f MiB", v);
			add_kv(&t, "memory", mem);
		}
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int cmd_vms(struct ctx *x)
{
	static const char *const head[] = { "ID",     "NAME",	"STATE",
					    "CPUS",   "MEMORY", "KERNEL" };
	cJSON *o;
	const cJSON *list, *vm;
	struct table t;
	int r = call(x, "GET", "/vms", NULL, &o, NULL);

	if (r || x->a.json)
		goto out;
	list = reply_list(o, "vms");
	if (!list) {
		fprintf(stderr, "keelctl: the VM list is not a list\n");
		r = EXIT_API;
		goto out;
	}
	table_init(&t, 6, head, 1u << 0 | 1u << 3 | 1u << 4);
	cJSON_ArrayForEach(vm, list) {
		char id[32], cpus[32], mem[32], b[4][64];
		double v;
		const char *row[6] = { reply_field(vm, "id", id, sizeof(id)),
				       reply_field(vm, "name", b[0], sizeof(b[0])),
				       reply_field(vm, "state", b[1], sizeof(b[1])),
				       reply_field(vm, "cpus", cpus, sizeof(cpus)),
				       NULL,
				       reply_field(vm, "kernel", b[2], sizeof(b[2])) };

		if (reply_number(vm, "memory_mib", &v)) {
			snprintf(mem, sizeof(mem), "%.0f MiB", v);
			row[4] = mem;
		}
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
out:
	cJSON_Delete(o);
	return r;
}

static int cmd_vm(struct ctx *x)
{
	char path[1024];
	cJSON *o = NULL;
	int r = name_path(path, sizeof(path), "/vms/%s", x->a.pos[0]);

	if (!r)
		r = call(x, "GET", path, NULL, &o, NULL);
	if (!r && !x->a.json && o)
		vm_show(o);
	cJSON_Delete(o);
	return r;
}

static int cmd_vm_create(struct ctx *x)
{
	static const struct {
		enum args_opt opt;
		const char *key;
	} strings[] = {
		{ OPT_KERNEL, "kernel" },     { OPT_INITRD, "initrd" },
		{ OPT_CMDLINE, "cmdline" },   { OPT_FIRMWARE, "firmware" },
		{ OPT_DISK, "disk" },
	};
	cJSON *req = cJSON_CreateObject(), *o = NULL;
	char *body;
	int r;

	cJSON_AddStringToObject(req, "name", x->a.pos[0]);
	if (x->a.opt[OPT_CPUS])
		cJSON_AddNumberToObject(req, "cpus", (double)x->a.cpus);
	if (x->a.opt[OPT_MEM])
		cJSON_AddNumberToObject(req, "memory_mib", (double)x->a.mem_mib);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (x->a.opt[strings[i].opt])
			cJSON_AddStringToObject(req, strings[i].key,
						x->a.opt[strings[i].opt]);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!body)
		return EXIT_USAGE;
	r = call(x, "POST", "/vms", body, &o, NULL);
	cJSON_free(body);
	if (!r && !x->a.json && o)
		vm_show(o);
	cJSON_Delete(o);
	return r;
}

static int cmd_vm_action(struct ctx *x, const char *action)
{
	char path[1024], b[64];
	cJSON *o = NULL;
	const char *state;
	int r = name_path(path, sizeof(path), "/vms/%s", x->a.pos[0]);

	if (r)
		return r;
	strncat(path, "/", sizeof(path) - strlen(path) - 1);
	strncat(path, action, sizeof(path) - strlen(path) - 1);
	r = call(x, "POST", path, NULL, &o, NULL);
	if (!r && !x->a.json) {
		state = o ? reply_field(o, "state", b, sizeof(b)) : NULL;
		printf("vm %s: ", x->a.pos[0]);
		if (state)
			table_puts(state, stdout);
		else
			printf("%s done", action);
		putchar('\n');
	}
	cJSON_Delete(o);
	return r;
}

static int cmd_delete(struct ctx *x, const char *fmt, const char *what)
{
	char path[1024];
	int r = name_path(path, sizeof(path), fmt, x->a.pos[0]);

	if (!r)
		r = call(x, "DELETE", path, NULL, NULL, NULL);
	if (!r && !x->a.json)
		printf("deleted %s %s\n", what, x->a.pos[0]);
	return r;
}

static int cmd_log(struct ctx *x)
{
	struct reply rep;
	cJSON *o = NULL;
	const cJSON *lines, *l;
	int r = call(x, "GET", "/log", NULL, NULL, &rep);

	if (r || x->a.json) {
		if (!r)
			reply_free(&rep);
		return r;
	}
	if (!strncasecmp(rep.content_type, "application/json", 16))
		o = cJSON_ParseWithLength(rep.body, rep.len);
	lines = o ? reply_list(o, "lines") : NULL;
	if (o && !lines)
		lines = reply_list(o, "log");
	if (lines) {
		cJSON_ArrayForEach(l, lines) {
			char b[64];
			const char *s = cJSON_IsString(l) ? l->valuestring
				: reply_field(l, "text", b, sizeof(b));

			if (!s)
				s = reply_field(l, "line", b, sizeof(b));
			printf("%s\n", s ? s : "");
		}
	} else if (o && cJSON_IsString(cJSON_GetObjectItem(o, "log"))) {
		fputs(cJSON_GetObjectItem(o, "log")->valuestring, stdout);
	} else {
		print_raw(&rep);
	}
	cJSON_Delete(o);
	reply_free(&rep);
	return EXIT_OK;
}

static int cmd_openapi(struct ctx *x)
{
	struct reply rep;
	int r = call(x, "GET", "/openapi.json", NULL, NULL, &rep);

	if (!r && !x->a.json)
		print_raw(&rep);
	if (!r)
		reply_free(&rep);
	return r;
}

static int cmd_console(struct ctx *x, bool send)
{
	char esc[768];

	if (args_escape(x->a.pos[0], esc, sizeof(esc))) {
		fprintf(stderr, "keelctl: name too long\n");
		return EXIT_USAGE;
	}
	if (send)
		return console_send(x->c, x->conf.token[0] ? x->conf.token : NULL,
				    esc, x->a.pos[1],
				    x->a.opt[OPT_NO_NEWLINE] != NULL);
	return console_show(x->c, esc, x->a.since, x->a.opt[OPT_FOLLOW] != NULL,
			    x->a.json);
}

/* -------------------------------------------------------------- main ---- */

/* Which host, certificate and token this call uses. */
static int setup(struct ctx *x)
{
	char err[KEELCTL_ERR_MAX], h1[256], h2[256];
	unsigned p1, p2;
	struct client_opts o = { 0 };
	int r;

	if (x->a.config)
		snprintf(x->conf_path, sizeof(x->conf_path), "%s", x->a.config);
	else if (conf_path(x->conf_path, sizeof(x->conf_path),
			   getenv("XDG_CONFIG_HOME"), getenv("HOME"))) {
		fprintf(stderr, "keelctl: no HOME: pass --config FILE\n");
		return EXIT_USAGE;
	}
	r = conf_load(&x->conf, x->conf_path, err, sizeof(err));
	if (r) {
		fprintf(stderr, "keelctl: %s\n", err);
		return EXIT_USAGE;
	}
	if (x->a.spec->cmd == CMD_HASH_PASSWORD)
		return EXIT_OK;
	if (x->a.host)
		snprintf(x->host, sizeof(x->host), "%s", x->a.host);
	else if (x->conf.host[0])
		snprintf(x->host, sizeof(x->host), "%s", x->conf.host);
	else {
		fprintf(stderr, "keelctl: which Keel? pass --host HOST[:PORT] "
			"(keelctl login remembers it)\n");
		return EXIT_USAGE;
	}
	if (args_split_host(x->host, h1, sizeof(h1), &p1)) {
		fprintf(stderr, "keelctl: bad host %s in %s\n", x->host,
			x->conf_path);
		return EXIT_USAGE;
	}
	x->same_host = x->conf.host[0] &&
		       !args_split_host(x->conf.host, h2, sizeof(h2), &p2) &&
		       !strcasecmp(h1, h2) && p1 == p2;
	if (!x->same_host) {
		/* Another Keel: nothing of the stored one applies to it. */
		x->conf.token[0] = 0;
		x->conf.fingerprint[0] = 0;
	}
	if (x->a.fingerprint)
		args_normalize_fingerprint(x->a.fingerprint, x->pin);
	else if (!x->a.insecure)
		memcpy(x->pin, x->conf.fingerprint, sizeof(x->pin));
	o.host = x->host;
	o.fingerprint = x->pin[0] ? x->pin : NULL;
	o.insecure = x->a.insecure;
	o.token = x->a.spec->cmd == CMD_LOGIN ? NULL : x->conf.token;
	o.verbose = getenv("KEELCTL_VERBOSE") != NULL;
	x->c = client_new(&o, err, sizeof(err));
	if (!x->c) {
		fprintf(stderr, "keelctl: %s\n", err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int run(struct ctx *x)
{
	switch (x->a.spec->cmd) {
	case CMD_LOGIN:
		return cmd_login(x);
	case CMD_LOGOUT:
		return cmd_logout(x);
	case CMD_HOST:
		return cmd_host(x);
	case CMD_IMAGES:
		return cmd_images(x);
	case CMD_IMAGE:
		return cmd_image(x);
	case CMD_IMAGE_UPLOAD:
		return cmd_image_upload(x);
	case CMD_IMAGE_DELETE:
		return cmd_delete(x, "/images/%s", "image");
	case CMD_VMS:
		return cmd_vms(x);
	case CMD_VM:
		return cmd_vm(x);
	case CMD_VM_CREATE:
		return cmd_vm_create(x);
	case CMD_VM_START:
		return cmd_vm_action(x, "start");
	case CMD_VM_STOP:
		return cmd_vm_action(x, "stop");
	case CMD_VM_POWEROFF:
		return cmd_vm_action(x, "poweroff");
	case CMD_VM_RESET:
		return cmd_vm_action(x, "reset");
	case CMD_VM_PAUSE:
		return cmd_vm_action(x, "pause");
	case CMD_VM_RESUME:
		return cmd_vm_action(x, "resume");
	case CMD_VM_DELETE:
		return cmd_delete(x, "/vms/%s", "vm");
	case CMD_CONSOLE:
		return cmd_console(x, false);
	case CMD_SEND:
		return cmd_console(x, true);
	case CMD_LOG:
		return cmd_log(x);
	case CMD_OPENAPI:
		return cmd_openapi(x);
	case CMD_HASH_PASSWORD:
		return cmd_hash_password(x);
	default:
		return EXIT_USAGE;
	}
}

int main(int argc, char **argv)
{
	static struct ctx x;
	char err[KEELCTL_ERR_MAX];
	int r;

	if (args_parse(&x.a, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "keelctl: %s\n", err);
		fprintf(stderr, "usage: keelctl [options] COMMAND [ARGS] "
			"(keelctl help)\n");
		return EXIT_USAGE;
	}
	if (x.a.spec->cmd == CMD_HELP) {
		args_usage(stdout);
		return EXIT_OK;
	}
	if (x.a.spec->cmd == CMD_VERSION) {
		printf("keelctl %s\n", KEELCTL_VERSION);
		return EXIT_OK;
	}
	r = setup(&x);
	if (!r)
		r = run(&x);
	client_free(x.c);
	fflush(stdout);
	return r;
}
