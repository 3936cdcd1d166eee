/*
 * args.c - keelctl's command line: the command table, global options
 * (anywhere on the line), each command's own options and positional
 * arguments, and the checks that make a bad line a usage error (exit 2)
 * before anything goes over the network.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "keelctl.h"

#define O(x) (1u << (x))
#define VM_OPTS                                                          \
	(O(OPT_KERNEL) | O(OPT_INITRD) | O(OPT_CMDLINE) | O(OPT_CPUS) |  \
	 O(OPT_MEM) | O(OPT_FIRMWARE) | O(OPT_DISK))

const struct args_cmd_spec args_cmds[] = {
	{ "login", CMD_LOGIN, 0, O(OPT_PASSWORD_STDIN), "[--password-stdin]",
	  "exchange the admin password for a token, kept in keelctl.conf" },
	{ "logout", CMD_LOGOUT, 0, 0, "", "end the session, forget the token" },
	{ "host", CMD_HOST, 0, 0, "", "version, CPUs, memory, uptime, VMs" },
	{ "images", CMD_IMAGES, 0, 0, "", "list uploaded images" },
	{ "image", CMD_IMAGE, 1, 0, "NAME", "show one image" },
	{ "image-upload", CMD_IMAGE_UPLOAD, 2, 0, "NAME FILE",
	  "upload FILE as image NAME (checks the SHA-256 the server saw)" },
	{ "image-delete", CMD_IMAGE_DELETE, 1, 0, "NAME", "delete an image" },
	{ "vms", CMD_VMS, 0, 0, "", "list VMs" },
	{ "vm", CMD_VM, 1, 0, "NAME", "show one VM" },
	{ "vm-create", CMD_VM_CREATE, 1, VM_OPTS,
	  "NAME --kernel IMG [--initrd IMG] [--cmdline S] [--cpus N] "
	  "[--mem MiB] [--firmware IMG] [--disk IMG]",
	  "create a VM from uploaded images (--kernel or --firmware)" },
	{ "vm-start", CMD_VM_START, 1, 0, "NAME", "start a VM" },
	{ "vm-stop", CMD_VM_STOP, 1, 0, "NAME",
	  "ask the guest to shut down (ACPI power button)" },
	{ "vm-poweroff", CMD_VM_POWEROFF, 1, 0, "NAME", "stop a VM at once" },
	{ "vm-reset", CMD_VM_RESET, 1, 0, "NAME", "reset a VM" },
	{ "vm-pause", CMD_VM_PAUSE, 1, 0, "NAME", "pause a running VM" },
	{ "vm-resume", CMD_VM_RESUME, 1, 0, "NAME", "resume a paused VM" },
	{ "vm-delete", CMD_VM_DELETE, 1, 0, "NAME", "delete a VM" },
	{ "console", CMD_CONSOLE, 1, O(OPT_FOLLOW) | O(OPT_SINCE),
	  "NAME [--follow] [--since OFFSET]",
	  "print a VM's serial output; --follow keeps printing" },
	{ "send", CMD_SEND, 2, O(OPT_NO_NEWLINE), "NAME TEXT [-n]",
	  "type TEXT and Enter into a VM's serial console (-n: no Enter)" },
	{ "log", CMD_LOG, 0, 0, "", "Keel's log" },
	{ "openapi", CMD_OPENAPI, 0, 0, "", "the API's OpenAPI document" },
	{ "hash-password", CMD_HASH_PASSWORD, 0, O(OPT_ITERATIONS),
	  "[--iterations N]",
	  "print the password= line for keel.cfg (password from stdin or a "
	  "prompt)" },
	{ "help", CMD_HELP, 0, 0, "", "this text" },
	{ "version", CMD_VERSION, 0, 0, "", "keelctl's version" },
	{ NULL, CMD_NONE, 0, 0, NULL, NULL },
};

static const struct {
	const char *name;
	const char *alias; /* a short form, or NULL */
	enum args_opt opt;
	bool value;
} opt_names[] = {
	{ "--kernel", NULL, OPT_KERNEL, true },
	{ "--initrd", NULL, OPT_INITRD, true },
	{ "--cmdline", NULL, OPT_CMDLINE, true },
	{ "--cpus", NULL, OPT_CPUS, true },
	{ "--mem", NULL, OPT_MEM, true },
	{ "--firmware", NULL, OPT_FIRMWARE, true },
	{ "--disk", NULL, OPT_DISK, true },
	{ "--since", NULL, OPT_SINCE, true },
	{ "--iterations", NULL, OPT_ITERATIONS, true },
	{ "--follow", "-f", OPT_FOLLOW, false },
	{ "--password-stdin", NULL, OPT_PASSWORD_STDIN, false },
	{ "--no-newline", "-n", OPT_NO_NEWLINE, false },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Guest limits the server checks again: these only catch typing mistakes. */
#define CPUS_MAX 255
#define MEM_MIB_MAX (1024ul * 1024) /* 1 TiB */
#define ITERATIONS_MIN 1000ul
#define ITERATIONS_MAX 100000000ul

static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return KEEL_EINVAL;
}

/* A decimal number without sign, spaces or overflow. */
static int parse_ulong(const char *s, unsigned long long *v)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return KEEL_EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end)
		return KEEL_EINVAL;
	return 0;
}

int args_parse_mib(const char *s, unsigned long *mib)
{
	unsigned long long v;
	char num[32];
	size_t i = 0;
	unsigned long long scale = 1;
	const char *unit;

	while (s[i] && isdigit((unsigned char)s[i]) && i < sizeof(num) - 1) {
		num[i] = s[i];
		i++;
	}
	num[i] = 0;
	unit = s + i;
	if (parse_ulong(num, &v))
		return KEEL_EINVAL;
	if (!strcmp(unit, "") || !strcasecmp(unit, "M") ||
	    !strcasecmp(unit, "MiB") || !strcasecmp(unit, "MB"))
		scale = 1;
	else if (!strcasecmp(unit, "G") || !strcasecmp(unit, "GiB") ||
		 !strcasecmp(unit, "GB"))
		scale = 1024;
	else
		return KEEL_EINVAL;
	if (v == 0 || v > MEM_MIB_MAX / scale)
		return KEEL_ERANGE;
	*mib = (unsigned long)(v * scale);
	return 0;
}

int args_normalize_fingerprint(const char *in, char out[65])
{
	size_t k = 0;

	/* "sha256=" as printed on Keel's console is forgiven too. */
	if (!strncasecmp(in, "sha256=", 7))
		in += 7;
	for (; *in; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || k == 64)
			return KEEL_EINVAL;
		out[k++] = (char)tolower((unsigned char)*in);
	}
	if (k != 64)
		return KEEL_EINVAL;
	out[k] = 0;
	return 0;
}

int args_split_host(const char *in, char *host, size_t hn, unsigned *port)
{
	const char *p = in, *end, *colon = NULL;
	size_t len;
	unsigned long long v;

	if (!strncasecmp(p, "https://", 8))
		p += 8;
	len = strlen(p);
	while (len && p[len - 1] == '/')
		len--;
	end = p + len;
	if (*p == '[') {
		/* RFC 3986 section 3.2.2: an IPv6 literal in brackets. */
		const char *close = memchr(p, ']', len);

		if (!close || close == p + 1)
			return KEEL_EINVAL;
		if (close + 1 < end) {
			if (close[1] != ':')
				return KEEL_EINVAL;
			colon = close + 1;
		}
		len = (size_t)(close + 1 - p);
	} else {
		colon = memchr(p, ':', len);
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			return KEEL_EINVAL; /* a bare IPv6 address */
		if (colon)
			len = (size_t)(colon - p);
	}
	if (len == 0 || len >= hn)
		return KEEL_EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch <= ' ' || ch >= 0x7f || ch == '/' || ch == '@' ||
		    ch == '?' || ch == '#')
			return KEEL_EINVAL;
	}
	memcpy(host, p, len);
	host[len] = 0;
	*port = KEELCTL_DEFAULT_PORT;
	if (colon) {
		char num[8];
		size_t nl = (size_t)(end - colon - 1);

		if (nl == 0 || nl >= sizeof(num))
			return KEEL_EINVAL;
		memcpy(num, colon + 1, nl);
		num[nl] = 0;
		if (parse_ulong(num, &v) || v == 0 || v > 65535)
			return KEEL_EINVAL;
		*port = (unsigned)v;
	}
	return 0;
}

static const struct args_cmd_spec *find_cmd(const char *name)
{
	for (const struct args_cmd_spec *s = args_cmds; s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/* Is arg "--name" or "--name=value"? Returns the value part, "" or NULL. */
static const char *match_long(const char *arg, const char *name)
{
	size_t len = strlen(name);

	if (strncmp(arg, name, len))
		return NULL;
	if (arg[len] == 0)
		return "";
	if (arg[len] == '=')
		return arg + len + 1;
	return NULL;
}

/* A global option at argv[*i]: 1 if taken (moving *i past its value), 0 if
 * it is not one, KEEL_EINVAL on error. */
static int take_global(struct args *a, int argc, char **argv, int *i,
		       char *err, size_t n)
{
	static const char *const with_value[] = { "--host", "--fingerprint",
						  "--config" };
	const char *arg = argv[*i], *v;

	if (!strcmp(arg, "--insecure") || !strcmp(arg, "-k")) {
		a->insecure = true;
		return 1;
	}
	if (!strcmp(arg, "--json")) {
		a->json = true;
		return 1;
	}
	if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
		a->spec = find_cmd("help");
		return 1;
	}
	if (!strcmp(arg, "--version")) {
		a->spec = find_cmd("version");
		return 1;
	}
	for (size_t k = 0; k < NELEM(with_value); k++) {
		v = match_long(arg, with_value[k]);
		if (!v)
			continue;
		if (!*v && arg[strlen(with_value[k])] != '=') {
			if (*i + 1 >= argc)
				return fail(err, n, "%s needs a value",
					    with_value[k]);
			v = argv[++*i];
		}
		if (!*v)
			return fail(err, n, "%s needs a value", with_value[k]);
		if (k == 0)
			a->host = v;
		else if (k == 1)
			a->fingerprint = v;
		else
			a->config = v;
		return 1;
	}
	return 0;
}

static int take_option(struct args *a, int argc, char **argv, int *i,
		       uint32_t *seen, char *err, size_t n)
{
	const char *arg = argv[*i], *v = NULL;
	size_t k;

	for (k = 0; k < NELEM(opt_names); k++) {
		if (opt_names[k].alias && !strcmp(arg, opt_names[k].alias)) {
			v = "";
			break;
		}
		v = match_long(arg, opt_names[k].name);
		if (v)
			break;
	}
	if (k == NELEM(opt_names))
		return fail(err, n, "unknown option %s", arg);
	if (!(a->spec->opts & O(opt_names[k].opt)))
		return fail(err, n, "%s does not take %s", a->spec->name,
			    opt_names[k].name);
	if (opt_names[k].value) {
		if (!*v && arg[strlen(opt_names[k].name)] != '=') {
			if (*i + 1 >= argc)
				return fail(err, n, "%s needs a value",
					    opt_names[k].name);
			v = argv[++*i];
		}
	} else if (*v) {
		return fail(err, n, "%s takes no value", opt_names[k].name);
	}
	if (*seen & O(opt_names[k].opt))
		return fail(err, n, "%s given twice", opt_names[k].name);
	*seen |= O(opt_names[k].opt);
	a->opt[opt_names[k].opt] = v;
	return 0;
}

/* Numbers and names, checked once the whole line is read. */
static int check_values(struct args *a, char *err, size_t n)
{
	unsigned long long v;
	char fp[65], host[256];
	unsigned port;

	if (a->host && args_split_host(a->host, host, sizeof(host), &port))
		return fail(err, n, "bad --host %s: want HOST[:PORT]", a->host);
	if (a->fingerprint && args_normalize_fingerprint(a->fingerprint, fp))
		return fail(err, n, "bad --fingerprint: want the certificate's "
			    "SHA-256 as 64 hex digits");
	if (a->fingerprint && a->insecure)
		return fail(err, n, "--fingerprint and --insecure contradict "
			    "each other");
	if (a->opt[OPT_CPUS]) {
		if (parse_ulong(a->opt[OPT_CPUS], &v) || v < 1 || v > CPUS_MAX)
			return fail(err, n, "bad --cpus %s: want 1-%d",
				    a->opt[OPT_CPUS], CPUS_MAX);
		a->cpus = (unsigned long)v;
	}
	if (a->opt[OPT_MEM] && args_parse_mib(a->opt[OPT_MEM], &a->mem_mib))
		return fail(err, n, "bad --mem %s: want MiB (512, 512M, 2G)",
			    a->opt[OPT_MEM]);
	if (a->opt[OPT_SINCE]) {
		if (parse_ulong(a->opt[OPT_SINCE], &v))
			return fail(err, n, "bad --since %s: want a byte offset",
				    a->opt[OPT_SINCE]);
		a->since = v;
	}
	a->iterations = PWHASH_ITERATIONS;
	if (a->opt[OPT_ITERATIONS]) {
		if (parse_ulong(a->opt[OPT_ITERATIONS], &v) ||
		    v < ITERATIONS_MIN || v > ITERATIONS_MAX)
			return fail(err, n, "bad --iterations %s: want %lu-%lu",
				    a->opt[OPT_ITERATIONS], ITERATIONS_MIN,
				    ITERATIONS_MAX);
		a->iterations = (unsigned long)v;
	}
	for (unsigned k = 0; k < a->spec->npos; k++)
		if (!*a->pos[k])
			return fail(err, n, "%s: empty argument", a->spec->name);
	if (a->spec->cmd == CMD_VM_CREATE && !a->opt[OPT_KERNEL] &&
	    !a->opt[OPT_FIRMWARE])
		return fail(err, n, "vm-create needs --kernel IMG (or "
			    "--firmware IMG)");
	return 0;
}

int args_parse(struct args *a, int argc, char **argv, char *err, size_t n)
{
	const char *pos[ARGS_POS_MAX + 1];
	const char *cmd = NULL;
	unsigned npos = 0;
	uint32_t seen = 0;
	bool dashdash = false;
	int r;

	memset(a, 0, sizeof(*a));
	err[0] = 0;
	/* First pass: the global options and the command's name, so that a
	 * command's options are known before they are read. */
	for (int i = 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = true;
			continue;
		}
		if (!dashdash && argv[i][0] == '-' && argv[i][1]) {
			r = take_global(a, argc, argv, &i, err, n);
			if (r < 0)
				return r;
			if (r == 0) {
				/* A command option: skip its value if it has
				 * one (checked in the second pass). */
				for (size_t k = 0; k < NELEM(opt_names); k++)
					if (opt_names[k].value &&
					    !strcmp(argv[i], opt_names[k].name)) {
						i++;
						break;
					}
			}
			continue;
		}
		if (!cmd)
			cmd = argv[i];
	}
	if (a->spec && (a->spec->cmd == CMD_HELP || a->spec->cmd == CMD_VERSION))
		return 0;
	if (!cmd)
		return fail(err, n, "no command (keelctl help lists them)");
	a->spec = find_cmd(cmd);
	if (!a->spec)
		return fail(err, n, "unknown command %s (keelctl help lists "
			    "them)", cmd);

	/* Second pass: the command's options and positional arguments. */
	dashdash = false;
	bool cmd_seen = false;

	for (int i = 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = true;
			continue;
		}
		if (!dashdash && argv[i][0] == '-' && argv[i][1]) {
			struct args scratch = *a;

			r = take_global(&scratch, argc, argv, &i, err, n);
			if (r < 0)
				return r;
			if (r == 0) {
				r = take_option(a, argc, argv, &i, &seen, err, n);
				if (r)
					return r;
			}
			continue;
		}
		if (!cmd_seen) {
			cmd_seen = true;
			continue;
		}
		if (npos == a->spec->npos)
			return fail(err, n, "%s: too many arguments (usage: "
				    "keelctl %s %s)", a->spec->name,
				    a->spec->name, a->spec->usage);
		pos[npos++] = argv[i];
	}
	if (npos < a->spec->npos)
		return fail(err, n, "%s: missing arguments (usage: keelctl %s %s)",
			    a->spec->name, a->spec->name, a->spec->usage);
	for (unsigned k = 0; k < npos; k++)
		a->pos[k] = pos[k];
	return check_values(a, err, n);
}

void args_usage(FILE *out)
{
	fprintf(out,
		"usage: keelctl [--host HOST[:PORT]] [--fingerprint SHA256 | "
		"--insecure] [--json]\n"
		"               [--config FILE] COMMAND [ARGS]\n"
		"\n"
		"Keel's management client: every call of the HTTPS API under "
		"/api/v1.\n"
		"\n"
		"commands:\n");
	for (const struct args_cmd_spec *s = args_cmds; s->name; s++) {
		char left[160];

		snprintf(left, sizeof(left), "%s %s", s->name, s->usage);
		if (strlen(left) > 30)
			fprintf(out, "  %s\n  %-30s  %s\n", left, "", s->help);
		else
			fprintf(out, "  %-30s  %s\n", left, s->help);
	}
	fprintf(out,
		"\n"
		"options:\n"
		"  --host HOST[:PORT]    Keel's address (port 443 unless given); "
		"default: the\n"
		"                        host of the last login\n"
		"  --fingerprint HEX     accept only the certificate with this "
		"SHA-256 (as\n"
		"                        Keel prints it: keel: mgmt https://... "
		"sha256=HEX)\n"
		"  --insecure, -k        do not check the certificate (login then "
		"pins the one seen)\n"
		"  --json                print the API's JSON as it came, for "
		"scripts\n"
		"  --config FILE         instead of $XDG_CONFIG_HOME/keel/"
		"keelctl.conf\n"
		"\n"
		"exit status: 0 done, 1 the API answered with an error, 2 usage, "
		"3 no connection\n"
		"or a TLS or certificate failure.\n");
}

int args_escape(const char *in, char *out, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t k = 0;

	/* RFC 3986 section 2.3: unreserved characters as they are, every
	 * other byte percent-encoded, so a name is one path segment. */
	for (; *in; in++) {
		unsigned char ch = (unsigned char)*in;

		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
		    ch == '~') {
			if (k + 1 >= n)
				return KEEL_ERANGE;
			out[k++] = (char)ch;
		} else {
			if (k + 3 >= n)
				return KEEL_ERANGE;
			out[k++] = '%';
			out[k++] = digits[ch >> 4];
			out[k++] = digits[ch & 15];
		}
	}
	out[k] = 0;
	return 0;
}
