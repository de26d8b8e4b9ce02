/* cgroup v1: one hierarchy per controller (or group of controllers) under /sys/fs/cgroup. The
 * resources are written by cgroup_v1_apply.c. */
#include "cgroup.h"
#include "cgroup_devices.h"
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
		if (ret < 0 && cg->rootless && cgroup_denied(e->errnum)) {
			mini_err_free(e);
			cgroup_drop_hier(cg, i--);
			continue;
		}
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
		if (ret < 0 &&
		    (cg->hiers[i].optional || (cg->rootless && cgroup_denied(e->errnum)))) {
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
v1_set_devices(struct cgroup *cg, const struct spec_dev_rule *rules, size_t n,
	       struct mini_err **err)
{
	const char *dir = cgroup_dir_for(cg, "devices");
	char buf[64];
	size_t i;
	int ret;

	if (cgroup_in_userns())
		return 0;
	/* runc: the devices cgroup is required, it is the container's only device fence. */
	if (dir == NULL)
		return mini_err_set(err, ENOENT, "no devices cgroup hierarchy is mounted");
	/* Deny all, then the kernel replays the rules. The cgroup has no task yet. */
	ret = cgroup_write(dir, "devices.deny", "a", err);
	for (i = 0; ret == 0 && i < n; i++)
		ret = cgroup_write(dir, rules[i].allow ? "devices.allow" : "devices.deny",
				   cgroup_dev_rule_string(&rules[i], buf, sizeof(buf)), err);
	return ret;
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
	.apply = cgroup_v1_apply,
	.set_devices = v1_set_devices,
	.enter = v1_enter,
	.freeze = v1_freeze,
	.is_frozen = v1_is_frozen,
	.destroy = v1_destroy,
};
