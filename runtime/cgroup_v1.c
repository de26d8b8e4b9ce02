/* cgroup v1: one hierarchy per controller (or group of controllers) under /sys/fs/cgroup.
 * Part 1 applies memory, cpu, cpuset and pids; the other controllers come with part 2. */
#include "cgroup.h"
#include "cleanup.h"
#include "fs.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A new cpuset cgroup starts with empty cpus and mems, and then refuses tasks (ENOSPC): copy the
 * parent's values down every level we create, as runc does. */
static int
cpuset_fill(const char *mountpoint, const char *dir, struct mini_err **err)
{
	_cleanup_free_ char *parent = NULL;
	const char *files[] = { "cpuset.cpus", "cpuset.mems" };
	char *slash;
	size_t i;
	int ret;

	if (strcmp(dir, mountpoint) == 0)
		return 0;
	parent = xstrdup(dir);
	slash = strrchr(parent, '/');
	if (slash == NULL)
		return 0;
	*slash = '\0';
	ret = cpuset_fill(mountpoint, parent, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < 2; i++) {
		_cleanup_free_ char *mine = NULL;
		_cleanup_free_ char *theirs = NULL;

		if (cgroup_read(dir, files[i], &mine, NULL) < 0)
			continue;
		if (mine[0] != '\0' && mine[0] != '\n')
			continue;
		ret = cgroup_read(parent, files[i], &theirs, err);
		if (ret < 0)
			return ret;
		ret = cgroup_write(dir, files[i], theirs, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static bool
has_controller(const struct cgroup_hier *h, const char *c)
{
	_cleanup_free_ char *copy = xstrdup(h->name);
	char *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, c) == 0)
			return true;
	return false;
}

static int
v1_create(struct cgroup *cg, struct mini_err **err)
{
	size_t i;
	int ret;

	for (i = 0; i < cg->n_hiers; i++) {
		struct cgroup_hier *h = &cg->hiers[i];
		struct mini_err *e = NULL;

		ret = mkdir_p(h->dir, 0755, &e);
		if (ret == 0 && has_controller(h, "cpuset"))
			ret = cpuset_fill(h->mountpoint, h->dir, &e);
		if (ret < 0 && h->optional) {
			mini_err_free(e);
			continue;
		}
		if (ret < 0) {
			*err = e;
			return mini_err_wrap(err, "create cgroup");
		}
	}
	return 0;
}

static int
v1_enter(struct cgroup *cg, pid_t pid, struct mini_err **err)
{
	char buf[32];
	size_t i;
	int ret;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (i = 0; i < cg->n_hiers; i++) {
		struct mini_err *e = NULL;

		ret = cgroup_write(cg->hiers[i].dir, "cgroup.procs", buf, &e);
		if (ret < 0 && cg->hiers[i].optional) {
			mini_err_free(e);
			continue;
		}
		if (ret < 0) {
			*err = e;
			return mini_err_wrap(err, "join cgroup");
		}
	}
	return 0;
}

static int
write_i64(const char *dir, const char *file, int64_t v, struct mini_err **err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cgroup_write(dir, file, buf, err);
}

static int
apply_memory(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	int ret;

	/* memsw must stay >= limit: when raising both, the limit write fails until memsw is
	 * raised, so retry it after memsw. */
	bool limit = r->memory_limit_present && r->memory_limit != 0;
	bool swap = r->memory_swap_present && r->memory_swap != 0;
	bool limit_done = false;

	if (limit && write_i64(dir, "memory.limit_in_bytes", r->memory_limit, NULL) == 0)
		limit_done = true;
	if (swap && (ret = write_i64(dir, "memory.memsw.limit_in_bytes", r->memory_swap, err)) < 0)
		return ret;
	if (limit && !limit_done &&
	    (ret = write_i64(dir, "memory.limit_in_bytes", r->memory_limit, err)) < 0)
		return ret;
	if (r->memory_reservation_present && r->memory_reservation != 0) {
		ret = write_i64(dir, "memory.soft_limit_in_bytes", r->memory_reservation, err);
		if (ret < 0)
			return ret;
	}
	if (r->memory_swappiness_present && r->memory_swappiness <= 100) {
		ret = write_i64(dir, "memory.swappiness", (int64_t)r->memory_swappiness, err);
		if (ret < 0)
			return ret;
	}
	if (r->memory_disable_oom_killer_present && r->memory_disable_oom_killer) {
		ret = cgroup_write(dir, "memory.oom_control", "1", err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
apply_cpu(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	int ret;

	if (r->cpu_shares_present && r->cpu_shares != 0) {
		ret = write_i64(dir, "cpu.shares", (int64_t)r->cpu_shares, err);
		if (ret < 0)
			return ret;
	}
	if (r->cpu_period_present && r->cpu_period != 0) {
		ret = write_i64(dir, "cpu.cfs_period_us", (int64_t)r->cpu_period, err);
		if (ret < 0)
			return ret;
	}
	if (r->cpu_quota_present && r->cpu_quota != 0) {
		ret = write_i64(dir, "cpu.cfs_quota_us", r->cpu_quota, err);
		if (ret < 0)
			return ret;
	}
	if (r->cpu_rt_period_present && r->cpu_rt_period != 0) {
		ret = write_i64(dir, "cpu.rt_period_us", (int64_t)r->cpu_rt_period, err);
		if (ret < 0)
			return ret;
	}
	if (r->cpu_rt_runtime_present && r->cpu_rt_runtime != 0) {
		ret = write_i64(dir, "cpu.rt_runtime_us", r->cpu_rt_runtime, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
v1_apply(struct cgroup *cg, const struct spec_resources *r, bool update, struct mini_err **err)
{
	const char *dir;
	int ret;

	if (r == NULL)
		return 0;
	dir = cgroup_dir_for(cg, "memory");
	if (dir && (ret = apply_memory(dir, r, err)) < 0)
		return ret;
	dir = cgroup_dir_for(cg, "cpu");
	if (dir && (ret = apply_cpu(dir, r, err)) < 0)
		return ret;
	dir = cgroup_dir_for(cg, "cpuset");
	if (dir && r->cpu_cpus && r->cpu_cpus[0] &&
	    (ret = cgroup_write(dir, "cpuset.cpus", r->cpu_cpus, err)) < 0)
		return ret;
	if (dir && r->cpu_mems && r->cpu_mems[0] &&
	    (ret = cgroup_write(dir, "cpuset.mems", r->cpu_mems, err)) < 0)
		return ret;
	dir = cgroup_dir_for(cg, "pids");
	if (dir && r->pids_limit_present && r->pids_limit != 0) {
		/* runc: a negative limit means unlimited. */
		if (r->pids_limit < 0)
			ret = cgroup_write(dir, "pids.max", "max", err);
		else
			ret = write_i64(dir, "pids.max", r->pids_limit, err);
		if (ret < 0)
			return ret;
	}
	(void)update;
	return 0;
}

static int
v1_is_frozen(struct cgroup *cg, bool *frozen, struct mini_err **err)
{
	const char *dir = cgroup_dir_for(cg, "freezer");
	_cleanup_free_ char *state = NULL;
	int ret;

	*frozen = false;
	if (dir == NULL)
		return 0;
	ret = cgroup_read(dir, "freezer.state", &state, err);
	if (ret < 0)
		return ret;
	*frozen = strncmp(state, "FROZEN", 6) == 0 || strncmp(state, "FREEZING", 8) == 0;
	return 0;
}

static int
v1_freeze(struct cgroup *cg, bool frozen, struct mini_err **err)
{
	const char *dir = cgroup_dir_for(cg, "freezer");
	const char *want = frozen ? "FROZEN" : "THAWED";
	int i, ret;

	if (dir == NULL)
		return mini_err_set(err, ENOTSUP, "no freezer cgroup hierarchy");
	/* FREEZING can stall when a task is in an uninterruptible sleep; rewrite until done. */
	for (i = 0; i < 1000; i++) {
		_cleanup_free_ char *state = NULL;
		struct timespec ts = { 0, 1000 * 1000 };

		ret = cgroup_write(dir, "freezer.state", want, err);
		if (ret < 0)
			return ret;
		ret = cgroup_read(dir, "freezer.state", &state, err);
		if (ret < 0)
			return ret;
		if (strncmp(state, want, strlen(want)) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return mini_err_set(err, EBUSY, "cgroup %s did not reach %s", dir, want);
}

static int
v1_destroy(struct cgroup *cg, struct mini_err **err)
{
	size_t i;
	int ret;

	for (i = 0; i < cg->n_hiers; i++) {
		struct mini_err *e = NULL;

		ret = cgroup_rmdir_tree(cg->hiers[i].dir, &e);
		if (ret < 0 && cg->hiers[i].optional) {
			mini_err_free(e);
			continue;
		}
		if (ret < 0) {
			*err = e;
			return ret;
		}
	}
	return 0;
}

const struct cgroup_ops cgroup_v1_ops = {
	.mode = CGROUP_MODE_V1,
	.name = "v1",
	.create = v1_create,
	.apply = v1_apply,
	.enter = v1_enter,
	.freeze = v1_freeze,
	.is_frozen = v1_is_frozen,
	.destroy = v1_destroy,
};
