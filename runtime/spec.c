/* config.json: the top level, process, root, mounts, hooks and annotations. The linux section is
 * in spec_linux.c. */
#include "spec.h"
#include "cleanup.h"
#include "fs.h"
#include "spec_internal.h"
#include "xalloc.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

int
spec_rlimit_resource(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
		if (strcmp(rlimit_names[i].name, name) == 0)
			return rlimit_names[i].resource;
	return -1;
}

static int
parse_user(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_user *u = out;
	yajl_val gids;
	_cleanup_free_ char *gpath = NULL;
	size_t i;
	int ret;

	if ((ret = spec_opt_u32(v, "uid", path, &u->uid, NULL, err)) < 0 ||
	    (ret = spec_opt_u32(v, "gid", path, &u->gid, NULL, err)) < 0 ||
	    (ret = spec_opt_u32(v, "umask", path, &u->umask, &u->umask_present, err)) < 0 ||
	    (ret = spec_opt_str(v, "username", path, &u->username, err)) < 0)
		return ret;
	gids = json_get(v, "additionalGids");
	if (gids == NULL)
		return 0;
	gpath = spec_path_key(path, "additionalGids");
	if (!YAJL_IS_ARRAY(gids))
		return mini_err_set(err, EINVAL, "%s: expected array of integers", gpath);
	u->additional_gids = xcalloc(gids->u.array.len + 1, sizeof(uint32_t));
	for (i = 0; i < gids->u.array.len; i++) {
		_cleanup_free_ char *ip = spec_path_idx(gpath, i);
		int64_t g;

		ret = json_want_range(gids->u.array.values[i], ip, 0, UINT32_MAX, &g, err);
		if (ret < 0)
			return ret;
		u->additional_gids[u->additional_gids_len++] = (uint32_t)g;
	}
	return 0;
}

static int
parse_rlimit(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_rlimit *rl = elem;
	int ret;

	if ((ret = spec_opt_str(v, "type", path, &rl->type, err)) < 0 ||
	    (ret = spec_opt_uint64(v, "soft", path, &rl->soft, NULL, err)) < 0 ||
	    (ret = spec_opt_uint64(v, "hard", path, &rl->hard, NULL, err)) < 0)
		return ret;
	if (rl->type == NULL)
		return mini_err_set(err, EINVAL, "%s.type: missing", path);
	rl->resource = spec_rlimit_resource(rl->type);
	if (rl->resource < 0)
		return mini_err_set(err, EINVAL, "%s.type: unknown rlimit \"%s\"", path, rl->type);
	return 0;
}

static int
parse_caps(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_caps *c = xcalloc(1, sizeof(*c));
	int ret;

	*(struct spec_caps **)out = c;
	if ((ret = spec_opt_strv(v, "bounding", path, &c->bounding, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "effective", path, &c->effective, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "inheritable", path, &c->inheritable, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "permitted", path, &c->permitted, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "ambient", path, &c->ambient, NULL, err)) < 0)
		return ret;
	return 0;
}

static int
parse_console_size(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct spec_process *p = out;
	uint32_t h = 0, w = 0;
	int ret;

	if ((ret = spec_opt_u32(v, "height", path, &h, NULL, err)) < 0 ||
	    (ret = spec_opt_u32(v, "width", path, &w, NULL, err)) < 0)
		return ret;
	p->console_size_present = true;
	p->console_height = h;
	p->console_width = w;
	return 0;
}

static int
parse_process_fields(yajl_val v, const char *path, struct spec_process *p, struct mini_err **err)
{
	int64_t x;
	bool present = false;
	int ret;

	ret = json_want_object(v, path, err);
	if (ret < 0)
		return ret;
	if ((ret = spec_opt_bool(v, "terminal", path, &p->terminal, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "args", path, &p->args, &p->args_len, err)) < 0 ||
	    (ret = spec_opt_strv(v, "env", path, &p->env, &p->env_len, err)) < 0 ||
	    (ret = spec_opt_str(v, "cwd", path, &p->cwd, err)) < 0 ||
	    (ret = spec_opt_bool(v, "noNewPrivileges", path, &p->no_new_privileges, NULL, err)) <
		    0 ||
	    (ret = spec_opt_str(v, "apparmorProfile", path, &p->apparmor_profile, err)) < 0 ||
	    (ret = spec_opt_str(v, "selinuxLabel", path, &p->selinux_label, err)) < 0 ||
	    (ret = spec_opt_int64(v, "oomScoreAdj", path, &x, &present, err)) < 0)
		return ret;
	if (present) {
		if (x < -1000 || x > 1000)
			return mini_err_set(err, EINVAL, "%s.oomScoreAdj: %lld out of range", path,
					    (long long)x);
		p->oom_score_adj_present = true;
		p->oom_score_adj = (int)x;
	}
	if ((ret = spec_opt_object(v, "consoleSize", path, parse_console_size, p, err)) < 0 ||
	    (ret = spec_opt_object(v, "user", path, parse_user, &p->user, err)) < 0 ||
	    (ret = spec_opt_objects(v, "rlimits", path, &p->rlimits, &p->rlimits_len, parse_rlimit,
				    NULL, err)) < 0 ||
	    (ret = spec_opt_object(v, "capabilities", path, parse_caps, &p->capabilities, err)) < 0)
		return ret;
	p->capabilities_raw = json_get(v, "capabilities");
	p->scheduler = json_get(v, "scheduler");
	p->io_priority = json_get(v, "ioPriority");
	return 0;
}

int
spec_parse_process(yajl_val v, const char *path, struct spec_process **out, struct mini_err **err)
{
	_cleanup_(spec_process_freep) struct spec_process *p = xcalloc(1, sizeof(*p));
	int ret;

	ret = parse_process_fields(v, path, p, err);
	if (ret < 0)
		return ret;
	*out = steal_ptr(&p);
	return 0;
}

int
spec_process_load(const char *file, struct spec_process **out, struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(yajl_tree_freep) yajl_val tree = NULL;
	struct spec_process *p = NULL;
	int ret;

	ret = read_file(file, &text, NULL, err);
	if (ret < 0)
		return ret;
	ret = json_parse(text, file, &tree, err);
	if (ret < 0)
		return ret;
	ret = spec_parse_process(tree, "", &p, err);
	if (ret < 0)
		return mini_err_wrap(err, "%s", file);
	p->tree = steal_ptr(&tree);
	*out = p;
	return 0;
}

void
spec_process_free(struct spec_process *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->user.additional_gids);
	free(p->user.username);
	json_strv_free(p->args);
	json_strv_free(p->env);
	free(p->cwd);
	if (p->capabilities) {
		json_strv_free(p->capabilities->bounding);
		json_strv_free(p->capabilities->effective);
		json_strv_free(p->capabilities->inheritable);
		json_strv_free(p->capabilities->permitted);
		json_strv_free(p->capabilities->ambient);
		free(p->capabilities);
	}
	for (i = 0; i < p->rlimits_len; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	if (p->tree)
		yajl_tree_free(p->tree);
	free(p);
}

void
spec_process_freep(struct spec_process **p)
{
	spec_process_free(*p);
	*p = NULL;
}

/* A mount's id mapping: as linux.uidMappings, but an empty range is refused here, where the
 * mapping only exists for the mount (the kernel would reject it later without a field name). */
static int
parse_mount_idmap(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	const struct spec_idmap *m = elem;
	int ret;

	ret = spec_parse_idmap(v, path, elem, ctx, err);
	if (ret < 0)
		return ret;
	if (m->size == 0)
		return mini_err_set(err, EINVAL, "%s.size: must be greater than 0", path);
	if ((uint64_t)m->container_id + m->size - 1 > UINT32_MAX - 1 ||
	    (uint64_t)m->host_id + m->size - 1 > UINT32_MAX - 1)
		return mini_err_set(err, EINVAL, "%s.size: the range goes past the last id", path);
	return 0;
}

static int
parse_mount(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_mount *m = elem;
	int ret;

	if ((ret = spec_opt_str(v, "destination", path, &m->destination, err)) < 0 ||
	    (ret = spec_opt_str(v, "type", path, &m->type, err)) < 0 ||
	    (ret = spec_opt_str(v, "source", path, &m->source, err)) < 0 ||
	    (ret = spec_opt_strv(v, "options", path, &m->options, &m->options_len, err)) < 0 ||
	    (ret = spec_opt_objects(v, "uidMappings", path, &m->uid_mappings, &m->uid_mappings_len,
				    parse_mount_idmap, NULL, err)) < 0 ||
	    (ret = spec_opt_objects(v, "gidMappings", path, &m->gid_mappings, &m->gid_mappings_len,
				    parse_mount_idmap, NULL, err)) < 0)
		return ret;
	if (m->destination == NULL || m->destination[0] == '\0')
		return mini_err_set(err, EINVAL, "%s.destination: missing", path);
	/* The spec allows a relative destination since v1.1 (relative to "/"). */
	return 0;
}

const char *
spec_hook_name(enum spec_hook_kind k)
{
	static const char *const names[SPEC_HOOK_KIND_COUNT] = {
		[SPEC_HOOK_PRESTART] = "prestart",
		[SPEC_HOOK_CREATE_RUNTIME] = "createRuntime",
		[SPEC_HOOK_CREATE_CONTAINER] = "createContainer",
		[SPEC_HOOK_START_CONTAINER] = "startContainer",
		[SPEC_HOOK_POSTSTART] = "poststart",
		[SPEC_HOOK_POSTSTOP] = "poststop",
	};
	return names[k];
}

static int
parse_hook(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err)
{
	struct spec_hook *h = elem;
	int64_t t = 0;
	bool has_t = false;
	int ret;

	if ((ret = spec_opt_str(v, "path", path, &h->path, err)) < 0 ||
	    (ret = spec_opt_strv(v, "args", path, &h->args, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "env", path, &h->env, NULL, err)) < 0 ||
	    (ret = spec_opt_int64(v, "timeout", path, &t, &has_t, err)) < 0)
		return ret;
	if (h->path == NULL || h->path[0] != '/')
		return mini_err_set(err, EINVAL, "%s.path: must be an absolute path", path);
	if (has_t && (t <= 0 || t > 86400 * 365))
		return mini_err_set(err, EINVAL, "%s.timeout: must be greater than zero", path);
	h->timeout = (int)t;
	return 0;
}

static int
parse_hooks(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct minirt_spec *s = out;
	int k, ret;

	for (k = 0; k < SPEC_HOOK_KIND_COUNT; k++) {
		ret = spec_opt_objects(v, spec_hook_name(k), path, &s->hooks[k], &s->hooks_len[k],
				       parse_hook, NULL, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
parse_root(yajl_val v, const char *path, void *out, struct mini_err **err)
{
	struct minirt_spec *s = out;
	int ret;

	if ((ret = spec_opt_str(v, "path", path, &s->root_path, err)) < 0 ||
	    (ret = spec_opt_bool(v, "readonly", path, &s->root_readonly, NULL, err)) < 0)
		return ret;
	return 0;
}

static int
parse_top(yajl_val t, struct minirt_spec *s, struct mini_err **err)
{
	yajl_val v;
	int ret;

	ret = json_want_object(t, "(top level)", err);
	if (ret < 0)
		return ret;
	if ((ret = spec_opt_str(t, "ociVersion", "", &s->oci_version, err)) < 0 ||
	    (ret = spec_opt_str(t, "hostname", "", &s->hostname, err)) < 0 ||
	    (ret = spec_opt_str(t, "domainname", "", &s->domainname, err)) < 0 ||
	    (ret = spec_opt_kv(t, "annotations", "", &s->annotations, &s->annotations_len, err)) <
		    0)
		return ret;
	v = json_get(t, "process");
	if (v && (ret = spec_parse_process(v, "process", &s->process, err)) < 0)
		return ret;
	if ((ret = spec_opt_object(t, "root", "", parse_root, s, err)) < 0 ||
	    (ret = spec_opt_objects(t, "mounts", "", &s->mounts, &s->mounts_len, parse_mount, NULL,
				    err)) < 0 ||
	    (ret = spec_opt_object(t, "hooks", "", parse_hooks, s, err)) < 0)
		return ret;
	v = json_get(t, "linux");
	if (v && (ret = spec_parse_linux(v, "linux", &s->linux_cfg, err)) < 0)
		return ret;
	return 0;
}

int
spec_parse(const char *text, const char *what, struct minirt_spec **out, struct mini_err **err)
{
	_cleanup_(spec_freep) struct minirt_spec *s = xcalloc(1, sizeof(*s));
	int ret;

	ret = json_parse(text, what, &s->tree, err);
	if (ret < 0)
		return ret;
	ret = parse_top(s->tree, s, err);
	if (ret < 0)
		return mini_err_wrap(err, "%s", what);
	*out = steal_ptr(&s);
	return 0;
}

int
spec_load_file(const char *path, struct minirt_spec **out, struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	const char *base = strrchr(path, '/');
	int ret;

	ret = read_file(path, &text, NULL, err);
	if (ret < 0)
		return ret;
	return spec_parse(text, base ? base + 1 : path, out, err);
}

bool
spec_mount_is_idmapped(const struct spec_mount *m)
{
	size_t i;

	if (m->uid_mappings_len || m->gid_mappings_len)
		return true;
	for (i = 0; i < m->options_len; i++)
		if (strcmp(m->options[i], "idmap") == 0 || strcmp(m->options[i], "ridmap") == 0)
			return true;
	return false;
}

/* A mount without mappings of its own takes the container's, which a joined user namespace does
 * not give: refused before anything is made. */
static int
check_idmapped_mounts(const struct minirt_spec *s, struct mini_err **err)
{
	const struct spec_namespace *user = spec_find_ns(s, SPEC_NS_USER);
	size_t i;

	if (user == NULL || user->path == NULL)
		return 0;
	for (i = 0; i < s->mounts_len; i++) {
		const struct spec_mount *m = &s->mounts[i];

		if (spec_mount_is_idmapped(m) && m->uid_mappings_len == 0 &&
		    m->gid_mappings_len == 0)
			return mini_err_set(err, EINVAL,
					    "config.json: mounts[%zu]: mount %s: an idmap option "
					    "in a joined user namespace needs the mount's own "
					    "uidMappings and gidMappings",
					    i, m->destination);
	}
	return 0;
}

int
spec_validate_for_create(const struct minirt_spec *s, struct mini_err **err)
{
	if (s->process == NULL)
		return mini_err_set(err, EINVAL, "config.json: process: missing");
	if (s->process->args_len == 0)
		return mini_err_set(err, EINVAL, "config.json: process.args: must not be empty");
	if (s->process->cwd == NULL || s->process->cwd[0] != '/')
		return mini_err_set(err, EINVAL,
				    "config.json: process.cwd: must be an absolute path");
	if (s->root_path == NULL || s->root_path[0] == '\0')
		return mini_err_set(err, EINVAL, "config.json: root.path: missing");
	return check_idmapped_mounts(s, err);
}

const char *
spec_annotation(const struct minirt_spec *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->annotations_len; i++)
		if (strcmp(s->annotations[i].key, key) == 0)
			return s->annotations[i].value;
	return NULL;
}

void
spec_free(struct minirt_spec *s)
{
	size_t i, k;

	if (s == NULL)
		return;
	free(s->oci_version);
	spec_process_free(s->process);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	for (i = 0; i < s->mounts_len; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		json_strv_free(s->mounts[i].options);
		free(s->mounts[i].uid_mappings);
		free(s->mounts[i].gid_mappings);
	}
	free(s->mounts);
	for (k = 0; k < SPEC_HOOK_KIND_COUNT; k++) {
		for (i = 0; i < s->hooks_len[k]; i++) {
			free(s->hooks[k][i].path);
			json_strv_free(s->hooks[k][i].args);
			json_strv_free(s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	spec_kv_free(s->annotations, s->annotations_len);
	spec_linux_free(s->linux_cfg);
	if (s->tree)
		yajl_tree_free(s->tree);
	free(s);
}

void
spec_freep(struct minirt_spec **s)
{
	spec_free(*s);
	*s = NULL;
}
