/*
 * conf.c - keelctl.conf, the user's own state: the host of the last login,
 * the certificate fingerprint pinned for it and the bearer token. It holds
 * a credential, so it is written with mode 0600 in a 0700 folder, by a
 * rename so that a crash never leaves half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keelctl.h"

#define CONF_FILE_MAX 65536

static int fail(char *err, size_t n, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return code;
}

/* Copy value (len bytes) into dst (cap bytes); KEEL_ERANGE if too long. */
static int set_field(char *dst, size_t cap, const char *v, size_t len)
{
	if (len >= cap)
		return KEEL_ERANGE;
	memcpy(dst, v, len);
	dst[len] = 0;
	return 0;
}

static int set_fingerprint(struct conf *c, const char *v, size_t len)
{
	char tmp[128];

	if (len >= sizeof(tmp))
		return KEEL_EINVAL;
	memcpy(tmp, v, len);
	tmp[len] = 0;
	return args_normalize_fingerprint(tmp, c->fingerprint);
}

int conf_parse(struct conf *c, const char *text, char *err, size_t n)
{
	unsigned line = 0;

	memset(c, 0, sizeof(*c));
	while (*text) {
		const char *end = strchr(text, '\n'), *eq, *k, *v, *ve;
		size_t klen, vlen;

		if (!end)
			end = text + strlen(text);
		line++;
		k = text;
		ve = end;
		text = *end ? end + 1 : end;
		while (k < ve && (*k == ' ' || *k == '\t'))
			k++;
		while (ve > k && (ve[-1] == ' ' || ve[-1] == '\t' ||
				  ve[-1] == '\r'))
			ve--;
		if (k == ve || *k == '#')
			continue;
		eq = memchr(k, '=', (size_t)(ve - k));
		if (!eq || eq == k)
			return fail(err, n, KEEL_EINVAL,
				    "line %u: want key=value", line);
		klen = (size_t)(eq - k);
		while (klen && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
			klen--;
		v = eq + 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(ve - v);
		if (vlen && *v == '"') {
			if (vlen < 2 || v[vlen - 1] != '"')
				return fail(err, n, KEEL_EINVAL,
					    "line %u: unterminated quote", line);
			v++;
			vlen -= 2;
		}
		for (size_t i = 0; i < vlen; i++)
			if ((unsigned char)v[i] < 0x20 || v[i] == '"')
				return fail(err, n, KEEL_EINVAL,
					    "line %u: bad character in value",
					    line);

		int r = 0;

		if (klen == 4 && !memcmp(k, "host", 4)) {
			r = set_field(c->host, sizeof(c->host), v, vlen);
		} else if (klen == 11 && !memcmp(k, "fingerprint", 11)) {
			if (vlen && set_fingerprint(c, v, vlen))
				return fail(err, n, KEEL_EINVAL,
					    "line %u: fingerprint is not 64 "
					    "hex digits", line);
		} else if (klen == 5 && !memcmp(k, "token", 5)) {
			r = set_field(c->token, sizeof(c->token), v, vlen);
		}
		if (r)
			return fail(err, n, KEEL_ERANGE,
				    "line %u: value too long", line);
	}
	return 0;
}

int conf_format(const struct conf *c, char *out, size_t n)
{
	int len = snprintf(out, n,
			   "# keelctl: written by keelctl login; holds a "
			   "credential (mode 0600)\n"
			   "host=%s\nfingerprint=%s\ntoken=%s\n",
			   c->host, c->fingerprint, c->token);

	if (len < 0 || (size_t)len >= n)
		return KEEL_ERANGE;
	return 0;
}

int conf_path(char *out, size_t n, const char *xdg, const char *home)
{
	int len;

	/* XDG Base Directory spec: "If $XDG_CONFIG_HOME is either not set or
	 * empty, a default equal to $HOME/.config should be used"; relative
	 * paths are invalid and should be ignored. */
	if (xdg && xdg[0] == '/')
		len = snprintf(out, n, "%s/keel/keelctl.conf", xdg);
	else if (home && home[0] == '/')
		len = snprintf(out, n, "%s/.config/keel/keelctl.conf", home);
	else
		return KEEL_ENOENT;
	if (len < 0 || (size_t)len >= n)
		return KEEL_ERANGE;
	return 0;
}

int conf_load(struct conf *c, const char *path, char *err, size_t n)
{
	char *buf;
	size_t len = 0;
	FILE *f = fopen(path, "r");
	int r;

	memset(c, 0, sizeof(*c));
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return fail(err, n, KEEL_EIO, "%s: %s", path, strerror(errno));
	}
	buf = malloc(CONF_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return fail(err, n, KEEL_ENOMEM, "out of memory");
	}
	len = fread(buf, 1, CONF_FILE_MAX + 1, f);
	fclose(f);
	if (len > CONF_FILE_MAX) {
		free(buf);
		return fail(err, n, KEEL_ERANGE, "%s: too large", path);
	}
	buf[len] = 0;
	if (memchr(buf, 0, len)) {
		free(buf);
		return fail(err, n, KEEL_EINVAL, "%s: not a text file", path);
	}
	r = conf_parse(c, buf, err, n);
	free(buf);
	if (r) {
		char msg[KEELCTL_ERR_MAX];

		snprintf(msg, sizeof(msg), "%s", err);
		return fail(err, n, r, "%s: %s", path, msg);
	}
	return 0;
}

/* mkdir -p of the folders in path before its last '/', new ones with mode
 * 0700 (the file inside holds a credential). */
static int make_parent(char *path)
{
	char *last = strrchr(path, '/');

	for (char *p = path + 1; last && p <= last; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		int r = mkdir(path, 0700);

		*p = '/';
		if (r && errno != EEXIST)
			return -1;
	}
	return 0;
}

int conf_save(const struct conf *c, const char *path, char *err, size_t n)
{
	char text[2048], tmp[4096], dir[4096];
	size_t len;
	int fd;

	if (conf_format(c, text, sizeof(text)))
		return fail(err, n, KEEL_ERANGE, "config too large");
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
		    (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return fail(err, n, KEEL_ERANGE, "config path too long");
	if (make_parent(dir))
		return fail(err, n, KEEL_EIO, "cannot make the folder of %s: %s",
			    path, strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return fail(err, n, KEEL_EIO, "%s: %s", tmp, strerror(errno));
	len = strlen(text);
	/* fchmod: the umask may have taken bits off, never added; but a
	 * leftover file of the same name kept its old mode. */
	if (fchmod(fd, 0600) || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd)) {
		int e = errno;

		close(fd);
		unlink(tmp);
		return fail(err, n, KEEL_EIO, "%s: %s", tmp, strerror(e));
	}
	if (close(fd) || rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return fail(err, n, KEEL_EIO, "%s: %s", path, strerror(e));
	}
	return 0;
}
