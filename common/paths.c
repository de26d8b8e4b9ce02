#include "paths.h"
#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SYMLINKS 40

const char *
fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

static int
sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
#ifdef SYS_openat2
	struct open_how how = { .flags = (unsigned long long)flags, .resolve = resolve };

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* The fallback: a component walk from rootfd with a stack of directory fds, so ".." never rises
 * above the root and symlinks restart from the root (absolute) or the current directory. */
static int
walk_in_root(int rootfd, const char *path, int flags)
{
	_cleanup_free_ char *todo = xstrdup(path);
	int stack[256], depth = 0, links = 0, fd, ret = -1;

	stack[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (stack[0] < 0)
		return -1;
	for (;;) {
		char *p = todo, *comp, *slash, *rest;
		struct stat st;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		comp = p;
		slash = strchr(p, '/');
		rest = slash ? slash + 1 : p + strlen(p);
		if (slash)
			*slash = '\0';
		if (strcmp(comp, ".") == 0) {
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			if (depth > 0)
				close(stack[depth--]);
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		fd = openat(stack[depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			goto out;
		if (fstat(fd, &st) < 0) {
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char link[4096];
			ssize_t n = readlinkat(stack[depth], comp, link, sizeof(link) - 1);
			char *next;

			close(fd);
			if (n < 0 || ++links > MAX_SYMLINKS) {
				if (n >= 0)
					errno = ELOOP;
				goto out;
			}
			link[n] = '\0';
			if (link[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			next = xasprintf("%s/%s", link, rest);
			free(todo);
			todo = next;
			continue;
		}
		if (depth + 1 >= (int)(sizeof(stack) / sizeof(stack[0]))) {
			close(fd);
			errno = ENAMETOOLONG;
			goto out;
		}
		stack[++depth] = fd;
		memmove(todo, rest, strlen(rest) + 1);
	}
	if ((flags & O_PATH) && !(flags & O_DIRECTORY)) {
		ret = fcntl(stack[depth], F_DUPFD_CLOEXEC, 0);
	} else {
		char buf[64];
		/* Reopen through the magic link: the fd already names the right inode. */
		ret = open(fd_path(stack[depth], buf, sizeof(buf)), flags | O_CLOEXEC);
	}
out : {
	int saved = errno;
	while (depth >= 0)
		close(stack[depth--]);
	errno = saved;
}
	return ret;
}

int
open_in_root(int rootfd, const char *path, int flags, struct mini_err **err)
{
	int fd;

	fd = sys_openat2(rootfd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = walk_in_root(rootfd, path, flags);
	/* openat2 also fails with EAGAIN when a rename raced the walk: retry once. */
	if (fd < 0 && errno == EAGAIN)
		fd = walk_in_root(rootfd, path, flags);
	if (fd < 0)
		return mini_err_set(err, errno, "open %s in the rootfs", path);
	return fd;
}

/* Resolves path below rootfd lexically, following the symlinks that exist with the rootfs as
 * "/" (securejoin): the result names where path lands inside the rootfs, even through a symlink
 * to a directory that does not exist yet. Caller owns the result ("a/b", or "" for the root). */
static char *
secure_join(int rootfd, const char *path, struct mini_err **err)
{
	_cleanup_free_ char *todo = xstrdup(path);
	char *out = xstrdup("");
	int links = 0;

	for (;;) {
		char *p = todo, *comp, *slash, *rest, *cand, link[4096];
		ssize_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			return out;
		comp = p;
		slash = strchr(p, '/');
		rest = slash ? slash + 1 : p + strlen(p);
		if (slash)
			*slash = '\0';
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			if (comp[1] == '.') {
				char *last = strrchr(out, '/');

				if (last)
					*last = '\0';
				else
					out[0] = '\0';
			}
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		cand = out[0] ? xasprintf("%s/%s", out, comp) : xstrdup(comp);
		n = readlinkat(rootfd, cand, link, sizeof(link) - 1);
		if (n < 0) {
			/* not a symlink (EINVAL) or not there yet (ENOENT): a plain component */
			free(out);
			out = cand;
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		free(cand);
		if (++links > MAX_SYMLINKS) {
			free(out);
			mini_err_set(err, ELOOP, "resolve %s in the rootfs", path);
			return NULL;
		}
		link[n] = '\0';
		if (link[0] == '/')
			out[0] = '\0';
		{
			char *next = xasprintf("%s/%s", link, rest);

			free(todo);
			todo = next;
		}
	}
}

int
mkdir_in_root(int rootfd, const char *path, mode_t mode, bool file, struct mini_err **err)
{
	_cleanup_free_ char *resolved = NULL;
	_cleanup_close_ int parent = -1;
	char *comp, *next;
	int fd;

	fd = open_in_root(rootfd, path, O_PATH, NULL);
	if (fd >= 0)
		return fd;
	resolved = secure_join(rootfd, path, err);
	if (resolved == NULL)
		return -ELOOP;
	parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (parent < 0)
		return mini_err_set(err, errno, "dup rootfs fd");
	if (resolved[0] == '\0')
		return steal_fd(&parent);
	/* Every component of the resolved path is a real directory or missing: create the
	 * missing ones, refusing symlinks (one swapped in since secure_join is an attack). */
	for (comp = resolved; comp; comp = next) {
		bool last;

		next = strchr(comp, '/');
		if (next)
			*next++ = '\0';
		last = next == NULL;
		if (last && file)
			fd = openat(parent, comp, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
				    0644);
		else if (mkdirat(parent, comp, mode) < 0 && errno != EEXIST)
			fd = -1;
		else
			fd = openat(parent, comp,
				    O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
		if (fd < 0 && last && file && errno == EISDIR)
			fd = openat(parent, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return mini_err_set(err, errno, "create %s in the rootfs", path);
		if (last && file) {
			/* reopen as O_PATH like every other result */
			int pfd = openat(parent, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);

			close(fd);
			if (pfd < 0)
				return mini_err_set(err, errno, "open %s in the rootfs", path);
			fd = pfd;
		}
		close(parent);
		parent = fd;
	}
	return steal_fd(&parent);
}
