/*
 * log.c - the log ring and the console list. Every record is kept in a fixed
 * ring (no allocation, usable before mm exists); records at or below the print
 * level also go to every registered console. One lock (log_lock, irqsave)
 * guards the ring and serialises console output so lines never interleave.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

#define LOG_RECORDS 1024

struct log_record {
	uint64_t seq;
	uint64_t ns;
	uint8_t level;
	uint8_t raw; /* printed without a timestamp (kprint_line) */
	uint16_t len;
	char text[LOG_LINE_MAX];
};

static struct log_record log_ring[LOG_RECORDS];
static uint64_t log_next_seq; /* sequence number of the next record */
static struct spinlock log_lock = SPINLOCK_INIT;
static enum log_level log_print_level = LOG_INFO;
static struct console *console_list;

static const char *const level_tag[] = {"ERROR ", "WARN ", "", ""};

void log_set_level(enum log_level level)
{
	log_print_level = level;
}

/* Format one record as a console line; returns its length. */
static size_t log_format(const struct log_record *r, char *buf, size_t cap)
{
	int n;

	if (r->raw)
		n = snprintf(buf, cap, "%.*s\n", r->len, r->text);
	else
		n = snprintf(buf, cap, "[%5llu.%06llu] %s%.*s\n",
			     (unsigned long long)(r->ns / 1000000000ULL),
			     (unsigned long long)(r->ns / 1000 % 1000000),
			     level_tag[r->level & 3], r->len, r->text);
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

static void console_write_all(const char *s, size_t len)
{
	for (struct console *c = console_list; c; c = c->next)
		c->write(c, s, len);
}

static void log_commit(enum log_level level, bool raw, const char *text)
{
	char line[LOG_LINE_MAX + 32];
	uint64_t flags = spin_lock_irqsave(&log_lock);
	struct log_record *r = &log_ring[log_next_seq % LOG_RECORDS];

	r->seq = log_next_seq++;
	r->ns = time_ns();
	r->level = (uint8_t)level;
	r->raw = raw;
	r->len = (uint16_t)strnlen(text, LOG_LINE_MAX - 1);
	memcpy(r->text, text, r->len);
	r->text[r->len] = 0;
	if (raw || level <= log_print_level)
		console_write_all(line, log_format(r, line, sizeof(line)));
	spin_unlock_irqrestore(&log_lock, flags);
}

void vklog(enum log_level level, const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	/* One record per line: a message with embedded newlines is split. */
	char *p = text;
	for (;;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (*p || !nl)
			log_commit(level, false, p);
		if (!nl || !nl[1])
			break;
		p = nl + 1;
	}
}

void klog(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vklog(level, fmt, ap);
	va_end(ap);
}

void kprint_line(const char *fmt, ...)
{
	char text[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_commit(LOG_INFO, true, text);
}

size_t log_read(uint64_t *seq, char *buf, size_t len)
{
	size_t used = 0;
	uint64_t flags = spin_lock_irqsave(&log_lock);
	uint64_t first = log_next_seq > LOG_RECORDS ? log_next_seq - LOG_RECORDS : 0;

	if (*seq < first)
		*seq = first;
	while (*seq < log_next_seq) {
		char line[LOG_LINE_MAX + 32];
		size_t n = log_format(&log_ring[*seq % LOG_RECORDS], line,
				      sizeof(line));
		if (used + n > len)
			break;
		memcpy(buf + used, line, n);
		used += n;
		(*seq)++;
	}
	spin_unlock_irqrestore(&log_lock, flags);
	return used;
}

void console_register(struct console *con)
{
	char line[LOG_LINE_MAX + 32];
	uint64_t flags = spin_lock_irqsave(&log_lock);
	uint64_t first = log_next_seq > LOG_RECORDS ? log_next_seq - LOG_RECORDS : 0;

	for (uint64_t s = first; s < log_next_seq; s++) {
		struct log_record *r = &log_ring[s % LOG_RECORDS];
		if (r->raw || r->level <= log_print_level)
			con->write(con, line, log_format(r, line, sizeof(line)));
	}
	con->next = console_list;
	console_list = con;
	spin_unlock_irqrestore(&log_lock, flags);
}

void console_emergency_write(const char *s, size_t len)
{
	console_write_all(s, len);
}
