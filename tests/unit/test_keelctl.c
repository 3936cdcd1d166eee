/*
 * test_keelctl.c - host tests of keelctl's pure parts (mgmt/keelctl/):
 * the command line, aligned tables, keelctl.conf, the pbkdf2-sha256 line
 * of keel.cfg (RFC 7914 section 11 vectors) and WebSocket frames (RFC 6455
 * section 5.7 examples), plus the API reply parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mgmt/keelctl/keelctl.h"

/* ------------------------------------------------------------- args ---- */

static struct args a;
static char err[256];

/* Parse a NULL-terminated list of words after "keelctl". */
static int parse(const char *first, ...)
{
	char *argv[40] = { "keelctl" };
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *w = first; w; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	return args_parse(&a, argc, argv, err, sizeof(err));
}

static void test_args_commands(void **state)
{
	assert_int_equal(parse("host", NULL), 0);
	assert_int_equal(a.spec->cmd, CMD_HOST);
	assert_null(a.host);
	assert_false(a.json);

	/* Global options before, after and between the command's words. */
	assert_int_equal(parse("--json", "vm-start", "web", "--host",
			       "10.0.0.5:8443", NULL), 0);
	assert_int_equal(a.spec->cmd, CMD_VM_START);
	assert_string_equal(a.pos[0], "web");
	assert_string_equal(a.host, "10.0.0.5:8443");
	assert_true(a.json);

	assert_int_equal(parse("image-upload", "--insecure", "vmlinuz",
			       "/tmp/bzImage", NULL), 0);
	assert_int_equal(a.spec->cmd, CMD_IMAGE_UPLOAD);
	assert_string_equal(a.pos[0], "vmlinuz");
	assert_string_equal(a.pos[1], "/tmp/bzImage");
	assert_true(a.insecure);

	assert_int_equal(parse("--host=keel.lan", "login",
			       "--password-stdin", NULL), 0);
	assert_int_equal(a.spec->cmd, CMD_LOGIN);
	assert_string_equal(a.host, "keel.lan");
	assert_non_null(a.opt[OPT_PASSWORD_STDIN]);

	/* Every verb of the VM state machine has its command. */
	static const char *const verbs[] = { "vm-start", "vm-stop",
		"vm-poweroff", "vm-reset", "vm-pause", "vm-resume",
		"vm-delete", "vm" };
	static const enum args_cmd cmds[] = { CMD_VM_START, CMD_VM_STOP,
		CMD_VM_POWEROFF, CMD_VM_RESET, CMD_VM_PAUSE, CMD_VM_RESUME,
		CMD_VM_DELETE, CMD_VM };
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(parse(verbs[i], "x", NULL), 0);
		assert_int_equal(a.spec->cmd, cmds[i]);
	}
	assert_int_equal(parse("--help", NULL), 0);
	assert_int_equal(a.spec->cmd, CMD_HELP);
	assert_int_equal(parse("vms", "--help", NULL), 0);
	assert_int_equal(a.spec->cmd, CMD_HELP);
}

static void test_args_vm_create(void **state)
{
	assert_int_equal(parse("vm-create", "web", "--kernel", "vmlinuz",
			       "--initrd=initramfs", "--cmdline",
			       "console=ttyS0 panic=-1", "--cpus", "2",
			       "--mem", "512", "--disk", "d0", NULL), 0);
	assert_int_equal(a.spec->cmd, CMD_VM_CREATE);
	assert_string_equal(a.pos[0], "web");
	assert_string_equal(a.opt[OPT_KERNEL], "vmlinuz");
	assert_string_equal(a.opt[OPT_INITRD], "initramfs");
	assert_string_equal(a.opt[OPT_CMDLINE], "console=ttyS0 panic=-1");
	assert_string_equal(a.opt[OPT_DISK], "d0");
	assert_null(a.opt[OPT_FIRMWARE]);
	assert_int_equal(a.cpus, 2);
	assert_int_equal(a.mem_mib, 512);

	assert_int_equal(parse("vm-create", "fw", "--firmware", "ovmf",
			       "--mem", "2G", NULL), 0);
	assert_int_equal(a.mem_mib, 2048);
	/* A cmdline that looks like an option is still the value. */
	assert_int_equal(parse("vm-create", "x", "--kernel", "k", "--cmdline",
			       "--json", NULL), 0);
	assert_string_equal(a.opt[OPT_CMDLINE], "--json");
	assert_false(a.json);
}

static void test_args_usage_errors(void **state)
{
	assert_int_equal(parse(NULL), KEEL_EINVAL);
	assert_non_null(strstr(err, "no command"));
	assert_int_equal(parse("frobnicate", NULL), KEEL_EINVAL);
	assert_non_null(strstr(err, "unknown command frobnicate"));
	assert_int_equal(parse("vm-start", NULL), KEEL_EINVAL);
	assert_non_null(strstr(err, "missing arguments"));
	assert_int_equal(parse("vm-start", "a", "b", NULL), KEEL_EINVAL);
	assert_non_null(strstr(err, "too many arguments"));
	assert_int_equal(parse("vm-create", "x", NULL), KEEL_EINVAL);
	assert_non_null(strstr(err, "--kernel"));
	assert_int_equal(parse("vm-start", "x", "--kernel", "k", NULL),
			 KEEL_EINVAL);
	assert_non_null(strstr(err, "does not take --kernel"));
	assert_int_equal(parse("host", "--bogus", NULL), KEEL_EINVAL);
	assert_non_null(strstr(err, "unknown option --bogus"));
	assert_int_equal(parse("vm-create", "x", "--kernel", NULL),
			 KEEL_EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(parse("vm-create", "x", "--kernel", "k", "--cpus",
			       "0", NULL), KEEL_EINVAL);
	assert_int_equal(parse("vm-create", "x", "--kernel", "k", "--cpus",
			       "2x", NULL), KEEL_EINVAL);
	assert_int_equal(parse("vm-create", "x", "--kernel", "k", "--cpus",
			       "-1", NULL), KEEL_EINVAL);
	assert_int_equal(parse("vm-create", "x", "--kernel", "k", "--cpus",
			       "256", NULL), KEEL_EINVAL);
	assert_int_equal(parse("vm-create", "x", "--kernel", "k", "--mem",
			       "12T", NULL), KEEL_EINVAL);
	assert_int_equal(parse("vm-create", "x", "--kernel", "k", "--kernel",
			       "j", NULL), KEEL_EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(parse("console", "x", "--follow=yes", NULL),
			 KEEL_EINVAL);
	assert_int_equal(parse("host", "--host", "a:b:c", NULL), KEEL_EINVAL);
	assert_int_equal(parse("host", "--host", "h:70000", NULL), KEEL_EINVAL);
	assert_int_equal(parse("host", "--fingerprint", "abcd", NULL),
			 KEEL_EINVAL);
	assert_int_equal(parse("host", "--insecure", "--fingerprint",
			       "00112233445566778899aabbccddeeff"
			       "00112233445566778899aabbccddeeff", NULL),
			 KEEL_EINVAL);
	assert_non_null(strstr(err, "contradict"));
	assert_int_equal(parse("vm", "", NULL), KEEL_EINVAL);
	assert_int_equal(parse("hash-password", "--iterations", "10", NULL),
			 KEEL_EINVAL);
}

static void test_args_send_and_console(void **state)
{
	/* "--" lets TEXT start with a dash. */
	assert_int_equal(parse("send", "web", "--", "-n", NULL), 0);
	assert_string_equal(a.pos[1], "-n");
	assert_null(a.opt[OPT_NO_NEWLINE]);
	assert_int_equal(parse("send", "-n", "web", "echo hi", NULL), 0);
	assert_non_null(a.opt[OPT_NO_NEWLINE]);
	assert_string_equal(a.pos[0], "web");
	assert_string_equal(a.pos[1], "echo hi");
	assert_int_equal(parse("console", "web", "-f", "--since", "4096",
			       NULL), 0);
	assert_non_null(a.opt[OPT_FOLLOW]);
	assert_int_equal(a.since, 4096);
	assert_int_equal(parse("hash-password", NULL), 0);
	assert_int_equal(a.iterations, 100000);
	assert_int_equal(parse("hash-password", "--iterations", "200000",
			       NULL), 0);
	assert_int_equal(a.iterations, 200000);
}

static void test_args_host_and_fingerprint(void **state)
{
	char h[256], fp[65];
	unsigned port;

	assert_int_equal(args_split_host("keel.lan", h, sizeof(h), &port), 0);
	assert_string_equal(h, "keel.lan");
	assert_int_equal(port, 443);
	assert_int_equal(args_split_host("127.0.0.1:18443", h, sizeof(h),
					 &port), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(port, 18443);
	assert_int_equal(args_split_host("https://10.1.2.3:8443/", h,
					 sizeof(h), &port), 0);
	assert_string_equal(h, "10.1.2.3");
	assert_int_equal(port, 8443);
	assert_int_equal(args_split_host("[fe80::1]:444", h, sizeof(h), &port),
			 0);
	assert_string_equal(h, "[fe80::1]");
	assert_int_equal(port, 444);
	assert_int_equal(args_split_host("[::1]", h, sizeof(h), &port), 0);
	assert_int_equal(port, 443);
	assert_int_equal(args_split_host("::1", h, sizeof(h), &port),
			 KEEL_EINVAL);
	assert_int_equal(args_split_host("h:0", h, sizeof(h), &port),
			 KEEL_EINVAL);
	assert_int_equal(args_split_host("h:", h, sizeof(h), &port),
			 KEEL_EINVAL);
	assert_int_equal(args_split_host(":443", h, sizeof(h), &port),
			 KEEL_EINVAL);
	assert_int_equal(args_split_host("a b", h, sizeof(h), &port),
			 KEEL_EINVAL);
	assert_int_equal(args_split_host("user@h", h, sizeof(h), &port),
			 KEEL_EINVAL);
	assert_int_equal(args_split_host("h/x", h, sizeof(h), &port),
			 KEEL_EINVAL);

	assert_int_equal(args_normalize_fingerprint(
		"sha256=AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:"
		"AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89", fp), 0);
	assert_string_equal(fp, "abcdef0123456789abcdef0123456789"
				"abcdef0123456789abcdef0123456789");
	assert_int_equal(args_normalize_fingerprint("abc", fp), KEEL_EINVAL);
	assert_int_equal(args_normalize_fingerprint(
		"abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567"
		"8900", fp), KEEL_EINVAL);
	assert_int_equal(args_normalize_fingerprint(
		"gbcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
		fp), KEEL_EINVAL);

	unsigned long mib;

	assert_int_equal(args_parse_mib("512", &mib), 0);
	assert_int_equal(mib, 512);
	assert_int_equal(args_parse_mib("512M", &mib), 0);
	assert_int_equal(mib, 512);
	assert_int_equal(args_parse_mib("3GiB", &mib), 0);
	assert_int_equal(mib, 3072);
	assert_int_equal(args_parse_mib("0", &mib), KEEL_ERANGE);
	assert_int_equal(args_parse_mib("1.5G", &mib), KEEL_EINVAL);
	assert_int_equal(args_parse_mib("", &mib), KEEL_EINVAL);
	assert_int_equal(args_parse_mib("99999999999999999999", &mib),
			 KEEL_EINVAL);
}

/* ------------------------------------------------------------ table ---- */

/* What table_print writes, in a malloc'd string. */
static char *printed(const struct table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	table_print(t, f);
	fclose(f);
	return buf;
}

static void test_table_columns(void **state)
{
	static const char *const head[] = { "ID", "NAME", "STATE", "MEMORY" };
	static const char *const r1[] = { "1", "web", "running", "512 MiB" };
	static const char *const r2[] = { "12", "database-01", NULL, "2048 MiB" };
	struct table t;
	char *out;

	assert_int_equal(table_init(&t, 4, head, 1u << 0 | 1u << 3), 0);
	assert_int_equal(table_add(&t, r1), 0);
	assert_int_equal(table_add(&t, r2), 0);
	out = printed(&t);
	/* Two spaces between columns, numbers right-aligned, "-" for NULL,
	 * no trailing blank on a left-aligned last column. */
	assert_string_equal(out,
		"ID  NAME         STATE      MEMORY\n"
		" 1  web          running   512 MiB\n"
		"12  database-01  -        2048 MiB\n");
	free(out);
	table_free(&t);

	static const char *const kv1[] = { "version", "1.0" };
	static const char *const kv2[] = { "cpus", "4" };

	assert_int_equal(table_init(&t, 2, NULL, 0), 0);
	table_add(&t, kv1);
	table_add(&t, kv2);
	out = printed(&t);
	assert_string_equal(out, "version  1.0\ncpus     4\n");
	free(out);
	table_free(&t);
	assert_int_equal(table_init(&t, 0, NULL, 0), KEEL_EINVAL);
	assert_int_equal(table_init(&t, TABLE_COLS_MAX + 1, NULL, 0),
			 KEEL_EINVAL);
}

static void test_table_untrusted_cells(void **state)
{
	static const char *const head[] = { "NAME", "X" };
	/* A name with a terminal escape and a newline from the server; a
	 * UTF-8 name is two columns wide, not four bytes. */
	static const char *const r1[] = { "ev\x1b[2Jil\n", "1" };
	static const char *const r2[] = { "\xc3\xa9t\xc3\xa9", "2" };
	struct table t;
	char *out;

	table_init(&t, 2, head, 0);
	table_add(&t, r1);
	table_add(&t, r2);
	out = printed(&t);
	assert_string_equal(out,
		"NAME       X\n"
		"ev?[2Jil?  1\n"
		"\xc3\xa9t\xc3\xa9        2\n");
	assert_null(strchr(out, 0x1b));
	free(out);
	table_free(&t);
	assert_int_equal(table_width("\xe2\x82\xac" "12"), 3);

	/* Many rows: the table grows. */
	table_init(&t, 2, head, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(table_add(&t, r2), 0);
	assert_int_equal(t.nrows, 1001);
	table_free(&t);
}

static void test_table_sizes_and_durations(void **state)
{
	char b[32];

	table_format_size(0, b, sizeof(b));
	assert_string_equal(b, "0 B");
	table_format_size(1023, b, sizeof(b));
	assert_string_equal(b, "1023 B");
	table_format_size(1024, b, sizeof(b));
	assert_string_equal(b, "1 KiB");
	table_format_size(1536, b, sizeof(b));
	assert_string_equal(b, "1.5 KiB");
	table_format_size(14186432, b, sizeof(b)); /* the Debian vmlinuz */
	assert_string_equal(b, "13.5 MiB");
	table_format_size(512ull << 20, b, sizeof(b));
	assert_string_equal(b, "512 MiB");
	table_format_size(3ull << 30, b, sizeof(b));
	assert_string_equal(b, "3 GiB");
	table_format_size((1ull << 20) * 1023 + (1ull << 20) / 2, b, sizeof(b));
	assert_string_equal(b, "1024 MiB"); /* 1023.5: no decimal above 100 */

	table_format_duration(0, b, sizeof(b));
	assert_string_equal(b, "0s");
	table_format_duration(59, b, sizeof(b));
	assert_string_equal(b, "59s");
	table_format_duration(3725, b, sizeof(b));
	assert_string_equal(b, "1h 2m 5s");
	table_format_duration(90061, b, sizeof(b));
	assert_string_equal(b, "1d 1h 1m 1s");
}

/* ------------------------------------------------------------- conf ---- */

#define FP "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_conf_parse(void **state)
{
	struct conf c;

	assert_int_equal(conf_parse(&c,
		"# written by keelctl\n"
		"\n"
		"host=127.0.0.1:18443\r\n"
		"  fingerprint = \"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
		"00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\"\n"
		"token=tok-123.abc\n"
		"future_key=whatever\n",
		err, sizeof(err)), 0);
	assert_string_equal(c.host, "127.0.0.1:18443");
	assert_string_equal(c.fingerprint, FP);
	assert_string_equal(c.token, "tok-123.abc");

	assert_int_equal(conf_parse(&c, "", err, sizeof(err)), 0);
	assert_string_equal(c.host, "");
	assert_int_equal(conf_parse(&c, "host=x\nfingerprint=\ntoken=", err,
				    sizeof(err)), 0);
	assert_string_equal(c.fingerprint, "");

	assert_int_equal(conf_parse(&c, "host=a\nnonsense\n", err,
				    sizeof(err)), KEEL_EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(conf_parse(&c, "=x\n", err, sizeof(err)), KEEL_EINVAL);
	assert_int_equal(conf_parse(&c, "host=\"a\n", err, sizeof(err)),
			 KEEL_EINVAL);
	assert_int_equal(conf_parse(&c, "fingerprint=abc\n", err, sizeof(err)),
			 KEEL_EINVAL);
	assert_int_equal(conf_parse(&c, "token=a\x01b\n", err, sizeof(err)),
			 KEEL_EINVAL);

	char big[1200];

	memset(big, 'x', sizeof(big));
	memcpy(big, "token=", 6);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(conf_parse(&c, big, err, sizeof(err)), KEEL_ERANGE);
}

static void test_conf_round_trip_and_file(void **state)
{
	struct conf c = { 0 }, d;
	char text[2048], dir[] = "/tmp/keelctl-test-XXXXXX", path[256];
	struct stat st;

	snprintf(c.host, sizeof(c.host), "keel.lan:8443");
	snprintf(c.fingerprint, sizeof(c.fingerprint), "%s", FP);
	snprintf(c.token, sizeof(c.token), "T0K3N");
	assert_int_equal(conf_format(&c, text, sizeof(text)), 0);
	assert_int_equal(conf_parse(&d, text, err, sizeof(err)), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	assert_int_equal(conf_format(&c, text, 20), KEEL_ERANGE);

	/* XDG Base Directory: XDG_CONFIG_HOME if absolute, else ~/.config. */
	assert_int_equal(conf_path(path, sizeof(path), "/x/cfg", "/home/u"), 0);
	assert_string_equal(path, "/x/cfg/keel/keelctl.conf");
	assert_int_equal(conf_path(path, sizeof(path), "", "/home/u"), 0);
	assert_string_equal(path, "/home/u/.config/keel/keelctl.conf");
	assert_int_equal(conf_path(path, sizeof(path), "rel", "/home/u"), 0);
	assert_string_equal(path, "/home/u/.config/keel/keelctl.conf");
	assert_int_equal(conf_path(path, sizeof(path), NULL, NULL),
			 KEEL_ENOENT);

	/* Saved with mode 0600 in new 0700 folders; loaded back; a missing
	 * file is an empty config. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/keelctl.conf", dir);
	assert_int_equal(conf_load(&d, path, err, sizeof(err)), 0);
	assert_string_equal(d.token, "");
	mode_t old = umask(0);

	assert_int_equal(conf_save(&c, path, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(text, sizeof(text), "%s/a/b", dir);
	assert_int_equal(stat(text, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(conf_load(&d, path, err, sizeof(err)), 0);
	assert_memory_equal(&c, &d, sizeof(c));

	/* An existing file with a loose mode is tightened on save. */
	chmod(path, 0644);
	assert_int_equal(conf_save(&c, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	FILE *f = fopen(path, "w");

	fputs("host=x\ngarbage\n", f);
	fclose(f);
	assert_int_equal(conf_load(&d, path, err, sizeof(err)), KEEL_EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line 2"));

	unlink(path);
	rmdir(text);
	snprintf(text, sizeof(text), "%s/a", dir);
	rmdir(text);
	rmdir(dir);
}

/* ----------------------------------------------------------- pwhash ---- */

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void test_pwhash_rfc7914_vectors(void **state)
{
	uint8_t key[64], want[64];

	/* RFC 7914 section 11: PBKDF2-HMAC-SHA256 test vectors. */
	assert_int_equal(pwhash_derive("passwd", 6, (const uint8_t *)"salt", 4,
				       1, key, 64), 0);
	unhex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	      "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
	      want, 64);
	assert_memory_equal(key, want, 64);

	assert_int_equal(pwhash_derive("Password", 8, (const uint8_t *)"NaCl",
				       4, 80000, key, 64), 0);
	unhex("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
	      "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d",
	      want, 64);
	assert_memory_equal(key, want, 64);
	assert_int_equal(pwhash_derive("x", 1, want, 16, 0, key, 32),
			 KEEL_ERANGE);
}

static void test_pwhash_line(void **state)
{
	uint8_t salt[16], key[32], salt2[16], key2[32];
	char line[PWHASH_LINE_MAX], again[PWHASH_LINE_MAX];
	unsigned long it;

	for (int i = 0; i < 16; i++)
		salt[i] = (uint8_t)(0xf0 + i);
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(pwhash_format(line, sizeof(line), 100000, salt, key),
			 0);
	assert_string_equal(line, "pbkdf2-sha256:100000:"
			    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff:"
			    "000102030405060708090a0b0c0d0e0f"
			    "101112131415161718191a1b1c1d1e1f");
	assert_int_equal(pwhash_format(line, 40, 100000, salt, key),
			 KEEL_ERANGE);

	/* The made line: the format of DESIGN.md section 10, the default
	 * iterations, a salt that differs each time, a key that checks. */
	assert_int_equal(pwhash_make("correct horse", PWHASH_ITERATIONS, line,
				     sizeof(line)), 0);
	assert_int_equal(strlen(line), strlen("pbkdf2-sha256:100000:") + 32 +
			 1 + 64);
	assert_int_equal(strncmp(line, "pbkdf2-sha256:100000:", 21), 0);
	for (const char *p = line + 21; *p; p++)
		assert_true((*p >= '0' && *p <= '9') ||
			    (*p >= 'a' && *p <= 'f') || *p == ':');
	assert_int_equal(pwhash_parse(line, &it, salt, key), 0);
	assert_int_equal(it, 100000);
	uint8_t derived[32];

	assert_int_equal(pwhash_derive("correct horse", 13, salt, 16, it,
				       derived, 32), 0);
	assert_memory_equal(derived, key, 32);
	assert_true(pwhash_check(line, "correct horse"));
	assert_false(pwhash_check(line, "correct horse "));
	assert_false(pwhash_check(line, ""));
	assert_int_equal(pwhash_make("correct horse", PWHASH_ITERATIONS, again,
				     sizeof(again)), 0);
	assert_string_not_equal(line, again);
	assert_int_equal(pwhash_parse(again, &it, salt2, key2), 0);
	assert_memory_not_equal(salt, salt2, 16);

	/* Not lines of this format. */
	static const char *const bad[] = {
		"",
		"pbkdf2-sha256:",
		"pbkdf2-sha1:1000:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff:"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"pbkdf2-sha256:0:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff:"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"pbkdf2-sha256:-5:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff:"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"pbkdf2-sha256:1000:f0f1f2f3f4f5f6f7f8f9fafbfcfdfe:"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"pbkdf2-sha256:1000:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff:"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
		"pbkdf2-sha256:1000:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff:"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00",
		"pbkdf2-sha256:1000:x0f1f2f3f4f5f6f7f8f9fafbfcfdfeff:"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"pbkdf2-sha256:99999999999:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff:"
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"hunter2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pwhash_parse(bad[i], &it, salt, key),
				 KEEL_EINVAL);
		assert_false(pwhash_check(bad[i], "hunter2"));
	}
}

/* --------------------------------------------------------------- ws ---- */

static void test_ws_frames_rfc6455(void **state)
{
	/* RFC 6455 section 5.7. */
	static const uint8_t hello[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
	static const uint8_t masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					  0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t out[70000], in[70000];
	struct ws_frame f;
	size_t n;

	n = ws_frame_encode(out, sizeof(out), WS_TEXT, (const uint8_t *)"Hello",
			    5, NULL);
	assert_int_equal(n, sizeof(hello));
	assert_memory_equal(out, hello, n);
	n = ws_frame_encode(out, sizeof(out), WS_TEXT, (const uint8_t *)"Hello",
			    5, mask);
	assert_int_equal(n, sizeof(masked));
	assert_memory_equal(out, masked, n);
	assert_int_equal(ws_frame_encode(out, 10, WS_TEXT,
					 (const uint8_t *)"Hello", 5, mask), 0);

	/* Decoding unmasks in place. */
	memcpy(in, masked, sizeof(masked));
	assert_int_equal(ws_frame_decode(in, sizeof(masked), &f), 11);
	assert_true(f.fin && f.masked);
	assert_int_equal(f.opcode, WS_TEXT);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.payload, "Hello", 5);

	/* 256 bytes: 126 and a 16-bit length; 64 KiB: 127 and 64 bits. */
	memset(in, 'x', 65536);
	n = ws_frame_encode(out, sizeof(out), WS_BINARY, in, 256, NULL);
	assert_int_equal(n, 4 + 256);
	assert_memory_equal(out, "\x82\x7e\x01\x00", 4);
	assert_int_equal(ws_frame_decode(out, n, &f), (long)n);
	assert_int_equal(f.len, 256);
	n = ws_frame_encode(out, sizeof(out), WS_BINARY, in, 65536, NULL);
	assert_int_equal(n, 10 + 65536);
	assert_memory_equal(out, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	assert_int_equal(ws_frame_decode(out, n, &f), (long)n);
	assert_int_equal(f.len, 65536);
	/* 125 still fits the 7 bits. */
	assert_int_equal(ws_frame_size(125, false), 127);
	assert_int_equal(ws_frame_size(126, true), 4 + 4 + 126);

	/* Partial frames need more bytes; broken ones are refused. */
	assert_int_equal(ws_frame_decode(out, 1, &f), 0);
	assert_int_equal(ws_frame_decode(out, 9, &f), 0);
	assert_int_equal(ws_frame_decode(out, 1000, &f), 0);
	memcpy(in, "\xc1\x00", 2); /* RSV1 */
	assert_int_equal(ws_frame_decode(in, 2, &f), KEEL_ECORRUPT);
	memcpy(in, "\x83\x00", 2); /* reserved opcode 3 */
	assert_int_equal(ws_frame_decode(in, 2, &f), KEEL_ECORRUPT);
	memcpy(in, "\x89\x7e\x00\x80", 4); /* a 128-byte ping */
	assert_int_equal(ws_frame_decode(in, 4, &f), KEEL_ECORRUPT);
	memcpy(in, "\x08\x00", 2); /* a fragmented close */
	assert_int_equal(ws_frame_decode(in, 2, &f), KEEL_ECORRUPT);
	memcpy(in, "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10);
	assert_int_equal(ws_frame_decode(in, 10, &f), KEEL_ECORRUPT);
	/* A close frame with code 1000. */
	memcpy(in, "\x88\x02\x03\xe8", 4);
	assert_int_equal(ws_frame_decode(in, 4, &f), 4);
	assert_int_equal(f.opcode, WS_CLOSE);
	assert_false(f.masked);
}

static void test_ws_keys_and_utf8(void **state)
{
	char accept[29], key[25], key2[25];

	/* RFC 6455 section 1.3's example. */
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept), 0);
	assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(ws_make_key(key), 0);
	assert_int_equal(ws_make_key(key2), 0);
	assert_int_equal(strlen(key), 24);
	assert_string_equal(key + 22, "==");
	assert_string_not_equal(key, key2);

	assert_true(ws_utf8_valid((const uint8_t *)"echo hi\r", 8));
	assert_true(ws_utf8_valid((const uint8_t *)"\xc3\xa9\xe2\x82\xac"
				  "\xf0\x9f\x98\x80", 9));
	assert_false(ws_utf8_valid((const uint8_t *)"\xff", 1));
	assert_false(ws_utf8_valid((const uint8_t *)"\xc0\xaf", 2)); /* overlong */
	assert_false(ws_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* D800 */
	assert_false(ws_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
	assert_false(ws_utf8_valid((const uint8_t *)"\xe2\x82", 2));
}

/* ---------------------------------------------------------- console ---- */

static void test_reply_console(void **state)
{
	struct reply r = { 0 };
	const char *data;
	size_t len;
	unsigned long long next;
	char json[] = "{\"data\":\"line 1\\r\\nKEEL\\u00e9\",\"next\":4100}";
	char text[] = "raw bytes";

	/* JSON: the text decoded, the next offset as given. */
	r.body = json;
	r.len = strlen(json);
	snprintf(r.content_type, sizeof(r.content_type),
		 "application/json; charset=utf-8");
	assert_int_equal(reply_console(&r, 4000, &data, &len, &next), 0);
	assert_int_equal(len, 14);
	assert_memory_equal(data, "line 1\r\nKEEL\xc3\xa9", 14);
	assert_int_equal(next, 4100);

	/* Plain text: the offset moves by the bytes, or as the header says. */
	r.body = text;
	r.len = strlen(text);
	snprintf(r.content_type, sizeof(r.content_type), "text/plain");
	assert_int_equal(reply_console(&r, 10, &data, &len, &next), 0);
	assert_int_equal(len, 9);
	assert_int_equal(next, 19);
	snprintf(r.next_offset, sizeof(r.next_offset), "5000");
	assert_int_equal(reply_console(&r, 10, &data, &len, &next), 0);
	assert_int_equal(next, 5000);
	snprintf(r.next_offset, sizeof(r.next_offset), "50x");
	assert_int_equal(reply_console(&r, 10, &data, &len, &next),
			 KEEL_ECORRUPT);

	char notjson[] = "[1,2]";

	r.body = notjson;
	r.len = strlen(notjson);
	snprintf(r.content_type, sizeof(r.content_type), "application/json");
	assert_int_equal(reply_console(&r, 0, &data, &len, &next),
			 KEEL_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_commands),
		cmocka_unit_test(test_args_vm_create),
		cmocka_unit_test(test_args_usage_errors),
		cmocka_unit_test(test_args_send_and_console),
		cmocka_unit_test(test_args_host_and_fingerprint),
		cmocka_unit_test(test_table_columns),
		cmocka_unit_test(test_table_untrusted_cells),
		cmocka_unit_test(test_table_sizes_and_durations),
		cmocka_unit_test(test_conf_parse),
		cmocka_unit_test(test_conf_round_trip_and_file),
		cmocka_unit_test(test_pwhash_rfc7914_vectors),
		cmocka_unit_test(test_pwhash_line),
		cmocka_unit_test(test_ws_frames_rfc6455),
		cmocka_unit_test(test_ws_keys_and_utf8),
		cmocka_unit_test(test_reply_console),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
