/* config.json: linux.resources (also the document `minirun update --resources` reads). Values
 * are checked for type and range here; what a value means for v1 or v2 is the cgroup code's. */
#include "cleanup.h"
#include "spec.h"
#include "spec_internal.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
parse_memory(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_resources *r = out;
	int ret;

	if ((ret = spec_opt_int64(v, "limit", path, &r->memory_limit, &r->memory_limit_present,
				  err)) < 0 ||
	    (ret = spec_opt_int64(v, "reservation", path, &r->memory_reservation,
				  &r->memory_reservation_present, err)) < 0 ||
	    (ret = spec_opt_int64(v, "swap", path, &r->memory_swap, &r->memory_swap_present, err)) <
		    0 ||
	    (ret = spec_opt_int64(v, "kernel", path, &r->memory_kernel, &r->memory_kernel_present,
				  err)) < 0 ||
	    (ret = spec_opt_int64(v, "kernelTCP", path, &r->memory_kernel_tcp,
				  &r->memory_kernel_tcp_present, err)) < 0 ||
	    (ret = spec_opt_uint64(v, "swappiness", path, &r->memory_swappiness,
				   &r->memory_swappiness_present, err)) < 0 ||
	    (ret = spec_opt_bool(v, "disableOOMKiller", path, &r->memory_disable_oom_killer,
				 &r->memory_disable_oom_killer_present, err)) < 0 ||
	    (ret = spec_opt_bool(v, "useHierarchy", path, &r->memory_use_hierarchy,
				 &r->memory_use_hierarchy_present, err)) < 0)
		return ret;
	/* runc's message; (uint64)-1 is how Go clients spell "leave it alone". */
	if (r->memory_swappiness_present && r->memory_swappiness == UINT64_MAX)
		r->memory_swappiness_present = false;
	if (r->memory_swappiness_present && r->memory_swappiness > 100)
		return mini_err_set(
			err, EINVAL,
			"%s.swappiness: invalid memory swappiness value: %llu (valid range "
			"is 0-100)",
			path, (unsigned long long)r->memory_swappiness);
	return 0;
}

static int
parse_cpu(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_resources *r = out;
	int ret;

	if ((ret = spec_opt_uint64(v, "shares", path, &r->cpu_shares, &r->cpu_shares_present,
				   err)) < 0 ||
	    (ret = spec_opt_int64(v, "quota", path, &r->cpu_quota, &r->cpu_quota_present, err)) <
		    0 ||
	    (ret = spec_opt_uint64(v, "period", path, &r->cpu_period, &r->cpu_period_present,
				   err)) < 0 ||
	    (ret = spec_opt_int64(v, "realtimeRuntime", path, &r->cpu_rt_runtime,
				  &r->cpu_rt_runtime_present, err)) < 0 ||
	    (ret = spec_opt_uint64(v, "realtimePeriod", path, &r->cpu_rt_period,
				   &r->cpu_rt_period_present, err)) < 0 ||
	    (ret = spec_opt_int64(v, "idle", path, &r->cpu_idle, &r->cpu_idle_present, err)) < 0 ||
	    (ret = spec_opt_str(v, "cpus", path, &r->cpu_cpus, err)) < 0 ||
	    (ret = spec_opt_str(v, "mems", path, &r->cpu_mems, err)) < 0)
		return ret;
	if (r->cpu_idle_present && r->cpu_idle != 0 && r->cpu_idle != 1)
		return mini_err_set(err, EINVAL, "%s.idle: must be 0 or 1", path);
	return 0;
}

static int
parse_access(const char *s, const char *path, unsigned *out, struct mini_err **err)
{
	*out = 0;
	if (s == NULL || s[0] == '\0')
		return mini_err_set(err, EINVAL, "%s.access: must not be empty", path);
	for (; *s; s++) {
		switch (*s) {
		case 'r':
			*out |= SPEC_DEV_ACC_READ;
			break;
		case 'w':
			*out |= SPEC_DEV_ACC_WRITE;
			break;
		case 'm':
			*out |= SPEC_DEV_ACC_MKNOD;
			break;
		default:
			return mini_err_set(err, EINVAL, "%s.access: unknown access '%c'", path,
					    *s);
		}
	}
	return 0;
}

static int
parse_dev_rule(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_dev_rule *d = elem;
	_cleanup_free_ char *type = NULL;
	_cleanup_free_ char *access = NULL;
	bool has_major = false, has_minor = false;
	int ret;

	if ((ret = spec_opt_bool(v, "allow", path, &d->allow, NULL, err)) < 0 ||
	    (ret = spec_opt_str(v, "type", path, &type, err)) < 0 ||
	    (ret = spec_opt_int64(v, "major", path, &d->major, &has_major, err)) < 0 ||
	    (ret = spec_opt_int64(v, "minor", path, &d->minor, &has_minor, err)) < 0 ||
	    (ret = spec_opt_str(v, "access", path, &access, err)) < 0 ||
	    (ret = parse_access(access, path, &d->access, err)) < 0)
		return ret;
	if (type == NULL || type[0] == '\0')
		d->type = 'a';
	else if (strlen(type) == 1 && strchr("acb", type[0]))
		d->type = type[0];
	else
		return mini_err_set(err, EINVAL, "%s.type: invalid cgroup device type \"%s\"", path,
				    type);
	if (!has_major || d->major < 0)
		d->major = -1;
	if (!has_minor || d->minor < 0)
		d->minor = -1;
	if (d->major > UINT32_MAX || d->minor > UINT32_MAX)
		return mini_err_set(err, EINVAL, "%s: device number out of range", path);
	return 0;
}

/* The major and minor that every blockIO device entry needs. */
static int
parse_blkio_dev_nums(yajl_val v, const char *path, struct spec_blkio_dev *d, struct mini_err **err)
{
	bool has_major = false, has_minor = false;
	int ret;

	if ((ret = spec_opt_int64(v, "major", path, &d->major, &has_major, err)) < 0 ||
	    (ret = spec_opt_int64(v, "minor", path, &d->minor, &has_minor, err)) < 0)
		return ret;
	if (!has_major || !has_minor || d->major < 0 || d->minor < 0)
		return mini_err_set(err, EINVAL, "%s: major and minor are required", path);
	return 0;
}

/* An element of blockIO.weightDevice. */
static int
parse_weight_dev(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_blkio_dev *d = elem;
	int ret;

	if ((ret = parse_blkio_dev_nums(v, path, d, err)) < 0 ||
	    (ret = spec_opt_u16(v, "weight", path, &d->weight, &d->weight_present, err)) < 0 ||
	    (ret = spec_opt_u16(v, "leafWeight", path, &d->leaf_weight, &d->leaf_weight_present,
				err)) < 0)
		return ret;
	return 0;
}

/* An element of one of the blockIO.throttle*Device lists. */
static int
parse_throttle_dev(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_blkio_dev *d = elem;
	int ret;

	if ((ret = parse_blkio_dev_nums(v, path, d, err)) < 0 ||
	    (ret = spec_opt_uint64(v, "rate", path, &d->rate, NULL, err)) < 0)
		return ret;
	return 0;
}

static int
parse_blkio(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	static const char *const throttles[SPEC_THROTTLE_COUNT] = {
		[SPEC_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
		[SPEC_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
		[SPEC_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
		[SPEC_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
	};
	struct spec_resources *r = out;
	int t, ret;

	if ((ret = spec_opt_u16(v, "weight", path, &r->blkio_weight, &r->blkio_weight_present,
				err)) < 0 ||
	    (ret = spec_opt_u16(v, "leafWeight", path, &r->blkio_leaf_weight,
				&r->blkio_leaf_weight_present, err)) < 0 ||
	    (ret = spec_opt_objects(v, "weightDevice", path, &r->blkio_weight_device,
				    &r->blkio_weight_device_len, parse_weight_dev, NULL, err)) < 0)
		return ret;
	for (t = 0; t < SPEC_THROTTLE_COUNT; t++) {
		ret = spec_opt_objects(v, throttles[t], path, &r->blkio_throttle[t],
				       &r->blkio_throttle_len[t], parse_throttle_dev, NULL, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
parse_hugepage(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_hugepage *h = elem;
	int ret;

	if ((ret = spec_opt_str(v, "pageSize", path, &h->page_size, err)) < 0 ||
	    (ret = spec_opt_uint64(v, "limit", path, &h->limit, NULL, err)) < 0)
		return ret;
	/* The size becomes part of a file name. */
	if (h->page_size == NULL || h->page_size[0] == '\0' || strchr(h->page_size, '/') ||
	    strcmp(h->page_size, "..") == 0)
		return mini_err_set(err, EINVAL, "%s.pageSize: invalid page size", path);
	return 0;
}

static int
parse_ifprio(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_ifprio *ip = elem;
	int ret;

	if ((ret = spec_opt_str(v, "name", path, &ip->name, err)) < 0 ||
	    (ret = spec_opt_u32(v, "priority", path, &ip->priority, NULL, err)) < 0)
		return ret;
	if (ip->name == NULL || ip->name[0] == '\0' || strchr(ip->name, ' '))
		return mini_err_set(err, EINVAL, "%s.name: invalid interface name", path);
	return 0;
}

static int
parse_network(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_resources *r = out;
	int ret;

	if ((ret = spec_opt_u32(v, "classID", path, &r->net_class_id, &r->net_class_id_present,
				err)) < 0 ||
	    (ret = spec_opt_objects(v, "priorities", path, &r->net_priorities,
				    &r->net_priorities_len, parse_ifprio, NULL, err)) < 0)
		return ret;
	return 0;
}

static int
parse_rdma(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_resources *r = out;
	size_t i, n;
	int ret;

	n = v->u.object.len;
	r->rdma = xcalloc(n + 1, sizeof(*r->rdma));
	for (i = 0; i < n; i++) {
		const char *dev = v->u.object.keys[i];
		yajl_val e = v->u.object.values[i];
		_cleanup_free_ char *ep = spec_path_key(path, dev);
		struct spec_rdma *d = &r->rdma[i];

		d->device = xstrdup(dev);
		r->rdma_len = i + 1;
		if ((ret = json_want_object(e, ep, err)) < 0 ||
		    (ret = spec_opt_u32(e, "hcaHandles", ep, &d->handles, &d->handles_present,
					err)) < 0 ||
		    (ret = spec_opt_u32(e, "hcaObjects", ep, &d->objects, &d->objects_present,
					err)) < 0)
			return ret;
		if (dev[0] == '\0' || strchr(dev, ' ') || strchr(dev, '\n'))
			return mini_err_set(err, EINVAL, "%s: invalid device name", path);
	}
	return 0;
}

static int
parse_pids(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_resources *r = out;

	return spec_opt_int64(v, "limit", path, &r->pids_limit, &r->pids_limit_present, err);
}

int
spec_parse_resources(yajl_val v, const char *path, struct spec_resources **out,
		     struct mini_err **err)
{
	struct spec_resources *r;
	int ret;

	ret = json_want_object(v, path, err);
	if (ret < 0)
		return ret;
	r = xcalloc(1, sizeof(*r));
	r->raw = v;
	*out = r;
	if ((ret = spec_opt_object(v, "memory", path, parse_memory, r, err)) < 0 ||
	    (ret = spec_opt_object(v, "cpu", path, parse_cpu, r, err)) < 0 ||
	    (ret = spec_opt_objects(v, "devices", path, &r->devices, &r->devices_len,
				    parse_dev_rule, NULL, err)) < 0)
		return ret;
	/* Given at all, even as an empty list: the walker allocates the array whenever it is. */
	r->devices_present = r->devices != NULL;
	if ((ret = spec_opt_object(v, "blockIO", path, parse_blkio, r, err)) < 0 ||
	    (ret = spec_opt_objects(v, "hugepageLimits", path, &r->hugepages, &r->hugepages_len,
				    parse_hugepage, NULL, err)) < 0 ||
	    (ret = spec_opt_object(v, "network", path, parse_network, r, err)) < 0 ||
	    (ret = spec_opt_object(v, "rdma", path, parse_rdma, r, err)) < 0 ||
	    (ret = spec_opt_object(v, "pids", path, parse_pids, r, err)) < 0)
		return ret;
	if (json_get(v, "unified")) {
		r->unified_present = true;
		ret = spec_opt_kv(v, "unified", path, &r->unified, &r->unified_len, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

void
spec_resources_free(struct spec_resources *r)
{
	size_t i;
	int t;

	if (r == NULL)
		return;
	free(r->cpu_cpus);
	free(r->cpu_mems);
	free(r->devices);
	free(r->blkio_weight_device);
	for (t = 0; t < SPEC_THROTTLE_COUNT; t++)
		free(r->blkio_throttle[t]);
	for (i = 0; i < r->hugepages_len; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	for (i = 0; i < r->net_priorities_len; i++)
		free(r->net_priorities[i].name);
	free(r->net_priorities);
	for (i = 0; i < r->rdma_len; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	spec_kv_free(r->unified, r->unified_len);
	free(r);
}
