/* Id-mapped bind mounts: the user namespace that carries a mount's mapping, and the new mount
 * API calls around it. Mapping a mount needs CAP_SYS_ADMIN over the source's filesystem, which
 * a process inside a new user namespace no longer has: so it runs in the container's init at C4
 * when the container has no user namespace, else in minirun before the clone (mounts.c). */
#include "mount_idmap.h"
#include "namespaces.h"
#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The uapi values (linux/mount.h), for headers that predate them. */
#define IDMAP_OPEN_TREE_CLONE 1u
#define IDMAP_AT_RECURSIVE 0x8000u
#define IDMAP_MOVE_MOUNT_F_EMPTY_PATH 0x04u
#define IDMAP_MOVE_MOUNT_T_EMPTY_PATH 0x40u
#define IDMAP_MOUNT_ATTR_IDMAP 0x00100000ull

/* struct mount_attr, version 0 (32 bytes): declared here so that an older libc still builds. */
struct idmap_mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};

/* The syscalls by number: glibc before 2.36 has no wrappers, and headers without the numbers
 * give ENOSYS, which the callers report as a kernel without support. */
static int
sys_open_tree(int dfd, const char *path, unsigned flags)
{
#ifdef SYS_open_tree
	return (int)syscall(SYS_open_tree, dfd, path, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static int
sys_mount_setattr(int dfd, const char *path, unsigned flags, struct idmap_mount_attr *attr)
{
#ifdef SYS_mount_setattr
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
#else
	errno = ENOSYS;
	return -1;
#endif
}

static int
sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags)
{
#ifdef SYS_move_mount
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* The holder of the user namespace: killed and reaped whatever happens, since only the
 * namespace fd is wanted from it. */
static void
holder_reap(pid_t *pid)
{
	int saved = errno;

	if (*pid > 0) {
		kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	*pid = -1;
	errno = saved;
}

/* The child: a new user namespace, then its pid as /proc numbers it (the init may be in a pid
 * namespace of its own while /proc is still the host's) or "!errno" on ready_fd, then it waits
 * for EOF on done_fd: the parent closes it, or dies. */
static void __attribute__((noreturn)) holder_main(int ready_fd, int done_fd)
{
	char buf[32];
	ssize_t n;
	char b;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWUSER) < 0) {
		n = snprintf(buf, sizeof(buf), "!%d", errno);
	} else {
		n = readlink("/proc/self", buf, sizeof(buf) - 1);
		if (n <= 0)
			n = snprintf(buf, sizeof(buf), "!%d", n < 0 ? errno : EIO);
	}
	if (write(ready_fd, buf, (size_t)n) != n)
		_exit(1);
	close(ready_fd);
	while (read(done_fd, &b, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* A user namespace whose uid_map and gid_map are m's mappings; returns its fd. */
static int
idmap_userns(const struct spec_mount *m, struct mini_err **err)
{
	_cleanup_close_ int ready_r = -1, ready_w = -1, done_r = -1, done_w = -1;
	_cleanup_(holder_reap) pid_t pid = -1;
	_cleanup_free_ char *ns = NULL;
	pid_t holder;
	char buf[32];
	int p[2], fd, ret;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return mini_err_set(err, errno, "pipe");
	ready_r = p[0];
	ready_w = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return mini_err_set(err, errno, "pipe");
	done_r = p[0];
	done_w = p[1];
	pid = fork();
	if (pid < 0)
		return mini_err_set(err, errno, "fork the user namespace holder");
	if (pid == 0) {
		close(ready_r);
		close(done_w);
		holder_main(ready_w, done_r);
	}
	close(steal_fd(&ready_w));
	close(steal_fd(&done_r));
	do
		n = read(ready_r, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return mini_err_set(err, n < 0 ? errno : EPIPE, "create a user namespace");
	buf[n] = '\0';
	if (buf[0] == '!')
		return mini_err_set(err, atoi(buf + 1), "create a user namespace");
	holder = (pid_t)atoi(buf); /* as this /proc numbers it: it may differ from pid */
	ret = ns_write_map(holder, "uid_map", m->uid_mappings, m->uid_mappings_len, err);
	if (ret == 0)
		ret = ns_write_map(holder, "gid_map", m->gid_mappings, m->gid_mappings_len, err);
	if (ret < 0)
		return ret;
	ns = xasprintf("/proc/%d/ns/user", (int)holder);
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mini_err_set(err, errno, "open %s", ns);
	return fd;
}

int
idmap_open_tree(const char *src, const struct spec_mount *m, bool tree, bool recursive,
		struct mini_err **err)
{
	struct idmap_mount_attr attr = { .attr_set = IDMAP_MOUNT_ATTR_IDMAP };
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int userns = -1;

	fd = sys_open_tree(AT_FDCWD, src,
			   IDMAP_OPEN_TREE_CLONE | O_CLOEXEC | (tree ? IDMAP_AT_RECURSIVE : 0));
	if (fd < 0 && errno == ENOSYS)
		return mini_err_set(err, ENOSYS,
				    "idmapped mount %s: the kernel has no open_tree(2) (Linux 5.12 "
				    "or later is needed)",
				    m->destination);
	if (fd < 0)
		return mini_err_set(err, errno, "idmapped mount %s: open source %s", m->destination,
				    src);
	userns = idmap_userns(m, err);
	if (userns < 0)
		return mini_err_wrap(err, "idmapped mount %s", m->destination);
	attr.userns_fd = (uint64_t)userns;
	if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? IDMAP_AT_RECURSIVE : 0), &attr) <
	    0) {
		int e = errno;

		if (e == ENOSYS || e == E2BIG)
			return mini_err_set(err, ENOSYS,
					    "idmapped mount %s: the kernel has no "
					    "mount_setattr(2) with MOUNT_ATTR_IDMAP (Linux 5.12 or "
					    "later is needed)",
					    m->destination);
		/* EINVAL is also a filesystem without idmapped mount support. */
		return mini_err_set(
			err, e, "idmapped mount %s: map ids of %s%s", m->destination, src,
			e == EINVAL ? " (does its filesystem support idmapped mounts?)" : "");
	}
	return steal_fd(&fd);
}

int
idmap_move_mount(int tree_fd, int dest_fd, const char *dest, struct mini_err **err)
{
	if (sys_move_mount(tree_fd, "", dest_fd, "",
			   IDMAP_MOVE_MOUNT_F_EMPTY_PATH | IDMAP_MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return mini_err_set(err, errno, "idmapped mount %s: attach", dest);
	return 0;
}
