/*
 * config.c - the keel.cfg parser (DESIGN.md section 10; contract in config.h);
 * the keys and their value checks are in config_keys.c. It owns no memory
 * and no mutable static state and calls only memcpy/memset, because the
 * UEFI loader, the kernel and the host unit tests all compile this file.
 */
#include "kernel/config_internal.h"

#include <string.h>

/* A longer line (or command line token) is reported and skipped. */
#define CFG_LINE_MAX 4096

/* Warnings are formatted on the stack and every piece is cut to a bound, so a
 * message always fits (and fits a log line, LOG_LINE_MAX 256). */
#define CFG_MSG_MAX 240
#define CFG_SHOW_ORIGIN 24
#define CFG_SHOW_KEY 40
#define CFG_SHOW_VALUE 32

#define CFG_MIB (1024 * 1024ull)

/* The limits are spelled out in the message texts here and in the tables of
 * config_keys.c. */
_Static_assert(CFG_PATH_MAX == 128 && CFG_ARGS_MAX == 256 &&
		       CFG_CMDLINE_MAX == 1024 && CFG_MAX_MODULES == 16 &&
		       CFG_VM_MAX_MODULES == 8 && CFG_MAX_VMS == 16 &&
		       CFG_NAME_MAX == 32,
	       "update the messages in config.c and config_keys.c");

static const struct cfg_span cfg_none; /* no text: p is NULL */

/* ---------------------------------------------------------------- text -- */

/* NUL counts as white space: UEFI load options usually carry their L'\0'. */
static bool cfg_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f' || c == '\0';
}

static unsigned char cfg_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static size_t cfg_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

static struct cfg_span span_make(const char *p, size_t n)
{
	return (struct cfg_span){ p, n };
}

static struct cfg_span span_trim(struct cfg_span s)
{
	while (s.n && cfg_is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && cfg_is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Index of the first c in s, or s.n. */
static size_t span_find(struct cfg_span s, char c)
{
	size_t i = 0;

	while (i < s.n && s.p[i] != c)
		i++;
	return i;
}

static bool span_is(struct cfg_span s, const char *w, bool nocase)
{
	size_t i;

	for (i = 0; i < s.n; i++) {
		unsigned char a = s.p[i], b = w[i];

		if (!b || (nocase ? cfg_lower(a) != cfg_lower(b) : a != b))
			return false;
	}
	return !w[s.n];
}

/* Reads digits of base from s.p[*i] on; false on overflow or no digit. */
static bool cfg_digits(struct cfg_span s, size_t *i, unsigned base,
		       uint64_t *out)
{
	size_t start = *i;
	uint64_t v = 0;

	for (; *i < s.n; (*i)++) {
		unsigned char c = cfg_lower(s.p[*i]);
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return *i > start;
}

/* Decimal, or hex after 0x; no sign, no trailing text, no overflow. */
static int cfg_parse_num(struct cfg_span s, uint64_t *out)
{
	bool hex = s.n > 2 && s.p[0] == '0' && cfg_lower(s.p[1]) == 'x';
	size_t i = hex ? 2 : 0;

	return cfg_digits(s, &i, hex ? 16 : 10, out) && i == s.n ? 0 : -1;
}

/* Digits, then K, M, G or T, then nothing, "B" or "iB" ("B" alone: bytes). */
static int cfg_parse_size_span(struct cfg_span s, uint64_t *out)
{
	static const char units[] = "kmgt";
	unsigned shift = 0, u;
	uint64_t v;
	size_t i = 0;

	if (!cfg_digits(s, &i, 10, &v))
		return -1;
	for (u = 0; i < s.n && u < 4; u++) {
		if (cfg_lower(s.p[i]) == units[u]) {
			shift = 10 * (u + 1);
			i++;
			break;
		}
	}
	s = span_make(s.p + i, s.n - i);
	if (s.n && !span_is(s, "b", true) && !(shift && span_is(s, "ib", true)))
		return -1;
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* ------------------------------------------------------------ messages -- */

struct cfg_msg {
	char buf[CFG_MSG_MAX];
	size_t len;
};

static void msg_putc(struct cfg_msg *m, char c)
{
	if (m->len < CFG_MSG_MAX - 1)
		m->buf[m->len++] = c;
}

static void msg_puts(struct cfg_msg *m, const char *s)
{
	while (*s)
		msg_putc(m, *s++);
}

/* At most max bytes of untrusted text, unprintable bytes as '?'. */
static void msg_show(struct cfg_msg *m, struct cfg_span s, size_t max)
{
	size_t i;

	for (i = 0; i < s.n && i < max; i++) {
		unsigned char c = s.p[i];

		msg_putc(m, c < 0x20 || c >= 0x7f ? '?' : (char)c);
	}
	if (s.n > max)
		msg_puts(m, "...");
}

static void msg_quote(struct cfg_msg *m, struct cfg_span s)
{
	msg_putc(m, '\'');
	msg_show(m, s, CFG_SHOW_VALUE);
	msg_putc(m, '\'');
}

static void msg_num(struct cfg_msg *m, uint64_t v, unsigned base)
{
	char d[20];
	int i = 0;

	do {
		d[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		msg_puts(m, "0x");
	while (i)
		msg_putc(m, d[--i]);
}

/* In the largest unit that divides it exactly: "64M", "1T", "4097". */
static void msg_size(struct cfg_msg *m, uint64_t v)
{
	static const char units[] = "KMGT";
	int u;

	for (u = 3; v && u >= 0; u--) {
		unsigned shift = 10 * (u + 1);

		if (!(v & ((1ull << shift) - 1))) {
			msg_num(m, v >> shift, 10);
			msg_putc(m, units[u]);
			return;
		}
	}
	msg_num(m, v, 10);
}

static void msg_ipv4(struct cfg_msg *m, uint32_t a)
{
	int k;

	for (k = 3; k >= 0; k--) {
		msg_num(m, a >> (8 * k) & 0xff, 10);
		if (k)
			msg_putc(m, '.');
	}
}

/* ------------------------------------------------------------- parsing -- */

struct cfg_parse {
	struct keel_config *cfg;
	const char *origin;
	unsigned long where; /* line (file) or token index (command line) */
	cfg_warn_fn warn;
	void *ctx;
	int count;
};

/* One key=value being applied to base (a keel_config or a cfg_vm). */
struct cfg_item {
	struct cfg_parse *ps;
	const struct cfg_key *k;
	unsigned char *base;
	struct cfg_span key, val;
};

/* "<origin>:<where>: " and, when key.p, "<key>: " */
static void msg_begin(struct cfg_msg *m, const struct cfg_parse *ps,
		      struct cfg_span key)
{
	m->len = 0;
	msg_show(m, span_make(ps->origin, cfg_strnlen(ps->origin, 64)),
		 CFG_SHOW_ORIGIN);
	msg_putc(m, ':');
	msg_num(m, ps->where, 10);
	msg_puts(m, ": ");
	if (key.p) {
		msg_show(m, key, CFG_SHOW_KEY);
		msg_puts(m, ": ");
	}
}

static void msg_send(struct cfg_msg *m, struct cfg_parse *ps)
{
	ps->count++;
	m->buf[m->len] = '\0';
	if (ps->warn)
		ps->warn(ps->ctx, m->buf);
}

/* "<origin>:<where>: [<key>: ]<pre>['<s>']<post>" */
static void parse_warn(struct cfg_parse *ps, struct cfg_span key,
		       const char *pre, struct cfg_span s, const char *post)
{
	struct cfg_msg m;

	msg_begin(&m, ps, key);
	msg_puts(&m, pre);
	if (s.p)
		msg_quote(&m, s);
	msg_puts(&m, post);
	msg_send(&m, ps);
}

/* Number fields are unsigned integers, bools or enums of 1, 2, 4 or 8 bytes;
 * x86 is little-endian, so their bytes are the low bytes of a uint64_t. */
static uint64_t item_get(const struct cfg_item *it)
{
	uint64_t v = 0;

	memcpy(&v, it->base + it->k->off, it->k->size);
	return v;
}

static void item_set(const struct cfg_item *it, uint64_t v)
{
	memcpy(it->base + it->k->off, &v, it->k->size);
}

/* The value the key keeps, as an admin would write it. */
static void msg_prev(struct cfg_msg *m, const struct cfg_item *it)
{
	const struct cfg_key *k = it->k;
	const char *s = (const char *)it->base + k->off;
	const struct cfg_word *w;
	uint64_t v;

	if (k->kind == CFG_K_TEXT || k->kind == CFG_K_PATH) {
		size_t max = k->kind == CFG_K_TEXT ? k->size : CFG_PATH_MAX;

		msg_quote(m, span_make(s, cfg_strnlen(s, max)));
		return;
	}
	if (k->kind == CFG_K_IPNET) {
		struct cfg_ipv4_net net;

		memcpy(&net, it->base + k->off, sizeof(net));
		if (!net.addr) {
			msg_puts(m, "dhcp");
			return;
		}
		msg_ipv4(m, net.addr);
		msg_putc(m, '/');
		msg_num(m, net.prefix, 10);
		return;
	}
	v = item_get(it);
	if (k->kind == CFG_K_IPV4 && v) {
		msg_ipv4(m, (uint32_t)v);
	} else if (k->kind == CFG_K_IPV4) {
		msg_puts(m, "none");
	} else if (k->kind == CFG_K_PORT && v) {
		msg_num(m, v, 16);
	} else if (k->kind == CFG_K_PORT) {
		msg_puts(m, "none");
	} else if (k->kind == CFG_K_SIZE) {
		msg_size(m, v);
	} else if (k->kind == CFG_K_CONSOLE) {
		if (!(v & (CFG_CONSOLE_SERIAL | CFG_CONSOLE_FB)))
			msg_puts(m, "none");
		if (v & CFG_CONSOLE_SERIAL)
			msg_puts(m, "serial");
		if ((v & CFG_CONSOLE_SERIAL) && (v & CFG_CONSOLE_FB))
			msg_putc(m, ',');
		if (v & CFG_CONSOLE_FB)
			msg_puts(m, "fb");
	} else if (k->kind == CFG_K_WORD) {
		for (w = k->words; w->word && w->value != v; w++)
			;
		if (w->word)
			msg_puts(m, w->word);
		else
			msg_num(m, v, 10);
	} else {
		msg_num(m, v, 10);
	}
}

/* "<key>: '<value>' <what>, keeping <previous>" - or ", ignored" for a
 * module, which has no previous value; the module limit reads "<key>: too
 * many modules (max 16), '<value>' ignored". */
static void item_warn(const struct cfg_item *it, const char *what)
{
	struct cfg_msg m;

	if (what == it->k->bad && it->k->kind == CFG_K_MODULE) {
		parse_warn(it->ps, it->key, what, it->val, " ignored");
		return;
	}
	msg_begin(&m, it->ps, it->key);
	if (it->k->kind == CFG_K_PASSWORD) {
		/* Not even a hash goes to a console or a log. */
		msg_puts(&m, "the value ");
		msg_puts(&m, what);
		msg_puts(&m, it->base[it->k->off] ? ", keeping the previous one"
						  : ", keeping none");
		msg_send(&m, it->ps);
		return;
	}
	msg_quote(&m, it->val);
	msg_putc(&m, ' ');
	msg_puts(&m, what);
	if (it->k->kind == CFG_K_MODULE) {
		msg_puts(&m, ", ignored");
	} else {
		msg_puts(&m, ", keeping ");
		msg_prev(&m, it);
	}
	msg_send(&m, it->ps);
}

static bool word_find(const struct cfg_word *w, struct cfg_span s,
		      uint64_t *out)
{
	for (; w->word; w++) {
		if (span_is(s, w->word, true)) {
			*out = w->value;
			return true;
		}
	}
	return false;
}

/* "serial,fb": every item must be a word; spaces around commas are fine. */
static bool console_parse(const struct cfg_word *words, struct cfg_span s,
			  uint64_t *out)
{
	uint64_t bits = 0, one;
	size_t comma;

	for (;;) {
		comma = span_find(s, ',');
		if (!word_find(words, span_trim(span_make(s.p, comma)), &one))
			return false;
		bits |= one;
		if (comma == s.n)
			break;
		s = span_make(s.p + comma + 1, s.n - comma - 1);
	}
	*out = bits;
	return true;
}

/* A path, or for a module "path [args...]": the first word is the path and
 * the rest, trimmed, its arguments. Stored as given. */
static const char *file_store(struct cfg_file *f, struct cfg_span v,
			      bool module)
{
	struct cfg_span path = v, args = span_make(v.p + v.n, 0);

	if (module) {
		path.n = 0;
		while (path.n < v.n && !cfg_is_blank(v.p[path.n]))
			path.n++;
		args = span_trim(span_make(v.p + path.n, v.n - path.n));
	}
	if (!path.n)
		return "is an empty path";
	if (path.n > CFG_PATH_MAX - 1)
		return "is too long (max 127 characters)";
	if (span_find(path, '\t') != path.n)
		return "contains a control character";
	if (args.n > CFG_ARGS_MAX - 1)
		return "has arguments longer than 255 characters";
	memset(f, 0, sizeof(*f));
	memcpy(f->path, path.p, path.n);
	memcpy(f->args, args.p, args.n);
	return NULL;
}

/* Stores the value, or returns what is wrong with it. */
static const char *item_store(struct cfg_item *it)
{
	const struct cfg_key *k = it->k;
	unsigned char *field = it->base + k->off;
	unsigned *count;
	struct cfg_span v = it->val;
	const char *what;
	uint64_t n = 0;
	size_t i;

	/* A value that starts with a quote ends at the next; the quotes go. */
	if (v.n && v.p[0] == '"') {
		i = 1 + span_find(span_make(v.p + 1, v.n - 1), '"');
		if (i == v.n)
			return "has no closing quote";
		if (i + 1 != v.n)
			return "has text after the closing quote";
		v = it->val = span_make(v.p + 1, i - 1);
	}
	for (i = 0; i < v.n; i++)
		if (((unsigned char)v.p[i] < 0x20 && v.p[i] != '\t') ||
		    v.p[i] == 0x7f)
			return "contains a control character";

	switch (k->kind) {
	case CFG_K_UINT:
	case CFG_K_PORT:
		if (cfg_parse_num(v, &n))
			return "is not a number";
		if (n < k->min || n > k->max)
			return k->bad;
		break;
	case CFG_K_BAUD:
		if (cfg_parse_num(v, &n))
			return "is not a number";
		if (!cfg_baud_ok(n))
			return k->bad;
		break;
	case CFG_K_SIZE:
		if (cfg_parse_size_span(v, &n))
			return "is not a size";
		if (n < k->min || n > k->max)
			return k->bad;
		if (k->align)
			n = (n + k->align - 1) & ~(k->align - 1);
		break;
	case CFG_K_WORD:
		if (!word_find(k->words, v, &n))
			return k->bad;
		break;
	case CFG_K_CONSOLE:
		if (!console_parse(k->words, v, &n))
			return k->bad;
		break;
	case CFG_K_TEXT:
		if (v.n > k->size - 1)
			return k->bad;
		memset(field, 0, k->size);
		memcpy(field, v.p, v.n);
		return NULL;
	case CFG_K_IPNET: {
		struct cfg_ipv4_net net = { 0, 0 };

		what = cfg_ipnet_parse(v, &net);
		if (!what)
			memcpy(field, &net, sizeof(net));
		return what;
	}
	case CFG_K_IPV4: {
		uint32_t addr = 0;

		if (!span_is(v, "none", true)) {
			what = cfg_ipv4_parse(v, &addr);
			if (what)
				return what;
		}
		n = addr;
		break;
	}
	case CFG_K_PASSWORD:
		/* Empty: no password configured (Keel makes one at boot). */
		what = v.n ? cfg_password_check(v) : NULL;
		if (what)
			return what;
		if (v.n > k->size - 1)
			return "is too long";
		memset(field, 0, k->size);
		memcpy(field, v.p, v.n);
		return NULL;
	case CFG_K_PATH:
		return file_store((struct cfg_file *)(void *)field, v, false);
	case CFG_K_MODULE:
		count = (unsigned *)(void *)(it->base + k->count_off);
		if (*count >= k->max)
			return k->bad;
		what = file_store((struct cfg_file *)(void *)field + *count, v,
				  true);
		if (!what)
			(*count)++;
		return what;
	}
	item_set(it, n);
	return NULL;
}

static void item_apply(struct cfg_item *it)
{
	const char *what = item_store(it);

	if (what)
		item_warn(it, what);
}

static const struct cfg_key *key_find(const struct cfg_key *k,
				      struct cfg_span name)
{
	for (; k->name; k++)
		if (span_is(name, k->name, false))
			return k;
	return NULL;
}

static bool vm_name_ok(struct cfg_span s)
{
	size_t i;

	if (!s.n || s.n > CFG_NAME_MAX - 1)
		return false;
	for (i = 0; i < s.n; i++) {
		unsigned char c = cfg_lower(s.p[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* vm.<name>.<key>: the first known key naming a new VM creates it. */
static void parse_vm_key(struct cfg_parse *ps, struct cfg_span key,
			 struct cfg_span val)
{
	struct keel_config *cfg = ps->cfg;
	struct cfg_span rest = span_make(key.p + 3, key.n - 3), name;
	struct cfg_item it = { .ps = ps, .key = key, .val = val };
	struct cfg_vm *vm = NULL;
	unsigned i, count;

	name = span_make(rest.p, span_find(rest, '.'));
	if (name.n < rest.n && !vm_name_ok(name)) {
		parse_warn(ps, key, "", name, " is not a VM name "
			   "(1-31 of A-Z a-z 0-9 _ -), ignored");
		return;
	}
	if (name.n < rest.n)
		it.k = key_find(cfg_vm_keys, span_make(rest.p + name.n + 1,
						       rest.n - name.n - 1));
	if (!it.k) {
		parse_warn(ps, cfg_none, "unknown key ", key, " ignored");
		return;
	}
	count = cfg->vm_count < CFG_MAX_VMS ? cfg->vm_count : CFG_MAX_VMS;
	for (i = 0; i < count && !vm; i++)
		if (span_is(name, cfg->vms[i].name, false))
			vm = &cfg->vms[i];
	if (!vm && count == CFG_MAX_VMS) {
		parse_warn(ps, key, "too many VMs (max 16), ", name,
			   " ignored");
		return;
	}
	if (!vm) {
		vm = &cfg->vms[count];
		memset(vm, 0, sizeof(*vm));
		memcpy(vm->name, name.p, name.n);
		vm->cpus = 1;
		vm->mem = 256 * CFG_MIB;
		vm->autostart = true;
		cfg->vm_count = count + 1;
	}
	it.base = (unsigned char *)vm;
	item_apply(&it);
}

/* One "key=value": a file line without its comment, or a command line
 * token; not empty. */
static void parse_entry(struct cfg_parse *ps, struct cfg_span e)
{
	size_t eq = span_find(e, '=');
	struct cfg_item it = { .ps = ps, .base = (unsigned char *)ps->cfg };

	if (eq == e.n) {
		parse_warn(ps, cfg_none, "", e, " is not key=value, ignored");
		return;
	}
	it.key = span_trim(span_make(e.p, eq));
	it.val = span_trim(span_make(e.p + eq + 1, e.n - eq - 1));
	if (!it.key.n) {
		parse_warn(ps, cfg_none, "", e, " has no key, ignored");
		return;
	}
	if (it.key.n > 3 && span_is(span_make(it.key.p, 3), "vm.", false)) {
		parse_vm_key(ps, it.key, it.val);
		return;
	}
	it.k = key_find(cfg_host_keys, it.key);
	if (it.k)
		item_apply(&it);
	else
		parse_warn(ps, cfg_none, "unknown key ", it.key, " ignored");
}

/* '#' starts a comment at the start of a line or after white space, outside
 * quotes (DESIGN.md section 10). */
static void parse_line(struct cfg_parse *ps, struct cfg_span line)
{
	bool quoted = false;
	size_t i;

	for (i = 0; i < line.n; i++) {
		if (line.p[i] == '"')
			quoted = !quoted;
		else if (line.p[i] == '#' && !quoted &&
			 (i == 0 || cfg_is_blank(line.p[i - 1])))
			break;
	}
	line = span_trim(span_make(line.p, i));
	if (line.n)
		parse_entry(ps, line);
}

static void parse_file(struct cfg_parse *ps, const char *text, size_t len)
{
	size_t pos = 0, start, end;

	/* Editors on Windows like to start UTF-8 files with a BOM. */
	if (len >= 3 && (unsigned char)text[0] == 0xef &&
	    (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf)
		pos = 3;
	while (pos < len) {
		start = pos;
		while (pos < len && text[pos] != '\n')
			pos++;
		end = pos;
		if (pos < len)
			pos++;
		ps->where++;
		if (end > start && text[end - 1] == '\r')
			end--;
		if (end - start > CFG_LINE_MAX)
			parse_warn(ps, cfg_none, "line longer than 4096 "
				   "characters ignored", cfg_none, "");
		else
			parse_line(ps, span_make(text + start, end - start));
	}
}

/* Tokens end at white space outside quotes. */
static void parse_cmdline(struct cfg_parse *ps, const char *text, size_t len)
{
	size_t pos = 0, start;
	bool quoted;

	for (;;) {
		while (pos < len && cfg_is_blank(text[pos]))
			pos++;
		if (pos == len)
			return;
		start = pos;
		quoted = false;
		while (pos < len && (quoted || !cfg_is_blank(text[pos]))) {
			if (text[pos] == '"')
				quoted = !quoted;
			pos++;
		}
		ps->where++;
		if (pos - start > CFG_LINE_MAX)
			parse_warn(ps, cfg_none, "token longer than 4096 "
				   "characters ignored", cfg_none, "");
		else
			parse_entry(ps, span_make(text + start, pos - start));
	}
}

/* ------------------------------------------------------------- public -- */

void config_defaults(struct keel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->console = CFG_CONSOLE_SERIAL | CFG_CONSOLE_FB;
	cfg->serial_port = 0x3f8;
	cfg->serial_baud = 115200;
	cfg->loglevel = CFG_LOG_INFO;
	cfg->cpus = 0;
	cfg->mem_reserve = 64 * CFG_MIB;
	cfg->panic = CFG_PANIC_HALT;
	cfg->x2apic = true;
}

int config_apply(struct keel_config *cfg, const char *text, size_t len,
		 enum cfg_form form, const char *origin, cfg_warn_fn warn,
		 void *ctx)
{
	struct cfg_parse ps = {
		.cfg = cfg,
		.origin = origin ? origin : "config",
		.warn = warn,
		.ctx = ctx,
	};

	if (!cfg || !text)
		return 0;
	if (form == CFG_FORM_CMDLINE)
		parse_cmdline(&ps, text, len);
	else
		parse_file(&ps, text, len);
	return ps.count;
}

/* The i-th file slot in config_for_each_file() order, NULL past the end. */
static const struct cfg_file *config_file_at(const struct keel_config *cfg,
					     unsigned i)
{
	unsigned nvm = cfg->vm_count < CFG_MAX_VMS ? cfg->vm_count
						   : CFG_MAX_VMS;
	unsigned n = cfg->module_count < CFG_MAX_MODULES ? cfg->module_count
							 : CFG_MAX_MODULES;
	unsigned v;

	if (i < n)
		return &cfg->modules[i];
	i -= n;
	if (i < 2)
		return i ? &cfg->tls_key : &cfg->tls_cert;
	i -= 2;
	for (v = 0; v < nvm; v++) {
		const struct cfg_vm *vm = &cfg->vms[v];
		const struct cfg_file *fixed[4] = { &vm->kernel, &vm->initrd,
						    &vm->firmware, &vm->disk };

		n = vm->module_count < CFG_VM_MAX_MODULES ? vm->module_count
							  : CFG_VM_MAX_MODULES;
		if (i < 4)
			return fixed[i];
		if (i - 4 < n)
			return &vm->modules[i - 4];
		i -= 4 + n;
	}
	return NULL;
}

static bool path_equal_n(const char *a, const char *b, size_t max)
{
	size_t i;

	for (i = 0; i < max; i++) {
		unsigned char x = cfg_lower(a[i]), y = cfg_lower(b[i]);

		if ((x == '\\' ? '/' : x) != (y == '\\' ? '/' : y))
			return false;
		if (!x)
			return true;
	}
	return true;
}

/* At most 16 + 2 + 16 * 12 slots: a quadratic search for duplicates is fine. */
unsigned config_for_each_file(const struct keel_config *cfg, cfg_file_fn fn,
			      void *ctx)
{
	const struct cfg_file *f;
	unsigned i, j, count = 0;

	for (i = 0; (f = config_file_at(cfg, i)); i++) {
		if (!f->path[0])
			continue;
		for (j = 0; j < i; j++)
			if (path_equal_n(config_file_at(cfg, j)->path, f->path,
					 CFG_PATH_MAX))
				break;
		if (j < i)
			continue;
		count++;
		if (fn)
			fn(ctx, f);
	}
	return count;
}

int config_parse_size(const char *s, uint64_t *out)
{
	if (!s || !out)
		return -1;
	return cfg_parse_size_span(span_make(s, cfg_strnlen(s, SIZE_MAX)), out);
}

bool config_path_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return path_equal_n(a, b, SIZE_MAX);
}
