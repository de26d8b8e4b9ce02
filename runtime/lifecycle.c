/* kill, delete, state, pause/resume, pids, update and list: the commands that act on an existing
 * container from outside it. */
#include "cleanup.h"
#include "container.h"
#include "fs.h"
#include "hooks.h"
#include "ids.h"
#include "json.h"
#include "log.h"
#include "pidutil.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
signal_pid(pid_t pid, unsigned long long start, int sig, struct mini_err **err)
{
	_cleanup_close_ int pidfd = -1;

	if (pid <= 0)
		return mini_err_set(err, ESRCH, "container not running");
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0 && errno == ESRCH)
		return mini_err_set(err, ESRCH, "container not running");
	/* The pidfd pins the process: check it is still ours, then signal through it. */
	if (!pid_is_alive(pid, start))
		return mini_err_set(err, ESRCH, "container not running");
	if (pidfd >= 0) {
		if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
			return mini_err_set(err, errno, "signal %d to pid %d", sig, (int)pid);
		return 0;
	}
	if (kill(pid, sig) < 0)
		return mini_err_set(err, errno, "signal %d to pid %d", sig, (int)pid);
	return 0;
}

int
wait_pid_gone(pid_t pid, unsigned long long start, int timeout_ms, struct mini_err **err)
{
	_cleanup_close_ int pidfd = pidfd_open(pid, 0);
	int waited = 0;

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) > 0)
			return 0;
	} else {
		while (waited < timeout_ms && pid_is_alive(pid, start)) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
			waited += 10;
		}
	}
	if (pid_is_alive(pid, start))
		return mini_err_set(err, ETIMEDOUT, "pid %d did not exit", (int)pid);
	return 0;
}

int
minirt_container_kill(const struct minirt_ctx *ctx, const char *id, int sig, bool all,
		      struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	enum container_status status;
	int ret;

	ret = container_open(ctx, id, &sd, &st, &status, err);
	if (ret < 0)
		return ret;
	if (all && st->cg) {
		ret = cgroup_signal_all(st->cg, sig, err);
		if (ret < 0)
			return ret;
		/* Frozen tasks only act on SIGKILL once thawed. */
		if (status == STATUS_PAUSED && sig == SIGKILL)
			st->cg->ops->freeze(st->cg, false, NULL);
		return 0;
	}
	if (status == STATUS_STOPPED)
		return mini_err_set(err, ESRCH, "container not running");
	ret = signal_pid(st->pid, st->start_time, sig, err);
	if (ret < 0)
		return ret;
	/* As runc: a SIGKILLed paused container is thawed, so the kill takes effect. */
	if (status == STATUS_PAUSED && sig == SIGKILL && st->cg)
		st->cg->ops->freeze(st->cg, false, NULL);
	return 0;
}

/* Kills every process of a container and waits for the init. */
static int
kill_all_and_wait(struct container_state *st, enum container_status status, struct mini_err **err)
{
	if (st->cg)
		cgroup_signal_all(st->cg, SIGKILL, NULL);
	if (status == STATUS_PAUSED && st->cg)
		st->cg->ops->freeze(st->cg, false, NULL);
	if (status != STATUS_STOPPED) {
		signal_pid(st->pid, st->start_time, SIGKILL, NULL);
		return wait_pid_gone(st->pid, st->start_time, 10000, err);
	}
	return 0;
}

int
minirt_container_delete(const struct minirt_ctx *ctx, const char *id, bool force,
			struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	_cleanup_(spec_freep) struct minirt_spec *s = NULL;
	enum container_status status;
	struct mini_err *e = NULL;
	int ret;

	ret = container_open(ctx, id, &sd, &st, &status, err);
	if (ret == -ENOENT && force) {
		/* runc: deleting a missing container with --force succeeds. */
		mini_err_freep(err);
		return 0;
	}
	if (ret < 0)
		return ret;
	switch (status) {
	case STATUS_RUNNING:
	case STATUS_PAUSED:
		if (!force)
			return mini_err_set(err, EBUSY,
					    "cannot delete container %s that is not stopped: %s",
					    id, status_name(status));
		break;
	case STATUS_CREATING:
	case STATUS_CREATED:
	case STATUS_STOPPED:
		break;
	}
	/* A created container's init waits on the FIFO: killing it is part of delete. Without
	 * a pid namespace, the init's exit left the others running: kill them too (runc). */
	if (status != STATUS_STOPPED || !st->new_pid_ns) {
		ret = kill_all_and_wait(st, status, err);
		if (ret < 0)
			return ret;
	}
	if (st->cg && st->cg->ops->destroy(st->cg, &e) < 0) {
		_cleanup_free_ char *msg = mini_err_render(e);

		log_warn("container %s: %s", id, msg);
		mini_err_freep(&e);
	}
	if (container_load_spec(sd, &s, &e) == 0 && s->hooks_len[SPEC_HOOK_POSTSTOP]) {
		_cleanup_free_ char *json = state_oci_json(st, STATUS_STOPPED, false, false);

		/* The spec: a failing poststop hook is logged and delete goes on. */
		if (hooks_run(s, SPEC_HOOK_POSTSTOP, json, &e) < 0) {
			_cleanup_free_ char *msg = mini_err_render(e);

			log_warn("container %s: %s", id, msg);
		}
	}
	mini_err_freep(&e);
	return state_dir_remove(sd, err);
}

int
minirt_container_state(const struct minirt_ctx *ctx, const char *id, char **json,
		       struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	enum container_status status;
	int ret;

	ret = container_open(ctx, id, &sd, &st, &status, err);
	if (ret < 0)
		return ret;
	*json = state_oci_json(st, status, true, true);
	return 0;
}

static int
set_frozen(const struct minirt_ctx *ctx, const char *id, bool frozen, struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	enum container_status status;
	int ret;

	ret = container_open(ctx, id, &sd, &st, &status, err);
	if (ret < 0)
		return ret;
	if (frozen && status != STATUS_RUNNING)
		return mini_err_set(err, EBUSY, "container %s is not running", id);
	if (!frozen && status != STATUS_PAUSED)
		return mini_err_set(err, EBUSY, "container %s is not paused", id);
	if (st->cg == NULL)
		return mini_err_set(err, ENOTSUP, "container %s has no cgroup", id);
	return st->cg->ops->freeze(st->cg, frozen, err);
}

int
minirt_container_pause(const struct minirt_ctx *ctx, const char *id, struct mini_err **err)
{
	return set_frozen(ctx, id, true, err);
}

int
minirt_container_resume(const struct minirt_ctx *ctx, const char *id, struct mini_err **err)
{
	return set_frozen(ctx, id, false, err);
}

int
minirt_container_pids(const struct minirt_ctx *ctx, const char *id, pid_t **pids, size_t *n,
		      struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	enum container_status status;
	int ret;

	ret = container_open(ctx, id, &sd, &st, &status, err);
	if (ret < 0)
		return ret;
	if (st->cg == NULL) {
		*pids = NULL;
		*n = 0;
		return 0;
	}
	ret = cgroup_pids(st->cg, pids, n, err);
	if (ret == -ENOENT) {
		/* the cgroup is gone with the container's processes */
		mini_err_freep(err);
		*pids = NULL;
		*n = 0;
		return 0;
	}
	return ret;
}

int
minirt_container_update(const struct minirt_ctx *ctx, const char *id, const char *resources_json,
			struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	_cleanup_(yajl_tree_freep) yajl_val tree = NULL;
	struct spec_resources *r = NULL;
	enum container_status status;
	int ret;

	ret = container_open(ctx, id, &sd, &st, &status, err);
	if (ret < 0)
		return ret;
	if (status == STATUS_STOPPED)
		return mini_err_set(err, EBUSY, "container %s is stopped", id);
	if (st->cg == NULL)
		return mini_err_set(err, ENOTSUP, "container %s has no cgroup", id);
	ret = json_parse(resources_json, "resources", &tree, err);
	if (ret < 0)
		return ret;
	ret = spec_parse_resources(tree, "resources", &r, err);
	if (ret == 0)
		ret = st->cg->ops->apply(st->cg, r, true, err);
	spec_resources_free(r);
	return ret;
}

static int
cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct minirt_info *)a)->id, ((const struct minirt_info *)b)->id);
}

int
minirt_list(const struct minirt_ctx *ctx, struct minirt_info **out, size_t *n,
	    struct mini_err **err)
{
	_cleanup_closedir_ DIR *d = opendir(ctx_root(ctx));
	struct minirt_info *v = NULL;
	struct dirent *de;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return mini_err_set(err, errno, "open %s", ctx_root(ctx));
	}
	while ((de = readdir(d)) != NULL) {
		_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
		_cleanup_(container_state_freep) struct container_state *st = NULL;
		enum container_status status;
		struct minirt_info *i;

		if (de->d_name[0] == '.' || id_validate(de->d_name, "container id", NULL) < 0)
			continue;
		if (container_open(ctx, de->d_name, &sd, &st, &status, NULL) < 0)
			continue;
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		i = &v[cnt++];
		i->id = xstrdup(st->id);
		i->pid = status == STATUS_STOPPED ? 0 : st->pid;
		i->status = xstrdup(status_name(status));
		i->bundle = xstrdup(st->bundle);
		i->created = xstrdup(st->created);
		i->owner = xstrdup(st->owner);
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_info);
	*out = v;
	*n = cnt;
	return 0;
}

void
minirt_info_free(struct minirt_info *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].id);
		free(v[i].status);
		free(v[i].bundle);
		free(v[i].created);
		free(v[i].owner);
	}
	free(v);
}
