/* The one logger. Lines go to one fd (the shim's log FIFO, or stderr), each with a single write(2)
 * of at most MINI_LOG_LINE_MAX bytes so lines never interleave. A failed or would-block write drops
 * the line and counts it: a stalled reader must never block the caller.
 *
 * Formats: logrus text, as containerd prints (time, level, msg, then fields in alphabetical order),
 * or JSON lines ({"level":…,"msg":…,"time":…}) as runc's --log-format json. */
#ifndef MINI_LOG_H
#define MINI_LOG_H

#include <stddef.h>

enum mini_log_level { MINI_LOG_ERROR, MINI_LOG_WARN, MINI_LOG_INFO, MINI_LOG_DEBUG };
enum mini_log_format { MINI_LOG_TEXT, MINI_LOG_JSON };

#define MINI_LOG_LINE_MAX 4096

struct mini_log_field {
	const char *key;
	const char *value;
};

/* Process-wide logger settings: set once at startup. `fields` are borrowed for the process life. */
void mini_log_init(int fd, enum mini_log_format format, enum mini_log_level level);
void mini_log_set_fields(const struct mini_log_field *fields, size_t n);
void mini_log_set_fd(int fd);
enum mini_log_level mini_log_get_level(void);
/* Lines dropped because the sink was full or closed. */
unsigned long mini_log_dropped(void);

void mini_log(enum mini_log_level level, const struct mini_log_field *extra, size_t n_extra,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_error(...) mini_log(MINI_LOG_ERROR, NULL, 0, __VA_ARGS__)
#define log_warn(...) mini_log(MINI_LOG_WARN, NULL, 0, __VA_ARGS__)
#define log_info(...) mini_log(MINI_LOG_INFO, NULL, 0, __VA_ARGS__)
#define log_debug(...)                                                  \
	do {                                                            \
		if (mini_log_get_level() >= MINI_LOG_DEBUG)             \
			mini_log(MINI_LOG_DEBUG, NULL, 0, __VA_ARGS__); \
	} while (0)

/* Formatting, exposed for tests and for callers that write elsewhere. Each writes at most cap-1
 * bytes plus NUL into buf, ending in '\n', truncating the message with "…" when needed; returns the
 * length. `t` is a unix time in ns. Fields are sorted by key in the text format. */
size_t mini_log_format_text(char *buf, size_t cap, long long t_ns, enum mini_log_level level,
			    const char *msg, const struct mini_log_field *fields, size_t n);
size_t mini_log_format_json(char *buf, size_t cap, long long t_ns, enum mini_log_level level,
			    const char *msg, const struct mini_log_field *fields, size_t n);

/* Go's %q-style quoting decision of logrus: true if s needs quotes. */
int mini_log_needs_quoting(const char *s);

#endif
