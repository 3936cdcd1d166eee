/*
 * log.c - the log ring and the console list. Every record is kept in a fixed
 * ring (no allocation, usable before mm exists); records at or below the print
 * level also go to every registered console. One lock (log_lock, irqsave)
 * guards the ring.
 *
 * Records reach the consoles in order, each once, from console_seq up. Until
 * console_set_async(true) the CPU that logs writes them itself; after it only the
 * console thread does (console_service), so a CPU that logs - a vCPU passing
 * on its guest's line - never waits for a slow console: a 115200-baud UART
 * takes 7 ms for a line, a framebuffer redraw under TCG tens of milliseconds.
 * One CPU at a time writes to the consoles (console_busy); a writer that
 * finds it taken leaves its record to the holder, which looks again after
 * letting go, so lines never interleave and none is left behind.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

#define LOG_RECORDS 1024
/* How long a writer waits for a console another CPU holds before writing
 * anyway (that CPU may have died while printing): far longer than a line. */
#define CONSOLE_SPIN_LIMIT (1ul << 24)

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

static uint64_t console_seq;	  /* the next record the consoles show */
static volatile int console_busy; /* a CPU is writing to the consoles */
static volatile bool console_async;
static bool console_dirty;	  /* written to since the last flush */
static uint64_t console_flush_ns; /* when they were last flushed */

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

/* ------------------------------------------------------------ consoles -- */

static void console_write_all(const char *s, size_t len)
{
	for (struct console *c = console_list; c; c = c->next)
		c->write(c, s, len);
	console_dirty = true;
}

static void console_flush_all(void)
{
	for (struct console *c = console_list; c; c = c->next)
		if (c->flush)
			c->flush(c);
	console_dirty = false;
}

static bool console_claim(void)
{
	return !__atomic_exchange_n(&console_busy, 1, __ATOMIC_ACQUIRE);
}

/* Waits a bounded time, then goes ahead: the holder may be this CPU,
 * interrupted, or a CPU that died while printing. */
static void console_claim_wait(void)
{
	for (unsigned long i = 0; i < CONSOLE_SPIN_LIMIT; i++) {
		if (console_claim())
			return;
		__asm__ volatile("pause" ::: "memory");
	}
}

static void console_release(void)
{
	__atomic_store_n(&console_busy, 0, __ATOMIC_SEQ_CST);
}

static bool console_pending(void)
{
	return __atomic_load_n(&log_next_seq, __ATOMIC_SEQ_CST) !=
	       __atomic_load_n(&console_seq, __ATOMIC_SEQ_CST);
}

/* The next record to show, formatted into line; false when none waits.
 * *lost counts records overwritten before the consoles got to them. In a
 * panic the lock is only tried: the dying CPU may hold it. */
static bool console_next(char *line, size_t cap, size_t *len, uint64_t *lost,
			 bool panicking)
{
	uint64_t flags = 0;
	bool locked = true, found = false;

	if (panicking) {
		unsigned long i = 0;
		while (!spin_trylock(&log_lock) && ++i < CONSOLE_SPIN_LIMIT)
			__asm__ volatile("pause" ::: "memory");
		locked = i < CONSOLE_SPIN_LIMIT;
	} else {
		flags = spin_lock_irqsave(&log_lock);
	}
	uint64_t first = log_next_seq > LOG_RECORDS ? log_next_seq - LOG_RECORDS : 0;
	if (console_seq < first) {
		*lost += first - console_seq;
		console_seq = first;
	}
	while (!found && console_seq < log_next_seq) {
		const struct log_record *r = &log_ring[console_seq % LOG_RECORDS];
		console_seq++;
		if (r->raw || r->level <= log_print_level) {
			*len = log_format(r, line, cap);
			found = true;
		}
	}
	if (panicking) {
		if (locked)
			spin_unlock(&log_lock);
	} else {
		spin_unlock_irqrestore(&log_lock, flags);
	}
	return found;
}

static void console_note_lost(uint64_t lost)
{
	char note[128];
	int n = snprintf(note, sizeof(note),
			 "keel: %llu log lines not shown here: logged faster than "
			 "the consoles print (the log ring had no room)\n",
			 (unsigned long long)lost);
	if (n > 0)
		console_write_all(note, (size_t)n < sizeof(note) ? (size_t)n
								  : sizeof(note) - 1);
}

/* Write every waiting record; the caller holds console_busy. */
static void console_drain(bool panicking)
{
	char line[LOG_LINE_MAX + 32];
	uint64_t lost = 0;
	size_t len = 0;

	for (;;) {
		bool found = console_next(line, sizeof(line), &len, &lost, panicking);
		if (lost) {
			console_note_lost(lost);
			lost = 0;
		}
		if (!found)
			break;
		console_write_all(line, len);
	}
}

/* Before console_set_async(true): the logging CPU shows what waits, unless
 * another writer holds the consoles (it will pick the record up). */
static void console_sync(void)
{
	while (console_pending()) {
		if (!console_claim())
			return;
		console_drain(false);
		console_flush_all();
		console_release();
	}
}

static void log_commit(enum log_level level, bool raw, const char *text)
{
	uint64_t flags = spin_lock_irqsave(&log_lock);
	struct log_record *r = &log_ring[log_next_seq % LOG_RECORDS];

	r->seq = log_next_seq;
	r->ns = time_ns();
	r->level = (uint8_t)level;
	r->raw = raw;
	r->len = (uint16_t)strnlen(text, LOG_LINE_MAX - 1);
	memcpy(r->text, text, r->len);
	r->text[r->len] = 0;
	__atomic_store_n(&log_next_seq, log_next_seq + 1, __ATOMIC_SEQ_CST);
	spin_unlock_irqrestore(&log_lock, flags);
	if (!console_async)
		console_sync();
}

void console_set_async(bool async)
{
	console_async = async;
}

bool console_service(uint64_t now_ns, uint64_t flush_every_ns)
{
	bool wrote = false;

	if (!console_claim())
		return false; /* someone is writing: it shows what waits */
	if (console_pending()) {
		console_drain(false);
		wrote = true;
	}
	if (console_dirty && now_ns - console_flush_ns >= flush_every_ns) {
		console_flush_all();
		console_flush_ns = now_ns;
	}
	console_release();
	return wrote;
}

/* Everything waiting, written and made visible, even if another CPU seems
 * to hold the consoles. */
static void console_flush_now(bool panicking)
{
	console_claim_wait();
	console_drain(panicking);
	console_flush_all();
	console_release();
}

void console_flush(void)
{
	console_flush_now(false);
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

/* The new console first gets what the others have shown (still in the
 * ring), then joins them for what is to come. */
void console_register(struct console *con)
{
	char line[LOG_LINE_MAX + 32];

	console_claim_wait();
	uint64_t flags = spin_lock_irqsave(&log_lock);
	uint64_t first = log_next_seq > LOG_RECORDS ? log_next_seq - LOG_RECORDS : 0;

	for (uint64_t s = first; s < console_seq; s++) {
		struct log_record *r = &log_ring[s % LOG_RECORDS];
		if (r->raw || r->level <= log_print_level)
			con->write(con, line, log_format(r, line, sizeof(line)));
	}
	if (con->flush)
		con->flush(con);
	con->next = console_list;
	console_list = con;
	spin_unlock_irqrestore(&log_lock, flags);
	console_drain(false);
	console_flush_all();
	console_release();
}

void console_emergency_write(const char *s, size_t len)
{
	console_claim_wait();
	console_write_all(s, len);
	console_flush_all();
	console_release();
}

void console_panic_flush(void)
{
	console_async = false;
	console_flush_now(true);
}
