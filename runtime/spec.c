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

char *
spec_path_key(const char *path, const char *key)
{
	if (path == NULL || path[0] == '\0')
		return xstrdup(key);
	return xasprintf("%s.%s", path, key);
}

char *
spec_path_idx(const char *path, size_t i)
{
	return xasprintf("%s[%zu]", path, i);
}

int
spec_opt_str(yajl_val obj, const char *key, const char *path, char **out, struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;

	if (v == NULL)
		return 0;
	p = spec_path_key(path, key);
	free(*out);
	*out = NULL;
	return json_want_string(v, p, out, err);
}

int
spec_opt_bool(yajl_val obj, const char *key, const char *path, bool *out, bool *present,
	      struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;
	int ret;

	if (v == NULL)
		return 0;
	p = spec_path_key(path, key);
	ret = json_want_bool(v, p, out, err);
	if (ret == 0 && present)
		*present = true;
	return ret;
}

int
spec_opt_int64(yajl_val obj, const char *key, const char *path, int64_t *out, bool *present,
	       struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;
	int ret;

	if (v == NULL)
		return 0;
	p = spec_path_key(path, key);
	ret = json_want_int64(v, p, out, err);
	if (ret == 0 && present)
		*present = true;
	return ret;
}

int
spec_opt_uint64(yajl_val obj, const char *key, const char *path, uint64_t *out, bool *present,
		struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;
	int ret;

	if (v == NULL)
		return 0;
	p = spec_path_key(path, key);
	ret = json_want_uint64(v, p, out, err);
	if (ret == 0 && present)
		*present = true;
	return ret;
}

int
spec_opt_u32(yajl_val obj, const char *key, const char *path, uint32_t *out, bool *present,
	     struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;
	int64_t x;
	int ret;

	if (v == NULL)
		return 0;
	p = spec_path_key(path, key);
	ret = json_want_range(v, p, 0, UINT32_MAX, &x, err);
	if (ret < 0)
		return ret;
	*out = (uint32_t)x;
	if (present)
		*present = true;
	return 0;
}

int
spec_opt_strv(yajl_val obj, const char *key, const char *path, char ***out, size_t *len,
	      struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;

	if (v == NULL)
		return 0;
	p = spec_path_key(path, key);
	json_strv_free(*out);
	*out = NULL;
	return json_want_strv(v, p, out, len, err);
}

void
spec_kv_free(struct spec_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int
spec_opt_kv(yajl_val obj, const char *key, const char *path, struct spec_kv **out, size_t *len,
	    struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;
	struct spec_kv *kv;
	size_t i, n;

	if (v == NULL)
		return 0;
	p = spec_path_key(path, key);
	if (!YAJL_IS_OBJECT(v))
		return mini_err_set(err, EINVAL, "%s: expected object of strings", p);
	n = v->u.object.len;
	for (i = 0; i < n; i++)
		if (!YAJL_IS_STRING(v->u.object.values[i]))
			return mini_err_set(err, EINVAL, "%s.%s: expected string", p,
					    v->u.object.keys[i]);
	kv = xcalloc(n + 1, sizeof(*kv));
	for (i = 0; i < n; i++) {
		kv[i].key = xstrdup(v->u.object.keys[i]);
		kv[i].value = xstrdup(v->u.object.values[i]->u.string);
	}
	*out = kv;
	*len = n;
	return 0;
}

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
parse_user(yajl_val v, const char *path, struct spec_user *u, struct mini_err **err)
{
	yajl_val gids;
	_cleanup_free_ char *gpath = NULL;
	size_t i;
	int ret;

	ret = json_want_object(v, path, err);
	if (ret < 0)
		return ret;
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
parse_rlimits(yajl_val v, const char *path, struct spec_process *p, struct mini_err **err)
{
	size_t i, n;
	int ret;

	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	p->rlimits = xcalloc(n + 1, sizeof(*p->rlimits));
	for (i = 0; i < n; i++) {
		yajl_val r = v->u.array.values[i];
		_cleanup_free_ char *rp = spec_path_idx(path, i);
		struct spec_rlimit *rl = &p->rlimits[i];

		p->rlimits_len = i + 1;
		ret = json_want_object(r, rp, err);
		if (ret < 0)
			return ret;
		if ((ret = spec_opt_str(r, "type", rp, &rl->type, err)) < 0 ||
		    (ret = spec_opt_uint64(r, "soft", rp, &rl->soft, NULL, err)) < 0 ||
		    (ret = spec_opt_uint64(r, "hard", rp, &rl->hard, NULL, err)) < 0)
			return ret;
		if (rl->type == NULL)
			return mini_err_set(err, EINVAL, "%s.type: missing", rp);
		rl->resource = spec_rlimit_resource(rl->type);
		if (rl->resource < 0)
			return mini_err_set(err, EINVAL, "%s.type: unknown rlimit \"%s\"", rp,
					    rl->type);
	}
	return 0;
}

static int
parse_caps(yajl_val v, const char *path, struct spec_caps **out, struct mini_err **err)
{
	struct spec_caps *c;
	int ret;

	ret = json_want_object(v, path, err);
	if (ret < 0)
		return ret;
	c = xcalloc(1, sizeof(*c));
	*out = c;
	if ((ret = spec_opt_strv(v, "bounding", path, &c->bounding, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "effective", path, &c->effective, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "inheritable", path, &c->inheritable, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "permitted", path, &c->permitted, NULL, err)) < 0 ||
	    (ret = spec_opt_strv(v, "ambient", path, &c->ambient, NULL, err)) < 0)
		return ret;
	return 0;
}

static int
parse_process_fields(yajl_val v, const char *path, struct spec_process *p, struct mini_err **err)
{
	yajl_val sub;
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
	sub = json_get(v, "consoleSize");
	if (sub) {
		_cleanup_free_ char *cp = spec_path_key(path, "consoleSize");
		uint32_t h = 0, w = 0;

		if ((ret = json_want_object(sub, cp, err)) < 0 ||
		    (ret = spec_opt_u32(sub, "height", cp, &h, NULL, err)) < 0 ||
		    (ret = spec_opt_u32(sub, "width", cp, &w, NULL, err)) < 0)
			return ret;
		p->console_size_present = true;
		p->console_height = h;
		p->console_width = w;
	}
	sub = json_get(v, "user");
	if (sub) {
		_cleanup_free_ char *up = spec_path_key(path, "user");
		if ((ret = parse_user(sub, up, &p->user, err)) < 0)
			return ret;
	}
	sub = json_get(v, "rlimits");
	if (sub) {
		_cleanup_free_ char *rp = spec_path_key(path, "rlimits");
		if ((ret = parse_rlimits(sub, rp, p, err)) < 0)
			return ret;
	}
	sub = json_get(v, "capabilities");
	if (sub) {
		_cleanup_free_ char *cp = spec_path_key(path, "capabilities");
		if ((ret = parse_caps(sub, cp, &p->capabilities, err)) < 0)
			return ret;
	}
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

static int
parse_mounts(yajl_val v, struct minirt_spec *s, struct mini_err **err)
{
	size_t i, n;
	int ret;

	ret = json_want_array(v, "mounts", err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	s->mounts = xcalloc(n + 1, sizeof(*s->mounts));
	for (i = 0; i < n; i++) {
		yajl_val m = v->u.array.values[i];
		_cleanup_free_ char *mp = spec_path_idx("mounts", i);
		struct spec_mount *sm = &s->mounts[i];

		s->mounts_len = i + 1;
		if ((ret = json_want_object(m, mp, err)) < 0 ||
		    (ret = spec_opt_str(m, "destination", mp, &sm->destination, err)) < 0 ||
		    (ret = spec_opt_str(m, "type", mp, &sm->type, err)) < 0 ||
		    (ret = spec_opt_str(m, "source", mp, &sm->source, err)) < 0 ||
		    (ret = spec_opt_strv(m, "options", mp, &sm->options, &sm->options_len, err)) <
			    0)
			return ret;
		if (sm->destination == NULL || sm->destination[0] == '\0')
			return mini_err_set(err, EINVAL, "%s.destination: missing", mp);
		/* The spec allows a relative destination since v1.1 (relative to "/"). */
	}
	return 0;
}

static const char *const hook_keys[SPEC_HOOK_KIND_COUNT] = {
	[SPEC_HOOK_PRESTART] = "prestart",
	[SPEC_HOOK_CREATE_RUNTIME] = "createRuntime",
	[SPEC_HOOK_CREATE_CONTAINER] = "createContainer",
	[SPEC_HOOK_START_CONTAINER] = "startContainer",
	[SPEC_HOOK_POSTSTART] = "poststart",
	[SPEC_HOOK_POSTSTOP] = "poststop",
};

static int
parse_hook_list(yajl_val v, const char *path, struct spec_hook **out, size_t *len,
		struct mini_err **err)
{
	struct spec_hook *hooks;
	size_t i, n;
	int ret;

	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	n = v->u.array.len;
	hooks = xcalloc(n + 1, sizeof(*hooks));
	*out = hooks;
	for (i = 0; i < n; i++) {
		yajl_val h = v->u.array.values[i];
		_cleanup_free_ char *hp = spec_path_idx(path, i);
		int64_t t = 0;
		bool has_t = false;

		*len = i + 1;
		if ((ret = json_want_object(h, hp, err)) < 0 ||
		    (ret = spec_opt_str(h, "path", hp, &hooks[i].path, err)) < 0 ||
		    (ret = spec_opt_strv(h, "args", hp, &hooks[i].args, NULL, err)) < 0 ||
		    (ret = spec_opt_strv(h, "env", hp, &hooks[i].env, NULL, err)) < 0 ||
		    (ret = spec_opt_int64(h, "timeout", hp, &t, &has_t, err)) < 0)
			return ret;
		if (hooks[i].path == NULL || hooks[i].path[0] != '/')
			return mini_err_set(err, EINVAL, "%s.path: must be an absolute path", hp);
		if (has_t && (t <= 0 || t > 86400 * 365))
			return mini_err_set(err, EINVAL, "%s.timeout: must be greater than zero",
					    hp);
		hooks[i].timeout = (int)t;
	}
	return 0;
}

static int
parse_hooks(yajl_val v, struct minirt_spec *s, struct mini_err **err)
{
	int k, ret;

	ret = json_want_object(v, "hooks", err);
	if (ret < 0)
		return ret;
	for (k = 0; k < SPEC_HOOK_KIND_COUNT; k++) {
		yajl_val list = json_get(v, hook_keys[k]);
		_cleanup_free_ char *hp = NULL;

		if (list == NULL)
			continue;
		hp = spec_path_key("hooks", hook_keys[k]);
		ret = parse_hook_list(list, hp, &s->hooks[k], &s->hooks_len[k], err);
		if (ret < 0)
			return ret;
	}
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
	v = json_get(t, "root");
	if (v) {
		if ((ret = json_want_object(v, "root", err)) < 0 ||
		    (ret = spec_opt_str(v, "path", "root", &s->root_path, err)) < 0 ||
		    (ret = spec_opt_bool(v, "readonly", "root", &s->root_readonly, NULL, err)) < 0)
			return ret;
	}
	v = json_get(t, "mounts");
	if (v && (ret = parse_mounts(v, s, err)) < 0)
		return ret;
	v = json_get(t, "hooks");
	if (v && (ret = parse_hooks(v, s, err)) < 0)
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
	return 0;
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
