/* cgroup v2: the unified hierarchy. The OCI resources are v1-shaped; they are converted as runc
 * converts them (shares → weight, memory+swap → swap, blkio weight → io.weight), and the device
 * rules become a BPF program (cgroup_bpf.c). */
#include "cgroup.h"
#include "cgroup_devices.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "xalloc.h"

#include <fcntl.h>

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
	if (ret < 0 && cg->rootless && cgroup_denied((*err)->errnum)) {
		mini_err_freep(err);
		cgroup_drop_hier(cg, 0);
		return 0;
	}
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

	if (cg->n_hiers == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	ret = cgroup_write(cg->hiers[0].dir, "cgroup.procs", buf, err);
	if (ret < 0 && cg->rootless && cgroup_denied((*err)->errnum)) {
		mini_err_freep(err);
		return 0;
	}
	if (ret < 0)
		return mini_err_wrap(err, "join cgroup");
	return 0;
}

/* runc's numToStr: 0 is "leave alone", -1 is "max". */
static int
write_limit(const char *dir, const char *file, int64_t v, struct mini_err **err)
{
	if (v == 0)
		return 0;
	if (v == -1)
		return cgroup_write(dir, file, "max", err);
	return cgroup_writef(dir, file, err, "%" PRId64, v);
}

/* v1 swap is memory+swap; v2 memory.swap.max is the swap alone (runc's conversion). */
static int
swap_v2(int64_t swap, int64_t limit, int64_t *out, struct mini_err **err)
{
	*out = swap;
	if (limit == -1 && swap == 0) {
		*out = -1;
		return 0;
	}
	if (swap == -1 || swap == 0)
		return 0;
	if (limit == 0 || limit == -1)
		return mini_err_set(err, EINVAL, "unable to set swap limit without memory limit");
	if (limit < 0)
		return mini_err_set(err, EINVAL, "invalid memory value: %" PRId64, limit);
	if (swap < limit)
		return mini_err_set(err, EINVAL, "memory+swap limit should be >= memory limit");
	*out = swap - limit;
	return 0;
}

static int
apply_memory(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	int64_t limit = r->memory_limit_present ? r->memory_limit : 0;
	int64_t swap = r->memory_swap_present ? r->memory_swap : 0;
	int64_t low = r->memory_reservation_present ? r->memory_reservation : 0;
	int64_t v2swap;
	int ret;

	if (limit == 0 && swap == 0 && low == 0)
		return 0;
	ret = swap_v2(swap, limit, &v2swap, err);
	if (ret < 0)
		return ret;
	/* swap == limit: no swap at all, which is "0", not "leave alone". */
	if (v2swap == 0 && swap > 0)
		ret = cgroup_write(dir, "memory.swap.max", "0", err);
	else
		ret = write_limit(dir, "memory.swap.max", v2swap, err);
	if (ret == 0)
		ret = write_limit(dir, "memory.max", limit, err);
	if (ret == 0)
		ret = write_limit(dir, "memory.low", low, err);
	return ret;
}

/* runc's conversion of v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]. */
uint64_t
cgroup_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* And of blkio.weight [10, 1000] to io.weight [1, 10000]. */
uint64_t
cgroup_blkio_to_io_weight(uint64_t weight)
{
	if (weight == 0)
		return 0;
	return 1 + (weight - 10) * 9999 / 990;
}

static int
apply_cpu(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	uint64_t period = r->cpu_period_present ? r->cpu_period : 0;
	int64_t quota = r->cpu_quota_present ? r->cpu_quota : 0;
	int ret;

	if (r->cpu_shares_present && r->cpu_shares != 0 &&
	    (ret = cgroup_writef(dir, "cpu.weight", err, "%" PRIu64,
				 cgroup_shares_to_weight(r->cpu_shares))) < 0)
		return ret;
	if (quota != 0 || period != 0) {
		_cleanup_free_ char *cur = NULL;
		char q[32] = "max";

		if (quota > 0)
			snprintf(q, sizeof(q), "%" PRId64, quota);
		/* One of the two alone keeps the other's current value, as runc's update does:
		 * the kernel keeps the period when only a quota is written; for a period alone,
		 * the current quota is read back. */
		if (period == 0)
			ret = cgroup_write(dir, "cpu.max", q, err);
		else if (quota == 0 && cgroup_read(dir, "cpu.max", &cur, NULL) == 0)
			ret = cgroup_writef(dir, "cpu.max", err, "%.*s %" PRIu64,
					    (int)strcspn(cur, " \n"), cur, period);
		else
			ret = cgroup_writef(dir, "cpu.max", err, "%s %" PRIu64, q, period);
		if (ret < 0)
			return ret;
	}
	if (r->cpu_idle_present &&
	    (ret = cgroup_writef(dir, "cpu.idle", err, "%" PRId64, r->cpu_idle)) < 0)
		return ret;
	/* v2 has no real-time group scheduling; runc ignores the values too. */
	if ((r->cpu_rt_runtime_present && r->cpu_rt_runtime) ||
	    (r->cpu_rt_period_present && r->cpu_rt_period))
		log_warn("cpu.realtimeRuntime and realtimePeriod are ignored on cgroup v2");
	if (r->cpu_cpus && r->cpu_cpus[0] &&
	    (ret = cgroup_write(dir, "cpuset.cpus", r->cpu_cpus, err)) < 0)
		return ret;
	if (r->cpu_mems && r->cpu_mems[0] &&
	    (ret = cgroup_write(dir, "cpuset.mems", r->cpu_mems, err)) < 0)
		return ret;
	return 0;
}

/* BFQ's io.bfq.weight takes "MAJ:MIN weight" lines only when its content is not a bare
 * number (it then reads "default N"). */
static bool
bfq_takes_devices(const char *dir)
{
	_cleanup_free_ char *v = NULL;
	char *end;

	if (cgroup_read(dir, "io.bfq.weight", &v, NULL) < 0)
		return false;
	strtoll(v, &end, 10);
	return end == v;
}

static int
apply_io(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	static const char *const keys[SPEC_THROTTLE_COUNT] = {
		[SPEC_THROTTLE_READ_BPS] = "rbps",
		[SPEC_THROTTLE_WRITE_BPS] = "wbps",
		[SPEC_THROTTLE_READ_IOPS] = "riops",
		[SPEC_THROTTLE_WRITE_IOPS] = "wiops",
	};
	_cleanup_free_ char *bfq_path = path_join(dir, "io.bfq.weight");
	bool bfq = access(bfq_path, F_OK) == 0;
	bool bfq_devices = bfq && bfq_takes_devices(dir);
	size_t i;
	int t, ret;

	if (r->blkio_weight_present && r->blkio_weight) {
		/* BFQ takes the v1 value as is; io.weight has its own range. */
		if (bfq)
			ret = cgroup_writef(dir, "io.bfq.weight", err, "%u", r->blkio_weight);
		else
			ret = cgroup_writef(dir, "io.weight", err, "%" PRIu64,
					    cgroup_blkio_to_io_weight(r->blkio_weight));
		if (ret < 0)
			return ret;
	}
	for (i = 0; bfq_devices && i < r->blkio_weight_device_len; i++) {
		const struct spec_blkio_dev *d = &r->blkio_weight_device[i];

		if (d->weight_present && d->weight &&
		    (ret = cgroup_writef(dir, "io.bfq.weight", err, "%" PRId64 ":%" PRId64 " %u",
					 d->major, d->minor, d->weight)) < 0)
			return ret;
	}
	for (t = 0; t < SPEC_THROTTLE_COUNT; t++) {
		for (i = 0; i < r->blkio_throttle_len[t]; i++) {
			const struct spec_blkio_dev *d = &r->blkio_throttle[t][i];

			ret = cgroup_writef(dir, "io.max", err,
					    "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major,
					    d->minor, keys[t], d->rate);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int
apply_hugetlb(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	size_t i;
	int ret;

	for (i = 0; i < r->hugepages_len; i++) {
		_cleanup_free_ char *file = xasprintf("hugetlb.%s.max", r->hugepages[i].page_size);

		ret = cgroup_writef(dir, file, err, "%" PRIu64, r->hugepages[i].limit);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* linux.resources.unified: raw file names and values, written last so they win. */
static int
apply_unified(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	size_t i;
	int ret;

	for (i = 0; i < r->unified_len; i++) {
		const char *k = r->unified[i].key;
		_cleanup_free_ char *avail = NULL;
		struct mini_err *e = NULL;
		const char *dot = strchr(k, '.');
		_cleanup_free_ char *ctl = NULL;

		if (strchr(k, '/') || strcmp(k, "..") == 0 || strcmp(k, ".") == 0)
			return mini_err_set(
				err, EINVAL,
				"unified resource \"%s\" must be a file name (no slashes)", k);
		ret = cgroup_write(dir, k, r->unified[i].value, &e);
		if (ret == 0)
			continue;
		if ((e->errnum == ENOENT || e->errnum == EACCES || e->errnum == EPERM) && dot) {
			ctl = xstrndup(k, (size_t)(dot - k));
			cgroup_read(dir, "cgroup.controllers", &avail, NULL);
			if (strcmp(ctl, "cgroup") != 0 && !word_in(avail, ctl)) {
				mini_err_free(e);
				return mini_err_set(err, ENOENT,
						    "unified resource \"%s\" can't be set: "
						    "controller \"%s\" not available",
						    k, ctl);
			}
		}
		*err = e;
		return mini_err_wrap(err, "unable to set unified resource \"%s\"", k);
	}
	return 0;
}

static int
v2_apply(struct cgroup *cg, const struct spec_resources *r, bool update, struct mini_err **err)
{
	const char *dir = cg->hiers[0].dir;
	int ret;

	(void)update;
	if (r == NULL)
		return 0;
	if (r->memory_kernel_present || r->memory_kernel_tcp_present)
		log_warn("Kernel memory settings are ignored and will be removed");
	if (r->pids_limit_present && r->pids_limit != 0 &&
	    (ret = write_limit(dir, "pids.max", r->pids_limit < 0 ? -1 : r->pids_limit, err)) < 0)
		return ret;
	/* runc's order; net_cls and net_prio have no v2 counterpart and are ignored, as there. */
	if ((ret = apply_memory(dir, r, err)) < 0 || (ret = apply_io(dir, r, err)) < 0 ||
	    (ret = apply_cpu(dir, r, err)) < 0 || (ret = apply_hugetlb(dir, r, err)) < 0 ||
	    (ret = cgroup_rdma_apply(dir, r, err)) < 0 || (ret = apply_unified(dir, r, err)) < 0)
		return ret;
	return 0;
}

static int
v2_set_devices(struct cgroup *cg, const struct spec_dev_rule *rules, size_t n,
	       struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ struct bpf_insn *insns = NULL;
	struct dev_policy pol;
	size_t n_insns;
	int ret;

	if (cgroup_in_userns())
		return 0;
	fd = open(cg->hiers[0].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return mini_err_set(err, errno, "open cgroup %s", cg->hiers[0].dir);
	dev_policy_build(rules, n, &pol);
	dev_bpf_program(&pol, &insns, &n_insns);
	dev_policy_clear(&pol);
	ret = dev_bpf_attach(fd, insns, n_insns, err);
	if (ret < 0)
		return mini_err_wrap(err, "devices cgroup %s", cg->hiers[0].dir);
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
	.set_devices = v2_set_devices,
	.enter = v2_enter,
	.freeze = v2_freeze,
	.is_frozen = v2_is_frozen,
	.destroy = v2_destroy,
};
