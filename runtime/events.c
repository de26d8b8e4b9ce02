/* `events`: the container's cgroup statistics once (--stats) or every interval, and OOM events
 * as they happen, each as one JSON line in runc's format. The state lock is not held while
 * waiting, so other commands on the container go on. */
#include "cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "fd.h"
#include "fs.h"
#include "pidutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

/* A container that is not stopped and has a cgroup: what stats and events read. */
static int
open_with_cgroup(const struct minirt_ctx *ctx, const char *id, struct state_dir **sd,
		 struct container_state **st, struct mini_err **err)
{
	enum container_status status;
	int ret = container_open(ctx, id, sd, st, &status, err);

	if (ret < 0)
		return ret;
	if (status == STATUS_STOPPED)
		return mini_err_set(err, ESRCH, "container with id %s is not running", id);
	if ((*st)->cg == NULL)
		return mini_err_set(err, ENOTSUP, "container %s has no cgroup", id);
	return 0;
}

int
minirt_container_stats(const struct minirt_ctx *ctx, const char *id, char **json,
		       struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	int ret = open_with_cgroup(ctx, id, &sd, &st, err);

	if (ret < 0)
		return ret;
	return cgroup_stats_json(st->cg, id, json, err);
}

/* An fd that becomes readable on OOM: v1's eventfd registered through cgroup.event_control,
 * v2's inotify on memory.events (then *v2_events is that file, to compare oom_kill counts). */
static int
oom_watch(const struct cgroup *cg, char **v2_events)
{
	const char *dir = cgroup_dir_for(cg, "memory");
	_cleanup_close_ int ctl = -1;
	_cleanup_free_ char *path = NULL;
	int efd;

	*v2_events = NULL;
	if (dir == NULL)
		return -1;
	if (cg->ops->mode == CGROUP_MODE_V2) {
		path = path_join(dir, "memory.events");
		efd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (efd >= 0 && inotify_add_watch(efd, path, IN_MODIFY) < 0) {
			close(efd);
			return -1;
		}
		*v2_events = steal_ptr(&path);
		return efd;
	}
	path = path_join(dir, "memory.oom_control");
	ctl = open(path, O_RDONLY | O_CLOEXEC);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctl < 0 || efd < 0 ||
	    cgroup_writef(dir, "cgroup.event_control", NULL, "%d %d", efd, ctl) < 0) {
		if (efd >= 0)
			close(efd);
		return -1;
	}
	return efd;
}

static bool
cgroup_exists(const struct cgroup *cg)
{
	const char *dir = cgroup_dir_for(cg, "memory");

	return dir && access(dir, F_OK) == 0;
}

static unsigned long long
oom_kills(const char *events_path)
{
	_cleanup_free_ char *text = NULL;
	char *p;

	if (read_file(events_path, &text, NULL, NULL) < 0)
		return 0;
	p = strstr(text, "oom_kill ");
	return p ? strtoull(p + 9, NULL, 10) : 0;
}

static int
emit(int fd, const char *line, struct mini_err **err)
{
	_cleanup_free_ char *l = xasprintf("%s\n", line);

	return write_all(fd, l, strlen(l), err);
}

int
minirt_container_events(const struct minirt_ctx *ctx, const char *id, unsigned interval_ms,
			int out_fd, struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	_cleanup_free_ char *oom_line = xasprintf("{\"type\":\"oom\",\"id\":\"%s\"}", id);
	_cleanup_free_ char *v2_events = NULL;
	_cleanup_close_ int oom_fd = -1;
	unsigned long long kills = 0;
	int ret;

	if (interval_ms == 0)
		return mini_err_set(err, EINVAL, "duration interval must be greater than 0");
	ret = open_with_cgroup(ctx, id, &sd, &st, err);
	if (ret < 0)
		return ret;
	state_dir_freep(&sd);
	oom_fd = oom_watch(st->cg, &v2_events);
	if (v2_events)
		kills = oom_kills(v2_events);
	while (pid_is_alive(st->pid, st->start_time)) {
		_cleanup_free_ char *json = NULL;
		struct pollfd p = { .fd = oom_fd, .events = POLLIN };
		char buf[4096];

		ret = poll(&p, 1, (int)interval_ms);
		if (ret < 0 && errno != EINTR)
			return mini_err_set(err, errno, "poll");
		if (ret > 0) {
			/* Drain the eventfd counter or the inotify records. */
			while (read(oom_fd, buf, sizeof(buf)) > 0)
				;
			/* v1 also signals the eventfd when the cgroup goes away. */
			if (v2_events == NULL && !cgroup_exists(st->cg))
				break;
			if (v2_events == NULL || oom_kills(v2_events) > kills) {
				kills = v2_events ? oom_kills(v2_events) : kills;
				ret = emit(out_fd, oom_line, err);
				if (ret < 0)
					return ret;
			}
			continue;
		}
		if (ret < 0 || !pid_is_alive(st->pid, st->start_time))
			continue;
		if (cgroup_stats_json(st->cg, id, &json, err) < 0 || emit(out_fd, json, err) < 0)
			return mini_err_ret(*err);
	}
	return 0;
}
