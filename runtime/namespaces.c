#include "namespaces.h"
#include "cleanup.h"
#include "fd.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
ns_clone_flags(const struct minirt_spec *s)
{
	int flags = 0;
	size_t i;

	if (s->linux_cfg == NULL)
		return 0;
	for (i = 0; i < s->linux_cfg->namespaces_len; i++) {
		const struct spec_namespace *ns = &s->linux_cfg->namespaces[i];

		if (ns->path || ns->type == SPEC_NS_CGROUP || ns->type == SPEC_NS_TIME)
			continue;
		flags |= spec_ns_clone_flag(ns->type);
	}
	return flags;
}

void
ns_close_all(int fds[SPEC_NS_COUNT])
{
	int t;

	for (t = 0; t < SPEC_NS_COUNT; t++) {
		if (fds[t] >= 0)
			close(fds[t]);
		fds[t] = -1;
	}
}

int
ns_open_paths(const struct minirt_spec *s, int fds[SPEC_NS_COUNT], struct mini_err **err)
{
	size_t i;
	int t;

	for (t = 0; t < SPEC_NS_COUNT; t++)
		fds[t] = -1;
	if (s->linux_cfg == NULL)
		return 0;
	for (i = 0; i < s->linux_cfg->namespaces_len; i++) {
		const struct spec_namespace *ns = &s->linux_cfg->namespaces[i];

		if (ns->path == NULL)
			continue;
		fds[ns->type] = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fds[ns->type] < 0) {
			int e = errno;

			ns_close_all(fds);
			return mini_err_set(err, e, "open %s namespace %s", spec_ns_name(ns->type),
					    ns->path);
		}
	}
	return 0;
}

int
ns_open_pid(pid_t pid, int fds[SPEC_NS_COUNT], struct mini_err **err)
{
	int t;

	for (t = 0; t < SPEC_NS_COUNT; t++)
		fds[t] = -1;
	for (t = 0; t < SPEC_NS_COUNT; t++) {
		char theirs[64], ours[64];
		struct stat a, b;

		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)pid, spec_ns_proc_name(t));
		snprintf(ours, sizeof(ours), "/proc/self/ns/%s", spec_ns_proc_name(t));
		if (stat(theirs, &a) < 0) {
			if (errno == ENOENT && t == SPEC_NS_TIME)
				continue; /* kernel without time namespaces */
			ns_close_all(fds);
			return mini_err_set(err, errno == ENOENT ? ESRCH : errno, "stat %s",
					    theirs);
		}
		/* Joining our own user namespace is EINVAL; the others are skipped to save
		 * syscalls. */
		if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		fds[t] = open(theirs, O_RDONLY | O_CLOEXEC);
		if (fds[t] < 0) {
			int e = errno;

			ns_close_all(fds);
			return mini_err_set(err, e, "open %s", theirs);
		}
	}
	return 0;
}

int
ns_join(int fds[SPEC_NS_COUNT], struct mini_err **err)
{
	static const enum spec_ns_type order[] = {
		SPEC_NS_USER, SPEC_NS_IPC,  SPEC_NS_UTS,    SPEC_NS_NET,
		SPEC_NS_PID,  SPEC_NS_TIME, SPEC_NS_CGROUP, SPEC_NS_MNT,
	};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum spec_ns_type t = order[i];

		if (fds[t] < 0)
			continue;
		if (setns(fds[t], spec_ns_clone_flag(t)) < 0)
			return mini_err_set(err, errno, "join %s namespace", spec_ns_name(t));
		close(fds[t]);
		fds[t] = -1;
	}
	return 0;
}

int
ns_write_map(pid_t pid, const char *file, const struct spec_idmap *m, size_t n,
	     struct mini_err **err)
{
	char path[64];
	_cleanup_free_ char *text = xstrdup("");
	_cleanup_close_ int fd = -1;
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char *t =
			xasprintf("%s%u %u %u\n", text, m[i].container_id, m[i].host_id, m[i].size);
		free(text);
		text = t;
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return mini_err_set(err, errno, "open %s", path);
	/* The whole map must go in one write(2). */
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return mini_err_set(err, errno, "write %s", path);
	return 0;
}

int
ns_write_idmaps(pid_t pid, const struct spec_linux *l, struct mini_err **err)
{
	int ret;

	ret = ns_write_map(pid, "uid_map", l->uid_mappings, l->uid_mappings_len, err);
	if (ret < 0)
		return ret;
	/* Rootless: the kernel lets an unprivileged process write gid_map only once setgroups(2)
	 * is disabled in the namespace (as runc does without newgidmap). */
	if (geteuid() != 0 && l->gid_mappings_len > 0) {
		char path[64];
		_cleanup_close_ int fd = -1;

		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "deny", 4) != 4)
			return mini_err_set(err, errno, "write deny to %s", path);
	}
	return ns_write_map(pid, "gid_map", l->gid_mappings, l->gid_mappings_len, err);
}
