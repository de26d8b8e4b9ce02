/* /dev in the container: the default devices runc and crun create, linux.devices, the
 * /proc/self/fd symlinks and ptmx → pts/ptmx. Device nodes are made with mknod; where that is
 * not allowed (a user namespace) the host's node is bind-mounted onto an empty file instead. */
#include "cleanup.h"
#include "init.h"
#include "paths.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct spec_device default_devices[] = {
	{ .path = (char *)"/dev/null", .type = 'c', .major = 1, .minor = 3 },
	{ .path = (char *)"/dev/zero", .type = 'c', .major = 1, .minor = 5 },
	{ .path = (char *)"/dev/full", .type = 'c', .major = 1, .minor = 7 },
	{ .path = (char *)"/dev/random", .type = 'c', .major = 1, .minor = 8 },
	{ .path = (char *)"/dev/urandom", .type = 'c', .major = 1, .minor = 9 },
	{ .path = (char *)"/dev/tty", .type = 'c', .major = 5, .minor = 0 },
};

/* Splits path into its parent (opened, created if needed) and base name. */
static int
open_parent(int rootfd, const char *path, const char **base, struct mini_err **err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	*base = strrchr(path, '/') + 1;
	if (slash == dir)
		return open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, err);
	*slash = '\0';
	{
		int fd = mkdir_in_root(rootfd, dir, 0755, false, err);
		int dfd;
		char buf[64];

		if (fd < 0)
			return fd;
		/* mknodat and friends need a real directory fd, not O_PATH. */
		dfd = open(fd_path(fd, buf, sizeof(buf)), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		if (dfd < 0)
			return mini_err_set(err, errno, "open %s", dir);
		return dfd;
	}
}

static int
bind_device(int dfd, const char *base, const struct spec_device *d, struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	char buf[64];

	fd = openat(dfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
	if (fd < 0)
		return mini_err_set(err, errno, "create %s", d->path);
	if (mount(d->path, fd_path(fd, buf, sizeof(buf)), NULL, MS_BIND, NULL) < 0)
		return mini_err_set(err, errno, "bind device %s", d->path);
	return 0;
}

static int
create_device(int rootfd, const struct spec_device *d, struct mini_err **err)
{
	_cleanup_close_ int dfd = -1;
	const char *base;
	mode_t mode = d->file_mode_present ? d->file_mode & 07777 : 0666;
	mode_t type;

	switch (d->type) {
	case 'b':
		type = S_IFBLK;
		break;
	case 'p':
		type = S_IFIFO;
		break;
	default:
		type = S_IFCHR;
		break;
	}
	dfd = open_parent(rootfd, d->path, &base, err);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
		return mini_err_set(err, errno, "remove existing %s", d->path);
	if (mknodat(dfd, base, mode | type, makedev(d->major, d->minor)) < 0) {
		if (errno != EPERM)
			return mini_err_set(err, errno, "mknod %s", d->path);
		return bind_device(dfd, base, d, err);
	}
	/* mknod honours the umask; set the exact mode the config asked for. */
	if (fchmodat(dfd, base, mode, 0) < 0)
		return mini_err_set(err, errno, "chmod %s", d->path);
	if (fchownat(dfd, base, d->uid_present ? d->uid : 0, d->gid_present ? d->gid : 0,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return mini_err_set(err, errno, "chown %s", d->path);
	return 0;
}

static bool
overridden(const struct spec_linux *l, const char *path)
{
	size_t i;

	for (i = 0; l && i < l->devices_len; i++)
		if (strcmp(l->devices[i].path, path) == 0)
			return true;
	return false;
}

static int
make_symlink(int rootfd, const char *target, const char *path, bool replace, struct mini_err **err)
{
	_cleanup_close_ int dfd = -1;
	const char *base;

	dfd = open_parent(rootfd, path, &base, err);
	if (dfd < 0)
		return dfd;
	if (replace && unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
		return mini_err_set(err, errno, "remove %s", path);
	if (symlinkat(target, dfd, base) < 0 && errno != EEXIST)
		return mini_err_set(err, errno, "symlink %s -> %s", path, target);
	return 0;
}

int
dev_setup(const struct init_config *c, int rootfd, struct mini_err **err)
{
	const struct spec_linux *l = c->spec->linux_cfg;
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	size_t i;
	int ret;

	for (i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
		if (overridden(l, default_devices[i].path))
			continue;
		ret = create_device(rootfd, &default_devices[i], err);
		if (ret < 0)
			return ret;
	}
	for (i = 0; l && i < l->devices_len; i++) {
		ret = create_device(rootfd, &l->devices[i], err);
		if (ret < 0)
			return mini_err_wrap(err, "linux.devices[%zu]", i);
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		ret = make_symlink(rootfd, links[i][0], links[i][1], false, err);
		if (ret < 0)
			return ret;
	}
	/* The devpts mounted with newinstance has its own ptmx: point /dev/ptmx at it. */
	return make_symlink(rootfd, "pts/ptmx", "/dev/ptmx", true, err);
}
