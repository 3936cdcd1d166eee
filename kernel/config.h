/*
 * config.h - keel.cfg: the key=value configuration of the host and of the VMs
 * started at boot (DESIGN.md section 10).
 *
 * One parser serves the UEFI loader (which needs the file names to load), the
 * kernel (which applies every key and reports every mistake) and the host unit
 * tests. It allocates nothing and depends only on <string.h>-level functions.
 *
 * Two text forms are accepted:
 *  - CFG_FORM_FILE: keel.cfg, one key=value per line, '#' starts a comment
 *    (at the start of a line or after white space, outside quotes), the value is
 *    the rest of the line, trimmed; it may be quoted with '"'.
 *  - CFG_FORM_CMDLINE: UEFI load options / Multiboot2 command line, key=value
 *    tokens separated by white space; a value with spaces is quoted with '"'.
 * Later text overrides earlier: defaults, then the file, then the command line.
 * A mistake (unknown key, bad value, too many of something) is reported through
 * the warn callback and that key keeps its previous value: a typo must never stop
 * a server from booting.
 */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_PATH_MAX 128   /* = BOOT_PATH_MAX */
#define CFG_ARGS_MAX 256   /* = BOOT_ARGS_MAX */
#define CFG_CMDLINE_MAX 1024
#define CFG_NAME_MAX 32
#define CFG_MAX_MODULES 16 /* host-level module= entries */
#define CFG_MAX_VMS 16
#define CFG_VM_MAX_MODULES 8

enum cfg_form {
	CFG_FORM_FILE = 0,
	CFG_FORM_CMDLINE = 1,
};

/* console= is a comma-separated list of these. */
#define CFG_CONSOLE_SERIAL (1u << 0)
#define CFG_CONSOLE_FB (1u << 1)

enum cfg_loglevel {
	CFG_LOG_ERROR = 0,
	CFG_LOG_WARN = 1,
	CFG_LOG_INFO = 2,
	CFG_LOG_DEBUG = 3,
};

enum cfg_panic_action {
	CFG_PANIC_HALT = 0,
	CFG_PANIC_REBOOT = 1,
};

struct cfg_file {
	char path[CFG_PATH_MAX]; /* boot volume path, '\' or '/' separated */
	char args[CFG_ARGS_MAX]; /* text after the path (modules only) */
};

struct cfg_vm {
	char name[CFG_NAME_MAX];
	struct cfg_file kernel, initrd, firmware, disk;
	char cmdline[CFG_CMDLINE_MAX];
	struct cfg_file modules[CFG_VM_MAX_MODULES];
	unsigned module_count;
	uint16_t debug_exit; /* I/O port, 0: none */
	unsigned cpus;	     /* default 1 */
	uint64_t mem;	     /* bytes, default 256 MiB */
	bool autostart;	     /* default yes */
};

/* An IPv4 address with its prefix length; host byte order (10.0.2.15 is
 * 0x0a00020f). addr 0: not set. */
struct cfg_ipv4_net {
	uint32_t addr;
	uint8_t prefix; /* 1-32 */
};

#define CFG_PASSWORD_MAX 160

struct keel_config {
	unsigned console;     /* CFG_CONSOLE_* bits, default serial|fb */
	uint16_t serial_port; /* default 0x3F8 */
	uint32_t serial_baud; /* default 115200 */
	enum cfg_loglevel loglevel; /* default info */
	unsigned cpus;	      /* CPUs to bring up, 0: all (default) */
	uint64_t mem_reserve; /* bytes kept for Keel itself, default 64 MiB */
	enum cfg_panic_action panic; /* default halt */
	bool x2apic;	      /* use x2APIC when the CPU has it, default yes */
	char selftest[64];    /* in-kernel self-tests to run at boot, "" none */

	struct cfg_file modules[CFG_MAX_MODULES];
	unsigned module_count;

	/* The management network (mgmt/): DHCP unless ip= is set. */
	struct cfg_ipv4_net ip; /* ip=<address>/<prefix> or dhcp (default) */
	uint32_t gw;		/* gw=<address>, 0: none */
	uint32_t dns;		/* dns=<address>, 0: none */
	/* PEM files on the boot volume (loaded like modules); without them
	 * Keel makes a key and a self-signed certificate at every boot. */
	struct cfg_file tls_cert, tls_key;
	/* pbkdf2-sha256:<iterations>:<salt hex>:<derived key hex> (keelctl
	 * hash-password), checked for form only; "" none. */
	char password[CFG_PASSWORD_MAX];

	struct cfg_vm vms[CFG_MAX_VMS];
	unsigned vm_count;
};

/* Called once per mistake with a complete message, e.g.
 * "keel.cfg:3: cpus: 'abc' is not a number, keeping 0". */
typedef void (*cfg_warn_fn)(void *ctx, const char *msg);

void config_defaults(struct keel_config *cfg);

/* Apply text of the given form on top of cfg. 'origin' names the source in
 * messages ("keel.cfg", "command line"). Returns the number of warnings. */
int config_apply(struct keel_config *cfg, const char *text, size_t len,
		 enum cfg_form form, const char *origin, cfg_warn_fn warn,
		 void *ctx);

/* Every file the configuration names (host modules, tls_cert, tls_key and
 * each VM's kernel, initrd, firmware, disk and modules), in order, each once. Returns the
 * number of files; fn may be NULL to count. */
typedef void (*cfg_file_fn)(void *ctx, const struct cfg_file *file);
unsigned config_for_each_file(const struct keel_config *cfg, cfg_file_fn fn,
			      void *ctx);

/* Size parser shared with the kernel: "512M", "2G", "65536", "64K".
 * Returns 0 and sets *out, or -1 on a malformed or overflowing value. */
int config_parse_size(const char *s, uint64_t *out);

/* True when two boot-volume paths name the same file ('\' and '/' are the
 * same separator, comparison is case-insensitive as on FAT). */
bool config_path_equal(const char *a, const char *b);

#endif
