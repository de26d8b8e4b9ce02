/* cgroup v2: the unified hierarchy. Part 1 applies memory, cpu and pids; the rest (io, hugetlb,
 * the device BPF program, `unified`) comes with part 2. */
#include "cgroup.h"
#include "cleanup.h"
#include "fs.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Enables every available controller for the children of each ancestor of dir, so limits can be
 * written in the container's directory. Best effort: a controller the parent does not delegate
 * just stays unavailable. */
static void
enable_controllers(const char *mountpoint, const char *dir)
{
	_cleanup_free_ char *cur = xstrdup(mountpoint);
	const char *rest = dir + strlen(mountpoint);

	while (*rest == '/')
		rest++;
	while (*rest) {
		_cleanup_free_ char *avail = NULL;
		const char *slash = strchr(rest, '/');
		size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
		char *tok, *save = NULL, *next;

		if (cgroup_read(cur, "cgroup.controllers", &avail, NULL) == 0) {
			for (tok = strtok_r(avail, " \n", &save); tok;
			     tok = strtok_r(NULL, " \n", &save)) {
				_cleanup_free_ char *plus = xasprintf("+%s", tok);
				cgroup_write(cur, "cgroup.subtree_control", plus, NULL);
			}
		}
		next = xasprintf("%s/%.*s", cur, (int)len, rest);
		free(cur);
		cur = next;
		rest += len;
		while (*rest == '/')
			rest++;
		if (*rest == '\0')
			break;
	}
}

static int
v2_create(struct cgroup *cg, struct mini_err **err)
{
	struct cgroup_hier *h = &cg->hiers[0];
	int ret;

	ret = mkdir_p(h->dir, 0755, err);
	if (ret < 0)
		return mini_err_wrap(err, "create cgroup");
	enable_controllers(h->mountpoint, h->dir);
	return 0;
}

static int
v2_enter(struct cgroup *cg, pid_t pid, struct mini_err **err)
{
	char buf[32];
	int ret;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	ret = cgroup_write(cg->hiers[0].dir, "cgroup.procs", buf, err);
	if (ret < 0)
		return mini_err_wrap(err, "join cgroup");
	return 0;
}

static int
write_i64(const char *dir, const char *file, int64_t v, struct mini_err **err)
{
	char buf[32];

	if (v < 0)
		return cgroup_write(dir, file, "max", err);
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cgroup_write(dir, file, buf, err);
}

/* runc's conversion of v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]. */
static uint64_t
shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int
v2_apply(struct cgroup *cg, const struct spec_resources *r, bool update, struct mini_err **err)
{
	const char *dir = cg->hiers[0].dir;
	int ret;

	if (r == NULL)
		return 0;
	if (r->memory_limit_present && r->memory_limit != 0 &&
	    (ret = write_i64(dir, "memory.max", r->memory_limit, err)) < 0)
		return ret;
	if (r->memory_reservation_present && r->memory_reservation != 0 &&
	    (ret = write_i64(dir, "memory.low", r->memory_reservation, err)) < 0)
		return ret;
	if (r->memory_swap_present && r->memory_swap != 0) {
		/* v1 swap is memory+swap; v2 swap.max is the swap alone. */
		int64_t swap = r->memory_swap;

		if (swap > 0 && r->memory_limit_present && r->memory_limit > 0)
			swap -= r->memory_limit;
		if ((ret = write_i64(dir, "memory.swap.max", swap, err)) < 0)
			return ret;
	}
	if (r->cpu_shares_present && r->cpu_shares != 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%" PRIu64, shares_to_weight(r->cpu_shares));
		if ((ret = cgroup_write(dir, "cpu.weight", buf, err)) < 0)
			return ret;
	}
	if ((r->cpu_quota_present && r->cpu_quota != 0) ||
	    (r->cpu_period_present && r->cpu_period != 0)) {
		char buf[64];
		uint64_t period = r->cpu_period_present && r->cpu_period ? r->cpu_period : 100000;

		if (r->cpu_quota_present && r->cpu_quota > 0)
			snprintf(buf, sizeof(buf), "%" PRId64 " %" PRIu64, r->cpu_quota, period);
		else
			snprintf(buf, sizeof(buf), "max %" PRIu64, period);
		if ((ret = cgroup_write(dir, "cpu.max", buf, err)) < 0)
			return ret;
	}
	if (r->cpu_cpus && r->cpu_cpus[0] &&
	    (ret = cgroup_write(dir, "cpuset.cpus", r->cpu_cpus, err)) < 0)
		return ret;
	if (r->cpu_mems && r->cpu_mems[0] &&
	    (ret = cgroup_write(dir, "cpuset.mems", r->cpu_mems, err)) < 0)
		return ret;
	if (r->pids_limit_present && r->pids_limit != 0 &&
	    (ret = write_i64(dir, "pids.max", r->pids_limit, err)) < 0)
		return ret;
	(void)update;
	return 0;
}

static int
v2_is_frozen(struct cgroup *cg, bool *frozen, struct mini_err **err)
{
	_cleanup_free_ char *v = NULL;

	*frozen = false;
	if (cgroup_read(cg->hiers[0].dir, "cgroup.freeze", &v, NULL) < 0)
		return 0;
	*frozen = v[0] == '1';
	(void)err;
	return 0;
}

static int
v2_freeze(struct cgroup *cg, bool frozen, struct mini_err **err)
{
	const char *dir = cg->hiers[0].dir;
	int i, ret;

	ret = cgroup_write(dir, "cgroup.freeze", frozen ? "1" : "0", err);
	if (ret < 0)
		return ret;
	/* cgroup.events says "frozen 1" once every task has stopped. */
	for (i = 0; i < 1000; i++) {
		_cleanup_free_ char *ev = NULL;
		struct timespec ts = { 0, 1000 * 1000 };
		char *p;

		ret = cgroup_read(dir, "cgroup.events", &ev, err);
		if (ret < 0)
			return ret;
		p = strstr(ev, "frozen ");
		if (p && (p[7] == '1') == frozen)
			return 0;
		nanosleep(&ts, NULL);
	}
	return mini_err_set(err, EBUSY, "cgroup %s did not %s", dir, frozen ? "freeze" : "thaw");
}

static int
v2_destroy(struct cgroup *cg, struct mini_err **err)
{
	return cgroup_rmdir_tree(cg->hiers[0].dir, err);
}

const struct cgroup_ops cgroup_v2_ops = {
	.mode = CGROUP_MODE_V2,
	.name = "v2",
	.create = v2_create,
	.apply = v2_apply,
	.enter = v2_enter,
	.freeze = v2_freeze,
	.is_frozen = v2_is_frozen,
	.destroy = v2_destroy,
};
