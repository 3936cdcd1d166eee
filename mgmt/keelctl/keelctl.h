/*
 * keelctl.h - the modules of keelctl, the admin's command-line client of
 * Keel's HTTPS management API (DESIGN.md sections 6 and 10). The pure parts
 * (arguments, tables, the config file, password hashes, WebSocket frames,
 * the API's replies) are host unit tested (tests/unit/test_keelctl.c);
 * client.c and console.c
 * talk to the server through libcurl, keelctl.c runs the commands.
 */
#ifndef KEEL_KEELCTL_H
#define KEEL_KEELCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/err.h"

/* Exit codes, a contract for scripts (keelctl --help says them too). */
enum keelctl_exit {
	EXIT_OK = 0,
	EXIT_API = 1,	/* the server answered with an error */
	EXIT_USAGE = 2, /* bad command line or local input */
	EXIT_CONN = 3,	/* no connection, TLS failure, pin mismatch */
};

#define KEELCTL_DEFAULT_PORT 443
#define KEELCTL_ERR_MAX 256

/* ------------------------------------------------------------ args.c ---- */

/* Options a command may take (besides the global ones). */
enum args_opt {
	OPT_KERNEL,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_CPUS,
	OPT_MEM,
	OPT_FIRMWARE,
	OPT_DISK,
	OPT_SINCE,
	OPT_ITERATIONS,
	OPT_FOLLOW,	    /* flags from here on */
	OPT_PASSWORD_STDIN,
	OPT_NO_NEWLINE,
	OPT_COUNT,
};

enum args_cmd {
	CMD_NONE,
	CMD_LOGIN,
	CMD_LOGOUT,
	CMD_HOST,
	CMD_IMAGES,
	CMD_IMAGE,
	CMD_IMAGE_UPLOAD,
	CMD_IMAGE_DELETE,
	CMD_VMS,
	CMD_VM,
	CMD_VM_CREATE,
	CMD_VM_START,
	CMD_VM_STOP,
	CMD_VM_POWEROFF,
	CMD_VM_RESET,
	CMD_VM_PAUSE,
	CMD_VM_RESUME,
	CMD_VM_DELETE,
	CMD_CONSOLE,
	CMD_SEND,
	CMD_LOG,
	CMD_OPENAPI,
	CMD_HASH_PASSWORD,
	CMD_HELP,
	CMD_VERSION,
};

struct args_cmd_spec {
	const char *name;
	enum args_cmd cmd;
	unsigned npos;	    /* positional arguments, exactly */
	uint32_t opts;	    /* bit (1 << enum args_opt) per allowed option */
	const char *usage;  /* what follows the command's name */
	const char *help;   /* one line */
};

#define ARGS_POS_MAX 2

struct args {
	/* Global options. */
	const char *host;	 /* H[:port], or NULL */
	const char *fingerprint; /* as given, or NULL */
	bool insecure;
	bool json;
	const char *config;	 /* --config FILE, or NULL */
	/* The command. */
	const struct args_cmd_spec *spec;
	const char *pos[ARGS_POS_MAX];
	const char *opt[OPT_COUNT]; /* value, or "" for a flag given; NULL if not */
	/* Numbers from the options, checked. */
	unsigned long cpus, mem_mib, iterations;
	unsigned long long since;
};

extern const struct args_cmd_spec args_cmds[];

/* Parse argv[1..argc-1]. Global options may come anywhere; "--" ends the
 * options. 0, or KEEL_EINVAL with a message for the user in err. */
int args_parse(struct args *a, int argc, char **argv, char *err, size_t n);
/* The full --help text. */
void args_usage(FILE *out);
/* "host" or "[v6]" with ":port" split and checked; default port 443. */
int args_split_host(const char *in, char *host, size_t hn, unsigned *port);
/* A fingerprint as 64 lowercase hex digits: colons and case are forgiven. */
int args_normalize_fingerprint(const char *in, char out[65]);
/* Percent-encode a name as one path segment (RFC 3986 section 2.3). */
int args_escape(const char *in, char *out, size_t n);
/* "512", "512M", "2G", "2048MiB" in MiB. */
int args_parse_mib(const char *s, unsigned long *mib);

/* ----------------------------------------------------------- table.c ---- */

#define TABLE_COLS_MAX 8

struct table {
	unsigned ncols;
	bool header;		  /* the first row is the header */
	uint32_t right;		  /* bit per right-aligned column */
	unsigned nrows, cap;
	char **cells;		  /* nrows * ncols, owned */
};

/* A table of ncols columns; head (ncols strings) is its header row, or NULL
 * for a key-value listing. */
int table_init(struct table *t, unsigned ncols, const char *const *head,
	       uint32_t right);
/* A row: ncols cells (NULL prints "-"); control characters in the cells,
 * which come from the server, are shown as '?'. */
int table_add(struct table *t, const char *const *cells);
/* One string from the server, control characters as '?'. */
void table_puts(const char *s, FILE *out);
/* Aligned columns two spaces apart, no trailing blanks. */
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);
/* Display width of a UTF-8 string (one column per code point). */
size_t table_width(const char *s);
/* 1536 -> "1.5 KiB", 14186432 -> "13.5 MiB", 512 -> "512 B". */
void table_format_size(uint64_t bytes, char *out, size_t n);
/* 3725 -> "1h 2m 5s", 59 -> "59s", 90061 -> "1d 1h 1m 1s". */
void table_format_duration(uint64_t seconds, char *out, size_t n);

/* ------------------------------------------------------------ conf.c ---- */

/* The user's keelctl.conf: where the last login went and its token. */
struct conf {
	char host[256];	      /* H[:port] as given to login */
	char fingerprint[65]; /* pinned certificate, or "" */
	char token[512];      /* bearer token, or "" */
};

/* Parse the text of a config file ("key=value" lines, '#' comments, blank
 * lines; values may be quoted with '"'). Unknown keys are ignored so that
 * a newer keelctl's file still loads. KEEL_EINVAL with err on a bad line. */
int conf_parse(struct conf *c, const char *text, char *err, size_t n);
/* The file's text; KEEL_ERANGE if out is too small. */
int conf_format(const struct conf *c, char *out, size_t n);
/* $XDG_CONFIG_HOME/keel/keelctl.conf, else $HOME/.config/keel/keelctl.conf
 * (XDG Base Directory spec: an empty or relative XDG_CONFIG_HOME is
 * ignored). KEEL_ENOENT when neither is usable. */
int conf_path(char *out, size_t n, const char *xdg, const char *home);
/* Load path; a missing file is an empty config. */
int conf_load(struct conf *c, const char *path, char *err, size_t n);
/* Write path with mode 0600 (its folder 0700), atomically. */
int conf_save(const struct conf *c, const char *path, char *err, size_t n);

/* ---------------------------------------------------------- pwhash.c ---- */

#define PWHASH_ITERATIONS 100000
#define PWHASH_SALT_LEN 16
#define PWHASH_KEY_LEN 32
/* "pbkdf2-sha256:" + 10 digits + ":" + 32 + ":" + 64 + NUL */
#define PWHASH_LINE_MAX 128

/* PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2) of password and salt. */
int pwhash_derive(const char *password, size_t len, const uint8_t *salt,
		  size_t salt_len, unsigned long iterations,
		  uint8_t *key, size_t key_len);
/* "pbkdf2-sha256:<iterations>:<salt hex>:<key hex>", lowercase hex. */
int pwhash_format(char *out, size_t n, unsigned long iterations,
		  const uint8_t salt[PWHASH_SALT_LEN],
		  const uint8_t key[PWHASH_KEY_LEN]);
/* The line for keel.cfg's password=, with a fresh random salt. */
int pwhash_make(const char *password, unsigned long iterations, char *out,
		size_t n);
/* Split a line made by pwhash_format; KEEL_EINVAL if it is not one. */
int pwhash_parse(const char *line, unsigned long *iterations,
		 uint8_t salt[PWHASH_SALT_LEN], uint8_t key[PWHASH_KEY_LEN]);
/* Does password match the line (constant time over the key)? */
bool pwhash_check(const char *line, const char *password);

/* -------------------------------------------------------------- ws.c ---- */

/* RFC 6455 opcodes (section 5.2). */
enum ws_opcode {
	WS_CONT = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xA,
};

struct ws_frame {
	bool fin;
	bool masked; /* servers must not mask (RFC 6455 section 5.1) */
	unsigned opcode;
	const uint8_t *payload; /* unmasked in place when the frame was masked */
	uint64_t len;
};

/* Bytes a frame of len payload bytes takes on the wire, masked or not. */
size_t ws_frame_size(uint64_t len, bool masked);
/* One final frame into out (ws_frame_size bytes); mask NULL for an
 * unmasked frame (servers), else the client's 4 mask bytes. Returns the
 * length, or 0 if out is too small. */
size_t ws_frame_encode(uint8_t *out, size_t cap, unsigned opcode,
		       const uint8_t *payload, size_t len,
		       const uint8_t *mask);
/* One frame from the start of buf (len bytes). Returns the bytes it takes,
 * 0 when buf holds only part of it, KEEL_ECORRUPT on a protocol error. A
 * masked frame is unmasked in buf. */
long ws_frame_decode(uint8_t *buf, size_t len, struct ws_frame *f);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (section 4.2.2). */
int ws_accept_key(const char *key, char out[29]);
/* A fresh Sec-WebSocket-Key: 16 random bytes, base64 (24 characters). */
int ws_make_key(char out[25]);
/* Is s (n bytes) valid UTF-8 (what a text frame must carry)? */
bool ws_utf8_valid(const uint8_t *s, size_t n);

/* ---------------------------------------------------------- client.c ---- */

struct client;

struct reply {
	long status;	     /* HTTP status, 0 if none */
	char *body;	     /* NUL-terminated, malloc'd */
	size_t len;
	char content_type[128];
	char next_offset[32]; /* X-Console-Next, if the server sent it */
};

struct client_opts {
	const char *host;	  /* host[:port] */
	const char *fingerprint;  /* 64 hex digits, or NULL */
	bool insecure;
	const char *token;	  /* or NULL */
	bool verbose;
};

/* A connection to one Keel; NULL with err on failure (out of memory). */
struct client *client_new(const struct client_opts *o, char *err, size_t n);
void client_free(struct client *c);
/* One request under /api/v1 (path starts with '/'); body may be NULL.
 * 0 when an answer came (any status), else KEEL_EIO with err (the
 * connection, TLS, or the pin failed). */
int client_request(struct client *c, const char *method, const char *path,
		   const char *body, struct reply *r, char *err, size_t n);
/* PUT the file at path (size bytes) to api path; sha256 gets the digest
 * of what was sent (64 hex digits). */
int client_upload(struct client *c, const char *api_path, FILE *f,
		  uint64_t size, char sha256[65], struct reply *r, char *err,
		  size_t n);
/* The server's certificate fingerprint seen on the last connection, or "". */
const char *client_peer_fingerprint(const struct client *c);
/* The base URL, "https://host:port". */
const char *client_base(const struct client *c);
/* A connected raw TLS stream to the server (for the WebSocket): sends and
 * receives with timeouts in ms; a send sends everything. */
int client_raw_open(struct client *c, char *err, size_t n);
int client_raw_send(struct client *c, const void *buf, size_t len,
		    int timeout_ms, char *err, size_t n);
/* Bytes received (>0), 0 on timeout, KEEL_EIO with err when closed. */
long client_raw_recv(struct client *c, void *buf, size_t len, int timeout_ms,
		     char *err, size_t n);

/* ----------------------------------------------------------- reply.c ---- */

struct cJSON;

void reply_free(struct reply *r);
/* "<the JSON error's message> (HTTP <status>)", controls replaced. */
int reply_error(const struct reply *r, char *out, size_t n);
/* The console text of a reply to GET .../console?since=N: data (in the
 * reply's own buffer) and the offset to ask for next. KEEL_ECORRUPT if
 * the reply is not a console reply. */
int reply_console(struct reply *r, unsigned long long since,
		  const char **data, size_t *len, unsigned long long *next);
/* A member as text for a table (numbers formatted into buf); NULL if it
 * is missing, empty or not a scalar. */
const char *reply_field(const struct cJSON *o, const char *key, char *buf,
			size_t n);
/* A non-negative number member. */
bool reply_number(const struct cJSON *o, const char *key, double *v);
/* A list reply: a JSON array, or an object holding one under key. */
const struct cJSON *reply_list(const struct cJSON *o, const char *key);

/* --------------------------------------------------------- console.c ---- */

/* Print the console of vm from since; with follow, keep polling until
 * interrupted. Returns an exit code. */
int console_show(struct client *c, const char *vm, unsigned long long since,
		 bool follow, bool json);
/* Type text (and a CR unless no_newline) into vm's serial console over the
 * WebSocket. Returns an exit code. */
int console_send(struct client *c, const char *token, const char *vm,
		 const char *text, bool no_newline);

/* -------------------------------------------------------- keelctl.c ---- */

/* Report an API error reply on stderr (reply_error's text). */
void keelctl_report(const struct reply *r);

#endif
