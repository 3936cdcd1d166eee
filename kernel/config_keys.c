/*
 * config_keys.c - the keys keel.cfg knows, host-level and per VM, and the
 * checks of the values that need more than a number or a word (addresses of
 * the management network, the password hash). The parser that applies them
 * is config.c; like it, this file is compiled into the UEFI loader, the
 * kernel and the host unit tests, so it calls nothing but its own code.
 */
#include "kernel/config_internal.h"

#define CFG_KIB 1024ull
#define CFG_MIB (1024 * CFG_KIB)
#define CFG_TIB (1024 * 1024 * CFG_MIB)

/* The first word with a given value is the one messages show. */
static const struct cfg_word cfg_bool_words[] = {
	{ "yes", 1 },	{ "no", 0 },	 { "on", 1 }, { "off", 0 },
	{ "true", 1 },	{ "false", 0 }, { "1", 1 },  { "0", 0 },
	{ NULL, 0 },
};

static const struct cfg_word cfg_loglevel_words[] = {
	{ "error", CFG_LOG_ERROR }, { "warn", CFG_LOG_WARN },
	{ "info", CFG_LOG_INFO },   { "debug", CFG_LOG_DEBUG },
	{ "0", CFG_LOG_ERROR },	    { "1", CFG_LOG_WARN },
	{ "2", CFG_LOG_INFO },	    { "3", CFG_LOG_DEBUG },
	{ NULL, 0 },
};

static const struct cfg_word cfg_panic_words[] = {
	{ "halt", CFG_PANIC_HALT }, { "reboot", CFG_PANIC_REBOOT }, { NULL, 0 },
};

static const struct cfg_word cfg_console_words[] = {
	{ "serial", CFG_CONSOLE_SERIAL }, { "fb", CFG_CONSOLE_FB },
	{ "none", 0 }, { NULL, 0 },
};

/* Standard rates a 16550 reaches with an integer divisor of 115200. */
static const uint32_t cfg_bauds[] = {
	300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600,
	115200,
};

bool cfg_baud_ok(uint64_t v)
{
	size_t i;

	for (i = 0; i < sizeof(cfg_bauds) / sizeof(cfg_bauds[0]); i++)
		if (cfg_bauds[i] == v)
			return true;
	return false;
}

#define CFG_HOST(f)                             \
	.off = offsetof(struct keel_config, f), \
	.size = sizeof(((struct keel_config *)0)->f)
#define CFG_VM(f)                          \
	.off = offsetof(struct cfg_vm, f), \
	.size = sizeof(((struct cfg_vm *)0)->f)

const struct cfg_key cfg_host_keys[] = {
	{ .name = "console", .kind = CFG_K_CONSOLE, CFG_HOST(console),
	  .words = cfg_console_words,
	  .bad = "is not a list of serial, fb, none" },
	{ .name = "serial_port", .kind = CFG_K_PORT, CFG_HOST(serial_port),
	  .min = 1, .max = 0xffff, .bad = "is out of range (1-0xffff)" },
	{ .name = "serial_baud", .kind = CFG_K_BAUD, CFG_HOST(serial_baud),
	  .bad = "is not a supported baud rate" },
	{ .name = "loglevel", .kind = CFG_K_WORD, CFG_HOST(loglevel),
	  .words = cfg_loglevel_words,
	  .bad = "is not error, warn, info, debug or 0-3" },
	{ .name = "cpus", .kind = CFG_K_UINT, CFG_HOST(cpus), .max = 1024,
	  .bad = "is out of range (0-1024)" },
	{ .name = "mem_reserve", .kind = CFG_K_SIZE, CFG_HOST(mem_reserve),
	  .max = CFG_TIB, .bad = "is out of range (0-1T)" },
	{ .name = "panic", .kind = CFG_K_WORD, CFG_HOST(panic),
	  .words = cfg_panic_words, .bad = "is not halt or reboot" },
	{ .name = "x2apic", .kind = CFG_K_WORD, CFG_HOST(x2apic),
	  .words = cfg_bool_words, .bad = "is not yes or no" },
	{ .name = "selftest", .kind = CFG_K_TEXT, CFG_HOST(selftest),
	  .bad = "is too long (max 63 characters)" },
	{ .name = "module", .kind = CFG_K_MODULE, CFG_HOST(modules),
	  .count_off = offsetof(struct keel_config, module_count),
	  .max = CFG_MAX_MODULES, .bad = "too many modules (max 16), " },
	{ .name = "ip", .kind = CFG_K_IPNET, CFG_HOST(ip) },
	{ .name = "gw", .kind = CFG_K_IPV4, CFG_HOST(gw) },
	{ .name = "dns", .kind = CFG_K_IPV4, CFG_HOST(dns) },
	{ .name = "tls_cert", .kind = CFG_K_PATH, CFG_HOST(tls_cert) },
	{ .name = "tls_key", .kind = CFG_K_PATH, CFG_HOST(tls_key) },
	{ .name = "password", .kind = CFG_K_PASSWORD, CFG_HOST(password) },
	{ .name = NULL },
};

const struct cfg_key cfg_vm_keys[] = {
	{ .name = "kernel", .kind = CFG_K_PATH, CFG_VM(kernel) },
	{ .name = "initrd", .kind = CFG_K_PATH, CFG_VM(initrd) },
	{ .name = "firmware", .kind = CFG_K_PATH, CFG_VM(firmware) },
	{ .name = "disk", .kind = CFG_K_PATH, CFG_VM(disk) },
	{ .name = "cmdline", .kind = CFG_K_TEXT, CFG_VM(cmdline),
	  .bad = "is too long (max 1023 characters)" },
	{ .name = "module", .kind = CFG_K_MODULE, CFG_VM(modules),
	  .count_off = offsetof(struct cfg_vm, module_count),
	  .max = CFG_VM_MAX_MODULES, .bad = "too many modules (max 8), " },
	{ .name = "debug_exit", .kind = CFG_K_PORT, CFG_VM(debug_exit),
	  .min = 1, .max = 0xffff, .bad = "is out of range (1-0xffff)" },
	{ .name = "cpus", .kind = CFG_K_UINT, CFG_VM(cpus), .min = 1,
	  .max = 64, .bad = "is out of range (1-64)" },
	{ .name = "mem", .kind = CFG_K_SIZE, CFG_VM(mem), .min = CFG_MIB,
	  .max = CFG_TIB, .align = 4 * CFG_KIB,
	  .bad = "is out of range (1M-1T)" },
	{ .name = "autostart", .kind = CFG_K_WORD, CFG_VM(autostart),
	  .words = cfg_bool_words, .bad = "is not yes or no" },
	{ .name = NULL },
};

/* ------------------------------------------------------------ network -- */

/* A decimal number of 1..max_digits digits from s.p[*i] on, no leading
 * zero (so "010" is not read as octal by one tool and decimal by another). */
static bool dec_part(struct cfg_span s, size_t *i, unsigned max_digits,
		     uint32_t *out)
{
	size_t start = *i;
	uint32_t v = 0;

	while (*i < s.n && s.p[*i] >= '0' && s.p[*i] <= '9' &&
	       *i - start < max_digits)
		v = v * 10 + (uint32_t)(s.p[(*i)++] - '0');
	if (*i == start || (*i - start > 1 && s.p[start] == '0'))
		return false;
	*out = v;
	return true;
}

/* Dotted quad (RFC 791 addresses as people write them), a host address. */
const char *cfg_ipv4_parse(struct cfg_span s, uint32_t *out)
{
	uint32_t addr = 0, part;
	size_t i = 0;
	int k;

	for (k = 0; k < 4; k++) {
		if (k && (i >= s.n || s.p[i++] != '.'))
			return "is not an IPv4 address";
		if (!dec_part(s, &i, 3, &part) || part > 255)
			return "is not an IPv4 address";
		addr = addr << 8 | part;
	}
	if (i != s.n)
		return "is not an IPv4 address";
	/* RFC 1122 3.2.1.3 / RFC 5735: 0/8 "this network", 127/8 loopback,
	 * 224/4 multicast, 240/4 reserved and the limited broadcast. */
	if ((addr >> 24) == 127)
		return "is a loopback address";
	if ((addr >> 28) == 0xe)
		return "is a multicast address";
	if ((addr >> 24) == 0 || (addr >> 28) == 0xf)
		return "is not a host address";
	*out = addr;
	return NULL;
}

/* "<address>/<prefix>" or "dhcp". */
const char *cfg_ipnet_parse(struct cfg_span s, struct cfg_ipv4_net *out)
{
	static const char dhcp[] = "dhcp";
	struct cfg_span a = s;
	uint32_t prefix, host_mask;
	const char *what;
	size_t i;

	if (s.n == 4) {
		for (i = 0; i < 4 && (s.p[i] | 0x20) == dhcp[i]; i++)
			;
		if (i == 4) {
			out->addr = 0;
			out->prefix = 0;
			return NULL;
		}
	}
	for (i = 0; i < s.n && s.p[i] != '/'; i++)
		;
	if (i == s.n)
		return "is not <address>/<prefix> (e.g. 192.168.1.10/24) or dhcp";
	a.n = i++;
	what = cfg_ipv4_parse(a, &out->addr);
	if (what)
		return what;
	if (!dec_part(s, &i, 2, &prefix) || i != s.n || prefix < 1 ||
	    prefix > 32)
		return "has a prefix length out of range (1-32)";
	/* RFC 950 / RFC 3021: on /30 and wider the all-zeros and all-ones
	 * host parts name the network and its broadcast, not a host. */
	host_mask = prefix == 32 ? 0 : 0xffffffffu >> prefix;
	if (prefix <= 30 && !(out->addr & host_mask))
		return "is the network's own address, not a host in it";
	if (prefix <= 30 && (out->addr & host_mask) == host_mask)
		return "is the network's broadcast address";
	out->prefix = (uint8_t)prefix;
	return NULL;
}

/* -------------------------------------------------------------- password -- */

static size_t hex_run(struct cfg_span s, size_t i)
{
	size_t start = i;

	while (i < s.n && ((s.p[i] >= '0' && s.p[i] <= '9') ||
			   ((s.p[i] | 0x20) >= 'a' && (s.p[i] | 0x20) <= 'f')))
		i++;
	return i - start;
}

/* pbkdf2-sha256:<iterations>:<salt hex>:<derived key hex>, as keelctl
 * hash-password prints it (DESIGN.md section 10). The bounds keep a login
 * affordable (iterations), the salt unguessable (8 bytes or more) and the
 * text within CFG_PASSWORD_MAX. Messages never show the value. */
const char *cfg_password_check(struct cfg_span s)
{
	static const char scheme[] = "pbkdf2-sha256:";
	uint32_t iter;
	size_t i, n;

	for (i = 0; scheme[i]; i++)
		if (i >= s.n || s.p[i] != scheme[i])
			return "is not pbkdf2-sha256:<iterations>:<salt hex>:"
			       "<key hex> (keelctl hash-password)";
	if (!dec_part(s, &i, 9, &iter) || i >= s.n || s.p[i++] != ':' ||
	    iter < 1000 || iter > 10000000)
		return "has an iteration count out of range (1000-10000000)";
	n = hex_run(s, i);
	i += n;
	if (n < 16 || n > 64 || n % 2 || i >= s.n || s.p[i++] != ':')
		return "has a salt that is not 16-64 hex digits";
	n = hex_run(s, i);
	if (n < 32 || n > 64 || n % 2 || i + n != s.n)
		return "has a derived key that is not 32-64 hex digits";
	return NULL;
}
