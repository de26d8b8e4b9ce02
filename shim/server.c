/* The daemon: the loop, the subreaper, the log FIFO, the listening socket, signals, and the
 * orderly shutdown. */
#include "client.h"
#include "log.h"
#include "publisher.h"
#include "server.h" /* ttrpc */
#include "shim.h"
#include "task_service.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define SHUTDOWN_REPLY_FLUSH_MS 1000
#define IDLE_EXIT_DEFAULT_S 60
#define SHUTDOWN_EVENTS_DRAIN_MS 5000

static struct mini_log_field log_fields[4];
static char log_pid[16];

/* The log FIFO containerd created in the bundle becomes our stderr, so that even abort() and
 * assert() messages reach containerd's log. Non-blocking: a stalled or absent containerd must
 * never block the loop (lines are dropped instead). */
static void
setup_log(const struct shim_args *a)
{
	int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK);
	mini_log_init(2, MINI_LOG_TEXT, a->debug ? MINI_LOG_DEBUG : MINI_LOG_INFO);
	snprintf(log_pid, sizeof(log_pid), "%d", (int)getpid());
	log_fields[0] = (struct mini_log_field){ "namespace", a->ns };
	log_fields[1] = (struct mini_log_field){ "pid", log_pid };
	log_fields[2] = (struct mini_log_field){ "runtime", MINI_RUNTIME_NAME };
	mini_log_set_fields(log_fields, 3);
}

static bool
is_listening_socket(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

static int
listen_on(struct shim *s, const struct shim_args *a, struct mini_err **err)
{
	if (is_listening_socket(3)) {
		fcntl(3, F_SETFD, FD_CLOEXEC);
		return ttrpc_server_listen_fd(s->srv, 3, err);
	}
	if (a->socket == NULL)
		return mini_err_set(err, EINVAL, "no listening socket on fd 3 and no -socket");
	return ttrpc_server_listen_path(s->srv, a->socket, err);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct shim *s = h->data;

	log_info("received signal %d, exiting", signum);
	shim_shutdown(s);
}

static void
on_idle(uv_timer_t *t)
{
	struct shim *s = t->data;

	log_info("no container for %u s: exiting", s->idle_ms / 1000);
	shim_shutdown(s);
}

void
shim_update_idle(struct shim *s)
{
	bool idle = dlist_empty(&s->containers) && s->creating == 0 && !s->shutting_down;

	if (!idle)
		uv_timer_stop(&s->idle);
	else if (!uv_is_active((uv_handle_t *)&s->idle))
		uv_timer_start(&s->idle, on_idle, s->idle_ms, 0);
}

static unsigned
idle_ms_from_env(void)
{
	const char *v = getenv("MINI_SHIM_IDLE_EXIT");
	char *end = NULL;
	unsigned long n = v ? strtoul(v, &end, 10) : 0;

	return v && end != v && n > 0 && n < 86400 ? (unsigned)n * 1000
						   : IDLE_EXIT_DEFAULT_S * 1000;
}

static void
on_events_drained(void *data)
{
	struct shim *s = data;

	publisher_free(s->pub);
	s->pub = NULL;
	reaper_close(&s->reaper);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->idle, NULL);
	/* With containers left (a signal, not Shutdown), their handles keep the loop alive. */
	uv_stop(s->loop);
}

static void
on_server_closed(void *data)
{
	struct shim *s = data;

	s->srv = NULL;
	publisher_drain(s->pub, SHUTDOWN_EVENTS_DRAIN_MS, on_events_drained, s);
}

void
shim_shutdown(struct shim *s)
{
	if (s->shutting_down)
		return;
	s->shutting_down = true;
	uv_timer_stop(&s->idle);
	log_info("shutting down");
	/* First, so that nothing new connects while we wind down. */
	if (s->socket_path)
		unlink(s->socket_path);
	ttrpc_server_close(s->srv, SHUTDOWN_REPLY_FLUSH_MS, on_server_closed, s);
}

int
shim_serve(const struct shim_args *a)
{
	/* Static, not on the stack: zero pages nobody writes (most of the reaper's early-exit
	 * table) cost no memory, and the loop's callbacks run 8 KiB closer to the top of the stack.
	 */
	static struct shim s;
	struct mini_err *err = NULL;

	if (a->ns == NULL || *a->ns == '\0') {
		fprintf(stderr, "containerd-shim-mini-v2: shim namespace cannot be empty\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	setup_log(a);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("set child subreaper: %s", strerror(errno));
	s.loop = uv_default_loop();
	s.ns = xstrdup(a->ns);
	s.id = xstrdup(a->id ? a->id : "");
	s.address = xstrdup(a->address ? a->address : "");
	s.socket_path = a->socket ? xstrdup(a->socket) : NULL;
	s.debug = a->debug;
	dlist_init(&s.containers);
	if (reaper_init(&s.reaper, s.loop, &err) < 0)
		goto fail;
	s.srv = ttrpc_server_new(s.loop);
	task_service_register(s.srv, &s);
	if (listen_on(&s, a, &err) < 0)
		goto fail;
	s.pub = publisher_new(s.loop, getenv("TTRPC_ADDRESS"), s.ns);
	uv_signal_init(s.loop, &s.sigterm);
	uv_signal_init(s.loop, &s.sigint);
	s.sigterm.data = s.sigint.data = &s;
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_timer_init(s.loop, &s.idle);
	s.idle.data = &s;
	s.idle_ms = idle_ms_from_env();
	shim_update_idle(&s);
	log_info("starting shim daemon");
	uv_run(s.loop, UV_RUN_DEFAULT);
	/* After uv_stop: let the close callbacks of the handles closed last run. */
	uv_run(s.loop, UV_RUN_NOWAIT);
	log_info("shim exited");
	free(s.ns);
	free(s.id);
	free(s.address);
	free(s.socket_path);
	return 0;
fail:
	log_error("shim: %s", err->msg);
	mini_err_free(err);
	return 1;
}
