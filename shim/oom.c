#include "oom.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct oom_watch {
	const struct cgroup *cg;
	void (*cb)(void *data);
	void *data;
	bool v2;
	int efd;	    /* v1: the eventfd */
	uv_poll_t poll;	    /* v1 */
	uv_fs_event_t fsev; /* v2: memory.events */
	char *events_path;  /* v2 */
	unsigned long long last_kills;
	bool stopped;
};

static unsigned long long
read_oom_kills(const char *path)
{
	_cleanup_free_ char *text = NULL;
	const char *p;

	if (read_file(path, &text, NULL, NULL) < 0)
		return 0;
	p = strstr(text, "oom_kill ");
	return p ? strtoull(p + 9, NULL, 10) : 0;
}

static void
on_closed(uv_handle_t *h)
{
	struct oom_watch *w = h->data;

	if (w->efd >= 0)
		close(w->efd);
	free(w->events_path);
	free(w);
}

static void
stop(struct oom_watch *w)
{
	if (w->stopped)
		return;
	w->stopped = true;
	if (w->v2) {
		uv_fs_event_stop(&w->fsev);
	} else {
		uv_poll_stop(&w->poll);
	}
}

static void
on_v1_event(uv_poll_t *h, int status, int events)
{
	struct oom_watch *w = h->data;
	uint64_t n;

	if (read(w->efd, &n, sizeof(n)) != sizeof(n))
		return;
	/* The kernel also signals the eventfd when the cgroup is removed. */
	if (!shim_cgroup_exists(w->cg)) {
		stop(w);
		return;
	}
	w->cb(w->data);
}

static void
on_v2_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct oom_watch *w = h->data;
	unsigned long long kills;

	if (!shim_cgroup_exists(w->cg)) {
		stop(w);
		return;
	}
	kills = read_oom_kills(w->events_path);
	if (kills > w->last_kills) {
		w->last_kills = kills;
		w->cb(w->data);
	}
}

/* cgroup control files are written in place (no temporary file and rename). */
static int
write_plain(const char *path, const char *buf, size_t len, struct mini_err **err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return mini_err_set(err, errno, "open %s", path);
	if (write(fd, buf, len) != (ssize_t)len)
		return mini_err_set(err, errno, "write %s", path);
	return 0;
}

static int
start_v1(struct oom_watch *w, uv_loop_t *loop, const char *dir, struct mini_err **err)
{
	_cleanup_free_ char *oc = path_join(dir, "memory.oom_control");
	_cleanup_free_ char *ec = path_join(dir, "cgroup.event_control");
	_cleanup_close_ int ocfd = -1;
	char buf[64];
	int n, rc;

	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return mini_err_set(err, errno, "create eventfd");
	ocfd = open(oc, O_RDONLY | O_CLOEXEC);
	if (ocfd < 0)
		return mini_err_set(err, errno, "open %s", oc);
	n = snprintf(buf, sizeof(buf), "%d %d", w->efd, ocfd);
	if (write_plain(ec, buf, (size_t)n, err) < 0)
		return -1;
	rc = uv_poll_init(loop, &w->poll, w->efd);
	if (rc < 0)
		return mini_err_set(err, -rc, "poll eventfd");
	w->poll.data = w;
	uv_poll_start(&w->poll, UV_READABLE, on_v1_event);
	return 0;
}

static int
start_v2(struct oom_watch *w, uv_loop_t *loop, const char *dir, struct mini_err **err)
{
	int rc;

	w->events_path = path_join(dir, "memory.events");
	w->last_kills = read_oom_kills(w->events_path);
	rc = uv_fs_event_init(loop, &w->fsev);
	if (rc < 0)
		return mini_err_set(err, -rc, "watch %s", w->events_path);
	w->fsev.data = w;
	rc = uv_fs_event_start(&w->fsev, on_v2_event, w->events_path, 0);
	if (rc < 0) {
		/* The handle exists now: it must be closed, not just freed. */
		w->stopped = true;
		uv_close((uv_handle_t *)&w->fsev, on_closed);
		return mini_err_set(err, -rc, "watch %s", w->events_path), 1;
	}
	return 0;
}

struct oom_watch *
oom_watch_new(uv_loop_t *loop, const struct cgroup *cg, void (*cb)(void *data), void *data,
	      struct mini_err **err)
{
	struct oom_watch *w;
	const char *dir = shim_cgroup_dir(cg, "memory");
	int rc;

	if (dir == NULL)
		return mini_err_setc(err, MINI_E_NOTFOUND, 0, "no memory cgroup"), NULL;
	w = xcalloc(1, sizeof(*w));
	w->cg = cg;
	w->cb = cb;
	w->data = data;
	w->efd = -1;
	w->v2 = shim_cgroup_is_v2(cg);
	rc = w->v2 ? start_v2(w, loop, dir, err) : start_v1(w, loop, dir, err);
	if (rc == 0)
		return w;
	if (rc < 0) { /* no handle was initialised */
		if (w->efd >= 0)
			close(w->efd);
		free(w->events_path);
		free(w);
	}
	return NULL;
}

void
oom_watch_free(struct oom_watch *w)
{
	if (w == NULL)
		return;
	stop(w);
	if (w->v2)
		uv_close((uv_handle_t *)&w->fsev, on_closed);
	else
		uv_close((uv_handle_t *)&w->poll, on_closed);
}
