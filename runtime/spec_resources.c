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
parse_memory(yajl_val v, const char *path, struct spec_resources *r, struct mini_err **err)
{
	int ret;

	if ((ret = json_want_object(v, path, err)) < 0 ||
	    (ret = spec_opt_int64(v, "limit", path, &r->memory_limit, &r->memory_limit_present,
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
parse_cpu(yajl_val v, const char *path, struct spec_resources *r, struct mini_err **err)
{
	int ret;

	if ((ret = json_want_object(v, path, err)) < 0 ||
	    (ret = spec_opt_uint64(v, "shares", path, &r->cpu_shares, &r->cpu_shares_present,
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
parse_dev_rules(yajl_val v, const char *path, struct spec_resources *r, struct mini_err **err)
{
	size_t i, n;
	int ret;

	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	r->devices = xcalloc(n + 1, sizeof(*r->devices));
	r->devices_present = true;
	for (i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		_cleanup_free_ char *ep = spec_path_idx(path, i);
		_cleanup_free_ char *type = NULL;
		_cleanup_free_ char *access = NULL;
		struct spec_dev_rule *d = &r->devices[i];
		bool has_major = false, has_minor = false;

		if ((ret = json_want_object(e, ep, err)) < 0 ||
		    (ret = spec_opt_bool(e, "allow", ep, &d->allow, NULL, err)) < 0 ||
		    (ret = spec_opt_str(e, "type", ep, &type, err)) < 0 ||
		    (ret = spec_opt_int64(e, "major", ep, &d->major, &has_major, err)) < 0 ||
		    (ret = spec_opt_int64(e, "minor", ep, &d->minor, &has_minor, err)) < 0 ||
		    (ret = spec_opt_str(e, "access", ep, &access, err)) < 0 ||
		    (ret = parse_access(access, ep, &d->access, err)) < 0)
			return ret;
		if (type == NULL || type[0] == '\0')
			d->type = 'a';
		else if (strlen(type) == 1 && strchr("acb", type[0]))
			d->type = type[0];
		else
			return mini_err_set(err, EINVAL,
					    "%s.type: invalid cgroup device type \"%s\"", ep, type);
		if (!has_major || d->major < 0)
			d->major = -1;
		if (!has_minor || d->minor < 0)
			d->minor = -1;
		if (d->major > UINT32_MAX || d->minor > UINT32_MAX)
			return mini_err_set(err, EINVAL, "%s: device number out of range", ep);
		r->devices_len = i + 1;
	}
	return 0;
}

static int
parse_u16(yajl_val obj, const char *key, const char *path, uint16_t *out, bool *present,
	  struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;
	int64_t x;
	int ret;

	if (v == NULL)
		return 0;
	p = spec_path_key(path, key);
	ret = json_want_range(v, p, 0, UINT16_MAX, &x, err);
	if (ret < 0)
		return ret;
	*out = (uint16_t)x;
	*present = true;
	return 0;
}

/* weightDevice (with_weight) or a throttle list (rate). */
static int
parse_blkio_devs(yajl_val v, const char *path, bool with_weight, struct spec_blkio_dev **out,
		 size_t *len, struct mini_err **err)
{
	size_t i, n;
	int ret;

	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	*out = xcalloc(n + 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		_cleanup_free_ char *ep = spec_path_idx(path, i);
		struct spec_blkio_dev *d = &(*out)[i];
		bool has_major = false, has_minor = false;

		if ((ret = json_want_object(e, ep, err)) < 0 ||
		    (ret = spec_opt_int64(e, "major", ep, &d->major, &has_major, err)) < 0 ||
		    (ret = spec_opt_int64(e, "minor", ep, &d->minor, &has_minor, err)) < 0)
			return ret;
		if (!has_major || !has_minor || d->major < 0 || d->minor < 0)
			return mini_err_set(err, EINVAL, "%s: major and minor are required", ep);
		if (with_weight &&
		    ((ret = parse_u16(e, "weight", ep, &d->weight, &d->weight_present, err)) < 0 ||
		     (ret = parse_u16(e, "leafWeight", ep, &d->leaf_weight, &d->leaf_weight_present,
				      err)) < 0))
			return ret;
		if (!with_weight && (ret = spec_opt_uint64(e, "rate", ep, &d->rate, NULL, err)) < 0)
			return ret;
		*len = i + 1;
	}
	return 0;
}

static int
parse_blkio(yajl_val v, const char *path, struct spec_resources *r, struct mini_err **err)
{
	static const char *const throttles[SPEC_THROTTLE_COUNT] = {
		[SPEC_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
		[SPEC_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
		[SPEC_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
		[SPEC_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
	};
	yajl_val sub;
	int t, ret;

	if ((ret = json_want_object(v, path, err)) < 0 ||
	    (ret = parse_u16(v, "weight", path, &r->blkio_weight, &r->blkio_weight_present, err)) <
		    0 ||
	    (ret = parse_u16(v, "leafWeight", path, &r->blkio_leaf_weight,
			     &r->blkio_leaf_weight_present, err)) < 0)
		return ret;
	sub = json_get(v, "weightDevice");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "weightDevice");

		ret = parse_blkio_devs(sub, p, true, &r->blkio_weight_device,
				       &r->blkio_weight_device_len, err);
		if (ret < 0)
			return ret;
	}
	for (t = 0; t < SPEC_THROTTLE_COUNT; t++) {
		_cleanup_free_ char *p = NULL;

		sub = json_get(v, throttles[t]);
		if (sub == NULL)
			continue;
		p = spec_path_key(path, throttles[t]);
		ret = parse_blkio_devs(sub, p, false, &r->blkio_throttle[t],
				       &r->blkio_throttle_len[t], err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
parse_hugepages(yajl_val v, const char *path, struct spec_resources *r, struct mini_err **err)
{
	size_t i, n;
	int ret;

	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	r->hugepages = xcalloc(n + 1, sizeof(*r->hugepages));
	for (i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		_cleanup_free_ char *ep = spec_path_idx(path, i);
		struct spec_hugepage *h = &r->hugepages[i];

		r->hugepages_len = i + 1;
		if ((ret = json_want_object(e, ep, err)) < 0 ||
		    (ret = spec_opt_str(e, "pageSize", ep, &h->page_size, err)) < 0 ||
		    (ret = spec_opt_uint64(e, "limit", ep, &h->limit, NULL, err)) < 0)
			return ret;
		/* The size becomes part of a file name. */
		if (h->page_size == NULL || h->page_size[0] == '\0' || strchr(h->page_size, '/') ||
		    strcmp(h->page_size, "..") == 0)
			return mini_err_set(err, EINVAL, "%s.pageSize: invalid page size", ep);
	}
	return 0;
}

static int
parse_network(yajl_val v, const char *path, struct spec_resources *r, struct mini_err **err)
{
	yajl_val prios;
	size_t i, n;
	int ret;

	if ((ret = json_want_object(v, path, err)) < 0 ||
	    (ret = spec_opt_u32(v, "classID", path, &r->net_class_id, &r->net_class_id_present,
				err)) < 0)
		return ret;
	prios = json_get(v, "priorities");
	if (prios == NULL)
		return 0;
	{
		_cleanup_free_ char *p = spec_path_key(path, "priorities");

		ret = json_want_array(prios, p, err);
		if (ret < 0)
			return ret;
		n = prios->u.array.len;
		r->net_priorities = xcalloc(n + 1, sizeof(*r->net_priorities));
		for (i = 0; i < n; i++) {
			yajl_val e = prios->u.array.values[i];
			_cleanup_free_ char *ep = spec_path_idx(p, i);
			struct spec_ifprio *ip = &r->net_priorities[i];

			r->net_priorities_len = i + 1;
			if ((ret = json_want_object(e, ep, err)) < 0 ||
			    (ret = spec_opt_str(e, "name", ep, &ip->name, err)) < 0 ||
			    (ret = spec_opt_u32(e, "priority", ep, &ip->priority, NULL, err)) < 0)
				return ret;
			if (ip->name == NULL || ip->name[0] == '\0' || strchr(ip->name, ' '))
				return mini_err_set(err, EINVAL, "%s.name: invalid interface name",
						    ep);
		}
	}
	return 0;
}

static int
parse_rdma(yajl_val v, const char *path, struct spec_resources *r, struct mini_err **err)
{
	size_t i, n;
	int ret;

	ret = json_want_object(v, path, err);
	if (ret < 0)
		return ret;
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

/* One optional sub-object or array of linux.resources. */
typedef int (*part_fn)(yajl_val v, const char *path, struct spec_resources *r,
		       struct mini_err **err);

int
spec_parse_resources(yajl_val v, const char *path, struct spec_resources **out,
		     struct mini_err **err)
{
	static const struct {
		const char *key;
		part_fn fn;
	} parts[] = {
		{ "memory", parse_memory },
		{ "cpu", parse_cpu },
		{ "devices", parse_dev_rules },
		{ "blockIO", parse_blkio },
		{ "hugepageLimits", parse_hugepages },
		{ "network", parse_network },
		{ "rdma", parse_rdma },
	};
	struct spec_resources *r;
	yajl_val sub;
	size_t i;
	int ret;

	ret = json_want_object(v, path, err);
	if (ret < 0)
		return ret;
	r = xcalloc(1, sizeof(*r));
	r->raw = v;
	*out = r;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		_cleanup_free_ char *p = NULL;

		sub = json_get(v, parts[i].key);
		if (sub == NULL)
			continue;
		p = spec_path_key(path, parts[i].key);
		ret = parts[i].fn(sub, p, r, err);
		if (ret < 0)
			return ret;
	}
	sub = json_get(v, "pids");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "pids");

		if ((ret = json_want_object(sub, p, err)) < 0 ||
		    (ret = spec_opt_int64(sub, "limit", p, &r->pids_limit, &r->pids_limit_present,
					  err)) < 0)
			return ret;
	}
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
