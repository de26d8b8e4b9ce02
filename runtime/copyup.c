/* A recursive copy done entirely with *at() calls on directory fds. The source is a directory
 * of the container's rootfs, which the container's image controls: no name is ever resolved
 * through a symlink. */
#include "copyup.h"
#include "cleanup.h"
#include "fd.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Each level holds three fds (the source directory, its listing and the destination): bound the
 * depth so a pathological tree fails with a message instead of running out of fds. */
#define COPY_MAX_DEPTH 128
#define COPY_BUF_SIZE (64 * 1024)

struct copy_ctx {
	char *buf; /* COPY_BUF_SIZE bytes for file contents */
	unsigned depth;
};

static int copy_tree(struct copy_ctx *cx, int src, int dst, const char *path,
		     struct mini_err **err);

static int
copy_file(struct copy_ctx *cx, int src, int dst, const char *name, const struct stat *st,
	  const char *path, struct mini_err **err)
{
	_cleanup_close_ int in = -1;
	_cleanup_close_ int out = -1;
	struct stat now;
	ssize_t n;

	/* O_NONBLOCK and the check after: the entry was a regular file when stat'ed; if it was
	 * swapped for a fifo or a device since, the open must not hang and nothing is read. */
	in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return mini_err_set(err, errno, "open %s", path);
	if (fstat(in, &now) < 0)
		return mini_err_set(err, errno, "stat %s", path);
	if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
		return mini_err_set(err, EAGAIN, "copy %s: the file changed while being copied",
				    path);
	out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return mini_err_set(err, errno, "create %s", path);
	for (;;) {
		n = read(in, cx->buf, COPY_BUF_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mini_err_set(err, errno, "read %s", path);
		if (n == 0)
			return 0;
		if (write_all(out, cx->buf, (size_t)n, err) < 0)
			return mini_err_wrap(err, "write %s", path);
	}
}

static int
copy_symlink(int src, int dst, const char *name, const char *path, struct mini_err **err)
{
	char target[PATH_MAX];
	ssize_t n;

	n = readlinkat(src, name, target, sizeof(target));
	if (n < 0)
		return mini_err_set(err, errno, "read link %s", path);
	if ((size_t)n == sizeof(target))
		return mini_err_set(err, ENAMETOOLONG, "read link %s", path);
	target[n] = '\0';
	if (symlinkat(target, dst, name) < 0)
		return mini_err_set(err, errno, "create link %s", path);
	return 0;
}

static int
copy_subdir(struct copy_ctx *cx, int src, int dst, const char *name, const char *path,
	    struct mini_err **err)
{
	_cleanup_close_ int sfd = -1;
	_cleanup_close_ int dfd = -1;
	int ret;

	if (cx->depth >= COPY_MAX_DEPTH)
		return mini_err_set(err, ELOOP, "copy %s: more than %d levels of directories", path,
				    COPY_MAX_DEPTH);
	/* Private until the attributes are copied, after the contents. */
	if (mkdirat(dst, name, 0700) < 0)
		return mini_err_set(err, errno, "create directory %s", path);
	sfd = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return mini_err_set(err, errno, "open directory %s", path);
	dfd = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return mini_err_set(err, errno, "open new directory %s", path);
	cx->depth++;
	ret = copy_tree(cx, sfd, dfd, path, err);
	cx->depth--;
	return ret;
}

/* Owner first: chown clears the set-id bits the mode then puts back. Timestamps last, so that
 * filling a directory does not change its mtime afterwards. */
static int
copy_attrs(int dst, const char *name, const struct stat *st, const char *path,
	   struct mini_err **err)
{
	const struct timespec times[2] = { st->st_atim, st->st_mtim };

	if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return mini_err_set(err, errno, "set owner of %s to %u:%u", path,
				    (unsigned)st->st_uid, (unsigned)st->st_gid);
	/* A symlink has no mode of its own; every other entry was created by us just now on a
	 * filesystem nobody else writes yet. */
	if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
		return mini_err_set(err, errno, "set mode of %s", path);
	if (utimensat(dst, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return mini_err_set(err, errno, "set times of %s", path);
	return 0;
}

static int
copy_entry(struct copy_ctx *cx, int src, int dst, const char *name, const char *path,
	   struct mini_err **err)
{
	struct stat st;
	int ret;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return mini_err_set(err, errno, "stat %s", path);
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		ret = copy_subdir(cx, src, dst, name, path, err);
		break;
	case S_IFREG:
		ret = copy_file(cx, src, dst, name, &st, path, err);
		break;
	case S_IFLNK:
		ret = copy_symlink(src, dst, name, path, err);
		break;
	default:
		/* Device nodes (as runc), and fifos and sockets as the same kind of inode (runc
		 * fails on those). */
		ret = 0;
		if (mknodat(dst, name, st.st_mode & (S_IFMT | 0777), st.st_rdev) < 0)
			ret = mini_err_set(err, errno, "create node %s", path);
		break;
	}
	if (ret < 0)
		return ret;
	return copy_attrs(dst, name, &st, path, err);
}

static int
copy_tree(struct copy_ctx *cx, int src, int dst, const char *path, struct mini_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	/* A fresh open: the listing consumes its fd, and src stays usable for the *at calls. */
	fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return mini_err_set(err, errno, "open directory %s", path);
	d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;

		close(fd);
		return mini_err_set(err, e, "list %s", path);
	}
	for (;;) {
		_cleanup_free_ char *sub = NULL;
		int ret;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				return mini_err_set(err, errno, "list %s", path);
			return 0;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sub = strcmp(path, ".") == 0 ? xstrdup(de->d_name)
					     : xasprintf("%s/%s", path, de->d_name);
		ret = copy_entry(cx, src, dst, de->d_name, sub, err);
		if (ret < 0)
			return ret;
	}
}

int
copyup_dir(int src_dirfd, int dst_dirfd, struct mini_err **err)
{
	_cleanup_free_ char *buf = xmalloc(COPY_BUF_SIZE);
	struct copy_ctx cx = { .buf = buf, .depth = 0 };

	return copy_tree(&cx, src_dirfd, dst_dirfd, ".", err);
}
