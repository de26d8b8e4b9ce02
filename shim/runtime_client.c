#include "runtime_client.h"
#include "cleanup.h"
#include "fd.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAPTURE_MAX (4u << 20)
#define LOG_TAIL_MAX (1u << 20)

struct rt_call {
	uv_poll_t poll;
	bool polling;
	int out_fd;
	char *out;
	size_t out_len, out_cap;
	char *binary, *log;
	long log_offset;
	int wstatus;
	int status_fd; /* read end of the exec-error pipe */
	rt_done_fn cb;
	void *data;
};

const char *
rt_default_binary(void)
{
	const char *env = getenv("MINI_RUNTIME");

	return env && *env ? env : MINI_DEFAULT_RUNTIME;
}

const char *
rt_exec_path(const char *argv0)
{
	return strcmp(argv0, MINI_EMBEDDED_RUNTIME) == 0 ? "/proc/self/exe" : argv0;
}

void
rt_setup(struct rt *rt, const char *binary, const char *root, const char *ns, const char *bundle)
{
	memset(rt, 0, sizeof(*rt));
	rt->binary = xstrdup(binary && *binary ? binary : rt_default_binary());
	rt->root = path_join(root && *root ? root : MINI_DEFAULT_RUNTIME_ROOT, ns);
	rt->log = path_join(bundle, "log.json");
}

void
rt_clear(struct rt *rt)
{
	free(rt->binary);
	free(rt->root);
	free(rt->log);
	memset(rt, 0, sizeof(*rt));
}

char **
rt_argv(const struct rt *rt, char *const *args)
{
	size_t n = 0, i = 0;
	char **v;

	while (args[n])
		n++;
	v = xcalloc(n + 9, sizeof(*v));
	v[i++] = xstrdup(rt->binary);
	v[i++] = xstrdup("--root");
	v[i++] = xstrdup(rt->root);
	v[i++] = xstrdup("--log");
	v[i++] = xstrdup(rt->log);
	v[i++] = xstrdup("--log-format");
	v[i++] = xstrdup("json");
	if (rt->systemd_cgroup)
		v[i++] = xstrdup("--systemd-cgroup");
	for (size_t k = 0; k < n; k++)
		v[i++] = xstrdup(args[k]);
	return v;
}

static void
argv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Scans one JSON log line; keeps it when its level is "error". */
static void
scan_log_line(const char *line, char **msg, int *errnum)
{
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	yajl_val level, m, e;

	if (json_parse(line, "log line", &v, NULL) < 0)
		return;
	level = json_get(v, "level");
	m = json_get(v, "msg");
	if (!YAJL_IS_STRING(level) || strcmp(level->u.string, "error") != 0 || !YAJL_IS_STRING(m))
		return;
	free(*msg);
	*msg = xstrdup(m->u.string);
	e = json_get(v, "errno");
	*errnum = YAJL_IS_INTEGER(e) ? (int)YAJL_GET_INTEGER(e) : 0;
}

char *
rt_last_log_error(const char *log, long offset, int *errnum)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char *msg = NULL, *line, *save = NULL;
	struct stat st;
	size_t got = 0;
	off_t start;

	*errnum = 0;
	fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	start = st.st_size - offset > (off_t)LOG_TAIL_MAX ? st.st_size - LOG_TAIL_MAX : offset;
	if (start < 0 || start > st.st_size)
		start = 0; /* the file was truncated or replaced: read it all */
	buf = xmalloc((size_t)(st.st_size - start) + 1);
	if (pread(fd, buf, (size_t)(st.st_size - start), start) > 0)
		got = (size_t)(st.st_size - start);
	buf[got] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		scan_log_line(line, &msg, errnum);
	if (msg) {
		size_t n = strlen(msg);

		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
	}
	return msg;
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static void
capture_read(struct rt_call *c)
{
	for (;;) {
		ssize_t n;

		if (c->out_cap - c->out_len < 4096) {
			if (c->out_cap >= CAPTURE_MAX) {
				char sink[4096];

				n = read(c->out_fd, sink,
					 sizeof(sink)); /* keep the runtime unblocked */
				if (n > 0 || (n < 0 && errno == EINTR))
					continue;
				return;
			}
			c->out_cap = c->out_cap ? c->out_cap * 2 : 8192;
			c->out = xrealloc(c->out, c->out_cap + 1);
		}
		n = read(c->out_fd, c->out + c->out_len, c->out_cap - c->out_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		c->out_len += (size_t)n;
	}
}

static void
on_capture(uv_poll_t *h, int status, int events)
{
	struct rt_call *c = h->data;

	capture_read(c);
}

static void
call_free(struct rt_call *c)
{
	if (c->status_fd >= 0)
		close(c->status_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	free(c->out);
	free(c->binary);
	free(c->log);
	free(c);
}

static void
on_poll_closed(uv_handle_t *h)
{
	call_free(h->data);
}

static struct mini_err *
call_error(struct rt_call *c)
{
	struct mini_err *err = NULL;
	_cleanup_free_ char *msg = NULL;
	int errnum = 0;

	/* The runtime could not even be executed (a wrong BinaryName, say). The child wrote its
	 * errno before exiting, so it is there by now. */
	if (read(c->status_fd, &errnum, sizeof(errnum)) == sizeof(errnum)) {
		mini_err_set(&err, errnum, "exec %s", c->binary);
		return err;
	}
	errnum = 0;
	msg = rt_last_log_error(c->log, c->log_offset, &errnum);
	if (msg) {
		mini_err_set(&err, errnum, "%s", msg);
		return err;
	}
	if (c->out_len > 0) {
		size_t n = c->out_len;

		while (n > 0 && (c->out[n - 1] == '\n' || c->out[n - 1] == ' '))
			n--;
		mini_err_set(&err, 0, "%s: %.*s", c->binary, (int)n, c->out);
		return err;
	}
	if (WIFSIGNALED(c->wstatus))
		mini_err_set(&err, 0, "%s did not terminate successfully: signal %d", c->binary,
			     WTERMSIG(c->wstatus));
	else
		mini_err_set(&err, 0, "%s did not terminate successfully: exit status %d",
			     c->binary, reaper_exit_code(c->wstatus));
	return err;
}

static void
on_runtime_exit(const struct reaper_exit *e, void *data)
{
	struct rt_call *c = data;
	struct mini_err *err = NULL;

	c->wstatus = e->wstatus;
	if (c->out_fd >= 0)
		capture_read(c); /* what it wrote just before exiting */
	if (!(WIFEXITED(e->wstatus) && WEXITSTATUS(e->wstatus) == 0))
		err = call_error(c);
	if (c->out)
		c->out[c->out_len] = '\0';
	if (c->cb)
		c->cb(err, c->out ? c->out : "", c->out_len, c->data);
	else
		mini_err_free(err);
	if (c->polling) {
		uv_poll_stop(&c->poll);
		uv_close((uv_handle_t *)&c->poll, on_poll_closed);
	} else {
		call_free(c);
	}
}

/* In the child: moves the three chosen fds onto 0, 1, 2, the exec-error pipe onto 3 (closed by a
 * successful exec), and closes everything else. */
static void
child_setup_fds(int in, int out, int err_fd, int status_fd)
{
	int src[4] = { in, out, err_fd, status_fd };
	int null_fd = open("/dev/null", O_RDWR);

	for (int i = 0; i < 4; i++) {
		if (src[i] < 0)
			src[i] = null_fd;
		/* Above 3 first, so that a source that is itself 0..3 is not clobbered. */
		src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 4);
	}
	for (int i = 0; i < 3; i++)
		dup2(src[i], i);
	dup3(src[3], 3, O_CLOEXEC);
	syscall(SYS_close_range, 4U, ~0U, 0U);
}

static void
child_exec(char **argv, int in, int out, int err_fd, int status_fd)
{
	sigset_t none;
	int e;

	/* The daemon ignores SIGPIPE; an ignored disposition would survive exec and reach the
	 * container's processes, which must start with defaults. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	child_setup_fds(in, out, err_fd, status_fd);
	execvp(rt_exec_path(argv[0]), argv);
	e = errno;
	if (write(3, &e, sizeof(e)) < 0) {
		/* nothing more to say */
	}
	_exit(127);
}

int
rt_call(uv_loop_t *loop, struct reaper *reaper, const struct rt *rt, char *const *args,
	const struct rt_opts *o, rt_done_fn cb, void *data, struct mini_err **err)
{
	_cleanup_close_ int cap_r = -1, cap_w = -1, in_r = -1, in_w = -1;
	_cleanup_close_ int st_r = -1, st_w = -1;
	struct rt_call *c;
	char **argv;
	pid_t pid;
	int out_fd = o->fd_out, err_fd = o->fd_err, in_fd = o->fd_in;
	long log_offset;

	if (o->capture) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			return mini_err_set(err, errno, "create runtime output pipe");
		cap_r = p[0], cap_w = p[1];
		if (out_fd < 0)
			out_fd = cap_w;
		if (err_fd < 0 && !o->stderr_null)
			err_fd = cap_w;
	}
	if (o->input) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			return mini_err_set(err, errno, "create runtime input pipe");
		in_r = p[0], in_w = p[1];
		in_fd = in_r;
	}
	{
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			return mini_err_set(err, errno, "create runtime status pipe");
		st_r = p[0], st_w = p[1];
	}
	log_offset = file_size(rt->log);
	argv = rt_argv(rt, args);
	if (mini_log_get_level() >= MINI_LOG_DEBUG) {
		char line[1024];
		size_t off = 0;

		for (size_t i = 0; argv[i] && off < sizeof(line) - 1; i++)
			off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
						i ? " " : "", argv[i]);
		log_debug("runtime: %s", line);
	}
	pid = fork();
	if (pid < 0) {
		argv_free(argv);
		return mini_err_set(err, errno, "fork %s", rt->binary);
	}
	if (pid == 0)
		child_exec(argv, in_fd, out_fd, err_fd, st_w);
	argv_free(argv);
	close(steal_fd(&st_w));

	c = xcalloc(1, sizeof(*c));
	c->out_fd = -1;
	c->binary = xstrdup(rt->binary);
	c->log = xstrdup(rt->log);
	c->log_offset = log_offset;
	c->status_fd = steal_fd(&st_r);
	c->cb = cb;
	c->data = data;
	/* Watched before the loop runs again, so this exit cannot be reaped unclaimed. */
	reaper_watch(reaper, pid, on_runtime_exit, c);
	if (o->input) {
		close(steal_fd(&in_r));
		struct mini_err *werr = NULL;

		/* Small documents (resources JSON): the runtime reads them at once. */
		if (write_all(in_w, o->input, o->input_len, &werr) < 0) {
			log_warn("write runtime input: %s", werr->msg);
			mini_err_free(werr);
		}
	}
	if (cap_r >= 0) {
		c->out_fd = steal_fd(&cap_r);
		fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
		if (uv_poll_init(loop, &c->poll, c->out_fd) == 0) {
			c->poll.data = c;
			c->polling = true;
			uv_poll_start(&c->poll, UV_READABLE, on_capture);
		}
	}
	return 0;
}
