#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The logger context: the one process-wide object besides the loop (STYLE.md §8). */
static struct {
	int fd;
	enum mini_log_format format;
	enum mini_log_level level;
	const struct mini_log_field *fields;
	size_t n_fields;
	unsigned long dropped;
} logger = { .fd = 2, .format = MINI_LOG_TEXT, .level = MINI_LOG_INFO };

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void
mini_log_init(int fd, enum mini_log_format format, enum mini_log_level level)
{
	logger.fd = fd;
	logger.format = format;
	logger.level = level;
}

void
mini_log_set_fields(const struct mini_log_field *fields, size_t n)
{
	logger.fields = fields;
	logger.n_fields = n;
}

void
mini_log_set_fd(int fd)
{
	logger.fd = fd;
}

enum mini_log_level
mini_log_get_level(void)
{
	return logger.level;
}

unsigned long
mini_log_dropped(void)
{
	return logger.dropped;
}

/* A bounded appender: writes stop at the capacity, leaving room for the "…\n" tail. */
struct sbuf {
	char *p;
	size_t cap, len;
	int full;
};

static void
sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
	else
		b->full = 1;
}

static void
sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_puts(b, tmp);
}

int
mini_log_needs_quoting(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._/@^+", c))
			continue;
		return 1;
	}
	return 0;
}

enum quote_style { QUOTE_GO, QUOTE_JSON };

/* A quoted string, escaped as Go's strconv.Quote (logrus text) or as JSON; the common escapes are
 * the same, other ASCII controls differ (\xNN vs \u00NN, DEL only in Go). UTF-8 passes through. */
static void
sb_quoted(struct sbuf *b, const char *s, enum quote_style style)
{
	sb_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;

		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		}
		if (esc)
			sb_puts(b, esc);
		else if (style == QUOTE_JSON && c < 0x20)
			sb_printf(b, "\\u%04x", c);
		else if (style == QUOTE_GO && (c < 0x20 || c == 0x7f))
			sb_printf(b, "\\x%02x", c);
		else
			sb_putc(b, (char)c);
	}
	sb_putc(b, '"');
}

static void
format_time(char *out, size_t cap, long long t_ns)
{
	time_t sec = (time_t)(t_ns / 1000000000LL);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t_ns % 1000000000LL);
}

/* Ends the line; if it overflowed, replaces the tail with "…" so the line stays valid-looking. */
static size_t
sb_finish(struct sbuf *b)
{
	static const char ell[] = "\xe2\x80\xa6\n"; /* "…\n" */

	if (b->full || b->len + 2 > b->cap) {
		size_t need = sizeof(ell) - 1;
		b->len = b->cap - 1 >= need ? b->cap - 1 - need : 0;
		memcpy(b->p + b->len, ell, need);
		b->len += need;
	} else {
		b->p[b->len++] = '\n';
	}
	b->p[b->len] = '\0';
	return b->len;
}

static int
cmp_field(const void *a, const void *b)
{
	return strcmp(((const struct mini_log_field *)a)->key,
		      ((const struct mini_log_field *)b)->key);
}

size_t
mini_log_format_text(char *buf, size_t cap, long long t_ns, enum mini_log_level level,
		     const char *msg, const struct mini_log_field *fields, size_t n)
{
	struct sbuf b = { .p = buf, .cap = cap - 1 };
	struct mini_log_field sorted[64];
	char ts[64];
	size_t i;

	if (n > 64)
		n = 64;
	if (n)
		memcpy(sorted, fields, n * sizeof(*fields));
	qsort(sorted, n, sizeof(*sorted), cmp_field);
	format_time(ts, sizeof(ts), t_ns);
	sb_printf(&b, "time=\"%s\" level=%s msg=", ts, level_names[level]);
	sb_quoted(&b, msg, QUOTE_GO);
	for (i = 0; i < n; i++) {
		sb_putc(&b, ' ');
		sb_puts(&b, sorted[i].key);
		sb_putc(&b, '=');
		if (mini_log_needs_quoting(sorted[i].value))
			sb_quoted(&b, sorted[i].value, QUOTE_GO);
		else
			sb_puts(&b, sorted[i].value);
	}
	b.cap = cap;
	return sb_finish(&b);
}

size_t
mini_log_format_json(char *buf, size_t cap, long long t_ns, enum mini_log_level level,
		     const char *msg, const struct mini_log_field *fields, size_t n)
{
	struct sbuf b = { .p = buf, .cap = cap - 1 };
	char ts[64];
	size_t i;

	format_time(ts, sizeof(ts), t_ns);
	sb_puts(&b, "{\"level\":");
	sb_quoted(&b, level_names[level], QUOTE_JSON);
	sb_puts(&b, ",\"msg\":");
	sb_quoted(&b, msg, QUOTE_JSON);
	sb_printf(&b, ",\"time\":\"%s\"", ts);
	for (i = 0; i < n; i++) {
		sb_putc(&b, ',');
		sb_quoted(&b, fields[i].key, QUOTE_JSON);
		sb_putc(&b, ':');
		sb_quoted(&b, fields[i].value, QUOTE_JSON);
	}
	sb_putc(&b, '}');
	if (b.full) {
		/* A truncated JSON object is useless to a parser: keep it well-formed instead. */
		b = (struct sbuf){ .p = buf, .cap = cap - 1 };
		sb_puts(&b, "{\"level\":");
		sb_quoted(&b, level_names[level], QUOTE_JSON);
		sb_puts(&b, ",\"msg\":\"(message too long)\"}");
	}
	b.cap = cap;
	return sb_finish(&b);
}

void
mini_log(enum mini_log_level level, const struct mini_log_field *extra, size_t n_extra,
	 const char *fmt, ...)
{
	struct mini_log_field all[64];
	char msg[MINI_LOG_LINE_MAX], line[MINI_LOG_LINE_MAX];
	struct timespec ts;
	size_t n = 0, i, len;
	va_list ap;
	int saved = errno;

	if (level > logger.level || logger.fd < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i < logger.n_fields && n < 64; i++)
		all[n++] = logger.fields[i];
	for (i = 0; i < n_extra && n < 64; i++)
		all[n++] = extra[i];
	clock_gettime(CLOCK_REALTIME, &ts);
	if (logger.format == MINI_LOG_JSON)
		len = mini_log_format_json(line, sizeof(line),
					   ts.tv_sec * 1000000000LL + ts.tv_nsec, level, msg, all,
					   n);
	else
		len = mini_log_format_text(line, sizeof(line),
					   ts.tv_sec * 1000000000LL + ts.tv_nsec, level, msg, all,
					   n);
	if (write(logger.fd, line, len) != (ssize_t)len)
		logger.dropped++;
	errno = saved;
}
