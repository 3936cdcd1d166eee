/*
 * log.h - Keel's log: one ring buffer of timestamped, levelled records that every
 * console (serial, framebuffer) prints and the management API will read.
 *
 * klog() may be called from any CPU, with interrupts on or off, before any
 * console exists (records wait in the ring and are replayed when a console
 * attaches). Lines longer than LOG_LINE_MAX are cut.
 */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 256

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

void klog(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vklog(enum log_level level, const char *fmt, va_list ap);

#define log_err(...) klog(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) klog(LOG_WARN, __VA_ARGS__)
#define log_info(...) klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

/* Records above this level are kept in the ring but not printed. */
void log_set_level(enum log_level level);

/* Print a line on every console regardless of level, without a timestamp
 * (for the lines scripts match: "keel: ready ...") - it is also logged. */
void kprint_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read records from the ring: copies text lines ("[  12.345678] I msg\n")
 * starting at sequence *seq into buf; updates *seq. Returns bytes written. */
size_t log_read(uint64_t *seq, char *buf, size_t len);

/* Console sinks. A console gets every printed line (already formatted, with
 * '\n'). write() must work with interrupts off and must not take locks a
 * faulting CPU may hold; panic() switches consoles to their emergency path. */
struct console {
	const char *name;
	void (*write)(struct console *con, const char *s, size_t len);
	struct console *next;
};
void console_register(struct console *con); /* replays the ring so far */
/* Write straight to every console, bypassing the ring and its lock (panic). */
void console_emergency_write(const char *s, size_t len);

#endif
