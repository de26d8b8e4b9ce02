/* config.json: the linux section and linux.resources. */
#include "cleanup.h"
#include "spec.h"
#include "spec_internal.h"
#include "xalloc.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	const char *name; /* config.json */
	const char *proc; /* /proc/<pid>/ns/<proc> */
	int flag;
} ns_table[SPEC_NS_COUNT] = {
	[SPEC_NS_PID] = { "pid", "pid", CLONE_NEWPID },
	[SPEC_NS_NET] = { "network", "net", CLONE_NEWNET },
	[SPEC_NS_MNT] = { "mount", "mnt", CLONE_NEWNS },
	[SPEC_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
	[SPEC_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
	[SPEC_NS_USER] = { "user", "user", CLONE_NEWUSER },
	[SPEC_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
	[SPEC_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

const char *
spec_ns_name(enum spec_ns_type t)
{
	return ns_table[t].name;
}

const char *
spec_ns_proc_name(enum spec_ns_type t)
{
	return ns_table[t].proc;
}

int
spec_ns_clone_flag(enum spec_ns_type t)
{
	return ns_table[t].flag;
}

const struct spec_namespace *
spec_find_ns(const struct minirt_spec *s, enum spec_ns_type t)
{
	size_t i;

	if (s->linux_cfg == NULL)
		return NULL;
	for (i = 0; i < s->linux_cfg->namespaces_len; i++)
		if (s->linux_cfg->namespaces[i].type == t)
			return &s->linux_cfg->namespaces[i];
	return NULL;
}

static int
parse_namespaces(yajl_val v, const char *path, struct spec_linux *l, struct mini_err **err)
{
	bool seen[SPEC_NS_COUNT] = { false };
	size_t i, n;
	int ret;

	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	l->namespaces = xcalloc(n + 1, sizeof(*l->namespaces));
	for (i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		_cleanup_free_ char *ep = spec_path_idx(path, i);
		_cleanup_free_ char *type = NULL;
		struct spec_namespace *ns = &l->namespaces[i];
		int t;

		l->namespaces_len = i + 1;
		if ((ret = json_want_object(e, ep, err)) < 0 ||
		    (ret = spec_opt_str(e, "type", ep, &type, err)) < 0 ||
		    (ret = spec_opt_str(e, "path", ep, &ns->path, err)) < 0)
			return ret;
		if (type == NULL)
			return mini_err_set(err, EINVAL, "%s.type: missing", ep);
		for (t = 0; t < SPEC_NS_COUNT; t++)
			if (strcmp(ns_table[t].name, type) == 0)
				break;
		if (t == SPEC_NS_COUNT)
			return mini_err_set(err, EINVAL, "%s.type: unknown namespace type \"%s\"",
					    ep, type);
		if (seen[t])
			return mini_err_set(err, EINVAL, "%s.type: duplicate namespace \"%s\"", ep,
					    type);
		seen[t] = true;
		ns->type = (enum spec_ns_type)t;
		if (ns->path && ns->path[0] == '\0') {
			free(ns->path);
			ns->path = NULL;
		}
		if (ns->path && ns->path[0] != '/')
			return mini_err_set(err, EINVAL, "%s.path: must be an absolute path", ep);
	}
	return 0;
}

static int
parse_idmaps(yajl_val v, const char *path, struct spec_idmap **out, size_t *len,
	     struct mini_err **err)
{
	struct spec_idmap *m;
	size_t i, n;
	int ret;

	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	m = xcalloc(n + 1, sizeof(*m));
	*out = m;
	for (i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		_cleanup_free_ char *ep = spec_path_idx(path, i);

		if ((ret = json_want_object(e, ep, err)) < 0 ||
		    (ret = spec_opt_u32(e, "containerID", ep, &m[i].container_id, NULL, err)) < 0 ||
		    (ret = spec_opt_u32(e, "hostID", ep, &m[i].host_id, NULL, err)) < 0 ||
		    (ret = spec_opt_u32(e, "size", ep, &m[i].size, NULL, err)) < 0)
			return ret;
		*len = i + 1;
	}
	return 0;
}

static int
parse_devices(yajl_val v, const char *path, struct spec_linux *l, struct mini_err **err)
{
	size_t i, n;
	int ret;

	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	l->devices = xcalloc(n + 1, sizeof(*l->devices));
	for (i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		_cleanup_free_ char *ep = spec_path_idx(path, i);
		_cleanup_free_ char *type = NULL;
		struct spec_device *d = &l->devices[i];
		bool has_major = false, has_minor = false;

		l->devices_len = i + 1;
		if ((ret = json_want_object(e, ep, err)) < 0 ||
		    (ret = spec_opt_str(e, "path", ep, &d->path, err)) < 0 ||
		    (ret = spec_opt_str(e, "type", ep, &type, err)) < 0 ||
		    (ret = spec_opt_int64(e, "major", ep, &d->major, &has_major, err)) < 0 ||
		    (ret = spec_opt_int64(e, "minor", ep, &d->minor, &has_minor, err)) < 0 ||
		    (ret = spec_opt_u32(e, "fileMode", ep, &d->file_mode, &d->file_mode_present,
					err)) < 0 ||
		    (ret = spec_opt_u32(e, "uid", ep, &d->uid, &d->uid_present, err)) < 0 ||
		    (ret = spec_opt_u32(e, "gid", ep, &d->gid, &d->gid_present, err)) < 0)
			return ret;
		if (d->path == NULL || d->path[0] != '/')
			return mini_err_set(err, EINVAL, "%s.path: must be an absolute path", ep);
		if (type == NULL || strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
			return mini_err_set(err, EINVAL, "%s.type: must be one of c, b, u, p", ep);
		d->type = type[0];
		if (d->type != 'p' && (!has_major || !has_minor))
			return mini_err_set(err, EINVAL, "%s: major and minor are required", ep);
	}
	return 0;
}

static int
parse_personality(yajl_val v, const char *path, struct spec_linux *l, struct mini_err **err)
{
	_cleanup_free_ char *domain = NULL;
	int ret;

	if ((ret = json_want_object(v, path, err)) < 0 ||
	    (ret = spec_opt_str(v, "domain", path, &domain, err)) < 0)
		return ret;
	if (domain == NULL || strcmp(domain, "LINUX") == 0)
		l->personality_domain = PER_LINUX;
	else if (strcmp(domain, "LINUX32") == 0)
		l->personality_domain = PER_LINUX32;
	else
		return mini_err_set(err, EINVAL, "%s.domain: unsupported personality \"%s\"", path,
				    domain);
	l->personality_present = true;
	return 0;
}

/* linux.timeOffsets: {"monotonic": {"secs": N, "nanosecs": N}, "boottime": {…}}. */
static int
parse_time_offsets(yajl_val v, const char *path, struct spec_linux *l, struct mini_err **err)
{
	static const char *const clocks[] = { "monotonic", "boottime" };
	_cleanup_free_ char *text = NULL;
	size_t i;
	int ret;

	if ((ret = json_want_object(v, path, err)) < 0)
		return ret;
	for (i = 0; i < v->u.object.len; i++) {
		const char *clock = v->u.object.keys[i];
		_cleanup_free_ char *p = spec_path_key(path, clock);
		int64_t secs = 0;
		uint32_t nsecs = 0;
		bool present;
		char *next;

		if (strcmp(clock, clocks[0]) != 0 && strcmp(clock, clocks[1]) != 0)
			return mini_err_set(err, EINVAL,
					    "%s: unknown clock (want monotonic or boottime)", p);
		if ((ret = json_want_object(v->u.object.values[i], p, err)) < 0 ||
		    (ret = spec_opt_int64(v->u.object.values[i], "secs", p, &secs, &present, err)) <
			    0 ||
		    (ret = spec_opt_u32(v->u.object.values[i], "nanosecs", p, &nsecs, &present,
					err)) < 0)
			return ret;
		if (nsecs >= 1000000000u)
			return mini_err_set(err, EINVAL, "%s.nanosecs: %u is not below 1e9", p,
					    nsecs);
		next = xasprintf("%s%s %lld %u\n", text ? text : "", clock, (long long)secs, nsecs);
		free(text);
		text = next;
	}
	l->time_offsets = steal_ptr(&text);
	return 0;
}

static const char *const propagations[] = {
	"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
};

int
spec_parse_linux(yajl_val v, const char *path, struct spec_linux **out, struct mini_err **err)
{
	struct spec_linux *l;
	yajl_val sub;
	size_t i;
	int ret;

	ret = json_want_object(v, path, err);
	if (ret < 0)
		return ret;
	l = xcalloc(1, sizeof(*l));
	*out = l;
	if ((ret = spec_opt_str(v, "cgroupsPath", path, &l->cgroups_path, err)) < 0 ||
	    (ret = spec_opt_str(v, "rootfsPropagation", path, &l->rootfs_propagation, err)) < 0 ||
	    (ret = spec_opt_str(v, "mountLabel", path, &l->mount_label, err)) < 0 ||
	    (ret = spec_opt_strv(v, "maskedPaths", path, &l->masked_paths, &l->masked_paths_len,
				 err)) < 0 ||
	    (ret = spec_opt_strv(v, "readonlyPaths", path, &l->readonly_paths,
				 &l->readonly_paths_len, err)) < 0 ||
	    (ret = spec_opt_kv(v, "sysctl", path, &l->sysctl, &l->sysctl_len, err)) < 0)
		return ret;
	if (l->rootfs_propagation && l->rootfs_propagation[0]) {
		for (i = 0; i < sizeof(propagations) / sizeof(propagations[0]); i++)
			if (strcmp(propagations[i], l->rootfs_propagation) == 0)
				break;
		if (i == sizeof(propagations) / sizeof(propagations[0]))
			return mini_err_set(err, EINVAL,
					    "%s.rootfsPropagation: unsupported value \"%s\"", path,
					    l->rootfs_propagation);
	}
	sub = json_get(v, "namespaces");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "namespaces");
		if ((ret = parse_namespaces(sub, p, l, err)) < 0)
			return ret;
	}
	sub = json_get(v, "uidMappings");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "uidMappings");
		if ((ret = parse_idmaps(sub, p, &l->uid_mappings, &l->uid_mappings_len, err)) < 0)
			return ret;
	}
	sub = json_get(v, "gidMappings");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "gidMappings");
		if ((ret = parse_idmaps(sub, p, &l->gid_mappings, &l->gid_mappings_len, err)) < 0)
			return ret;
	}
	sub = json_get(v, "devices");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "devices");
		if ((ret = parse_devices(sub, p, l, err)) < 0)
			return ret;
	}
	sub = json_get(v, "resources");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "resources");
		if ((ret = spec_parse_resources(sub, p, &l->resources, err)) < 0)
			return ret;
	}
	sub = json_get(v, "personality");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "personality");
		if ((ret = parse_personality(sub, p, l, err)) < 0)
			return ret;
	}
	sub = json_get(v, "timeOffsets");
	if (sub) {
		_cleanup_free_ char *p = spec_path_key(path, "timeOffsets");
		if ((ret = parse_time_offsets(sub, p, l, err)) < 0)
			return ret;
	}
	l->seccomp = json_get(v, "seccomp");
	return 0;
}

void
spec_linux_free(struct spec_linux *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->namespaces_len; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	free(l->time_offsets);
	for (i = 0; i < l->devices_len; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	spec_resources_free(l->resources);
	free(l->rootfs_propagation);
	json_strv_free(l->masked_paths);
	json_strv_free(l->readonly_paths);
	spec_kv_free(l->sysctl, l->sysctl_len);
	free(l->mount_label);
	free(l);
}
