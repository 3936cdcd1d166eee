/*
 * test_log.c - kernel/log.c: the ring and how records reach the consoles.
 * Before console_set_async(true) the CPU that logs writes (and flushes) at
 * once; after it, logging only fills the ring and console_service() writes,
 * in order, each record once, flushing at most every flush_every_ns. A
 * console that logs from inside its own write (an interrupt on the writing
 * CPU) neither deadlocks nor loses the line; records overwritten before they
 * were shown are counted on the console; a console registered late gets what
 * the others showed.
 *
 * log.c keeps static state for the whole process, so every test first
 * drains what earlier ones left (console_flush) and the consoles keep what
 * they saw in buffers the tests clear.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/log.h"

static uint64_t fake_now;
uint64_t time_ns(void)
{
	return fake_now;
}

struct mock {
	struct console con;
	char text[1 << 20];
	size_t len;
	unsigned writes, flushes;
	size_t flushed_len; /* len at the last flush */
};

static struct mock mock_a, mock_b;
static int log_from_write; /* mock_a logs this many lines from its write */

static void mock_write(struct console *con, const char *s, size_t len)
{
	struct mock *m = (struct mock *)con;
	assert_true(m->len + len < sizeof(m->text));
	memcpy(m->text + m->len, s, len);
	m->len += len;
	m->text[m->len] = 0;
	m->writes++;
	if (m == &mock_a && log_from_write > 0) {
		log_from_write--;
		kprint_line("from inside a write");
	}
}

static void mock_flush(struct console *con)
{
	struct mock *m = (struct mock *)con;
	m->flushes++;
	m->flushed_len = m->len;
}

static void mock_clear(struct mock *m)
{
	m->len = 0;
	m->text[0] = 0;
	m->writes = m->flushes = 0;
	m->flushed_len = 0;
}

static int setup(void **state)
{
	console_set_async(false);
	console_flush();
	mock_clear(&mock_a);
	mock_clear(&mock_b);
	log_set_level(LOG_INFO);
	return 0;
}

static void test_register_replays_the_ring(void **state)
{
	/* Logged before any console: kept, shown when one attaches. */
	klog(LOG_INFO, "early line");
	klog(LOG_DEBUG, "debug line");
	mock_a.con.name = "a";
	mock_a.con.write = mock_write;
	mock_a.con.flush = mock_flush;
	console_register(&mock_a.con);
	assert_non_null(strstr(mock_a.text, "early line\n"));
	assert_null(strstr(mock_a.text, "debug line"));
	assert_true(mock_a.flushes >= 1);
	assert_int_equal(mock_a.flushed_len, mock_a.len);
}

static void test_sync_writes_and_flushes_at_once(void **state)
{
	fake_now = 1234567000;
	klog(LOG_WARN, "disk %d is gone", 3);
	assert_string_equal(mock_a.text, "[    1.234567] WARN disk 3 is gone\n");
	assert_int_equal(mock_a.flushes, 1);
	kprint_line("keel: ready cpus=%u", 2);
	assert_string_equal(mock_a.text + strlen("[    1.234567] WARN disk 3 is gone\n"),
			    "keel: ready cpus=2\n");
	assert_int_equal(mock_a.flushes, 2);
	/* Embedded newlines make one record per line. */
	mock_clear(&mock_a);
	klog(LOG_INFO, "one\ntwo\n");
	assert_string_equal(mock_a.text, "[    1.234567] one\n[    1.234567] two\n");
}

static void test_async_waits_for_the_service(void **state)
{
	console_set_async(true);
	for (int i = 0; i < 5; i++)
		kprint_line("line %d", i);
	assert_int_equal(mock_a.len, 0);
	fake_now = 10000000000ull;
	assert_true(console_service(fake_now, 40000000));
	assert_string_equal(mock_a.text, "line 0\nline 1\nline 2\nline 3\nline 4\n");
	assert_int_equal(mock_a.flushes, 1);
	assert_false(console_service(fake_now, 40000000)); /* nothing new */

	/* A second batch 10 ms later is written but not flushed (40 ms)... */
	kprint_line("line 5");
	fake_now += 10000000;
	assert_true(console_service(fake_now, 40000000));
	assert_non_null(strstr(mock_a.text, "line 5\n"));
	assert_int_equal(mock_a.flushes, 1);
	assert_true(mock_a.flushed_len < mock_a.len);
	/* ...until 40 ms have passed since the last flush, work or not. */
	fake_now += 30000000;
	assert_false(console_service(fake_now, 40000000));
	assert_int_equal(mock_a.flushes, 2);
	assert_int_equal(mock_a.flushed_len, mock_a.len);
	/* No more flushes while nothing is written. */
	fake_now += 100000000;
	console_service(fake_now, 40000000);
	assert_int_equal(mock_a.flushes, 2);
}

static void test_flush_empties_the_ring_in_async_mode(void **state)
{
	console_set_async(true);
	kprint_line("keel: powering off");
	assert_int_equal(mock_a.len, 0);
	console_flush();
	assert_string_equal(mock_a.text, "keel: powering off\n");
	assert_int_equal(mock_a.flushed_len, mock_a.len);
}

static void test_overflow_is_counted(void **state)
{
	console_set_async(true);
	for (int i = 0; i < 1024 + 10; i++)
		kprint_line("burst %d", i);
	console_service(fake_now, 0);
	/* The ten oldest were overwritten: said so first, then the rest in
	 * order. */
	assert_true(!strncmp(mock_a.text, "keel: 10 log lines not shown here", 33));
	char *first = strstr(mock_a.text, "burst ");
	assert_non_null(first);
	assert_true(!strncmp(first, "burst 10\n", 9));
	assert_non_null(strstr(mock_a.text, "burst 1033\n"));
	assert_null(strstr(mock_a.text, "burst 9\n"));
	unsigned lines = 0;
	for (char *p = mock_a.text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 1024);
}

static void test_a_line_logged_while_writing_is_not_lost(void **state)
{
	/* Sync mode: the inner kprint_line finds the consoles taken and leaves
	 * its record to the writer, which shows it after the outer line. */
	log_from_write = 1;
	kprint_line("outer");
	assert_string_equal(mock_a.text, "outer\nfrom inside a write\n");
	/* Async: the same through the service. */
	mock_clear(&mock_a);
	console_set_async(true);
	log_from_write = 1;
	kprint_line("outer");
	console_service(fake_now, 0);
	assert_string_equal(mock_a.text, "outer\nfrom inside a write\n");
	log_from_write = 0;
}

static void test_late_console_gets_what_was_shown(void **state)
{
	console_set_async(true);
	kprint_line("shown before b");
	console_service(fake_now, 0);
	kprint_line("pending when b comes");
	mock_b.con.name = "b";
	mock_b.con.write = mock_write;
	console_register(&mock_b.con);
	/* b: the replay (which ends with what a showed) and the pending line;
	 * a: only the pending line, once. */
	assert_non_null(strstr(mock_b.text, "shown before b\npending when b comes\n"));
	assert_string_equal(mock_a.text, "shown before b\npending when b comes\n");
	kprint_line("to both");
	console_service(fake_now, 0);
	assert_non_null(strstr(mock_a.text, "when b comes\nto both\n"));
	assert_non_null(strstr(mock_b.text, "when b comes\nto both\n"));
}

static void test_emergency_write_bypasses_the_ring(void **state)
{
	console_set_async(true);
	kprint_line("queued");
	console_emergency_write("PANIC now\n", 10);
	assert_string_equal(mock_a.text, "PANIC now\n");
	assert_int_equal(mock_a.flushed_len, mock_a.len);
	/* A panic shows what was queued, and logging is synchronous after. */
	mock_clear(&mock_a);
	console_panic_flush();
	assert_string_equal(mock_a.text, "queued\n");
	kprint_line("after the panic");
	assert_string_equal(mock_a.text, "queued\nafter the panic\n");
}

static void test_log_read_is_unchanged(void **state)
{
	char buf[8192];
	uint64_t seq = 0;
	size_t n, total = 0;

	console_set_async(true);
	kprint_line("for the API");
	while ((n = log_read(&seq, buf, sizeof(buf) - 1)) > 0)
		total += n, buf[n] = 0;
	assert_true(total > 0);
	/* The last chunk ends with the newest record, shown or not. */
	assert_non_null(strstr(buf, "for the API\n"));
	assert_int_equal(mock_a.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_register_replays_the_ring, setup),
		cmocka_unit_test_setup(test_sync_writes_and_flushes_at_once, setup),
		cmocka_unit_test_setup(test_async_waits_for_the_service, setup),
		cmocka_unit_test_setup(test_flush_empties_the_ring_in_async_mode, setup),
		cmocka_unit_test_setup(test_overflow_is_counted, setup),
		cmocka_unit_test_setup(test_a_line_logged_while_writing_is_not_lost,
				       setup),
		cmocka_unit_test_setup(test_late_console_gets_what_was_shown, setup),
		cmocka_unit_test_setup(test_emergency_write_bypasses_the_ring, setup),
		cmocka_unit_test_setup(test_log_read_is_unchanged, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
