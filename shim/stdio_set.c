#include "stdio_set.h"
#include "cleanup.h"
#include "copy.h"
#include "fs.h"
#include "log.h"
#include "reaper.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#define LOGGER_TERM_TIMEOUT_MS 12000
#define OUTPUT_PIPE_SIZE (1 << 20)
#define FLUSH_POLL_MS 5
#define FLUSH_STALL_MS 100

enum stdio_mode { MODE_NULL, MODE_PIPES, MODE_TERMINAL, MODE_BINARY };

struct logger;

struct stdio_set {
	uv_loop_t *loop;
	struct reaper *reaper;
	enum stdio_mode mode;
	int child[3];
	/* What the copies will connect, until stdio_start/attach hand them to copiers. */
	int in_src;	/* stdin FIFO, read side */
	int in_dst;	/* the process's stdin pipe, write side */
	int out_src[2]; /* the process's stdout/stderr pipes, read side */
	int out_dst[2]; /* the FIFOs or files they go to */
	int stdin_keep; /* extra write end of the stdin FIFO, dropped by CloseIO */
	int console;	/* pty master, kept for ResizePty */
	struct copier *in, *out[2];
	struct logger *logger;
	/* drain */
	uv_timer_t timer; /* the overall deadline */
	uv_timer_t flush; /* polls the readers' progress (phase 2) */
	bool timers_ready;
	int open_timers;
	int drain_pending;
	bool drain_eof;
	size_t last_unread;
	uint64_t last_progress;
	void (*drain_cb)(void *data);
	void *drain_data;
	void (*ready_cb)(struct mini_err *err, void *data);
	void *ready_data;
	bool destroyed;
};

struct logger {
	pid_t pid;
	bool exited;
	int ready_fd;
	uv_poll_t ready_poll;
	bool polling;
	uv_timer_t kill_timer;
	bool timer_ready;
	int open_handles;
	bool orphaned; /* stdio is gone; free when the process and handles are done */
	struct stdio_set *io;
};

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* "scheme://rest" → scheme length, or 0 when the string has no URI scheme (a plain path). */
static size_t
uri_scheme(const char *s)
{
	size_t n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z'))
		n++;
	return n > 0 && strncmp(s + n, "://", 3) == 0 ? n : 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding of n bytes; '+' becomes a space when `query` (as Go's url.ParseQuery). */
static char *
unescape(const char *s, size_t n, bool query)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 1 && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (query && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* The path of "scheme://host/path?query" (host ignored). Caller owns it. */
static char *
uri_path(const char *uri, size_t scheme_len)
{
	const char *p = uri + scheme_len + 3, *q;

	p = strchr(p, '/') ? strchr(p, '/') : p + strlen(p);
	q = strchr(p, '?');
	return unescape(p, q ? (size_t)(q - p) : strlen(p), false);
}

static int
make_pipe(int fds[2], uid_t uid, gid_t gid, struct mini_err **err)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return mini_err_set(err, errno, "create stdio pipe");
	if ((uid || gid) && (fchown(fds[0], uid, gid) < 0 || fchown(fds[1], uid, gid) < 0)) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return mini_err_set(err, e, "chown stdio pipe to %u:%u", uid, gid);
	}
	return 0;
}

/* An output target: a FIFO is opened read-write (the read side is the keep-alive: writes never
 * see EPIPE while the client is away, and a new client can attach later); anything else is a
 * file appended to. */
static int
open_output(const char *path, int *out, struct mini_err **err)
{
	struct stat st;
	int fd;
	bool fifo = stat(path, &st) == 0 && S_ISFIFO(st.st_mode);

	if (fifo)
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return mini_err_set(err, errno, "open %s", path);
	/* As the process's pipes. Pending output at exit is still flushed to the reader before
	 * the exit is reported (stdio_drain). Best effort. */
	if (fifo)
		fcntl(fd, F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
	*out = fd;
	return 0;
}

/* stdin FIFO: a non-blocking reader, and an extra writer so the reader sees no EOF while the
 * client merely reconnects; CloseIO drops the extra writer. */
static int
open_stdin(struct stdio_set *io, const char *path, struct mini_err **err)
{
	io->in_src = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->in_src < 0)
		return mini_err_set(err, errno, "open stdin fifo %s", path);
	io->stdin_keep = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->stdin_keep < 0)
		return mini_err_set(err, errno, "open stdin fifo %s for writing", path);
	return 0;
}

static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

static int
setup_file_uri(struct stdio_set *io, const struct stdio_cfg *cfg, size_t slen,
	       struct mini_err **err)
{
	_cleanup_free_ char *path = uri_path(cfg->stdout_path, slen);
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd;

	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0755, err) < 0)
			return mini_err_wrap(err, "log uri %s", cfg->stdout_path);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return mini_err_set(err, errno, "open log file %s", path);
	io->out_dst[0] = fd;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return mini_err_set(err, errno, "open log file %s", path);
	io->out_dst[1] = fd;
	return 0;
}

static int
setup_pipes(struct stdio_set *io, const struct stdio_cfg *cfg, struct mini_err **err)
{
	const char *outs[2] = { cfg->stdout_path, cfg->stderr_path };
	size_t slen = uri_scheme(cfg->stdout_path);
	bool file_uri = slen == 4 && strncmp(cfg->stdout_path, "file", 4) == 0;
	int p[2];

	if (slen && !file_uri && !(slen == 4 && strncmp(cfg->stdout_path, "fifo", 4) == 0))
		return mini_err_set(err, EINVAL, "unknown STDIO scheme %.*s", (int)slen,
				    cfg->stdout_path);
	if (file_uri && setup_file_uri(io, cfg, slen, err) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		const char *path = outs[i];

		if (!file_uri && empty(path))
			continue;
		if (!file_uri && uri_scheme(path))
			path += uri_scheme(path) + 3;
		if (!file_uri && open_output(path, &io->out_dst[i], err) < 0)
			return -1;
		if (make_pipe(p, cfg->uid, cfg->gid, err) < 0)
			return -1;
		/* A roomier pipe means fewer wake-ups per megabyte for chatty containers; pages
		 * are only allocated while data waits in it. Best effort. */
		fcntl(p[0], F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
		io->out_src[i] = p[0];
		io->child[i + 1] = p[1];
	}
	if (!empty(cfg->stdin_path)) {
		if (open_stdin(io, cfg->stdin_path, err) < 0)
			return -1;
		if (make_pipe(p, cfg->uid, cfg->gid, err) < 0)
			return -1;
		io->child[0] = p[0];
		io->in_dst = p[1];
	}
	return 0;
}

static int setup_binary(struct stdio_set *io, const struct stdio_cfg *cfg, size_t slen,
			struct mini_err **err);

struct stdio_set *
stdio_open(uv_loop_t *loop, struct reaper *reaper, const struct stdio_cfg *cfg, int child[3],
	   struct mini_err **err)
{
	struct stdio_set *io = xcalloc(1, sizeof(*io));
	size_t slen;
	int rc = 0;

	io->loop = loop;
	io->reaper = reaper;
	io->in_src = io->in_dst = io->stdin_keep = io->console = -1;
	for (int i = 0; i < 3; i++)
		io->child[i] = -1;
	for (int i = 0; i < 2; i++)
		io->out_src[i] = io->out_dst[i] = -1;
	slen = empty(cfg->stdout_path) ? 0 : uri_scheme(cfg->stdout_path);
	if (cfg->terminal) {
		io->mode = MODE_TERMINAL;
		if (!empty(cfg->stdin_path))
			rc = open_stdin(io, cfg->stdin_path, err);
		if (rc == 0 && !empty(cfg->stdout_path))
			rc = open_output(cfg->stdout_path, &io->out_dst[0], err);
	} else if (empty(cfg->stdin_path) && empty(cfg->stdout_path) && empty(cfg->stderr_path)) {
		io->mode = MODE_NULL;
	} else if (slen == 6 && strncmp(cfg->stdout_path, "binary", 6) == 0) {
		io->mode = MODE_BINARY;
		rc = setup_binary(io, cfg, slen, err);
	} else {
		io->mode = MODE_PIPES;
		rc = setup_pipes(io, cfg, err);
	}
	if (rc < 0) {
		stdio_destroy(io);
		return NULL;
	}
	for (int i = 0; i < 3; i++)
		child[i] = io->child[i];
	return io;
}

void
stdio_child_fds(const struct stdio_set *io, int child[3])
{
	for (int i = 0; i < 3; i++)
		child[i] = io->child[i];
}

void
stdio_close_child(struct stdio_set *io)
{
	for (int i = 0; i < 3; i++)
		close_fd(&io->child[i]);
}

static const char *const out_names[2] = { "stdout", "stderr" };

int
stdio_start(struct stdio_set *io, struct mini_err **err)
{
	stdio_close_child(io);
	if (io->mode != MODE_PIPES)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (io->out_src[i] < 0 || io->out_dst[i] < 0)
			continue;
		io->out[i] =
			copier_new(io->loop, out_names[i], io->out_src[i], io->out_dst[i], err);
		io->out_src[i] = io->out_dst[i] = -1;
		if (io->out[i] == NULL)
			return -1;
		copier_linger(io->out[i]);
	}
	if (io->in_src >= 0 && io->in_dst >= 0) {
		io->in = copier_new(io->loop, "stdin", io->in_src, io->in_dst, err);
		io->in_src = io->in_dst = -1;
		if (io->in == NULL)
			return -1;
	}
	return 0;
}

int
stdio_attach_console(struct stdio_set *io, int master, struct mini_err **err)
{
	int dup_out = -1, dup_in = -1;

	io->console = master;
	if (io->out_dst[0] >= 0) {
		dup_out = fcntl(master, F_DUPFD_CLOEXEC, 3);
		if (dup_out < 0)
			return mini_err_set(err, errno, "dup console master");
		io->out[0] = copier_new(io->loop, "console", dup_out, io->out_dst[0], err);
		io->out_dst[0] = -1;
		if (io->out[0] == NULL)
			return -1;
		copier_linger(io->out[0]);
	}
	if (io->in_src >= 0) {
		dup_in = fcntl(master, F_DUPFD_CLOEXEC, 3);
		if (dup_in < 0)
			return mini_err_set(err, errno, "dup console master");
		io->in = copier_new(io->loop, "console stdin", io->in_src, dup_in, err);
		io->in_src = -1;
		if (io->in == NULL)
			return -1;
	}
	return 0;
}

int
stdio_resize(struct stdio_set *io, uint32_t width, uint32_t height, struct mini_err **err)
{
	struct winsize ws = { .ws_col = (unsigned short)width, .ws_row = (unsigned short)height };

	if (io == NULL || io->console < 0)
		return 0;
	if (ioctl(io->console, TIOCSWINSZ, &ws) < 0)
		return mini_err_set(err, errno, "resize console");
	return 0;
}

void
stdio_close_stdin(struct stdio_set *io)
{
	if (io)
		close_fd(&io->stdin_keep);
}

/* Output the reader has not taken yet, over both FIFOs. */
static size_t
unread_total(const struct stdio_set *io)
{
	size_t n = 0;

	for (int i = 0; i < 2; i++)
		if (io->out[i])
			n += copier_unread(io->out[i]);
	return n;
}

static void
finish_drain(struct stdio_set *io)
{
	void (*cb)(void *) = io->drain_cb;

	if (cb == NULL)
		return;
	io->drain_cb = NULL;
	uv_timer_stop(&io->timer);
	uv_timer_stop(&io->flush);
	for (int i = 0; i < 2; i++) {
		if (io->out[i] == NULL)
			continue;
		copier_cancel_drain(io->out[i]);
		copier_release(io->out[i]);
	}
	cb(io->drain_data);
}

/* Phase 2 of an exit drain: everything is in the FIFOs; wait while the reader keeps taking it,
 * so that a client which closes its FIFOs as soon as Wait returns (ctr run does) has read the
 * last bytes. A reader that makes no progress for FLUSH_STALL_MS is not waited for. */
static void
on_flush_tick(uv_timer_t *t)
{
	struct stdio_set *io = t->data;
	size_t n = unread_total(io);
	uint64_t now = uv_now(io->loop);

	if (n == 0) {
		finish_drain(io);
		return;
	}
	if (n != io->last_unread) {
		io->last_unread = n;
		io->last_progress = now;
	} else if (now - io->last_progress >= FLUSH_STALL_MS) {
		finish_drain(io);
	}
}

static void
drain_release(struct stdio_set *io)
{
	if (--io->drain_pending > 0 || io->drain_cb == NULL)
		return;
	if (!io->drain_eof && unread_total(io) > 0) {
		io->last_unread = unread_total(io);
		io->last_progress = uv_now(io->loop);
		uv_timer_start(&io->flush, on_flush_tick, FLUSH_POLL_MS, FLUSH_POLL_MS);
		return;
	}
	finish_drain(io);
}

static void
on_copier_drained(void *data)
{
	drain_release(data);
}

static void
on_drain_timeout(uv_timer_t *t)
{
	finish_drain(t->data);
}

static void
init_timers(struct stdio_set *io)
{
	if (io->timers_ready)
		return;
	uv_timer_init(io->loop, &io->timer);
	uv_timer_init(io->loop, &io->flush);
	io->timer.data = io->flush.data = io;
	io->timers_ready = true;
}

void
stdio_drain(struct stdio_set *io, bool until_eof, unsigned timeout_ms, void (*cb)(void *data),
	    void *data)
{
	if (io == NULL) {
		cb(data);
		return;
	}
	init_timers(io);
	io->drain_cb = cb;
	io->drain_data = data;
	io->drain_eof = until_eof;
	io->drain_pending = 1; /* held until every copier has been asked */
	if (timeout_ms)
		uv_timer_start(&io->timer, on_drain_timeout, timeout_ms, 0);
	for (int i = 0; i < 2; i++) {
		if (io->out[i] == NULL)
			continue;
		io->drain_pending++;
		copier_drain(io->out[i], until_eof, on_copier_drained, io);
	}
	drain_release(io);
}

/* ---- binary:// loggers ---------------------------------------------------------------------- */

static void logger_maybe_free(struct logger *lg);

static void
on_logger_handle_closed(uv_handle_t *h)
{
	struct logger *lg = h->data;

	lg->open_handles--;
	logger_maybe_free(lg);
}

static void
logger_maybe_free(struct logger *lg)
{
	if (!lg->orphaned || !lg->exited)
		return;
	if (lg->polling) {
		lg->polling = false;
		uv_close((uv_handle_t *)&lg->ready_poll, on_logger_handle_closed);
	}
	if (lg->timer_ready) {
		lg->timer_ready = false;
		uv_close((uv_handle_t *)&lg->kill_timer, on_logger_handle_closed);
	}
	if (lg->open_handles > 0)
		return;
	close_fd(&lg->ready_fd);
	free(lg);
}

static void
on_logger_exit(const struct reaper_exit *e, void *data)
{
	struct logger *lg = data;

	lg->exited = true;
	log_debug("binary logger %d exited with status %d", (int)e->pid,
		  reaper_exit_code(e->wstatus));
	if (lg->timer_ready)
		uv_timer_stop(&lg->kill_timer);
	logger_maybe_free(lg);
}

static void
on_logger_kill_timeout(uv_timer_t *t)
{
	struct logger *lg = t->data;

	if (!lg->exited)
		kill(lg->pid, SIGKILL);
}

/* argv for the logger: path, then "key value" for each query key (first value only). */
static char **
logger_argv(const char *uri, const char *path)
{
	const char *q = strchr(uri, '?');
	size_t n = 1, cap = 8;
	char **argv = xcalloc(cap, sizeof(*argv));

	argv[0] = xstrdup(path);
	while (q && *q) {
		const char *item = q + 1, *end = strchr(item, '&'), *eq;
		size_t len = end ? (size_t)(end - item) : strlen(item);
		char *key, *val;
		bool dup = false;

		q = end;
		if (len == 0)
			continue;
		eq = memchr(item, '=', len);
		key = unescape(item, eq ? (size_t)(eq - item) : len, true);
		val = eq ? unescape(eq + 1, len - (size_t)(eq - item) - 1, true) : xstrdup("");
		for (size_t i = 1; i < n && !dup; i += 2)
			dup = strcmp(argv[i], key) == 0;
		if (dup) {
			free(key);
			free(val);
			continue;
		}
		if (n + 3 > cap) {
			cap *= 2;
			argv = xrealloc(argv, cap * sizeof(*argv));
		}
		argv[n++] = key;
		argv[n++] = val;
		argv[n] = NULL;
	}
	argv[n] = NULL;
	return argv;
}

static void
logger_child(char **argv, char **envp, int out_r, int err_r, int ready_w)
{
	int src[3] = { out_r, err_r, ready_w }, null_fd = open("/dev/null", O_RDWR);

	signal(SIGPIPE, SIG_DFL);
	for (int i = 0; i < 3; i++)
		src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < 3; i++) {
		dup2(null_fd, i);
		dup2(src[i], 3 + i);
	}
	syscall(SYS_close_range, 6U, ~0U, 0U);
	execve(argv[0], argv, envp);
	_exit(127);
}

static int
setup_binary(struct stdio_set *io, const struct stdio_cfg *cfg, size_t slen, struct mini_err **err)
{
	_cleanup_free_ char *path = uri_path(cfg->stdout_path, slen);
	_cleanup_free_ char *env_id = xasprintf("CONTAINER_ID=%s", cfg->proc_id);
	_cleanup_free_ char *env_ns = xasprintf("CONTAINER_NAMESPACE=%s", cfg->ns);
	char *envp[] = { env_id, env_ns, NULL };
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, ready[2] = { -1, -1 };
	struct logger *lg;
	char **argv;
	pid_t pid;

	if (make_pipe(out, cfg->uid, cfg->gid, err) < 0)
		return -1;
	if (make_pipe(errp, cfg->uid, cfg->gid, err) < 0) {
		close(out[0]), close(out[1]);
		return -1;
	}
	if (pipe2(ready, O_CLOEXEC) < 0) {
		int e = errno;

		close(out[0]), close(out[1]), close(errp[0]), close(errp[1]);
		return mini_err_set(err, e, "create logger pipe");
	}
	argv = logger_argv(cfg->stdout_path, path);
	pid = fork();
	if (pid == 0)
		logger_child(argv, envp, out[0], errp[0], ready[1]);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
	close(out[0]), close(errp[0]), close(ready[1]);
	io->child[1] = out[1];
	io->child[2] = errp[1];
	if (pid < 0) {
		close(ready[0]);
		return mini_err_set(err, errno, "start binary logger %s", path);
	}
	lg = xcalloc(1, sizeof(*lg));
	lg->pid = pid;
	lg->ready_fd = ready[0];
	lg->io = io;
	io->logger = lg;
	reaper_watch(io->reaper, pid, on_logger_exit, lg);
	return 0;
}

static void
on_logger_ready(uv_poll_t *h, int status, int events)
{
	struct logger *lg = h->data;
	struct stdio_set *io = lg->io;
	void (*cb)(struct mini_err *, void *) = io ? io->ready_cb : NULL;

	uv_poll_stop(h);
	if (io)
		io->ready_cb = NULL;
	if (cb)
		cb(NULL, io->ready_data);
}

void
stdio_wait_ready(struct stdio_set *io, void (*cb)(struct mini_err *err, void *data), void *data)
{
	struct logger *lg = io->logger;
	struct mini_err *err = NULL;
	int rc;

	if (lg == NULL) {
		cb(NULL, data);
		return;
	}
	rc = uv_poll_init(io->loop, &lg->ready_poll, lg->ready_fd);
	if (rc < 0) {
		mini_err_set(&err, -rc, "wait for binary logger");
		cb(err, data);
		return;
	}
	lg->ready_poll.data = lg;
	lg->polling = true;
	lg->open_handles++;
	io->ready_cb = cb;
	io->ready_data = data;
	uv_poll_start(&lg->ready_poll, UV_READABLE | UV_DISCONNECT, on_logger_ready);
}

static void
logger_stop(struct stdio_set *io)
{
	struct logger *lg = io->logger;

	if (lg == NULL)
		return;
	io->logger = NULL;
	lg->io = NULL;
	lg->orphaned = true;
	if (lg->polling)
		uv_poll_stop(&lg->ready_poll);
	if (!lg->exited) {
		kill(lg->pid, SIGTERM);
		if (uv_timer_init(io->loop, &lg->kill_timer) == 0) {
			lg->kill_timer.data = lg;
			lg->timer_ready = true;
			lg->open_handles++;
			uv_timer_start(&lg->kill_timer, on_logger_kill_timeout,
				       LOGGER_TERM_TIMEOUT_MS, 0);
		}
	}
	logger_maybe_free(lg);
}

/* ---- teardown ------------------------------------------------------------------------------- */

static void
on_timer_closed(uv_handle_t *h)
{
	struct stdio_set *io = h->data;

	if (--io->open_timers == 0)
		free(io);
}

void
stdio_destroy(struct stdio_set *io)
{
	if (io == NULL || io->destroyed)
		return;
	io->destroyed = true;
	io->drain_cb = NULL;
	io->ready_cb = NULL;
	copier_free(io->in);
	copier_free(io->out[0]);
	copier_free(io->out[1]);
	stdio_close_child(io);
	close_fd(&io->in_src);
	close_fd(&io->in_dst);
	close_fd(&io->stdin_keep);
	close_fd(&io->console);
	for (int i = 0; i < 2; i++) {
		close_fd(&io->out_src[i]);
		close_fd(&io->out_dst[i]);
	}
	logger_stop(io);
	if (io->timers_ready) {
		io->open_timers = 2;
		uv_close((uv_handle_t *)&io->timer, on_timer_closed);
		uv_close((uv_handle_t *)&io->flush, on_timer_closed);
		return;
	}
	free(io);
}
