#include "state.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "minirt.h"
#include "pidutil.h"
#include "spec_internal.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *
status_name(enum container_status s)
{
	switch (s) {
	case STATUS_CREATING:
		return "creating";
	case STATUS_CREATED:
		return "created";
	case STATUS_RUNNING:
		return "running";
	case STATUS_PAUSED:
		return "paused";
	case STATUS_STOPPED:
		return "stopped";
	}
	return "unknown";
}

char *
state_dir_file(const struct state_dir *sd, const char *name)
{
	return path_join(sd->path, name);
}

static int
lock_dir(struct state_dir *sd, struct mini_err **err)
{
	struct stat st;

	while (flock(sd->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return mini_err_set(err, errno, "lock %s", sd->path);
	/* A delete that held the lock before us removed the directory. */
	if (fstat(sd->fd, &st) < 0)
		return mini_err_set(err, errno, "stat %s", sd->path);
	if (st.st_nlink == 0)
		return mini_err_set(err, ENOENT, "container %s does not exist", sd->id);
	return 0;
}

static struct state_dir *
state_dir_new(const char *root, const char *id)
{
	struct state_dir *sd = xcalloc(1, sizeof(*sd));

	sd->path = path_join(root, id);
	sd->id = xstrdup(id);
	sd->fd = -1;
	return sd;
}

int
state_dir_create(const char *root, const char *id, struct state_dir **out, struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = state_dir_new(root, id);
	int ret;

	ret = mkdir_p(root, 0700, err);
	if (ret < 0)
		return mini_err_wrap(err, "create state root");
	if (mkdir(sd->path, 0711) < 0) {
		if (errno == EEXIST)
			return mini_err_set(err, EEXIST, "container with id exists: %s", id);
		return mini_err_set(err, errno, "create %s", sd->path);
	}
	sd->fd = open(sd->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sd->fd < 0) {
		ret = mini_err_set(err, errno, "open %s", sd->path);
		rmdir(sd->path);
		return ret;
	}
	ret = lock_dir(sd, err);
	if (ret < 0)
		return ret;
	*out = steal_ptr(&sd);
	return 0;
}

int
state_dir_open(const char *root, const char *id, struct state_dir **out, struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = state_dir_new(root, id);
	_cleanup_free_ char *sj = NULL;
	int ret;

	sd->fd = open(sd->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sd->fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return mini_err_set(err, ENOENT, "container %s does not exist", id);
		return mini_err_set(err, errno, "open %s", sd->path);
	}
	ret = lock_dir(sd, err);
	if (ret < 0)
		return ret;
	/* A create still in progress (or one that crashed) has no state.json yet. */
	sj = state_dir_file(sd, "state.json");
	if (access(sj, F_OK) < 0)
		return mini_err_set(err, ENOENT, "container %s does not exist", id);
	*out = steal_ptr(&sd);
	return 0;
}

void
state_dir_free(struct state_dir *sd)
{
	if (sd == NULL)
		return;
	if (sd->fd >= 0)
		close(sd->fd);
	free(sd->path);
	free(sd->id);
	free(sd);
}

void
state_dir_freep(struct state_dir **sd)
{
	state_dir_free(*sd);
	*sd = NULL;
}

int
state_dir_remove(struct state_dir *sd, struct mini_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	fd = dup(sd->fd);
	if (fd < 0)
		return mini_err_set(err, errno, "dup");
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return mini_err_set(err, errno, "read %s", sd->path);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(sd->fd, de->d_name, 0) < 0 && errno != ENOENT)
			return mini_err_set(err, errno, "remove %s/%s", sd->path, de->d_name);
	}
	if (rmdir(sd->path) < 0 && errno != ENOENT)
		return mini_err_set(err, errno, "remove %s", sd->path);
	return 0;
}

static void
gen_annotations(yajl_gen g, const struct spec_kv *kv, size_t n)
{
	size_t i;

	yajl_gen_map_open(g);
	for (i = 0; i < n; i++)
		json_gen_kv_str(g, kv[i].key, kv[i].value);
	yajl_gen_map_close(g);
}

int
state_save(const struct state_dir *sd, const struct container_state *st, struct mini_err **err)
{
	_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(false);
	_cleanup_free_ char *path = state_dir_file(sd, "state.json");
	_cleanup_free_ char *text = NULL;
	size_t len;

	yajl_gen_map_open(g);
	json_gen_kv_str(g, "id", st->id);
	json_gen_kv_int(g, "pid", st->pid);
	json_gen_kv_int(g, "start_time", (long long)st->start_time);
	json_gen_kv_str(g, "bundle", st->bundle);
	json_gen_kv_str(g, "rootfs", st->rootfs);
	json_gen_kv_str(g, "created", st->created);
	json_gen_kv_str(g, "owner", st->owner);
	json_gen_kv_bool(g, "new_pid_ns", st->new_pid_ns);
	if (st->cg) {
		json_gen_str(g, "cgroup");
		cgroup_to_json(st->cg, g);
	}
	json_gen_str(g, "annotations");
	gen_annotations(g, st->annotations, st->annotations_len);
	yajl_gen_map_close(g);
	text = json_gen_take(g, &len);
	return write_file_atomic(path, text, len, 0600, err);
}

static char *
str_or_empty(yajl_val v, const char *key)
{
	const char *s = YAJL_GET_STRING(json_get(v, key));

	return xstrdup(s ? s : "");
}

int
state_load(const struct state_dir *sd, struct container_state **out, struct mini_err **err)
{
	_cleanup_free_ char *path = state_dir_file(sd, "state.json");
	_cleanup_free_ char *text = NULL;
	_cleanup_(yajl_tree_freep) yajl_val t = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	yajl_val v;
	int ret;

	ret = read_file(path, &text, NULL, err);
	if (ret < 0)
		return ret;
	ret = json_parse(text, "state.json", &t, err);
	if (ret < 0)
		return ret;
	st = xcalloc(1, sizeof(*st));
	st->id = str_or_empty(t, "id");
	v = json_get(t, "pid");
	st->pid = YAJL_IS_INTEGER(v) ? (pid_t)YAJL_GET_INTEGER(v) : 0;
	v = json_get(t, "start_time");
	st->start_time = YAJL_IS_INTEGER(v) ? (unsigned long long)YAJL_GET_INTEGER(v) : 0;
	st->bundle = str_or_empty(t, "bundle");
	st->rootfs = str_or_empty(t, "rootfs");
	st->created = str_or_empty(t, "created");
	st->owner = str_or_empty(t, "owner");
	st->new_pid_ns = YAJL_IS_TRUE(json_get(t, "new_pid_ns"));
	v = json_get(t, "cgroup");
	if (v && (ret = cgroup_from_json(v, &st->cg, err)) < 0)
		return ret;
	ret = spec_opt_kv(t, "annotations", "", &st->annotations, &st->annotations_len, err);
	if (ret < 0)
		return ret;
	*out = steal_ptr(&st);
	return 0;
}

void
container_state_free(struct container_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	cgroup_free(st->cg);
	for (i = 0; i < st->annotations_len; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	free(st);
}

void
container_state_freep(struct container_state **st)
{
	container_state_free(*st);
	*st = NULL;
}

enum container_status
state_status(const struct state_dir *sd, const struct container_state *st)
{
	_cleanup_free_ char *fifo = NULL;
	bool frozen = false;

	if (!pid_is_alive(st->pid, st->start_time))
		return STATUS_STOPPED;
	fifo = state_dir_file(sd, "exec.fifo");
	if (access(fifo, F_OK) == 0)
		return STATUS_CREATED;
	if (st->cg && st->cg->ops->is_frozen(st->cg, &frozen, NULL) == 0 && frozen)
		return STATUS_PAUSED;
	return STATUS_RUNNING;
}

char *
state_oci_json(const struct container_state *st, enum container_status status, bool full,
	       bool pretty)
{
	_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(false);

	if (pretty) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "  ");
	}
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersion", MINIRT_OCI_VERSION);
	json_gen_kv_str(g, "id", st->id);
	json_gen_kv_int(g, "pid", status == STATUS_STOPPED ? 0 : st->pid);
	json_gen_kv_str(g, "status", status_name(status));
	json_gen_kv_str(g, "bundle", st->bundle);
	if (full) {
		json_gen_kv_str(g, "rootfs", st->rootfs);
		json_gen_kv_str(g, "created", st->created);
	}
	if (st->annotations_len || !full) {
		json_gen_str(g, "annotations");
		gen_annotations(g, st->annotations, st->annotations_len);
	}
	if (full)
		json_gen_kv_str(g, "owner", st->owner);
	yajl_gen_map_close(g);
	return json_gen_take(g, NULL);
}

char *
state_now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;

	char frac[16];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* Go's RFC3339Nano, as runc prints it: trailing zeros of the fraction dropped. */
	n = snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
	while (n > 1 && frac[n - 1] == '0')
		frac[--n] = '\0';
	if (n == 1)
		frac[0] = '\0';
	return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}
