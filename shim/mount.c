#include "mount.h"
#include "cleanup.h"
#include "log.h"
#include "loop.h"
#include "mount_helper.h"
#include "paths.h"
#include "strv.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#define UNMOUNT_BUSY_TRIES 10
#define UNMOUNT_BUSY_SLEEP_NS (10 * 1000 * 1000)

struct opt_flag {
	const char *name;
	bool clear;
	unsigned long flag;
};

/* containerd's parseMountOptions table. */
static const struct opt_flag flag_table[] = {
	{ "async", true, MS_SYNCHRONOUS },
	{ "atime", true, MS_NOATIME },
	{ "bind", false, MS_BIND },
	{ "defaults", false, 0 },
	{ "dev", true, MS_NODEV },
	{ "diratime", true, MS_NODIRATIME },
	{ "dirsync", false, MS_DIRSYNC },
	{ "exec", true, MS_NOEXEC },
	{ "mand", false, MS_MANDLOCK },
	{ "noatime", false, MS_NOATIME },
	{ "nodev", false, MS_NODEV },
	{ "nodiratime", false, MS_NODIRATIME },
	{ "noexec", false, MS_NOEXEC },
	{ "nomand", true, MS_MANDLOCK },
	{ "norelatime", true, MS_RELATIME },
	{ "nostrictatime", true, MS_STRICTATIME },
	{ "nosuid", false, MS_NOSUID },
	{ "rbind", false, MS_BIND | MS_REC },
	{ "relatime", false, MS_RELATIME },
	{ "remount", false, MS_REMOUNT },
	{ "ro", false, MS_RDONLY },
	{ "rw", true, MS_RDONLY },
	{ "strictatime", false, MS_STRICTATIME },
	{ "suid", true, MS_NOSUID },
	{ "sync", false, MS_SYNCHRONOUS },
};

static const struct opt_flag propagation_table[] = {
	{ "private", false, MS_PRIVATE },	{ "rprivate", false, MS_PRIVATE | MS_REC },
	{ "shared", false, MS_SHARED },		{ "rshared", false, MS_SHARED | MS_REC },
	{ "slave", false, MS_SLAVE },		{ "rslave", false, MS_SLAVE | MS_REC },
	{ "unbindable", false, MS_UNBINDABLE }, { "runbindable", false, MS_UNBINDABLE | MS_REC },
};

static const struct opt_flag *
lookup(const struct opt_flag *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

void
mount_parse_options(char *const *options, size_t n, unsigned long *flags,
		    unsigned long *propagation, char **data, bool *loop)
{
	size_t cap = 1, len = 0;
	char *d;

	*flags = *propagation = 0;
	*loop = false;
	for (size_t i = 0; i < n; i++)
		cap += strlen(options[i]) + 1;
	d = xcalloc(1, cap);
	for (size_t i = 0; i < n; i++) {
		const char *o = options[i];
		const struct opt_flag *f = lookup(flag_table, sizeof(flag_table) / sizeof(*f), o);

		if (f) {
			if (f->clear)
				*flags &= ~f->flag;
			else
				*flags |= f->flag;
			continue;
		}
		f = lookup(propagation_table, sizeof(propagation_table) / sizeof(*f), o);
		if (f) {
			*propagation |= f->flag;
			continue;
		}
		if (strcmp(o, "loop") == 0) {
			*loop = true;
			continue;
		}
		len += (size_t)sprintf(d + len, "%s%s", len ? "," : "", o);
	}
	*data = d;
}

void
mount_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Length of the longest common prefix of the ':'-separated list. */
static size_t
common_prefix(char **dirs, size_t n)
{
	size_t len = strlen(dirs[0]);

	for (size_t i = 1; i < n; i++) {
		size_t k = 0;

		while (k < len && dirs[i][k] && dirs[i][k] == dirs[0][k])
			k++;
		len = k;
	}
	return len;
}

char *
mount_compact_lowerdir(char *const *options, size_t n, char ***out, size_t *n_out)
{
	_cleanup_free_ char *lower = NULL, *common = NULL;
	char **dirs = NULL, *tok, *save = NULL, **res;
	size_t ndirs = 0, idx = n, plen, k = 0;

	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(options[i], "lowerdir=", 9) == 0)
			idx = i;
	if (idx == n)
		return NULL;
	lower = xstrdup(options[idx] + 9);
	for (tok = strtok_r(lower, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		dirs = xrealloc(dirs, (ndirs + 1) * sizeof(*dirs));
		dirs[ndirs++] = tok;
	}
	if (ndirs < 2) {
		free(dirs);
		return NULL;
	}
	/* Back to the parent of the common prefix: snapshot ids are numbers, and "snapshots/1"
	 * and "snapshots/12" share "snapshots/1". */
	plen = common_prefix(dirs, ndirs);
	common = xstrndup(dirs[0], plen);
	if (strrchr(common, '/') == NULL || strrchr(common, '/') == common) {
		free(dirs);
		return NULL;
	}
	*(strrchr(common, '/') + 1) = '\0';
	plen = strlen(common);
	for (size_t i = 0; i < ndirs; i++) {
		if (strlen(dirs[i]) <= plen) {
			free(dirs);
			return NULL;
		}
	}
	res = xcalloc(n + 1, sizeof(*res));
	for (size_t i = 0; i < n; i++)
		if (i != idx)
			res[k++] = xstrdup(options[i]);
	{
		size_t cap = strlen(options[idx]) + 1, len;
		char *opt = xmalloc(cap);

		len = (size_t)sprintf(opt, "lowerdir=");
		for (size_t i = 0; i < ndirs; i++)
			len += (size_t)sprintf(opt + len, "%s%s", i ? ":" : "", dirs[i] + plen);
		res[k++] = opt;
	}
	free(dirs);
	*out = res;
	*n_out = k;
	return steal_ptr(&common);
}

static size_t
options_size(char *const *options, size_t n)
{
	size_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += strlen(options[i]);
	return s;
}

/* mount(2), from inside dir when dir is set (relative lowerdirs). The daemon is single-threaded,
 * so a temporary chdir is safe; the previous cwd is restored. */
static int
mount_at(const char *dir, const char *source, const char *target, const char *type,
	 unsigned long flags, const char *data)
{
	_cleanup_close_ int cwd = -1;
	int rc, e;

	if (dir == NULL)
		return mount(source, target, type, flags, data);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir) < 0)
		return -1;
	rc = mount(source, target, type, flags, data);
	e = errno;
	if (fchdir(cwd) < 0)
		log_warn("restore working directory: %s", strerror(errno));
	errno = e;
	return rc;
}

/* containerd 2.x: an entry's target is a path below the rootfs, resolved inside it (symlinks and
 * ".." cannot leave it) and named by its real path, which a FUSE helper needs too. */
static char *
entry_target(const char *root, const char *sub, struct mini_err **err)
{
	_cleanup_close_ int rootfd = -1, fd = -1;
	char link[32], buf[PATH_MAX];
	ssize_t n;

	if (sub == NULL || *sub == '\0')
		return xstrdup(root);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		mini_err_set(err, errno, "open rootfs %s", root);
		return NULL;
	}
	fd = open_in_root(rootfd, sub, O_PATH | O_DIRECTORY, err);
	if (fd < 0) {
		mini_err_wrap(err, "mount target %s below %s", sub, root);
		return NULL;
	}
	n = readlink(fd_path(fd, link, sizeof(link)), buf, sizeof(buf) - 1);
	if (n < 0) {
		mini_err_set(err, errno, "resolve mount target %s below %s", sub, root);
		return NULL;
	}
	buf[n] = '\0';
	return xstrdup(buf);
}

static int
mount_one(const struct mount_entry *m, const char *target, struct mini_err **err)
{
	const unsigned long ptypes = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
	_cleanup_free_ char *data = NULL, *chdir_to = NULL;
	char **compact = NULL, *const *opts = m->options;
	size_t n = m->n_options, n_compact = 0;
	unsigned long flags, prop;
	long page = sysconf(_SC_PAGESIZE);
	_cleanup_free_ char *loop_dev = NULL;
	_cleanup_close_ int loop_fd = -1;
	const char *source = m->source, *subtype;
	const char *helper = mount_helper_for(m->type, &subtype);
	bool loop;
	int rc = 0;

	if (helper)
		return mount_with_helper(helper, subtype, m->source, target, m->options,
					 m->n_options, err);
	if (strcmp(m->type, "overlay") == 0 && options_size(opts, n) >= (size_t)page - 512) {
		chdir_to = mount_compact_lowerdir(opts, n, &compact, &n_compact);
		if (chdir_to)
			opts = compact, n = n_compact;
	}
	mount_parse_options(opts, n, &flags, &prop, &data, &loop);
	mount_strv_free(compact);
	if (strlen(data) > (size_t)page)
		return mini_err_set(err, EINVAL, "mount %s on %s: mount options is too long",
				    m->source, target);
	/* "loop": the source is an image file; mount a loop device bound to it. The device
	 * detaches itself at unmount (autoclear) once our fd is closed too. */
	if (loop) {
		loop_fd = loop_attach(m->source, flags & MS_RDONLY, &loop_dev, err);
		if (loop_fd < 0)
			return mini_err_wrap(err, "mount %s on %s", m->source, target);
		source = loop_dev;
	}
	if (!(flags & MS_REMOUNT) || *data) {
		rc = mount_at(chdir_to, source, target, m->type, flags & ~ptypes, data);
		if (rc < 0)
			return mini_err_set(err, errno, "mount %s (type %s) on %s", m->source,
					    m->type, target);
	}
	if (prop && mount("", target, "", prop | MS_SILENT, NULL) < 0)
		return mini_err_set(err, errno, "set propagation of %s", target);
	if ((flags & (MS_BIND | MS_RDONLY)) == (MS_BIND | MS_RDONLY) &&
	    mount("", target, "", (flags & ~ptypes) | MS_REMOUNT, NULL) < 0)
		return mini_err_set(err, errno, "remount %s read-only", target);
	return 0;
}

int
mount_all(const struct mount_entry *m, size_t n, const char *target, struct mini_err **err)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *at = entry_target(target, m[i].target, err);

		if (at == NULL || mount_one(&m[i], at, err) < 0) {
			struct mini_err *uerr = NULL;

			if (unmount_all(target, &uerr) < 0) {
				log_warn("undo rootfs mounts: %s", uerr->msg);
				mini_err_free(uerr);
			}
			return mini_err_wrap(err, "failed to mount rootfs component");
		}
	}
	return 0;
}

/* Unmounts every mount stacked on path, FUSE ones through fusermount first (as containerd). */
static int
unmount_stack(const char *path, struct mini_err **err)
{
	const struct timespec pause = { 0, UNMOUNT_BUSY_SLEEP_NS };
	int busy = 0;

	for (;;) {
		if (mount_is_fuse(path) && unmount_fuse(path, NULL) == 0)
			continue;
		if (umount2(path, UMOUNT_NOFOLLOW) == 0)
			continue; /* stacked mounts: go again until none is left */
		if (errno == EINVAL || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return mini_err_set(err, errno, "unmount %s", path);
		if (++busy < UNMOUNT_BUSY_TRIES) {
			nanosleep(&pause, NULL);
			continue;
		}
		/* Still busy after ~100 ms: detach, so the mount goes away once released. */
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
			return mini_err_set(err, errno, "unmount %s", path);
		log_warn("rootfs %s was busy; detached it", path);
		busy = 0;
	}
}

/* A mount point field of /proc/self/mountinfo, unescaped in place (\040 is a space …). */
static char *
unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; w++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* The mount points strictly below dir, in mount table order (a parent before its children). */
static void
mounts_below(const char *dir, struct strv *out)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, len = strlen(dir);

	while (f && getline(&line, &cap, f) > 0) {
		char *save = NULL, *field = strtok_r(line, " ", &save);

		for (int i = 1; field && i < 5; i++)
			field = strtok_r(NULL, " ", &save);
		if (field && strncmp(unescape_octal(field), dir, len) == 0 && field[len] == '/')
			strv_push(out, field);
	}
}

int
unmount_all(const char *target, struct mini_err **err)
{
	_cleanup_(strv_freep) struct strv below = { 0 };
	char real[PATH_MAX];

	/* containerd 2.x may have mounted entries below the rootfs: those go first, deepest
	 * (last mounted) first. */
	if (realpath(target, real) == NULL)
		return errno == ENOENT ? 0 : mini_err_set(err, errno, "resolve %s", target);
	mounts_below(real, &below);
	for (size_t i = below.n; i > 0; i--) {
		int rc = unmount_stack(below.v[i - 1], err);

		if (rc < 0)
			return rc;
	}
	return unmount_stack(real, err);
}
