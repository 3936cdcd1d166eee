/*
 * test_config.c - unit tests of kernel/config.c, the keel.cfg parser shared by
 * the loader and the kernel: every key in both text forms, the exact warning
 * texts, limits, and garbage/fuzzed input (run under ASan+UBSan as well).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/config.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)

/* Warnings of the last apply: the first few texts, and how many. */
struct warns {
	unsigned n;
	char msg[40][256];
};

static struct keel_config cfg;
static struct warns w;

/* Every message must be short, printable ASCII: it goes to a serial console. */
static void warn_cb(void *ctx, const char *msg)
{
	struct warns *ws = ctx;
	size_t len = strlen(msg), i;

	assert_true(len > 0 && len < 240);
	for (i = 0; i < len; i++)
		assert_true(msg[i] >= 0x20 && msg[i] < 0x7f);
	if (ws->n < 40)
		memcpy(ws->msg[ws->n], msg, len + 1);
	ws->n++;
}

/* The text is copied into a buffer of exactly len bytes (no NUL after it), so
 * ASan catches any read past len. */
static int apply_n(const char *text, size_t len, enum cfg_form form)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, text, len);
	memset(&w, 0, sizeof(w));
	ret = config_apply(&cfg, copy, len, form,
			   form == CFG_FORM_FILE ? "keel.cfg" : "command line",
			   warn_cb, &w);
	free(copy);
	assert_int_equal(ret, (int)w.n);
	return ret;
}

static int file(const char *text)
{
	return apply_n(text, strlen(text), CFG_FORM_FILE);
}

static int cmd(const char *text)
{
	return apply_n(text, strlen(text), CFG_FORM_CMDLINE);
}

static int reset(void **state)
{
	(void)state;
	config_defaults(&cfg);
	memset(&w, 0, sizeof(w));
	return 0;
}

/* One line, one expected warning text (NULL: no warning). */
static void expect(const char *text, const char *warning)
{
	file(text);
	if (!warning) {
		assert_int_equal(w.n, 0);
		return;
	}
	assert_int_equal(w.n, 1);
	assert_string_equal(w.msg[0], warning);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(cfg.console, CFG_CONSOLE_SERIAL | CFG_CONSOLE_FB);
	assert_int_equal(cfg.serial_port, 0x3f8);
	assert_int_equal(cfg.serial_baud, 115200);
	assert_int_equal(cfg.loglevel, CFG_LOG_INFO);
	assert_int_equal(cfg.cpus, 0);
	assert_int_equal(cfg.mem_reserve, 64 * MIB);
	assert_int_equal(cfg.panic, CFG_PANIC_HALT);
	assert_true(cfg.x2apic);
	assert_string_equal(cfg.selftest, "");
	assert_int_equal(cfg.module_count, 0);
	assert_int_equal(cfg.vm_count, 0);
	assert_int_equal(cfg.ip.addr, 0);
	assert_int_equal(cfg.gw, 0);
	assert_int_equal(cfg.dns, 0);
	assert_string_equal(cfg.password, "");
	assert_int_equal(config_for_each_file(&cfg, NULL, NULL), 0);
}

static void test_host_keys_valid(void **state)
{
	(void)state;
	assert_int_equal(file("console=serial\n"
			      "serial_port=0x2F8\n"
			      "serial_baud=9600\n"
			      "loglevel=debug\n"
			      "cpus=4\n"
			      "mem_reserve=128M\n"
			      "panic=reboot\n"
			      "x2apic=no\n"
			      "selftest=pmm,heap\n"
			      "module=\\keel\\mod.bin a b  c \n"
			      "module=/keel/two.bin\n"),
			 0);
	assert_int_equal(cfg.console, CFG_CONSOLE_SERIAL);
	assert_int_equal(cfg.serial_port, 0x2f8);
	assert_int_equal(cfg.serial_baud, 9600);
	assert_int_equal(cfg.loglevel, CFG_LOG_DEBUG);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.mem_reserve, 128 * MIB);
	assert_int_equal(cfg.panic, CFG_PANIC_REBOOT);
	assert_false(cfg.x2apic);
	assert_string_equal(cfg.selftest, "pmm,heap");
	assert_int_equal(cfg.module_count, 2);
	assert_string_equal(cfg.modules[0].path, "\\keel\\mod.bin");
	assert_string_equal(cfg.modules[0].args, "a b  c");
	assert_string_equal(cfg.modules[1].path, "/keel/two.bin");
	assert_string_equal(cfg.modules[1].args, "");
}

static void test_console(void **state)
{
	static const struct {
		const char *value;
		unsigned bits;
	} ok[] = {
		{ "serial", CFG_CONSOLE_SERIAL },
		{ "fb", CFG_CONSOLE_FB },
		{ "serial,fb", CFG_CONSOLE_SERIAL | CFG_CONSOLE_FB },
		{ "fb , serial", CFG_CONSOLE_SERIAL | CFG_CONSOLE_FB },
		{ "none", 0 },
		{ "SERIAL", CFG_CONSOLE_SERIAL },
		{ "none,fb", CFG_CONSOLE_FB },
	};
	static const char *const bad[] = { "vga",	"serial,,fb",
					   "serial,",	",fb",
					   "",		"serialfb",
					   "serial fb", "\"fb" };
	char line[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cfg.console = 99;
		snprintf(line, sizeof(line), "console=%s", ok[i].value);
		assert_int_equal(file(line), 0);
		assert_int_equal(cfg.console, ok[i].bits);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.console = CFG_CONSOLE_FB;
		snprintf(line, sizeof(line), "console=%s", bad[i]);
		assert_int_equal(file(line), 1);
		assert_int_equal(cfg.console, CFG_CONSOLE_FB);
	}
	config_defaults(&cfg);
	expect("console=vga",
	       "keel.cfg:1: console: 'vga' is not a list of serial, fb, none, "
	       "keeping serial,fb");
	cfg.console = 0;
	expect("console=x", "keel.cfg:1: console: 'x' is not a list of serial, "
			    "fb, none, keeping none");
}

static void test_numbers(void **state)
{
	static const char *const not_numbers[] = {
		"abc",
		"-1",
		"+1",
		"1x",
		"0x",
		"0x1g",
		"1 2",
		"",
		"1.0",
		"18446744073709551616",
		"0x10000000000000000",
		"4k",
	};
	char line[64];
	size_t i;

	(void)state;
	expect("cpus=0x10", NULL);
	assert_int_equal(cfg.cpus, 16);
	expect("cpus=010", NULL); /* decimal, not octal */
	assert_int_equal(cfg.cpus, 10);
	expect("cpus=1024", NULL);
	assert_int_equal(cfg.cpus, 1024);
	expect("cpus=0", NULL);
	assert_int_equal(cfg.cpus, 0);
	expect("cpus=abc",
	       "keel.cfg:1: cpus: 'abc' is not a number, keeping 0");
	cfg.cpus = 4;
	expect("cpus=1025",
	       "keel.cfg:1: cpus: '1025' is out of range (0-1024), keeping 4");
	expect("cpus=18446744073709551615",
	       "keel.cfg:1: cpus: '18446744073709551615' is out of range "
	       "(0-1024), keeping 4");
	for (i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++) {
		snprintf(line, sizeof(line), "cpus=%s", not_numbers[i]);
		assert_int_equal(file(line), 1);
		assert_non_null(strstr(w.msg[0], "is not a number, keeping 4"));
		assert_int_equal(cfg.cpus, 4);
	}

	expect("serial_port=1016", NULL);
	assert_int_equal(cfg.serial_port, 0x3f8);
	expect("serial_port=0xffff", NULL);
	assert_int_equal(cfg.serial_port, 0xffff);
	expect("serial_port=0X2e8", NULL);
	assert_int_equal(cfg.serial_port, 0x2e8);
	expect("serial_port=0", "keel.cfg:1: serial_port: '0' is out of range "
				"(1-0xffff), keeping 0x2e8");
	expect("serial_port=0x10000",
	       "keel.cfg:1: serial_port: '0x10000' is out "
	       "of range (1-0xffff), keeping 0x2e8");
	expect("serial_port=com1", "keel.cfg:1: serial_port: 'com1' is not a "
				   "number, keeping 0x2e8");
	assert_int_equal(cfg.serial_port, 0x2e8);
}

static void test_baud(void **state)
{
	static const uint32_t ok[] = {
		300,   600,   1200,  2400,  4800,  9600,
		14400, 19200, 28800, 38400, 57600, 115200
	};
	static const char *const bad[] = { "0",	     "1234", "230400", "110",
					   "115201", "abc",  "-9600" };
	char line[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(line, sizeof(line), "serial_baud=%u", ok[i]);
		expect(line, NULL);
		assert_int_equal(cfg.serial_baud, ok[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "serial_baud=%s", bad[i]);
		assert_int_equal(file(line), 1);
		assert_int_equal(cfg.serial_baud, 115200);
	}
	expect("serial_baud=1234", "keel.cfg:1: serial_baud: '1234' is not a "
				   "supported baud rate, keeping 115200");
}

static void test_words(void **state)
{
	static const struct {
		const char *line;
		unsigned loglevel;
	} levels[] = {
		{ "loglevel=error", CFG_LOG_ERROR },
		{ "loglevel=warn", CFG_LOG_WARN },
		{ "loglevel=info", CFG_LOG_INFO },
		{ "loglevel=debug", CFG_LOG_DEBUG },
		{ "loglevel=0", CFG_LOG_ERROR },
		{ "loglevel=1", CFG_LOG_WARN },
		{ "loglevel=2", CFG_LOG_INFO },
		{ "loglevel=3", CFG_LOG_DEBUG },
		{ "loglevel=DeBuG", CFG_LOG_DEBUG },
	};
	static const struct {
		const char *word;
		bool value;
	} bools[] = {
		{ "yes", true },  { "no", false },  { "on", true },
		{ "off", false }, { "true", true }, { "false", false },
		{ "1", true },	  { "0", false },   { "YES", true },
	};
	char line[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		expect(levels[i].line, NULL);
		assert_int_equal(cfg.loglevel, levels[i].loglevel);
	}
	cfg.loglevel = CFG_LOG_INFO;
	expect("loglevel=verbose", "keel.cfg:1: loglevel: 'verbose' is not "
				   "error, warn, info, debug or 0-3, keeping "
				   "info");
	expect("loglevel=4", "keel.cfg:1: loglevel: '4' is not error, warn, "
			     "info, debug or 0-3, keeping info");
	expect("loglevel=infos", "keel.cfg:1: loglevel: 'infos' is not error, "
				 "warn, info, debug or 0-3, keeping info");
	assert_int_equal(cfg.loglevel, CFG_LOG_INFO);

	expect("panic=reboot", NULL);
	assert_int_equal(cfg.panic, CFG_PANIC_REBOOT);
	expect("panic=crash", "keel.cfg:1: panic: 'crash' is not halt or "
			      "reboot, keeping reboot");
	expect("panic=halt", NULL);
	assert_int_equal(cfg.panic, CFG_PANIC_HALT);

	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		snprintf(line, sizeof(line), "x2apic=%s", bools[i].word);
		expect(line, NULL);
		assert_int_equal(cfg.x2apic, bools[i].value);
		snprintf(line, sizeof(line), "vm.a.autostart=%s",
			 bools[i].word);
		expect(line, NULL);
		assert_int_equal(cfg.vms[0].autostart, bools[i].value);
	}
	expect("x2apic=maybe",
	       "keel.cfg:1: x2apic: 'maybe' is not yes or no, keeping yes");
	expect("x2apic=2",
	       "keel.cfg:1: x2apic: '2' is not yes or no, keeping yes");
	expect("vm.a.autostart=0", NULL);
	expect("vm.a.autostart=", "keel.cfg:1: vm.a.autostart: '' is not yes "
				  "or no, keeping no");
	assert_true(cfg.x2apic);
	assert_false(cfg.vms[0].autostart);
}

static void test_sizes_in_keys(void **state)
{
	(void)state;
	expect("mem_reserve=1T", NULL);
	assert_int_equal(cfg.mem_reserve, TIB);
	expect("mem_reserve=0", NULL);
	assert_int_equal(cfg.mem_reserve, 0);
	expect("mem_reserve=512MiB", NULL);
	assert_int_equal(cfg.mem_reserve, 512 * MIB);
	expect("mem_reserve=1025G",
	       "keel.cfg:1: mem_reserve: '1025G' is out of "
	       "range (0-1T), keeping 512M");
	expect("mem_reserve=12q", "keel.cfg:1: mem_reserve: '12q' is not a "
				  "size, keeping 512M");
	expect("mem_reserve=65537",
	       NULL); /* bytes are kept as given for the host */
	expect("mem_reserve=x", "keel.cfg:1: mem_reserve: 'x' is not a size, "
				"keeping 65537");

	expect("vm.a.mem=2G", NULL);
	assert_int_equal(cfg.vms[0].mem, 2 * GIB);
	expect("vm.a.mem=1M", NULL);
	assert_int_equal(cfg.vms[0].mem, MIB);
	expect("vm.a.mem=1T", NULL);
	assert_int_equal(cfg.vms[0].mem, TIB);
	expect("vm.a.mem=1048577", NULL); /* rounded up to 4 KiB */
	assert_int_equal(cfg.vms[0].mem, MIB + 4096);
	expect("vm.a.mem=1023K",
	       "keel.cfg:1: vm.a.mem: '1023K' is out of range "
	       "(1M-1T), keeping 1028K");
	expect("vm.a.mem=1099511627777",
	       "keel.cfg:1: vm.a.mem: '1099511627777' "
	       "is out of range (1M-1T), keeping "
	       "1028K");
	expect("vm.a.mem=0",
	       "keel.cfg:1: vm.a.mem: '0' is out of range (1M-1T), "
	       "keeping 1028K");
	expect("vm.a.mem=lots",
	       "keel.cfg:1: vm.a.mem: 'lots' is not a size, keeping 1028K");
	assert_int_equal(cfg.vms[0].mem, MIB + 4096);
}

static void test_selftest_text(void **state)
{
	char line[128];

	(void)state;
	expect("selftest=", NULL);
	assert_string_equal(cfg.selftest, "");
	memset(line, 0, sizeof(line));
	strcpy(line, "selftest=");
	memset(line + 9, 's', 63);
	expect(line, NULL);
	assert_int_equal(strlen(cfg.selftest), 63);
	strcpy(line, "selftest=pmm");
	expect(line, NULL);
	memset(line, 0, sizeof(line));
	strcpy(line, "selftest=");
	memset(line + 9, 't', 64);
	expect(line,
	       "keel.cfg:1: selftest: 'tttttttttttttttttttttttttttttttt...' "
	       "is too long (max 63 characters), keeping 'pmm'");
	assert_string_equal(cfg.selftest, "pmm");
}

static void test_host_modules(void **state)
{
	char text[17 * 32], path[300], line[400];
	size_t len = 0;
	int i;

	(void)state;
	for (i = 0; i < 17; i++)
		len += snprintf(text + len, sizeof(text) - len,
				"module=/keel/m%d.bin arg%d\n", i, i);
	assert_int_equal(file(text), 1);
	assert_string_equal(w.msg[0],
			    "keel.cfg:17: module: too many modules "
			    "(max 16), '/keel/m16.bin arg16' ignored");
	assert_int_equal(cfg.module_count, 16);
	assert_string_equal(cfg.modules[15].path, "/keel/m15.bin");
	assert_string_equal(cfg.modules[15].args, "arg15");

	/* Path and argument limits. */
	config_defaults(&cfg);
	memset(path, 0, sizeof(path));
	memset(path, 'p', 127);
	snprintf(line, sizeof(line), "module=%s", path);
	expect(line, NULL);
	assert_int_equal(strlen(cfg.modules[0].path), 127);
	path[127] = 'p';
	snprintf(line, sizeof(line), "module=%s x", path);
	expect(line,
	       "keel.cfg:1: module: 'pppppppppppppppppppppppppppppppp...' "
	       "is too long (max 127 characters), ignored");
	memset(path, 'a', 255);
	path[255] = 0;
	snprintf(line, sizeof(line), "module=/m %s", path);
	expect(line, NULL);
	assert_int_equal(strlen(cfg.modules[1].args), 255);
	snprintf(line, sizeof(line), "module=/m %sa", path);
	assert_int_equal(file(line), 1);
	assert_non_null(strstr(w.msg[0], "has arguments longer than 255 "
					 "characters, ignored"));
	expect("module=", "keel.cfg:1: module: '' is an empty path, ignored");
	expect("module=\"\"",
	       "keel.cfg:1: module: '' is an empty path, ignored");
	expect("module=\"/keel/q.bin  x  y\"", NULL);
	assert_string_equal(cfg.modules[2].path, "/keel/q.bin");
	assert_string_equal(cfg.modules[2].args, "x  y");
	expect("module=/keel/t.bin\targ", NULL);
	assert_string_equal(cfg.modules[3].path, "/keel/t.bin");
	assert_string_equal(cfg.modules[3].args, "arg");
	assert_int_equal(cfg.module_count, 4);
}

static void test_vm_keys_valid(void **state)
{
	(void)state;
	assert_int_equal(
		file("vm.linux.kernel=\\keel\\guests\\bzImage\n"
		     "vm.linux.initrd=/keel/guests/initrd.img\n"
		     "vm.linux.cmdline=\"console=ttyS0 quiet # no comment\"\n"
		     "vm.linux.cpus=2\n"
		     "vm.linux.mem=512M\n"
		     "vm.linux.autostart=no\n"
		     "vm.linux.debug_exit=0xf4\n"
		     "vm.linux.module=/keel/m1.bin arg=1 x\n"
		     "vm.FW-2_x.firmware=\\keel\\seabios.bin\n"
		     "vm.FW-2_x.disk=\\keel\\disk with space.img\n"
		     "vm.linux.cpus=3\n"),
		0);
	assert_int_equal(cfg.vm_count, 2);
	assert_string_equal(cfg.vms[0].name, "linux");
	assert_string_equal(cfg.vms[0].kernel.path, "\\keel\\guests\\bzImage");
	assert_string_equal(cfg.vms[0].kernel.args, "");
	assert_string_equal(cfg.vms[0].initrd.path, "/keel/guests/initrd.img");
	assert_string_equal(cfg.vms[0].cmdline,
			    "console=ttyS0 quiet # no comment");
	assert_int_equal(cfg.vms[0].cpus, 3);
	assert_int_equal(cfg.vms[0].mem, 512 * MIB);
	assert_false(cfg.vms[0].autostart);
	assert_int_equal(cfg.vms[0].debug_exit, 0xf4);
	assert_int_equal(cfg.vms[0].module_count, 1);
	assert_string_equal(cfg.vms[0].modules[0].path, "/keel/m1.bin");
	assert_string_equal(cfg.vms[0].modules[0].args, "arg=1 x");
	assert_string_equal(cfg.vms[0].firmware.path, "");

	assert_string_equal(cfg.vms[1].name, "FW-2_x");
	assert_string_equal(cfg.vms[1].firmware.path, "\\keel\\seabios.bin");
	assert_string_equal(cfg.vms[1].disk.path,
			    "\\keel\\disk with space.img");
	assert_int_equal(cfg.vms[1].cpus, 1);
	assert_int_equal(cfg.vms[1].mem, 256 * MIB);
	assert_true(cfg.vms[1].autostart);
	assert_int_equal(cfg.vms[1].debug_exit, 0);
	assert_string_equal(cfg.vms[1].cmdline, "");

	/* Names are case-sensitive: "Linux" is another VM. */
	expect("vm.Linux.cpus=4", NULL);
	assert_int_equal(cfg.vm_count, 3);
	assert_int_equal(cfg.vms[0].cpus, 3);
}

static void test_vm_keys_invalid(void **state)
{
	char line[1200], name[40];

	(void)state;
	expect("vm.b@d.kernel=/k",
	       "keel.cfg:1: vm.b@d.kernel: 'b@d' is not a VM "
	       "name (1-31 of A-Z a-z 0-9 _ -), ignored");
	expect("vm..kernel=/k", "keel.cfg:1: vm..kernel: '' is not a VM name "
				"(1-31 of A-Z a-z 0-9 _ -), ignored");
	expect("vm.a.b.kernel=/k", "keel.cfg:1: unknown key 'vm.a.b.kernel' "
				   "ignored");
	expect("vm.a.kernal=/k",
	       "keel.cfg:1: unknown key 'vm.a.kernal' ignored");
	expect("vm.a=/k", "keel.cfg:1: unknown key 'vm.a' ignored");
	expect("vm.=/k", "keel.cfg:1: unknown key 'vm.' ignored");
	expect("vm.a.=/k", "keel.cfg:1: unknown key 'vm.a.' ignored");
	memset(name, 0, sizeof(name));
	memset(name, 'n', 32);
	snprintf(line, sizeof(line), "vm.%s.cpus=2", name);
	assert_int_equal(file(line), 1);
	assert_non_null(strstr(w.msg[0], "is not a VM name"));
	memset(line, 0, sizeof(line));
	memset(line, 'n', 100);
	memcpy(line, "vm.", 3);
	strcpy(line + 100, ".kernel=/k");
	expect(line, "keel.cfg:1: vm.nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...: "
		     "'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' is not a VM name "
		     "(1-31 of A-Z a-z 0-9 _ -), ignored");
	assert_int_equal(cfg.vm_count, 0); /* none of these made a VM */

	name[31] = 0;
	snprintf(line, sizeof(line), "vm.%s.cpus=2", name);
	expect(line, NULL);
	assert_int_equal(cfg.vm_count, 1);
	assert_string_equal(cfg.vms[0].name, name);
	assert_int_equal(cfg.vms[0].cpus, 2);

	/* A known key with a bad value still makes the VM, with defaults. */
	expect("vm.b.cpus=0",
	       "keel.cfg:1: vm.b.cpus: '0' is out of range (1-64), keeping 1");
	assert_int_equal(cfg.vm_count, 2);
	expect("vm.b.cpus=65",
	       "keel.cfg:1: vm.b.cpus: '65' is out of range (1-64), keeping 1");
	expect("vm.b.cpus=64", NULL);
	assert_int_equal(cfg.vms[1].cpus, 64);
	expect("vm.b.debug_exit=0",
	       "keel.cfg:1: vm.b.debug_exit: '0' is out of "
	       "range (1-0xffff), keeping none");
	expect("vm.b.debug_exit=0xf4", NULL);
	expect("vm.b.debug_exit=port", "keel.cfg:1: vm.b.debug_exit: 'port' is "
				       "not a number, keeping 0xf4");
	expect("vm.b.kernel=", "keel.cfg:1: vm.b.kernel: '' is an empty path, "
			       "keeping ''");
	expect("vm.b.kernel=/keel/k", NULL);
	expect("vm.b.kernel=\"\"",
	       "keel.cfg:1: vm.b.kernel: '' is an empty path, "
	       "keeping '/keel/k'");
	expect("vm.b.initrd=/a\tb",
	       "keel.cfg:1: vm.b.initrd: '/a?b' contains a "
	       "control character, keeping ''");
	memset(line, 0, sizeof(line));
	strcpy(line, "vm.b.disk=");
	memset(line + 10, 'd', 127);
	expect(line, NULL);
	line[10 + 127] = 'd';
	expect(line,
	       "keel.cfg:1: vm.b.disk: 'dddddddddddddddddddddddddddddddd...' "
	       "is too long (max 127 characters), keeping "
	       "'dddddddddddddddddddddddddddddddd...'");
	assert_int_equal(strlen(cfg.vms[1].disk.path), 127);

	memset(line, 0, sizeof(line));
	strcpy(line, "vm.b.cmdline=");
	memset(line + 13, 'c', 1023);
	expect(line, NULL);
	assert_int_equal(strlen(cfg.vms[1].cmdline), 1023);
	line[13 + 1023] = 'c';
	assert_int_equal(file(line), 1);
	assert_non_null(strstr(w.msg[0], "is too long (max 1023 characters)"));
	expect("vm.b.cmdline=", NULL);
	assert_string_equal(cfg.vms[1].cmdline, "");
	expect("vm.b.cmdline=a\tb", NULL); /* tabs are fine in free text */
	assert_string_equal(cfg.vms[1].cmdline, "a\tb");
}

static void test_vm_limits(void **state)
{
	char text[40 * 20];
	size_t len = 0;
	int i;

	(void)state;
	for (i = 0; i < 17; i++)
		len += snprintf(text + len, sizeof(text) - len,
				"vm.v%d.kernel=/keel/k%d\n", i, i);
	len += snprintf(text + len, sizeof(text) - len, "vm.v3.cpus=8\n");
	assert_int_equal(file(text), 1);
	assert_string_equal(w.msg[0],
			    "keel.cfg:17: vm.v16.kernel: too many VMs "
			    "(max 16), 'v16' ignored");
	assert_int_equal(cfg.vm_count, 16);
	assert_int_equal(cfg.vms[3].cpus, 8); /* existing VMs still take keys */
	assert_string_equal(cfg.vms[15].kernel.path, "/keel/k15");

	len = 0;
	for (i = 0; i < 9; i++)
		len += snprintf(text + len, sizeof(text) - len,
				"vm.v1.module=/keel/mod%d\n", i);
	assert_int_equal(file(text), 1);
	assert_string_equal(w.msg[0],
			    "keel.cfg:9: vm.v1.module: too many modules "
			    "(max 8), '/keel/mod8' ignored");
	assert_int_equal(cfg.vms[1].module_count, 8);
	assert_int_equal(cfg.vms[0].module_count, 0);
}

static void test_file_syntax(void **state)
{
	(void)state;
	assert_int_equal(file("# a comment\n"
			      "   # an indented comment\n"
			      "\n"
			      "   \t  \n"
			      "cpus = 4 # trailing comment\n"
			      "\tloglevel\t=\twarn\t\n"
			      "selftest=a#b\n"),
			 0);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.loglevel, CFG_LOG_WARN);
	assert_string_equal(cfg.selftest, "a#b");
	expect("selftest=\"x # y\"  # comment", NULL);
	assert_string_equal(cfg.selftest, "x # y");
	expect("selftest=\"\"", NULL);
	assert_string_equal(cfg.selftest, "");
	expect("selftest=#", NULL); /* '#' after '=' is no comment start */
	assert_string_equal(cfg.selftest, "#");
	expect("selftest= #", NULL); /* but after white space it is */
	assert_string_equal(cfg.selftest, "");
	expect("cpus=\"6\"", NULL);
	assert_int_equal(cfg.cpus, 6);
	expect("selftest=\"unterminated # x",
	       "keel.cfg:1: selftest: '\"unterminated # x' has no closing "
	       "quote, keeping ''");
	expect("selftest=\"a\" b", "keel.cfg:1: selftest: '\"a\" b' has text "
				   "after the closing quote, keeping ''");
	expect("selftest=a\"b", NULL); /* only a leading quote quotes */
	assert_string_equal(cfg.selftest, "a\"b");
}

static void test_file_syntax_errors(void **state)
{
	(void)state;
	assert_int_equal(file("cpus=2\n"
			      "garbage here\n"
			      "=5\n"
			      "consol=serial\n"
			      "cpus=abc\n"
			      "ip=10.0.0.2\n"
			      "password=x\n"
			      "Cpus=3\n"),
			 7);
	assert_string_equal(
		w.msg[0],
		"keel.cfg:2: 'garbage here' is not key=value, ignored");
	assert_string_equal(w.msg[1], "keel.cfg:3: '=5' has no key, ignored");
	assert_string_equal(w.msg[2],
			    "keel.cfg:4: unknown key 'consol' ignored");
	assert_string_equal(
		w.msg[3], "keel.cfg:5: cpus: 'abc' is not a number, keeping 2");
	assert_string_equal(w.msg[4],
			    "keel.cfg:6: ip: '10.0.0.2' is not <address>/<prefix> "
			    "(e.g. 192.168.1.10/24) or dhcp, keeping dhcp");
	assert_string_equal(w.msg[5],
			    "keel.cfg:7: password: the value is not "
			    "pbkdf2-sha256:<iterations>:<salt hex>:<key hex> "
			    "(keelctl hash-password), keeping none");
	assert_int_equal(cfg.cpus, 2);
	/* keys are case-sensitive */
	assert_string_equal(w.msg[6], "keel.cfg:8: unknown key 'Cpus' ignored");

	/* A control character inside a value. */
	assert_int_equal(apply_n("selftest=a\x01"
				 "b",
				 12, CFG_FORM_FILE),
			 1);
	assert_string_equal(w.msg[0], "keel.cfg:1: selftest: 'a?b' contains a "
				      "control character, keeping ''");
	assert_int_equal(apply_n("selftest=a\0b", 12, CFG_FORM_FILE), 1);
	assert_string_equal(w.msg[0], "keel.cfg:1: selftest: 'a?b' contains a "
				      "control character, keeping ''");
}

static void test_crlf_bom(void **state)
{
	(void)state;
	assert_int_equal(file("\xef\xbb\xbf"
			      "cpus=3\r\n"
			      "\r\n"
			      "loglevel=warn\r\n"
			      "selftest=\"q\"\r\n"
			      "bad\r\n"
			      "panic=reboot"),
			 1);
	assert_string_equal(w.msg[0],
			    "keel.cfg:5: 'bad' is not key=value, ignored");
	assert_int_equal(cfg.cpus, 3);
	assert_int_equal(cfg.loglevel, CFG_LOG_WARN);
	assert_string_equal(cfg.selftest, "q");
	assert_int_equal(cfg.panic, CFG_PANIC_REBOOT);
	/* A CR in the middle of a line is a control character. */
	assert_int_equal(file("selftest=a\rb\n"), 1);
	assert_non_null(strstr(w.msg[0], "contains a control character"));
}

static void test_long_lines(void **state)
{
	size_t n = 4097 + 7, i;
	char *text = malloc(n + 1);

	(void)state;
	memcpy(text, "selftest=", 9);
	memset(text + 9, 'x', 4097 - 9);
	memcpy(text + 4097, "\ncpus=5", 8);
	assert_int_equal(apply_n(text, n, CFG_FORM_FILE), 1);
	assert_string_equal(
		w.msg[0],
		"keel.cfg:1: line longer than 4096 characters ignored");
	assert_string_equal(cfg.selftest, "");
	assert_int_equal(cfg.cpus, 5);

	/* 4096 characters plus CRLF is not over-long: the value is. */
	memcpy(text + 4096, "\r\n", 2);
	assert_int_equal(apply_n(text, 4098, CFG_FORM_FILE), 1);
	assert_non_null(strstr(w.msg[0], "keel.cfg:1: selftest: 'xxxxxxxx"));
	assert_non_null(
		strstr(w.msg[0], "...' is too long (max 63 characters)"));

	/* The same token on the command line. */
	memset(text + 4096, 'x', 1);
	assert_int_equal(apply_n(text, 4097, CFG_FORM_CMDLINE), 1);
	assert_string_equal(w.msg[0], "command line:1: token longer than 4096 "
				      "characters ignored");

	/* A long unknown key and a long bare word are cut in the message. */
	for (i = 0; i < 4000; i++)
		text[i] = 'k';
	assert_int_equal(apply_n(text, 4000, CFG_FORM_FILE), 1);
	assert_string_equal(w.msg[0], "keel.cfg:1: 'kkkkkkkkkkkkkkkkkkkkkkkkkkk"
				      "kkkkk...' is not key=value, ignored");
	text[10] = '=';
	assert_int_equal(apply_n(text, 4000, CFG_FORM_FILE), 1);
	assert_string_equal(w.msg[0], "keel.cfg:1: unknown key 'kkkkkkkkkk' "
				      "ignored");
	free(text);
}

static void test_origin_and_null_warn(void **state)
{
	char long_origin[100];
	int ret;

	(void)state;
	ret = config_apply(&cfg, "cpus=x\nfoo\n", 11, CFG_FORM_FILE, "keel.cfg",
			   NULL, NULL);
	assert_int_equal(ret, 2);
	memset(&w, 0, sizeof(w));
	config_apply(&cfg, "cpus=x", 6, CFG_FORM_FILE, NULL, warn_cb, &w);
	assert_string_equal(w.msg[0],
			    "config:1: cpus: 'x' is not a number, keeping 0");
	memset(long_origin, 'o', 99);
	long_origin[99] = 0;
	memset(&w, 0, sizeof(w));
	config_apply(&cfg, "cpus=x", 6, CFG_FORM_FILE, long_origin, warn_cb,
		     &w);
	assert_string_equal(w.msg[0],
			    "oooooooooooooooooooooooo...:1: cpus: 'x' "
			    "is not a number, keeping 0");
	assert_int_equal(
		config_apply(&cfg, NULL, 10, CFG_FORM_FILE, "x", warn_cb, &w),
		0);
	assert_int_equal(config_apply(NULL, "cpus=1", 6, CFG_FORM_FILE, "x",
				      warn_cb, &w),
			 0);
	assert_int_equal(config_apply(&cfg, "cpus=1", 0, CFG_FORM_FILE, "x",
				      warn_cb, &w),
			 0);
	assert_int_equal(cfg.cpus, 0);
}

static void test_cmdline_form(void **state)
{
	static const char nul_terminated[] = "cpus=2 x2apic=off";

	(void)state;
	assert_int_equal(cmd("cpus=2 loglevel=debug "
			     "vm.a.cmdline=\"console=ttyS0 quiet\" "
			     "vm.a.kernel=/keel/k\tselftest=#x\n"
			     "vm.a.module=\"/keel/m.bin a b\"\r\n"
			     "vm.a.initrd=\"/keel/i\""),
			 0);
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(cfg.loglevel, CFG_LOG_DEBUG);
	assert_string_equal(cfg.vms[0].cmdline, "console=ttyS0 quiet");
	assert_string_equal(cfg.vms[0].kernel.path, "/keel/k");
	assert_string_equal(cfg.selftest, "#x"); /* no comments here */
	assert_string_equal(cfg.vms[0].modules[0].path, "/keel/m.bin");
	assert_string_equal(cfg.vms[0].modules[0].args, "a b");
	assert_string_equal(cfg.vms[0].initrd.path, "/keel/i");

	/* UEFI load options often include their terminating NUL. */
	assert_int_equal(apply_n(nul_terminated, sizeof(nul_terminated),
				 CFG_FORM_CMDLINE),
			 0);
	assert_false(cfg.x2apic);

	/* A Linux-style quote inside the value is kept. */
	assert_int_equal(cmd("vm.a.cmdline=root=/dev/sda foo=\"a b\""), 1);
	assert_string_equal(w.msg[0],
			    "command line:2: unknown key 'foo' ignored");
	assert_string_equal(cfg.vms[0].cmdline, "root=/dev/sda");
	assert_int_equal(cmd("vm.a.cmdline=x=\"a b\""), 0);
	assert_string_equal(cfg.vms[0].cmdline, "x=\"a b\"");

	assert_int_equal(cmd("  cpus=3   BOOTX64.EFI  nosuchkey=1 cpus=abc  "),
			 3);
	assert_string_equal(w.msg[0], "command line:2: 'BOOTX64.EFI' is not "
				      "key=value, ignored");
	assert_string_equal(w.msg[1],
			    "command line:3: unknown key 'nosuchkey' ignored");
	assert_string_equal(w.msg[2], "command line:4: cpus: 'abc' is not a "
				      "number, keeping 3");
	assert_int_equal(cmd("cpus=\"4 loglevel=error"), 1);
	assert_string_equal(w.msg[0],
			    "command line:1: cpus: '\"4 loglevel=error' "
			    "has no closing quote, keeping 3");
	assert_int_equal(cfg.loglevel, CFG_LOG_DEBUG);
	assert_int_equal(cmd("cpus=\"4\"x"), 1);
	assert_non_null(strstr(w.msg[0], "has text after the closing quote"));
	assert_int_equal(cmd("cpus= 4"), 2); /* "cpus=" then a bare "4" */
	assert_int_equal(cmd(""), 0);
	assert_int_equal(cmd(" \t\r\n "), 0);
}

static void test_overrides(void **state)
{
	(void)state;
	assert_int_equal(file("cpus=4\n"
			      "module=/keel/a.bin\n"
			      "vm.a.cpus=2\n"
			      "vm.a.kernel=/keel/k1\n"
			      "cpus=6\n"),
			 0);
	assert_int_equal(cfg.cpus, 6);
	assert_int_equal(cmd("cpus=8 module=/keel/b.bin vm.a.kernel=/keel/k2 "
			     "vm.b.cpus=3 vm.a.cpus=zz"),
			 1);
	assert_string_equal(w.msg[0],
			    "command line:5: vm.a.cpus: 'zz' is not a "
			    "number, keeping 2");
	assert_int_equal(cfg.cpus, 8);
	assert_int_equal(cfg.module_count, 2); /* modules add up */
	assert_string_equal(cfg.vms[0].kernel.path, "/keel/k2");
	assert_int_equal(cfg.vms[0].cpus, 2);
	assert_int_equal(cfg.vm_count, 2);
	assert_int_equal(cfg.vms[1].cpus, 3);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "0", 0 },
		{ "1", 1 },
		{ "65536", 65536 },
		{ "64k", 64 * 1024 },
		{ "64K", 64 * 1024 },
		{ "64KB", 64 * 1024 },
		{ "64KiB", 64 * 1024 },
		{ "512M", 512 * MIB },
		{ "512MiB", 512 * MIB },
		{ "512mib", 512 * MIB },
		{ "512MB", 512 * MIB },
		{ "2G", 2 * GIB },
		{ "2g", 2 * GIB },
		{ "1T", TIB },
		{ "1tib", TIB },
		{ "100B", 100 },
		{ "100b", 100 },
		{ "007M", 7 * MIB },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215T", 16777215ull << 40 },
		{ "17179869183G", 17179869183ull << 30 },
		{ "18014398509481983K", 18014398509481983ull << 10 },
		{ "17592186044415M", 17592186044415ull << 20 },
	};
	static const char *const bad[] = {
		"",
		"M",
		"K",
		"B",
		"iB",
		"-1",
		"+1",
		"1.5G",
		"1 G",
		" 1",
		"1 ",
		"1GG",
		"1Gi",
		"1GiBB",
		"1iB",
		"1P",
		"1E",
		"0x10",
		"18446744073709551616",
		"99999999999999999999999",
		"16777216T", /* 2^64 */
		"17179869184G",
		"18014398509481984K",
		"17592186044416M",
		"18014398509481984M",
		"1\x80",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		assert_int_equal(config_parse_size(ok[i].s, &v), 0);
		assert_true(v == ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		if (config_parse_size(bad[i], &v) != -1)
			fail_msg("'%s' parsed as %llu", bad[i],
				 (unsigned long long)v);
		assert_true(v == 12345); /* untouched on failure */
	}
	assert_int_equal(config_parse_size(NULL, &v), -1);
	assert_int_equal(config_parse_size("1M", NULL), -1);
}

static void test_path_equal(void **state)
{
	(void)state;
	assert_true(config_path_equal("\\keel\\a.bin", "/KEEL/A.BIN"));
	assert_true(config_path_equal("/keel/guests/x", "\\Keel/Guests\\X"));
	assert_true(config_path_equal("", ""));
	assert_false(config_path_equal("/keel/a", "/keel/a/"));
	assert_false(config_path_equal("/keel/a", "/keel/b"));
	assert_false(config_path_equal("/keel/ab", "/keel/a"));
	assert_false(config_path_equal("a", ""));
	assert_false(config_path_equal("/keel/a", "|keel|a"));
	assert_false(config_path_equal(NULL, "a"));
	assert_false(config_path_equal("a", NULL));
	assert_true(config_path_equal(NULL, NULL));
}

struct file_list {
	unsigned n;
	const struct cfg_file *f[32];
};

static void collect(void *ctx, const struct cfg_file *f)
{
	struct file_list *l = ctx;

	assert_true(l->n < 32);
	l->f[l->n++] = f;
}

static void test_for_each_file(void **state)
{
	struct file_list l = { 0 };

	(void)state;
	assert_int_equal(file("module=/keel/a.bin host\n"
			      "vm.x.kernel=\\KEEL\\A.BIN\n"
			      "vm.x.initrd=/keel/i\n"
			      "vm.x.disk=/keel/d\n"
			      "vm.x.module=\\keel\\I\n"
			      "vm.x.module=/keel/m x\n"
			      "vm.y.firmware=/keel/fw\n"
			      "vm.y.kernel=/keel/k\n"
			      "vm.z.cpus=2\n"
			      "vm.w.disk=/keel/D\n"),
			 0);
	assert_int_equal(config_for_each_file(&cfg, collect, &l), 6);
	assert_int_equal(config_for_each_file(&cfg, NULL, NULL), 6);
	assert_int_equal(l.n, 6);
	assert_ptr_equal(l.f[0], &cfg.modules[0]);
	assert_string_equal(l.f[0]->args, "host");
	assert_ptr_equal(l.f[1], &cfg.vms[0].initrd);
	assert_ptr_equal(l.f[2], &cfg.vms[0].disk);
	assert_ptr_equal(l.f[3], &cfg.vms[0].modules[1]);
	assert_string_equal(l.f[3]->args, "x");
	/* kernel before firmware, whatever the order in the file */
	assert_ptr_equal(l.f[4], &cfg.vms[1].kernel);
	assert_ptr_equal(l.f[5], &cfg.vms[1].firmware);

	/* Full house: 16 + 16 * 12 distinct files. */
	{
		char line[128];
		int v, m;

		config_defaults(&cfg);
		for (m = 0; m < 16; m++) {
			snprintf(line, sizeof(line), "module=/h%d", m);
			expect(line, NULL);
		}
		for (v = 0; v < 16; v++) {
			snprintf(line, sizeof(line),
				 "vm.v%d.kernel=/k%d\nvm.v%d.initrd=/i%d", v, v,
				 v, v);
			expect(line, NULL);
			snprintf(line, sizeof(line),
				 "vm.v%d.firmware=/f%d\nvm.v%d.disk=/d%d", v, v,
				 v, v);
			expect(line, NULL);
			for (m = 0; m < 8; m++) {
				snprintf(line, sizeof(line),
					 "vm.v%d.module=/m%d.%d", v, v, m);
				expect(line, NULL);
			}
		}
		assert_int_equal(config_for_each_file(&cfg, NULL, NULL),
				 16 + 16 * 12);
	}
}

/* Structural invariants that must hold whatever text was applied. */
static void check_invariants(void)
{
	unsigned i, j, m;

	assert_true(cfg.vm_count <= CFG_MAX_VMS);
	assert_true(cfg.module_count <= CFG_MAX_MODULES);
	assert_true((cfg.console & ~3u) == 0);
	assert_true(cfg.serial_port != 0);
	assert_true(cfg.cpus <= 1024);
	assert_true(cfg.loglevel <= CFG_LOG_DEBUG);
	assert_true(cfg.panic <= CFG_PANIC_REBOOT);
	assert_true(cfg.mem_reserve <= TIB);
	assert_non_null(memchr(cfg.selftest, 0, sizeof(cfg.selftest)));
	for (m = 0; m < cfg.module_count; m++) {
		assert_true(cfg.modules[m].path[0] != 0);
		assert_non_null(memchr(cfg.modules[m].path, 0, CFG_PATH_MAX));
		assert_non_null(memchr(cfg.modules[m].args, 0, CFG_ARGS_MAX));
	}
	for (i = 0; i < cfg.vm_count; i++) {
		const struct cfg_vm *vm = &cfg.vms[i];

		assert_true(strlen(vm->name) >= 1 && strlen(vm->name) <= 31);
		for (j = 0; j < i; j++)
			assert_string_not_equal(vm->name, cfg.vms[j].name);
		assert_true(vm->cpus >= 1 && vm->cpus <= 64);
		assert_true(vm->mem >= MIB && vm->mem <= TIB);
		assert_true((vm->mem & 4095) == 0);
		assert_true(vm->module_count <= CFG_VM_MAX_MODULES);
		assert_non_null(memchr(vm->cmdline, 0, CFG_CMDLINE_MAX));
		assert_non_null(memchr(vm->kernel.path, 0, CFG_PATH_MAX));
		assert_non_null(memchr(vm->disk.path, 0, CFG_PATH_MAX));
		for (m = 0; m < vm->module_count; m++)
			assert_true(vm->modules[m].path[0] != 0);
	}
	assert_true(config_for_each_file(&cfg, NULL, NULL) <= 16 + 16 * 12);
}

/* ---- the management network, TLS files and password (config_keys.c) ---- */

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static void test_network_keys(void **state)
{
	(void)state;
	assert_int_equal(file("ip=192.168.1.10/24\n"
			      "gw=192.168.1.1\n"
			      "dns=9.9.9.9\n"),
			 0);
	assert_int_equal(cfg.ip.addr, IP(192, 168, 1, 10));
	assert_int_equal(cfg.ip.prefix, 24);
	assert_int_equal(cfg.gw, IP(192, 168, 1, 1));
	assert_int_equal(cfg.dns, IP(9, 9, 9, 9));

	/* The command line overrides, quoted or not; dhcp and none reset. */
	assert_int_equal(cmd("ip=\"10.0.2.15/8\" gw=none dns=NONE"), 0);
	assert_int_equal(cfg.ip.addr, IP(10, 0, 2, 15));
	assert_int_equal(cfg.ip.prefix, 8);
	assert_int_equal(cfg.gw, 0);
	assert_int_equal(cfg.dns, 0);
	assert_int_equal(cmd("ip=DHCP"), 0);
	assert_int_equal(cfg.ip.addr, 0);
	assert_int_equal(cfg.ip.prefix, 0);

	/* Edges: /32 and /31 have no network or broadcast address (RFC 3021);
	 * on /30 .1 and .2 are the hosts. */
	assert_int_equal(cmd("ip=172.16.0.0/31"), 0);
	assert_int_equal(cfg.ip.addr, IP(172, 16, 0, 0));
	assert_int_equal(cfg.ip.prefix, 31);
	assert_int_equal(cmd("ip=172.16.0.255/32"), 0);
	assert_int_equal(cfg.ip.prefix, 32);
	assert_int_equal(cmd("ip=172.16.0.2/30"), 0);
	assert_int_equal(cfg.ip.addr, IP(172, 16, 0, 2));
	assert_int_equal(cmd("ip=1.0.0.1/1 gw=223.255.255.254"), 0);
	assert_int_equal(cfg.ip.addr, IP(1, 0, 0, 1));
	assert_int_equal(cfg.gw, IP(223, 255, 255, 254));
}

static void test_network_keys_invalid(void **state)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{ "ip=10.0.0.2", "ip: '10.0.0.2' is not <address>/<prefix> (e.g. "
				 "192.168.1.10/24) or dhcp, keeping 192.168.1.10/24" },
		{ "ip=10.0.0/24", "ip: '10.0.0/24' is not an IPv4 address, keeping "
				  "192.168.1.10/24" },
		{ "ip=10.0.0.256/24", "ip: '10.0.0.256/24' is not an IPv4 "
				      "address, keeping 192.168.1.10/24" },
		{ "ip=10.0.0.010/24", "ip: '10.0.0.010/24' is not an IPv4 "
				      "address, keeping 192.168.1.10/24" },
		{ "ip=10.0.0.1.5/24", "ip: '10.0.0.1.5/24' is not an IPv4 "
				      "address, keeping 192.168.1.10/24" },
		{ "ip= 10.0.0.1/24x", "ip: '10.0.0.1/24x' has a prefix length out "
				      "of range (1-32), keeping 192.168.1.10/24" },
		{ "ip=10.0.0.1/33", "ip: '10.0.0.1/33' has a prefix length out of "
				    "range (1-32), keeping 192.168.1.10/24" },
		{ "ip=10.0.0.1/0", "ip: '10.0.0.1/0' has a prefix length out of "
				   "range (1-32), keeping 192.168.1.10/24" },
		{ "ip=10.0.0.1/", "ip: '10.0.0.1/' has a prefix length out of "
				  "range (1-32), keeping 192.168.1.10/24" },
		{ "ip=10.0.0.0/24", "ip: '10.0.0.0/24' is the network's own "
				    "address, not a host in it, keeping "
				    "192.168.1.10/24" },
		{ "ip=10.0.0.255/24", "ip: '10.0.0.255/24' is the network's "
				      "broadcast address, keeping 192.168.1.10/24" },
		{ "ip=10.0.0.3/30", "ip: '10.0.0.3/30' is the network's broadcast "
				    "address, keeping 192.168.1.10/24" },
		{ "ip=127.0.0.1/8", "ip: '127.0.0.1/8' is a loopback address, "
				    "keeping 192.168.1.10/24" },
		{ "ip=0.1.2.3/8", "ip: '0.1.2.3/8' is not a host address, keeping "
				  "192.168.1.10/24" },
		{ "ip=", "ip: '' is not <address>/<prefix> (e.g. 192.168.1.10/24) "
			 "or dhcp, keeping 192.168.1.10/24" },
		{ "gw=224.0.0.1", "gw: '224.0.0.1' is a multicast address, keeping "
				  "192.168.1.1" },
		{ "gw=255.255.255.255", "gw: '255.255.255.255' is not a host "
					"address, keeping 192.168.1.1" },
		{ "gw=gateway", "gw: 'gateway' is not an IPv4 address, keeping "
				"192.168.1.1" },
		{ "dns=1.2.3.4/32", "dns: '1.2.3.4/32' is not an IPv4 address, "
				    "keeping 9.9.9.9" },
		{ "dns=", "dns: '' is not an IPv4 address, keeping 9.9.9.9" },
	};
	char line[128], want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_defaults(&cfg);
		assert_int_equal(file("ip=192.168.1.10/24\ngw=192.168.1.1\n"
				      "dns=9.9.9.9\n"),
				 0);
		snprintf(line, sizeof(line), "%s\n", cases[i].line);
		assert_int_equal(file(line), 1);
		snprintf(want, sizeof(want), "keel.cfg:1: %s", cases[i].msg);
		assert_string_equal(w.msg[0], want);
		/* The key kept its value. */
		assert_int_equal(cfg.ip.addr, IP(192, 168, 1, 10));
		assert_int_equal(cfg.ip.prefix, 24);
		assert_int_equal(cfg.gw, IP(192, 168, 1, 1));
		assert_int_equal(cfg.dns, IP(9, 9, 9, 9));
	}
	/* With nothing set before, the message says so. */
	config_defaults(&cfg);
	assert_int_equal(cmd("gw=1.2.3"), 1);
	assert_string_equal(w.msg[0], "command line:1: gw: '1.2.3' is not an "
				      "IPv4 address, keeping none");
}

/* keelctl hash-password's form: 600000 iterations, 16-byte salt, 32-byte key */
#define GOOD_PW                                                              \
	"pbkdf2-sha256:600000:00112233445566778899aabbccddeeff:"                \
	"2f2e8fa0c5a4be53c0a4a1c5d4e0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5968778"

static void test_password(void **state)
{
	static const struct {
		const char *value, *why;
	} bad[] = {
		{ "hunter2", "is not pbkdf2-sha256:<iterations>:<salt hex>:<key "
			     "hex> (keelctl hash-password)" },
		{ "PBKDF2-SHA256:1000:0011223344556677:"
		  "00112233445566778899aabbccddeeff",
		  "is not pbkdf2-sha256:<iterations>:<salt hex>:<key hex> "
		  "(keelctl hash-password)" },
		{ "pbkdf2-sha256:999:0011223344556677:"
		  "00112233445566778899aabbccddeeff",
		  "has an iteration count out of range (1000-10000000)" },
		{ "pbkdf2-sha256:10000001:0011223344556677:"
		  "00112233445566778899aabbccddeeff",
		  "has an iteration count out of range (1000-10000000)" },
		{ "pbkdf2-sha256:01000:0011223344556677:"
		  "00112233445566778899aabbccddeeff",
		  "has an iteration count out of range (1000-10000000)" },
		{ "pbkdf2-sha256::0011223344556677:"
		  "00112233445566778899aabbccddeeff",
		  "has an iteration count out of range (1000-10000000)" },
		{ "pbkdf2-sha256:1000:00112233445566:"
		  "00112233445566778899aabbccddeeff",
		  "has a salt that is not 16-64 hex digits" },
		{ "pbkdf2-sha256:1000:00112233445566778:"
		  "00112233445566778899aabbccddeeff",
		  "has a salt that is not 16-64 hex digits" },
		{ "pbkdf2-sha256:1000:001122334455667g:"
		  "00112233445566778899aabbccddeeff",
		  "has a salt that is not 16-64 hex digits" },
		{ "pbkdf2-sha256:1000:0011223344556677",
		  "has a salt that is not 16-64 hex digits" },
		{ "pbkdf2-sha256:1000:0011223344556677:"
		  "00112233445566778899aabbccddee",
		  "has a derived key that is not 32-64 hex digits" },
		{ "pbkdf2-sha256:1000:0011223344556677:"
		  "00112233445566778899aabbccddeeff:",
		  "has a derived key that is not 32-64 hex digits" },
		{ "pbkdf2-sha256:1000:0011223344556677:"
		  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
		  "has a derived key that is not 32-64 hex digits" },
	};
	char line[256], want[256];
	size_t i;

	(void)state;
	assert_int_equal(file("password=" GOOD_PW "\n"), 0);
	assert_string_equal(cfg.password, GOOD_PW);
	/* The largest accepted form fits the field with its NUL. */
	assert_int_equal(cmd("password=pbkdf2-sha256:10000000:"
			     "00112233445566778899AABBCCDDEEFF"
			     "00112233445566778899aabbccddeeff:"
			     "00112233445566778899aabbccddeeff"
			     "00112233445566778899aabbccddeeff"),
			 0);
	assert_int_equal(strlen(cfg.password), 14 + 8 + 1 + 64 + 1 + 64);
	assert_true(strlen(cfg.password) < sizeof(cfg.password));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&cfg);
		assert_int_equal(file("password=" GOOD_PW "\n"), 0);
		snprintf(line, sizeof(line), "password=%s", bad[i].value);
		assert_int_equal(cmd(line), 1);
		snprintf(want, sizeof(want),
			 "command line:1: password: the value %s, keeping the "
			 "previous one", bad[i].why);
		assert_string_equal(w.msg[0], want);
		assert_string_equal(cfg.password, GOOD_PW);
		/* The value itself never appears in a message. */
		assert_null(strstr(w.msg[0], bad[i].value));
	}
	config_defaults(&cfg);
	assert_int_equal(cmd("password=secret"), 1);
	assert_string_equal(w.msg[0],
			    "command line:1: password: the value is not "
			    "pbkdf2-sha256:<iterations>:<salt hex>:<key hex> "
			    "(keelctl hash-password), keeping none");
	/* An empty value removes the password (Keel makes one at boot). */
	assert_int_equal(file("password=" GOOD_PW "\npassword=\n"), 0);
	assert_string_equal(cfg.password, "");
}

static void test_tls_files(void **state)
{
	struct file_list l = { 0 };

	(void)state;
	assert_int_equal(file("tls_cert=\\keel\\keel.crt\n"
			      "tls_key=/keel/keel.key\n"
			      "module=/keel/m.bin\n"
			      "vm.a.kernel=/KEEL/KEEL.KEY\n"
			      "vm.a.initrd=/keel/i\n"),
			 0);
	assert_string_equal(cfg.tls_cert.path, "\\keel\\keel.crt");
	assert_string_equal(cfg.tls_key.path, "/keel/keel.key");
	/* Host modules, then the TLS files, then the VMs' files; a file named
	 * twice is loaded once. */
	assert_int_equal(config_for_each_file(&cfg, collect, &l), 4);
	assert_ptr_equal(l.f[0], &cfg.modules[0]);
	assert_ptr_equal(l.f[1], &cfg.tls_cert);
	assert_ptr_equal(l.f[2], &cfg.tls_key);
	assert_ptr_equal(l.f[3], &cfg.vms[0].initrd);

	assert_int_equal(cmd("tls_key="), 1);
	assert_string_equal(w.msg[0], "command line:1: tls_key: '' is an empty "
				      "path, keeping '/keel/keel.key'");
}

static void test_garbage_corpus(void **state)
{
	static const struct {
		const char *s;
		size_t n;
	} corpus[] = {
#define C(s) { s, sizeof(s) - 1 }
		C("\0\0\0"),
		C("\xff\xfe=\x00\x01"),
		C("===="),
		C("\"\"\""),
		C("\"=\""),
		C("vm."),
		C("vm.="),
		C("vm..="),
		C("vm.a.="),
		C("vm.a.module="),
		C("vm.a.module=\" \""),
		C("#"),
		C("\"#\"=1"),
		C("\r\r\r"),
		C("\n\n\n"),
		C("key=\""),
		C("=\n=\n=\r\n"),
		C("cpus=\0"),
		C("cpus\0=4"),
		C("vm.\0.kernel=x"),
		C("vm.a\0.kernel=x"),
		C("module=\0/x"),
		C("console=,,,,"),
		C("\xef\xbb"),
		C("\xef\xbb\xbf"),
		C("\xef\xbb\xbf\xef\xbb\xbf"),
		C("mem_reserve=99999999999999999999999999T"),
		C("vm.a.mem=16777216T"),
		C("serial_baud=0x1c200"),
#undef C
	};
	size_t i, cut;

	(void)state;
	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		apply_n(corpus[i].s, corpus[i].n, CFG_FORM_FILE);
		check_invariants();
		apply_n(corpus[i].s, corpus[i].n, CFG_FORM_CMDLINE);
		check_invariants();
	}
	assert_int_equal(cfg.serial_baud, 115200); /* 0x1c200 is 115200 */

	/* Every prefix of a real configuration, in both forms. */
	{
		static const char real[] =
			"# keel.cfg\r\nconsole=serial,fb\r\ncpus=4 # all\n"
			"vm.linux.kernel=\\keel\\guests\\bzImage\n"
			"vm.linux.cmdline=\"console=ttyS0 quiet\"\n"
			"vm.linux.mem=512MiB\nvm.linux.module=/m a b\n"
			"module=/keel/h.bin\nmem_reserve=0x40\n";

		for (cut = 0; cut <= sizeof(real) - 1; cut++) {
			config_defaults(&cfg);
			apply_n(real, cut, CFG_FORM_FILE);
			check_invariants();
			apply_n(real, cut, CFG_FORM_CMDLINE);
			check_invariants();
		}
	}
}

/* xorshift64: the same inputs on every run. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_fuzz(void **state)
{
	static const char *const pieces[] = {
		"vm.",	      "a",	     "b",	 ".",
		"=",	      "\"",	     "#",	 " ",
		"\t",	      "\n",	     "\r\n",	 "kernel",
		"cpus",	      "module",	     "mem",	 "0x",
		"1",	      "9",	     "G",	 "iB",
		"\\keel\\x",  "/k",	     ",",	 "console",
		"serial",     "fb",	     "none",	 "cmdline",
		"loglevel",   "debug",	     "selftest", "x2apic",
		"yes",	      "mem_reserve", "64M",	 "disk",
		"debug_exit", "autostart",   "panic",	 "serial_baud",
		"9600",	      "serial_port", "initrd",	 "firmware",
		"-",	      "_",
	};
	const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char buf[600];
	int iter;

	(void)state;
	for (iter = 0; iter < 4000; iter++) {
		size_t len = 0, target = rng_next(&seed) % 500;

		if (iter % 50 == 0)
			config_defaults(&cfg);
		while (len < target) {
			uint64_t r = rng_next(&seed);
			const char *p = pieces[(r >> 8) % npieces];
			size_t pl = strlen(p);

			if ((r & 7) == 0) { /* a random byte, NUL included */
				buf[len++] = (char)(r >> 32);
				continue;
			}
			if (len + pl > sizeof(buf))
				break;
			memcpy(buf + len, p, pl);
			len += pl;
		}
		apply_n(buf, len, iter & 1 ? CFG_FORM_CMDLINE : CFG_FORM_FILE);
		check_invariants();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, reset),
		cmocka_unit_test_setup(test_host_keys_valid, reset),
		cmocka_unit_test_setup(test_console, reset),
		cmocka_unit_test_setup(test_numbers, reset),
		cmocka_unit_test_setup(test_baud, reset),
		cmocka_unit_test_setup(test_words, reset),
		cmocka_unit_test_setup(test_sizes_in_keys, reset),
		cmocka_unit_test_setup(test_selftest_text, reset),
		cmocka_unit_test_setup(test_host_modules, reset),
		cmocka_unit_test_setup(test_vm_keys_valid, reset),
		cmocka_unit_test_setup(test_vm_keys_invalid, reset),
		cmocka_unit_test_setup(test_vm_limits, reset),
		cmocka_unit_test_setup(test_file_syntax, reset),
		cmocka_unit_test_setup(test_file_syntax_errors, reset),
		cmocka_unit_test_setup(test_crlf_bom, reset),
		cmocka_unit_test_setup(test_long_lines, reset),
		cmocka_unit_test_setup(test_origin_and_null_warn, reset),
		cmocka_unit_test_setup(test_cmdline_form, reset),
		cmocka_unit_test_setup(test_overrides, reset),
		cmocka_unit_test_setup(test_parse_size, reset),
		cmocka_unit_test_setup(test_path_equal, reset),
		cmocka_unit_test_setup(test_for_each_file, reset),
		cmocka_unit_test_setup(test_network_keys, reset),
		cmocka_unit_test_setup(test_network_keys_invalid, reset),
		cmocka_unit_test_setup(test_password, reset),
		cmocka_unit_test_setup(test_tls_files, reset),
		cmocka_unit_test_setup(test_garbage_corpus, reset),
		cmocka_unit_test_setup(test_fuzz, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
