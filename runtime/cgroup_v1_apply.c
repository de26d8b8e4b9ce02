/* cgroup v1 resources: one writer per controller, with runc 1.1's files, orders and messages.
 * A value that is absent or zero is not written (so `update` changes only what it names). A
 * resource whose controller has no hierarchy on this host is an error, as with runc ("cannot set
 * hugetlb limit"): silently running a container without its limit would be worse. */
#include "cgroup.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
read_u64(const char *dir, const char *file, uint64_t *out, struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	int ret;

	ret = cgroup_read(dir, file, &text, err);
	if (ret < 0)
		return ret;
	*out = strtoull(text, NULL, 10);
	return 0;
}

static bool
has_file(const char *dir, const char *file)
{
	_cleanup_free_ char *p = path_join(dir, file);

	return access(p, F_OK) == 0;
}

/* --- memory --- */

static bool
memory_wanted(const struct spec_resources *r)
{
	return (r->memory_limit_present && r->memory_limit != 0) ||
	       (r->memory_swap_present && r->memory_swap != 0) ||
	       (r->memory_reservation_present && r->memory_reservation != 0) ||
	       r->memory_swappiness_present ||
	       (r->memory_disable_oom_killer_present && r->memory_disable_oom_killer);
}

static int
set_limit(const char *dir, int64_t v, struct mini_err **err)
{
	struct mini_err *e = NULL;
	uint64_t usage = 0, peak = 0;

	if (v == 0 || cgroup_writef(dir, "memory.limit_in_bytes", &e, "%" PRId64, v) == 0)
		return 0;
	if (e->errnum != EBUSY) {
		*err = e;
		return -e->errnum;
	}
	/* EBUSY: the usage is above the new limit; say so, as runc does. */
	mini_err_free(e);
	read_u64(dir, "memory.usage_in_bytes", &usage, NULL);
	read_u64(dir, "memory.max_usage_in_bytes", &peak, NULL);
	return mini_err_set(err, EBUSY,
			    "unable to set memory limit to %" PRId64 " (current usage: %" PRIu64
			    ", peak usage: %" PRIu64 ")",
			    v, usage, peak);
}

static int
set_swap(const char *dir, int64_t v, struct mini_err **err)
{
	if (v == 0)
		return 0;
	return cgroup_writef(dir, "memory.memsw.limit_in_bytes", err, "%" PRId64, v);
}

static int
apply_memory(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	int64_t limit = r->memory_limit_present ? r->memory_limit : 0;
	int64_t swap = r->memory_swap_present ? r->memory_swap : 0;
	uint64_t cur = 0;
	int ret;

	/* Unlimited memory without a swap value means unlimited swap too. */
	if (limit == -1 && swap == 0 && has_file(dir, "memory.memsw.limit_in_bytes"))
		swap = -1;
	/* memsw must stay >= the limit at every step: raise it first when it grows. */
	if (limit != 0 && swap != 0) {
		ret = read_u64(dir, "memory.limit_in_bytes", &cur, err);
		if (ret < 0)
			return ret;
		if (swap == -1 || cur < (uint64_t)swap) {
			ret = set_swap(dir, swap, err);
			return ret < 0 ? ret : set_limit(dir, limit, err);
		}
	}
	if ((ret = set_limit(dir, limit, err)) < 0 || (ret = set_swap(dir, swap, err)) < 0)
		return ret;
	if (r->memory_reservation_present && r->memory_reservation != 0 &&
	    (ret = cgroup_writef(dir, "memory.soft_limit_in_bytes", err, "%" PRId64,
				 r->memory_reservation)) < 0)
		return ret;
	if (r->memory_disable_oom_killer_present && r->memory_disable_oom_killer &&
	    (ret = cgroup_write(dir, "memory.oom_control", "1", err)) < 0)
		return ret;
	if (r->memory_swappiness_present &&
	    (ret = cgroup_writef(dir, "memory.swappiness", err, "%" PRIu64, r->memory_swappiness)) <
		    0)
		return ret;
	return 0;
}

/* --- cpu, cpuset, pids --- */

static bool
cpu_wanted(const struct spec_resources *r)
{
	return (r->cpu_shares_present && r->cpu_shares != 0) ||
	       (r->cpu_quota_present && r->cpu_quota != 0) ||
	       (r->cpu_period_present && r->cpu_period != 0) ||
	       (r->cpu_rt_runtime_present && r->cpu_rt_runtime != 0) ||
	       (r->cpu_rt_period_present && r->cpu_rt_period != 0) || r->cpu_idle_present;
}

static int
apply_shares(const char *dir, uint64_t shares, struct mini_err **err)
{
	uint64_t got = 0;
	int ret;

	ret = cgroup_writef(dir, "cpu.shares", err, "%" PRIu64, shares);
	if (ret == 0)
		ret = read_u64(dir, "cpu.shares", &got, err);
	if (ret < 0)
		return ret;
	/* The kernel clamps silently; runc reports the bound instead. */
	if (shares > got)
		return mini_err_set(err, EINVAL, "the maximum allowed cpu-shares is %" PRIu64, got);
	if (shares < got)
		return mini_err_set(err, EINVAL, "the minimum allowed cpu-shares is %" PRIu64, got);
	return 0;
}

static int
apply_cpu(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	uint64_t period = r->cpu_period_present ? r->cpu_period : 0;
	int64_t quota = r->cpu_quota_present ? r->cpu_quota : 0;
	bool period_pending = false;
	int ret;

	if (r->cpu_shares_present && r->cpu_shares != 0 &&
	    (ret = apply_shares(dir, r->cpu_shares, err)) < 0)
		return ret;
	if (period != 0) {
		struct mini_err *e = NULL;

		/* A shorter period can be refused (EINVAL) until the quota is lowered with it:
		 * then write it again after the quota. */
		ret = cgroup_writef(dir, "cpu.cfs_period_us", &e, "%" PRIu64, period);
		if (ret < 0 && (e->errnum != EINVAL || quota == 0)) {
			*err = e;
			return ret;
		}
		period_pending = ret < 0;
		mini_err_free(e);
	}
	if (quota != 0) {
		ret = cgroup_writef(dir, "cpu.cfs_quota_us", err, "%" PRId64, quota);
		if (ret == 0 && period_pending)
			ret = cgroup_writef(dir, "cpu.cfs_period_us", err, "%" PRIu64, period);
		if (ret < 0)
			return ret;
	}
	if (r->cpu_rt_period_present && r->cpu_rt_period != 0 &&
	    (ret = cgroup_writef(dir, "cpu.rt_period_us", err, "%" PRIu64, r->cpu_rt_period)) < 0)
		return ret;
	if (r->cpu_rt_runtime_present && r->cpu_rt_runtime != 0 &&
	    (ret = cgroup_writef(dir, "cpu.rt_runtime_us", err, "%" PRId64, r->cpu_rt_runtime)) < 0)
		return ret;
	if (r->cpu_idle_present &&
	    (ret = cgroup_writef(dir, "cpu.idle", err, "%" PRId64, r->cpu_idle)) < 0)
		return ret;
	return 0;
}

static bool
cpuset_wanted(const struct spec_resources *r)
{
	return (r->cpu_cpus && r->cpu_cpus[0]) || (r->cpu_mems && r->cpu_mems[0]);
}

static int
apply_cpuset(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	int ret;

	if (r->cpu_cpus && r->cpu_cpus[0] &&
	    (ret = cgroup_write(dir, "cpuset.cpus", r->cpu_cpus, err)) < 0)
		return ret;
	if (r->cpu_mems && r->cpu_mems[0] &&
	    (ret = cgroup_write(dir, "cpuset.mems", r->cpu_mems, err)) < 0)
		return ret;
	return 0;
}

static bool
pids_wanted(const struct spec_resources *r)
{
	return r->pids_limit_present && r->pids_limit != 0;
}

static int
apply_pids(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	/* runc: a negative limit means unlimited. */
	if (r->pids_limit < 0)
		return cgroup_write(dir, "pids.max", "max", err);
	return cgroup_writef(dir, "pids.max", err, "%" PRId64, r->pids_limit);
}

/* --- blkio --- */

static bool
blkio_wanted(const struct spec_resources *r)
{
	int t;

	if ((r->blkio_weight_present && r->blkio_weight) ||
	    (r->blkio_leaf_weight_present && r->blkio_leaf_weight) || r->blkio_weight_device_len)
		return true;
	for (t = 0; t < SPEC_THROTTLE_COUNT; t++)
		if (r->blkio_throttle_len[t])
			return true;
	return false;
}

static int
apply_blkio(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	static const char *const throttle_files[SPEC_THROTTLE_COUNT] = {
		[SPEC_THROTTLE_READ_BPS] = "blkio.throttle.read_bps_device",
		[SPEC_THROTTLE_WRITE_BPS] = "blkio.throttle.write_bps_device",
		[SPEC_THROTTLE_READ_IOPS] = "blkio.throttle.read_iops_device",
		[SPEC_THROTTLE_WRITE_IOPS] = "blkio.throttle.write_iops_device",
	};
	/* CFQ's files, or BFQ's when CFQ is gone (kernels since 5.0). */
	bool cfq = has_file(dir, "blkio.weight");
	const char *weight = cfq ? "blkio.weight" : "blkio.bfq.weight";
	const char *weight_dev = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
	size_t i;
	int t, ret;

	if (r->blkio_weight_present && r->blkio_weight &&
	    (ret = cgroup_writef(dir, weight, err, "%u", r->blkio_weight)) < 0)
		return ret;
	if (r->blkio_leaf_weight_present && r->blkio_leaf_weight &&
	    (ret = cgroup_writef(dir, "blkio.leaf_weight", err, "%u", r->blkio_leaf_weight)) < 0)
		return ret;
	for (i = 0; i < r->blkio_weight_device_len; i++) {
		const struct spec_blkio_dev *d = &r->blkio_weight_device[i];

		if (d->weight_present && d->weight &&
		    (ret = cgroup_writef(dir, weight_dev, err, "%" PRId64 ":%" PRId64 " %u",
					 d->major, d->minor, d->weight)) < 0)
			return ret;
		if (d->leaf_weight_present && d->leaf_weight &&
		    (ret = cgroup_writef(dir, "blkio.leaf_weight_device", err,
					 "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
					 d->leaf_weight)) < 0)
			return ret;
	}
	for (t = 0; t < SPEC_THROTTLE_COUNT; t++) {
		for (i = 0; i < r->blkio_throttle_len[t]; i++) {
			const struct spec_blkio_dev *d = &r->blkio_throttle[t][i];

			ret = cgroup_writef(dir, throttle_files[t], err,
					    "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
					    d->rate);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* --- hugetlb, net_cls, net_prio, rdma --- */

static bool
hugetlb_wanted(const struct spec_resources *r)
{
	return r->hugepages_len > 0;
}

static int
apply_hugetlb(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	size_t i;
	int ret;

	for (i = 0; i < r->hugepages_len; i++) {
		_cleanup_free_ char *file =
			xasprintf("hugetlb.%s.limit_in_bytes", r->hugepages[i].page_size);

		ret = cgroup_writef(dir, file, err, "%" PRIu64, r->hugepages[i].limit);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static bool
net_cls_wanted(const struct spec_resources *r)
{
	return r->net_class_id_present && r->net_class_id != 0;
}

static int
apply_net_cls(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	return cgroup_writef(dir, "net_cls.classid", err, "%u", r->net_class_id);
}

static bool
net_prio_wanted(const struct spec_resources *r)
{
	return r->net_priorities_len > 0;
}

static int
apply_net_prio(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	size_t i;
	int ret;

	for (i = 0; i < r->net_priorities_len; i++) {
		ret = cgroup_writef(dir, "net_prio.ifpriomap", err, "%s %u",
				    r->net_priorities[i].name, r->net_priorities[i].priority);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static bool
rdma_wanted(const struct spec_resources *r)
{
	return r->rdma_len > 0;
}

int
cgroup_rdma_apply(const char *dir, const struct spec_resources *r, struct mini_err **err)
{
	size_t i;
	int ret;

	for (i = 0; i < r->rdma_len; i++) {
		const struct spec_rdma *d = &r->rdma[i];
		char handles[32] = "", objects[32] = "";

		if (d->handles_present)
			snprintf(handles, sizeof(handles), " hca_handle=%u", d->handles);
		if (d->objects_present)
			snprintf(objects, sizeof(objects), " hca_object=%u", d->objects);
		ret = cgroup_writef(dir, "rdma.max", err, "%s%s%s", d->device, handles, objects);
		if (ret < 0)
			return ret;
	}
	return 0;
}

typedef bool (*wanted_fn)(const struct spec_resources *r);
typedef int (*apply_fn)(const char *dir, const struct spec_resources *r, struct mini_err **err);

/* In runc's order (cpuset first: the others do not depend on it, but its errors are the most
 * common and best reported first). */
static const struct {
	const char *controller;
	wanted_fn wanted;
	apply_fn apply;
} controllers[] = {
	{ "cpuset", cpuset_wanted, apply_cpuset },
	{ "memory", memory_wanted, apply_memory },
	{ "cpu", cpu_wanted, apply_cpu },
	{ "pids", pids_wanted, apply_pids },
	{ "blkio", blkio_wanted, apply_blkio },
	{ "hugetlb", hugetlb_wanted, apply_hugetlb },
	{ "net_cls", net_cls_wanted, apply_net_cls },
	{ "net_prio", net_prio_wanted, apply_net_prio },
	{ "rdma", rdma_wanted, cgroup_rdma_apply },
};

const char *
cgroup_limit_wanted(const struct spec_resources *r)
{
	size_t i;

	for (i = 0; r && i < sizeof(controllers) / sizeof(controllers[0]); i++)
		if (controllers[i].wanted(r))
			return controllers[i].controller;
	if (r && r->unified_present && r->unified_len)
		return "unified";
	return NULL;
}

int
cgroup_v1_apply(struct cgroup *cg, const struct spec_resources *r, bool update,
		struct mini_err **err)
{
	size_t i;
	int ret;

	(void)update;
	if (r == NULL)
		return 0;
	/* runc refuses any unified map on v1; an empty one asks for nothing, so let it pass. */
	if (r->unified_present && r->unified_len > 0)
		return mini_err_set(err, EINVAL, "unified: cannot use unified on cgroup v1");
	if (r->memory_kernel_present || r->memory_kernel_tcp_present)
		log_warn("Kernel memory settings are ignored and will be removed");
	for (i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++) {
		const char *dir;

		if (!controllers[i].wanted(r))
			continue;
		dir = cgroup_dir_for(cg, controllers[i].controller);
		if (dir == NULL)
			return mini_err_set(
				err, ENOTSUP,
				"cannot set %s limit: no %s cgroup hierarchy is mounted",
				controllers[i].controller, controllers[i].controller);
		ret = controllers[i].apply(dir, r, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}
