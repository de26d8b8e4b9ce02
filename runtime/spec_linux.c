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
parse_namespace(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_namespace *ns = elem;
	bool *seen = ctx; /* the types that earlier elements named */
	_cleanup_free_ char *type = NULL;
	int t, ret;

	if ((ret = spec_opt_str(v, "type", path, &type, err)) < 0 ||
	    (ret = spec_opt_str(v, "path", path, &ns->path, err)) < 0)
		return ret;
	if (type == NULL)
		return mini_err_set(err, EINVAL, "%s.type: missing", path);
	for (t = 0; t < SPEC_NS_COUNT; t++)
		if (strcmp(ns_table[t].name, type) == 0)
			break;
	if (t == SPEC_NS_COUNT)
		return mini_err_set(err, EINVAL, "%s.type: unknown namespace type \"%s\"", path,
				    type);
	if (seen[t])
		return mini_err_set(err, EINVAL, "%s.type: duplicate namespace \"%s\"", path, type);
	seen[t] = true;
	ns->type = (enum spec_ns_type)t;
	if (ns->path && ns->path[0] == '\0') {
		free(ns->path);
		ns->path = NULL;
	}
	if (ns->path && ns->path[0] != '/')
		return mini_err_set(err, EINVAL, "%s.path: must be an absolute path", path);
	return 0;
}

int
spec_parse_idmap(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_idmap *m = elem;
	int ret;

	if ((ret = spec_opt_u32(v, "containerID", path, &m->container_id, NULL, err)) < 0 ||
	    (ret = spec_opt_u32(v, "hostID", path, &m->host_id, NULL, err)) < 0 ||
	    (ret = spec_opt_u32(v, "size", path, &m->size, NULL, err)) < 0)
		return ret;
	return 0;
}

static int
parse_device(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_device *d = elem;
	_cleanup_free_ char *type = NULL;
	bool has_major = false, has_minor = false;
	int ret;

	if ((ret = spec_opt_str(v, "path", path, &d->path, err)) < 0 ||
	    (ret = spec_opt_str(v, "type", path, &type, err)) < 0 ||
	    (ret = spec_opt_int64(v, "major", path, &d->major, &has_major, err)) < 0 ||
	    (ret = spec_opt_int64(v, "minor", path, &d->minor, &has_minor, err)) < 0 ||
	    (ret = spec_opt_u32(v, "fileMode", path, &d->file_mode, &d->file_mode_present, err)) <
		    0 ||
	    (ret = spec_opt_u32(v, "uid", path, &d->uid, &d->uid_present, err)) < 0 ||
	    (ret = spec_opt_u32(v, "gid", path, &d->gid, &d->gid_present, err)) < 0)
		return ret;
	if (d->path == NULL || d->path[0] != '/')
		return mini_err_set(err, EINVAL, "%s.path: must be an absolute path", path);
	if (type == NULL || strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
		return mini_err_set(err, EINVAL, "%s.type: must be one of c, b, u, p", path);
	d->type = type[0];
	if (d->type != 'p' && (!has_major || !has_minor))
		return mini_err_set(err, EINVAL, "%s: major and minor are required", path);
	return 0;
}

static int
parse_personality(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_linux *l = out;
	_cleanup_free_ char *domain = NULL;
	int ret;

	ret = spec_opt_str(v, "domain", path, &domain, err);
	if (ret < 0)
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
parse_time_offsets(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	static const char *const clocks[] = { "monotonic", "boottime" };
	struct spec_linux *l = out;
	_cleanup_free_ char *text = NULL;
	size_t i;
	int ret;

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

static int
parse_resources(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	return spec_parse_resources(v, path, out, err);
}

static const char *const propagations[] = {
	"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
};

int
spec_parse_linux(yajl_val v, const char *path, struct spec_linux **out, struct mini_err **err)
{
	bool seen_ns[SPEC_NS_COUNT] = { false };
	struct spec_linux *l;
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
	if ((ret = spec_opt_objects(v, "namespaces", path, &l->namespaces, &l->namespaces_len,
				    parse_namespace, seen_ns, err)) < 0 ||
	    (ret = spec_opt_objects(v, "uidMappings", path, &l->uid_mappings, &l->uid_mappings_len,
				    spec_parse_idmap, NULL, err)) < 0 ||
	    (ret = spec_opt_objects(v, "gidMappings", path, &l->gid_mappings, &l->gid_mappings_len,
				    spec_parse_idmap, NULL, err)) < 0 ||
	    (ret = spec_opt_objects(v, "devices", path, &l->devices, &l->devices_len, parse_device,
				    NULL, err)) < 0 ||
	    (ret = spec_opt_object(v, "resources", path, parse_resources, &l->resources, err)) <
		    0 ||
	    (ret = spec_opt_object(v, "personality", path, parse_personality, l, err)) < 0 ||
	    (ret = spec_opt_object(v, "timeOffsets", path, parse_time_offsets, l, err)) < 0)
		return ret;
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
