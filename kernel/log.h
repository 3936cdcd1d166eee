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
#include <stdbool.h>
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
 * '\n') through write(), and flush() (optional) makes what it wrote visible:
 * a framebuffer redraws there, so a burst of lines costs one redraw. Both
 * must work with interrupts off and must not take locks a faulting CPU may
 * hold. One CPU at a time calls them. */
struct console {
	const char *name;
	void (*write)(struct console *con, const char *s, size_t len);
	void (*flush)(struct console *con);
	struct console *next;
};
void console_register(struct console *con); /* replays the ring so far */

/* Until console_set_async(true) (once the scheduler runs) a CPU that logs
 * writes to the consoles itself. After it, logging only fills the ring and
 * a console thread calls console_service() now and then: it writes what
 * waits and flushes at most every flush_every_ns; true if it wrote. Before
 * the machine goes down, console_set_async(false) and console_flush(). */
void console_set_async(bool async);
bool console_service(uint64_t now_ns, uint64_t flush_every_ns);
void console_flush(void);
/* Straight to every console, bypassing the ring (the shell's "log",
 * panic); waits a bounded time for a CPU that is writing. */
void console_emergency_write(const char *s, size_t len);
/* A panic: what the ring holds that the consoles have not shown yet, with
 * the lock only tried (the dying CPU may hold it); consoles synchronous. */
void console_panic_flush(void);

#endif
