/* The container's init, child side of the sync protocol (steps C1..C8, see init.h). Everything
 * here runs in the cloned process; an error is sent to the parent with its errno and the process
 * exits, so `create` fails with the child's own message. */
#include "init.h"
#include "cleanup.h"
#include "console.h"
#include "hooks.h"
#include "json.h"
#include "log.h"
#include "minirt.h"
#include "namespaces.h"
#include "process.h"
#include "state.h"
#include "sync.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

/* The state JSON hooks get from inside the container. */
static char *
hook_state(const struct init_config *c, pid_t host_pid, enum container_status status)
{
	struct container_state st = {
		.id = (char *)c->id,
		.pid = host_pid,
		.bundle = (char *)c->bundle,
		.annotations = c->spec->annotations,
		.annotations_len = c->spec->annotations_len,
	};

	return state_oci_json(&st, status, false, false);
}

static int
write_sysctls(const struct spec_linux *l, struct mini_err **err)
{
	size_t i;

	for (i = 0; l && i < l->sysctl_len; i++) {
		_cleanup_free_ char *path = xasprintf("/proc/sys/%s", l->sysctl[i].key);
		_cleanup_close_ int fd = -1;
		char *p;

		for (p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return mini_err_set(err, errno, "linux.sysctl: open %s", path);
		if (write(fd, l->sysctl[i].value, strlen(l->sysctl[i].value)) < 0)
			return mini_err_set(err, errno, "linux.sysctl: write %s = %s",
					    l->sysctl[i].key, l->sysctl[i].value);
	}
	return 0;
}

/* C1: nothing of minirun's but what the protocol needs may stay open in the container — a
 * leaked directory fd is a way out of the rootfs (CVE-2024-21626). */
static int
init_join(const struct init_config *c, int ns_fds[SPEC_NS_COUNT], struct mini_err **err)
{
	size_t n = 0, n_mounts = c->idmap_fds ? c->spec->mounts_len : 0;
	_cleanup_free_ int *keep = xcalloc(SPEC_NS_COUNT + 5 + n_mounts, sizeof(*keep));
	int t;

	keep[n++] = c->sync_fd;
	keep[n++] = c->fifo_fd;
	keep[n++] = c->console_fd;
	keep[n++] = c->log_fd;
	keep[n++] = c->sec ? c->sec->seccomp_fd : -1;
	for (t = 0; t < SPEC_NS_COUNT; t++) {
		ns_fds[t] = c->ns_fds[t];
		keep[n++] = ns_fds[t];
	}
	for (size_t i = 0; i < n_mounts; i++) /* attached at C4 */
		keep[n++] = c->idmap_fds[i];
	process_close_fds_except(c->preserve_fds, keep, n);
	if (setsid() < 0)
		return mini_err_set(err, errno, "setsid");
	return ns_join(ns_fds, err);
}

/* C3..C6: namespaces and the filesystem, up to and including the masked paths. */
static int
init_rootfs(const struct init_config *c, pid_t host_pid, struct mini_err **err)
{
	const struct minirt_spec *s = c->spec;
	int ret;

	if (c->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
		return mini_err_set(err, errno, "unshare the cgroup namespace");
	if (spec_find_ns(s, SPEC_NS_USER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return mini_err_set(err, errno, "become root in the user namespace");
	/* C4: modes come from the config, not from whatever umask minirun was started with. */
	umask(0);
	ret = rootfs_prepare(c, err);
	for (size_t i = 0; c->idmap_fds && i < s->mounts_len; i++)
		if (c->idmap_fds[i] >= 0)
			close(c->idmap_fds[i]);
	if (ret < 0)
		return ret;
	/* C5 */
	if (s->hooks_len[SPEC_HOOK_PRESTART] || s->hooks_len[SPEC_HOOK_CREATE_RUNTIME]) {
		ret = sync_send(c->sync_fd, SYNC_HOOKS, 0, NULL, 0, err);
		if (ret < 0)
			return ret;
		ret = sync_expect(c->sync_fd, SYNC_HOOKS_DONE, NULL, err);
		if (ret < 0)
			return ret;
	}
	if (s->hooks_len[SPEC_HOOK_CREATE_CONTAINER]) {
		_cleanup_free_ char *json = hook_state(c, host_pid, STATUS_CREATING);

		ret = hooks_run(s, SPEC_HOOK_CREATE_CONTAINER, json, err);
		if (ret < 0)
			return ret;
	}
	/* C6 */
	ret = rootfs_pivot(c, err);
	if (ret < 0)
		return ret;
	if (c->process->terminal) {
		ret = console_setup(c->console_fd, c->process, true, err);
		if (ret < 0)
			return ret;
	}
	ret = rootfs_finalize(c, err);
	if (ret < 0)
		return ret;
	umask(0022);
	if (s->hostname && s->hostname[0] && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return mini_err_set(err, errno, "set hostname %s", s->hostname);
	if (s->domainname && s->domainname[0] &&
	    setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return mini_err_set(err, errno, "set domainname %s", s->domainname);
	ret = write_sysctls(s->linux_cfg, err);
	if (ret < 0)
		return ret;
	ret = rootfs_protect_paths(c, err);
	if (ret < 0)
		return ret;
	if (s->linux_cfg && s->linux_cfg->personality_present &&
	    personality(s->linux_cfg->personality_domain) < 0)
		return mini_err_set(err, errno, "set personality");
	return 0;
}

/* C8: block until `start` writes to the exec FIFO. */
static int
wait_exec_fifo(int fd, struct mini_err **err)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b;
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return mini_err_set(err, errno, "wait on the exec fifo");
		}
		n = read(fd, &b, 1);
		if (n == 1)
			return 0;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return mini_err_set(err, n < 0 ? errno : EPIPE, "read the exec fifo");
	}
}

static int
init_run(const struct init_config *c, struct mini_err **err)
{
	const struct spec_process *p = c->process;
	_cleanup_(sync_msg_freep) struct sync_msg *go = NULL;
	_cleanup_free_ char *exe = NULL;
	char **env = NULL;
	int ns_fds[SPEC_NS_COUNT];
	pid_t host_pid;
	int notify_fd = -1, ret;

	/* C1 */
	ret = init_join(c, ns_fds, err);
	if (ret < 0)
		return ret;
	/* C2: setns(CLONE_NEWPID) only applies to children. */
	if (c->join_pid) {
		pid_t child = fork();

		if (child < 0)
			return mini_err_set(err, errno, "fork into the pid namespace");
		if (child > 0) {
			sync_send(c->sync_fd, SYNC_PID, child, NULL, 0, NULL);
			_exit(0);
		}
	}
	/* C3 */
	ret = sync_expect(c->sync_fd, SYNC_GO, &go, err);
	if (ret < 0)
		return ret;
	host_pid = (pid_t)go->value;
	ret = init_rootfs(c, host_pid, err);
	if (ret < 0)
		return ret;
	/* C7 */
	ret = process_set_rlimits(p, err);
	if (ret < 0)
		return ret;
	env = process_env(p);
	ret = security_apply(p, c->sec, &notify_fd, err);
	if (ret == 0 && notify_fd >= 0)
		ret = security_handoff_notify(c->sync_fd, notify_fd, err);
	if (ret == 0)
		ret = process_chdir(p->cwd, err);
	if (ret == 0)
		ret = process_find_executable(p, env, &exe, err);
	if (ret == 0)
		ret = process_prepare_fds(c->preserve_fds, err);
	if (ret == 0)
		ret = sync_send(c->sync_fd, SYNC_READY, 0, NULL, 0, err);
	if (ret < 0) {
		json_strv_free(env);
		return ret;
	}
	/* From here on nobody waits for our messages: errors go to the log and stderr. */
	close(c->sync_fd);
	/* C8 */
	ret = wait_exec_fifo(c->fifo_fd, err);
	if (ret == 0)
		close(c->fifo_fd);
	if (ret == 0 && c->spec->hooks_len[SPEC_HOOK_START_CONTAINER]) {
		_cleanup_free_ char *json = hook_state(c, host_pid, STATUS_CREATED);

		ret = hooks_run(c->spec, SPEC_HOOK_START_CONTAINER, json, err);
	}
	if (ret == 0)
		ret = process_exec(p, exe, env, err);
	json_strv_free(env);
	if (ret < 0) {
		_cleanup_free_ char *msg = mini_err_render(*err);

		log_error("container %s: %s", c->id, msg);
		dprintf(2, "minirun: %s\n", msg);
		mini_err_freep(err);
		_exit(127);
	}
	return ret;
}

void
init_main(const struct init_config *c)
{
	struct mini_err *err = NULL;

	if (init_run(c, &err) < 0) {
		sync_send_error(c->sync_fd, err);
		mini_err_free(err);
	}
	_exit(1);
}
