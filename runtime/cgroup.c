/* Mode detection, path resolution, state.json round trip, and the helpers both modes share. */
#include "cgroup.h"
#include "cleanup.h"
#include "fd.h"
#include "fs.h"
#include "json.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static void
hier_free(struct cgroup_hier *h)
{
	free(h->name);
	free(h->mountpoint);
	free(h->dir);
}

void
cgroup_free(struct cgroup *cg)
{
	size_t i;

	if (cg == NULL)
		return;
	for (i = 0; i < cg->n_hiers; i++)
		hier_free(&cg->hiers[i]);
	free(cg->hiers);
	free(cg->path);
	free(cg);
}

void
cgroup_freep(struct cgroup **cg)
{
	cgroup_free(*cg);
	*cg = NULL;
}

bool
cgroup_denied(int errnum)
{
	return errnum == EACCES || errnum == EPERM || errnum == EROFS;
}

void
cgroup_drop_hier(struct cgroup *cg, size_t i)
{
	hier_free(&cg->hiers[i]);
	memmove(&cg->hiers[i], &cg->hiers[i + 1], (cg->n_hiers - i - 1) * sizeof(*cg->hiers));
	cg->n_hiers--;
}

static void
add_hier(struct cgroup *cg, const char *name, const char *mountpoint, const char *dir,
	 bool optional)
{
	cg->hiers = xrealloc(cg->hiers, (cg->n_hiers + 1) * sizeof(*cg->hiers));
	cg->hiers[cg->n_hiers++] = (struct cgroup_hier){
		.name = xstrdup(name),
		.mountpoint = xstrdup(mountpoint),
		.dir = xstrdup(dir),
		.optional = optional,
	};
}

/* The caller's own cgroup path in the hierarchy `name` ("" = unified), from /proc/self/cgroup. */
static char *
own_cgroup(const char *name)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;

	if (read_file("/proc/self/cgroup", &text, NULL, NULL) < 0)
		return xstrdup("/");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2;

		if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL)
			continue;
		*c2 = '\0';
		if (strcmp(c1 + 1, name) == 0)
			return xstrdup(c2 + 1);
	}
	return xstrdup("/");
}

/* The container directory: an absolute path below the mountpoint, a relative one below our own
 * cgroup (minus the mount's root, for a hierarchy mounted from a sub-directory). */
static char *
resolve_dir(const char *mountpoint, const char *mount_root, const char *hier, const char *path)
{
	_cleanup_free_ char *own = NULL;
	_cleanup_free_ char *rel = NULL;
	const char *o;

	if (path[0] == '/')
		return path_join(mountpoint, path);
	own = own_cgroup(hier);
	o = own;
	if (strcmp(mount_root, "/") != 0 && strncmp(own, mount_root, strlen(mount_root)) == 0)
		o = own + strlen(mount_root);
	rel = path_join(o[0] ? o : "/", path);
	return path_join(mountpoint, rel);
}

/* Unescapes the octal sequences (\040) mountinfo uses for spaces and the like. */
static void
unescape_mountinfo(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/* The v1 controllers of a mount from its super options: drop rw/ro and the other non-controller
 * options, keep "name=…". */
static char *
v1_controllers(const char *super)
{
	_cleanup_free_ char *copy = xstrdup(super);
	char *tok, *save = NULL, *out = xstrdup("");

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *n;

		if (strcmp(tok, "rw") == 0 || strcmp(tok, "ro") == 0 ||
		    strncmp(tok, "release_agent=", 14) == 0 || strcmp(tok, "noprefix") == 0 ||
		    strcmp(tok, "clone_children") == 0 || strcmp(tok, "xattr") == 0 ||
		    strcmp(tok, "cpuset_v2_mode") == 0 || strcmp(tok, "favordynmods") == 0)
			continue;
		n = xasprintf("%s%s%s", out, out[0] ? "," : "", tok);
		free(out);
		out = n;
	}
	return out;
}

static int
scan_v1(struct cgroup *cg, const char *path, struct mini_err **err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (f == NULL)
		return mini_err_set(err, errno, "open /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char root[4096], mnt[4096], fstype[64], super[1024];
		_cleanup_free_ char *name = NULL;
		_cleanup_free_ char *dir = NULL;
		char *sep = strstr(line, " - ");

		if (sep == NULL)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		unescape_mountinfo(root);
		unescape_mountinfo(mnt);
		if (strcmp(fstype, "cgroup") == 0) {
			name = v1_controllers(super);
			if (name[0] == '\0')
				continue;
			dir = resolve_dir(mnt, root, name, path);
			add_hier(cg, name, mnt, dir, false);
		} else if (strcmp(fstype, "cgroup2") == 0) {
			/* The hybrid layout's unified mount: joined best effort, as runc does. */
			dir = resolve_dir(mnt, root, "", path);
			add_hier(cg, "", mnt, dir, true);
		}
	}
	if (cg->n_hiers == 0)
		return mini_err_set(err, ENOENT, "no cgroup hierarchy mounted");
	return 0;
}

int
cgroup_new(const char *cgroups_path, const char *id, struct cgroup **out, struct mini_err **err)
{
	_cleanup_(cgroup_freep) struct cgroup *cg = xcalloc(1, sizeof(*cg));
	struct statfs sfs;
	int ret;

	if (cgroups_path == NULL || cgroups_path[0] == '\0')
		cg->path = xstrdup(id);
	else
		cg->path = xstrdup(cgroups_path);
	if (strstr(cg->path, "..") != NULL)
		return mini_err_set(err, EINVAL, "linux.cgroupsPath: \"..\" is not allowed");
	if (strchr(cg->path, ':') != NULL)
		return mini_err_set(err, EINVAL,
				    "linux.cgroupsPath: \"%s\" looks like a systemd slice; the "
				    "systemd cgroup driver is not supported",
				    cg->path);
	if (statfs("/sys/fs/cgroup", &sfs) < 0)
		return mini_err_set(err, errno, "statfs /sys/fs/cgroup");
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		_cleanup_free_ char *dir = resolve_dir("/sys/fs/cgroup", "/", "", cg->path);

		cg->ops = &cgroup_v2_ops;
		add_hier(cg, "", "/sys/fs/cgroup", dir, false);
	} else {
		cg->ops = &cgroup_v1_ops;
		ret = scan_v1(cg, cg->path, err);
		if (ret < 0)
			return ret;
	}
	*out = steal_ptr(&cg);
	return 0;
}

void
cgroup_to_json(const struct cgroup *cg, yajl_gen g)
{
	size_t i;

	yajl_gen_map_open(g);
	json_gen_kv_str(g, "mode", cg->ops->name);
	json_gen_kv_str(g, "path", cg->path);
	json_gen_str(g, "hierarchies");
	yajl_gen_array_open(g);
	for (i = 0; i < cg->n_hiers; i++) {
		yajl_gen_map_open(g);
		json_gen_kv_str(g, "name", cg->hiers[i].name);
		json_gen_kv_str(g, "mountpoint", cg->hiers[i].mountpoint);
		json_gen_kv_str(g, "dir", cg->hiers[i].dir);
		json_gen_kv_bool(g, "optional", cg->hiers[i].optional);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

int
cgroup_from_json(yajl_val v, struct cgroup **out, struct mini_err **err)
{
	_cleanup_(cgroup_freep) struct cgroup *cg = xcalloc(1, sizeof(*cg));
	const char *mode = YAJL_GET_STRING(json_get(v, "mode"));
	const char *path = YAJL_GET_STRING(json_get(v, "path"));
	yajl_val hiers = json_get(v, "hierarchies");
	size_t i;

	if (mode == NULL || path == NULL || !YAJL_IS_ARRAY(hiers))
		return mini_err_set(err, EINVAL, "state.json: cgroup: malformed");
	if (strcmp(mode, "v1") == 0)
		cg->ops = &cgroup_v1_ops;
	else if (strcmp(mode, "v2") == 0)
		cg->ops = &cgroup_v2_ops;
	else
		return mini_err_set(err, EINVAL, "state.json: cgroup.mode: unknown \"%s\"", mode);
	cg->path = xstrdup(path);
	for (i = 0; i < hiers->u.array.len; i++) {
		yajl_val h = hiers->u.array.values[i];
		const char *name = YAJL_GET_STRING(json_get(h, "name"));
		const char *mnt = YAJL_GET_STRING(json_get(h, "mountpoint"));
		const char *dir = YAJL_GET_STRING(json_get(h, "dir"));

		if (name == NULL || mnt == NULL || dir == NULL)
			return mini_err_set(err, EINVAL,
					    "state.json: cgroup.hierarchies: malformed");
		add_hier(cg, name, mnt, dir, YAJL_IS_TRUE(json_get(h, "optional")));
	}
	*out = steal_ptr(&cg);
	return 0;
}

/* True if the comma-separated list has the item. */
static bool
list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while ((p = strstr(p, item)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

const char *
cgroup_dir_for(const struct cgroup *cg, const char *controller)
{
	size_t i;

	for (i = 0; i < cg->n_hiers; i++) {
		const struct cgroup_hier *h = &cg->hiers[i];

		if (cg->ops->mode == CGROUP_MODE_V2 && h->name[0] == '\0')
			return h->dir;
		if (controller && list_has(h->name, controller))
			return h->dir;
	}
	return NULL;
}

int
cgroup_write(const char *dir, const char *file, const char *value, struct mini_err **err)
{
	_cleanup_free_ char *path = path_join(dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return mini_err_set(err, errno, "open %s", path);
	/* One write: cgroup files take a whole value per write(2). */
	n = write(fd, value, len);
	if (n < 0)
		return mini_err_set(err, errno, "write %s to %s", value, path);
	if ((size_t)n != len)
		return mini_err_set(err, EIO, "short write to %s", path);
	return 0;
}

int
cgroup_writef(const char *dir, const char *file, struct mini_err **err, const char *fmt, ...)
{
	_cleanup_free_ char *value = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&value, fmt, ap) < 0)
		abort();
	va_end(ap);
	return cgroup_write(dir, file, value, err);
}

bool
word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p && (p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

bool
cgroup_in_userns(void)
{
	_cleanup_free_ char *map = NULL;
	unsigned long a, b, c;

	/* The initial namespace maps every id: "0 0 4294967295". */
	if (read_file("/proc/self/uid_map", &map, NULL, NULL) < 0)
		return false;
	if (sscanf(map, "%lu %lu %lu", &a, &b, &c) != 3)
		return true;
	return !(a == 0 && b == 0 && c == 4294967295UL);
}

int
cgroup_read(const char *dir, const char *file, char **out, struct mini_err **err)
{
	_cleanup_free_ char *path = path_join(dir, file);

	return read_file(path, out, NULL, err);
}

static void
collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char *p, *end;

	if (cgroup_read(dir, "cgroup.procs", &text, NULL) == 0) {
		for (p = text; *p; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			while (*end == '\n')
				end++;
			if (*n + 1 > *cap) {
				*cap = *cap ? *cap * 2 : 16;
				*pids = xrealloc(*pids, *cap * sizeof(pid_t));
			}
			(*pids)[(*n)++] = (pid_t)v;
		}
	}
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = path_join(dir, de->d_name);
		collect_pids(sub, pids, n, cap);
	}
}

int
cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n, struct mini_err **err)
{
	const char *dir = cgroup_dir_for(cg, "pids");
	size_t cap = 0;

	if (dir == NULL)
		dir = cgroup_dir_for(cg, "memory");
	if (dir == NULL && cg->n_hiers > 0)
		dir = cg->hiers[0].dir;
	if (dir == NULL)
		return mini_err_set(err, ENOENT, "no cgroup directory");
	if (access(dir, F_OK) < 0)
		return mini_err_set(err, errno, "cgroup %s", dir);
	*pids = NULL;
	*n = 0;
	collect_pids(dir, pids, n, &cap);
	return 0;
}

int
cgroup_signal_all(const struct cgroup *cg, int sig, struct mini_err **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t i, n = 0;
	int ret;

	ret = cgroup_pids(cg, &pids, &n, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return mini_err_set(err, errno, "kill %d", (int)pids[i]);
	return 0;
}

int
cgroup_rmdir_tree(const char *dir, struct mini_err **err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int tries, ret;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return mini_err_set(err, errno, "open cgroup %s", dir);
	}
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = path_join(dir, de->d_name);
		ret = cgroup_rmdir_tree(sub, err);
		if (ret < 0)
			return ret;
	}
	/* Exited processes leave the cgroup asynchronously: EBUSY for a few ms is normal. */
	for (tries = 0; tries < 100; tries++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	return mini_err_set(err, errno, "remove cgroup %s", dir);
}
