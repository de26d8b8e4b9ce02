/* create and start, parent side (steps P1..P5 of the protocol in init.h). */
#include "container.h"
#include "cgroup.h"
#include "cgroup_devices.h"
#include "cleanup.h"
#include "console.h"
#include "fs.h"
#include "hooks.h"
#include "ids.h"
#include "init.h"
#include "log.h"
#include "namespaces.h"
#include "passwd.h"
#include "pidutil.h"
#include "security.h"
#include "spec.h"
#include "sync.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const char *
ctx_root(const struct minirt_ctx *ctx)
{
	static char rootless[4096];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (ctx && ctx->root)
		return ctx->root;
	/* runc's rootless default: $XDG_RUNTIME_DIR/runc (/run is root's). */
	if (geteuid() != 0 && xdg && xdg[0] == '/' &&
	    (size_t)snprintf(rootless, sizeof(rootless), "%s/minirun", xdg) < sizeof(rootless))
		return rootless;
	return MINIRT_DEFAULT_ROOT;
}

int
container_load_spec(const struct state_dir *sd, struct minirt_spec **out, struct mini_err **err)
{
	_cleanup_free_ char *path = state_dir_file(sd, "config.json");

	return spec_load_file(path, out, err);
}

/* Everything create needs beyond the spec itself, checked before anything is made. */
static int
check_spec(const struct minirt_spec *s, const struct minirt_create_opts *o, int console_fd,
	   struct mini_err **err)
{
	int ret;

	ret = spec_validate_for_create(s, err);
	if (ret < 0)
		return ret;
	if (!spec_find_ns(s, SPEC_NS_MNT))
		return mini_err_set(err, EINVAL,
				    "config.json: linux.namespaces: a mount namespace is required");
	if (s->hostname && s->hostname[0] && !spec_find_ns(s, SPEC_NS_UTS))
		return mini_err_set(err, EINVAL,
				    "config.json: hostname: unable to set hostname without a "
				    "private UTS namespace");
	if (s->process->terminal && !o->console_socket && console_fd < 0)
		return mini_err_set(err, EINVAL,
				    "config.json: process.terminal: cannot allocate a tty without "
				    "--console-socket");
	if (!s->process->terminal && o->console_socket)
		return mini_err_set(err, EINVAL,
				    "--console-socket given but process.terminal is false");
	return 0;
}

static char *
owner_name(void)
{
	return passwd_user_name(geteuid());
}

/* P2: oom_score_adj and id maps are written from outside; the cgroup join is ours to do. */
static int
place_child(const struct minirt_spec *s, struct cgroup *cg, pid_t pid, struct mini_err **err)
{
	const struct spec_namespace *userns = spec_find_ns(s, SPEC_NS_USER);
	int ret;

	if (s->process->oom_score_adj_present) {
		char path[64], val[16];
		_cleanup_close_ int fd = -1;

		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
		snprintf(val, sizeof(val), "%d", s->process->oom_score_adj);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, val, strlen(val)) < 0)
			return mini_err_set(err, errno, "process.oomScoreAdj: write %s", path);
	}
	if (cg) {
		ret = cg->ops->enter(cg, pid, err);
		if (ret < 0)
			return ret;
	}
	if (userns && userns->path == NULL) {
		ret = ns_write_idmaps(pid, s->linux_cfg, err);
		if (ret < 0)
			return mini_err_wrap(err, "user namespace");
	}
	return 0;
}

/* P1..P5: the dialogue with the cloned child until it reports ready. */
static int
drive_child(const struct minirt_spec *s, struct container_state *st, struct cgroup *cg,
	    const struct process_security *sec, int sync_fd, pid_t child, bool join_pid,
	    struct mini_err **err)
{
	_cleanup_(sync_msg_freep) struct sync_msg *m = NULL;
	int ret;

	st->pid = child;
	if (join_pid) {
		ret = sync_expect(sync_fd, SYNC_PID, &m, err);
		waitpid(child, NULL, 0);
		if (ret < 0)
			return ret;
		st->pid = (pid_t)m->value;
		sync_msg_freep(&m);
	}
	ret = place_child(s, cg, st->pid, err);
	if (ret < 0)
		return ret;
	ret = sync_send(sync_fd, SYNC_GO, st->pid, NULL, 0, err);
	if (ret < 0)
		return ret;
	for (;;) {
		ret = sync_recv(sync_fd, &m, err);
		if (ret < 0)
			return mini_err_wrap(err, "container init");
		switch (m->type) {
		case SYNC_READY:
			return 0;
		case SYNC_ERROR:
			return mini_err_set(err, m->errnum, "%s", m->data);
		case SYNC_HOOKS: {
			_cleanup_free_ char *json =
				state_oci_json(st, STATUS_CREATING, false, false);

			ret = hooks_run(s, SPEC_HOOK_PRESTART, json, err);
			if (ret == 0)
				ret = hooks_run(s, SPEC_HOOK_CREATE_RUNTIME, json, err);
			if (ret < 0)
				return ret;
			ret = sync_send(sync_fd, SYNC_HOOKS_DONE, 0, NULL, 0, err);
			if (ret < 0)
				return ret;
			break;
		}
		case SYNC_SECCOMP: {
			_cleanup_free_ char *json =
				state_oci_json(st, STATUS_CREATING, true, false);

			ret = security_forward_notify(sync_fd, st->pid, (int)m->value, sec, json,
						      err);
			if (ret < 0)
				return mini_err_wrap(err, "linux.seccomp.listenerPath");
			break;
		}
		case SYNC_GO:
		case SYNC_PID:
		case SYNC_HOOKS_DONE:
		case SYNC_SECCOMP_DONE:
			return mini_err_set(err, EPROTO, "unexpected sync message %d", m->type);
		}
		sync_msg_freep(&m);
	}
}

static pid_t
clone_child(int flags)
{
	/* Raw clone without a new stack behaves like fork() but can create namespaces, so the
	 * child is pid 1 of a new pid namespace without an extra fork. */
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* Clones the init and drives it to ready. On failure the child is killed and reaped. */
static int
launch(const struct minirt_spec *s, struct init_config *cfg, struct container_state *st,
       struct cgroup *cg, struct mini_err **err)
{
	_cleanup_close_ int parent_fd = -1;
	const struct spec_namespace *cgns = spec_find_ns(s, SPEC_NS_CGROUP);
	const struct spec_namespace *timens = spec_find_ns(s, SPEC_NS_TIME);
	int sp[2], flags, ret;
	pid_t child;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return mini_err_set(err, errno, "socketpair");
	parent_fd = sp[0];
	cfg->sync_fd = sp[1];
	cfg->new_cgroupns = cgns && cgns->path == NULL;
	cfg->join_pid = cfg->ns_fds[SPEC_NS_PID] >= 0;
	flags = ns_clone_flags(s);
	/* A new time namespace only applies to children of the unsharing process. */
	if (timens && timens->path == NULL && unshare(CLONE_NEWTIME) < 0) {
		close(cfg->sync_fd);
		return mini_err_set(err, errno, "unshare the time namespace");
	}
	/* The offsets can only be written while the new namespace has no process yet. */
	if (timens && timens->path == NULL && s->linux_cfg && s->linux_cfg->time_offsets) {
		const char *o = s->linux_cfg->time_offsets;
		_cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, o, strlen(o)) < 0) {
			close(cfg->sync_fd);
			return mini_err_set(err, errno,
					    "linux.timeOffsets: write /proc/self/timens_offsets");
		}
	}
	/* Inside its user namespace the init can no longer put a mapping on a mount. */
	if (spec_find_ns(s, SPEC_NS_USER) && (ret = rootfs_open_idmapped(cfg, err)) < 0) {
		close(cfg->sync_fd);
		return ret;
	}
	child = clone_child(flags);
	if (child < 0) {
		rootfs_close_idmapped(cfg);
		close(cfg->sync_fd);
		return mini_err_set(err, errno, "clone the container init");
	}
	if (child == 0) {
		close(parent_fd);
		init_main(cfg);
	}
	rootfs_close_idmapped(cfg);
	close(cfg->sync_fd);
	cfg->sync_fd = -1;
	st->new_pid_ns = (flags & CLONE_NEWPID) || cfg->join_pid;
	ret = drive_child(s, st, cg, cfg->sec, parent_fd, child, cfg->join_pid, err);
	if (ret < 0) {
		pid_t victim = st->pid > 0 ? st->pid : child;

		kill(victim, SIGKILL);
		waitpid(victim, NULL, 0);
		if (victim != child)
			waitpid(child, NULL, WNOHANG);
		return ret;
	}
	return 0;
}

static int
make_exec_fifo(const struct state_dir *sd, int *out, struct mini_err **err)
{
	_cleanup_free_ char *path = state_dir_file(sd, "exec.fifo");
	int fd;

	if (mkfifo(path, 0622) < 0)
		return mini_err_set(err, errno, "create %s", path);
	/* Read end, non-blocking: opening it cannot wait for a writer, and the init polls it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return mini_err_set(err, errno, "open %s", path);
	*out = fd;
	return 0;
}

static char *
resolve_rootfs(const char *bundle, const char *root_path, struct mini_err **err)
{
	_cleanup_free_ char *joined = NULL;
	char buf[PATH_MAX];

	joined = root_path[0] == '/' ? xstrdup(root_path) : path_join(bundle, root_path);
	if (realpath(joined, buf) == NULL) {
		mini_err_set(err, errno, "config.json: root.path: %s", joined);
		return NULL;
	}
	return xstrdup(buf);
}

/* The devices cgroup: the config's rules and runc's defaults (cgroup_devices.h). */
static int
apply_devices(const struct minirt_spec *s, struct cgroup *cg, struct mini_err **err)
{
	_cleanup_free_ struct spec_dev_rule *rules = NULL;
	size_t n = 0;
	int ret;

	cgroup_device_rules(s, &rules, &n);
	ret = cg->ops->set_devices(cg, rules, n, err);
	if (ret < 0)
		return mini_err_wrap(err, "linux.resources.devices");
	return 0;
}

/* Creates the container's cgroup and writes its limits. Rootless (cg->rootless), the
 * hierarchies we may not use are dropped, and with none left the container runs without a
 * cgroup (*cgp = NULL) unless it asks for limits, as runc does. */
static int
place_cgroup(const struct minirt_spec *s, struct cgroup **cgp, struct mini_err **err)
{
	const struct spec_resources *r = s->linux_cfg ? s->linux_cfg->resources : NULL;
	struct cgroup *cg = *cgp;
	const char *wanted;
	int ret;

	cg->rootless =
		(geteuid() != 0 || cgroup_in_userns()) &&
		!(s->linux_cfg && s->linux_cfg->cgroups_path && s->linux_cfg->cgroups_path[0]);
	ret = cg->ops->create(cg, err);
	if (ret < 0)
		return ret;
	if (cg->n_hiers == 0) {
		wanted = cgroup_limit_wanted(r);
		if (wanted)
			return mini_err_set(err, EPERM,
					    "linux.resources: cannot set %s limit: container could "
					    "not join or create cgroup",
					    wanted);
		cgroup_freep(cgp);
		return 0;
	}
	if (r && (ret = cg->ops->apply(cg, r, false, err)) < 0)
		return mini_err_wrap(err, "linux.resources");
	ret = apply_devices(s, cg, err);
	if (ret < 0 && cg->rootless) {
		/* runc: device rules are not expected to work rootless. */
		mini_err_freep(err);
		ret = 0;
	}
	return ret;
}

/* The steps after the state directory exists; on failure the caller removes it. */
static int
create_in_dir(const struct minirt_ctx *ctx, struct state_dir *sd, const struct minirt_spec *s,
	      const char *config_text, const struct minirt_create_opts *o, int console_fd,
	      struct container_state *st, struct cgroup **cgp, struct mini_err **err)
{
	_cleanup_close_ int fifo_fd = -1, console = -1;
	_cleanup_free_ char *cfg_copy = state_dir_file(sd, "config.json");
	_cleanup_(security_clear) struct process_security sec = { .seccomp_fd = -1 };
	struct init_config cfg = { 0 };
	const struct spec_linux *l = s->linux_cfg;
	int ret;

	ret = write_file_atomic(cfg_copy, config_text, strlen(config_text), 0600, err);
	if (ret < 0)
		return ret;
	ret = security_prepare(s->process, l ? l->seccomp : NULL, &sec, err);
	if (ret < 0)
		return mini_err_wrap(err, "config.json");
	ret = cgroup_new(l ? l->cgroups_path : NULL, st->id, cgp, err);
	if (ret < 0)
		return ret;
	st->cg = *cgp;
	ret = place_cgroup(s, cgp, err);
	if (ret < 0)
		return ret;
	st->cg = *cgp;
	ret = make_exec_fifo(sd, &fifo_fd, err);
	if (ret < 0)
		return ret;
	if (s->process->terminal && console_fd < 0) {
		console = console_connect(o->console_socket, err);
		if (console < 0)
			return console;
		console_fd = console;
	}
	cfg.spec = s;
	cfg.process = s->process;
	cfg.id = st->id;
	cfg.bundle = st->bundle;
	cfg.rootfs = st->rootfs;
	cfg.cg = *cgp;
	cfg.sec = &sec;
	cfg.fifo_fd = fifo_fd;
	cfg.console_fd = s->process->terminal ? console_fd : -1;
	cfg.no_pivot = o->no_pivot;
	cfg.preserve_fds = o->preserve_fds;
	cfg.log_fd = ctx && ctx->log_fd > 2 ? ctx->log_fd : -1;
	ret = ns_open_paths(s, cfg.ns_fds, err);
	if (ret < 0)
		return ret;
	ret = launch(s, &cfg, st, *cgp, err);
	ns_close_all(cfg.ns_fds);
	if (ret < 0)
		return ret;
	ret = pid_start_time(st->pid, &st->start_time, NULL, err);
	if (ret < 0)
		return mini_err_wrap(err, "container init");
	ret = state_save(sd, st, err);
	if (ret < 0)
		return ret;
	if (o->pid_file)
		return pid_file_write(o->pid_file, st->pid, err);
	return 0;
}

int
container_create(const struct minirt_ctx *ctx, const char *id, const struct minirt_create_opts *o,
		 int console_fd, pid_t *init_pid, struct mini_err **err)
{
	_cleanup_(spec_freep) struct minirt_spec *s = NULL;
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(cgroup_freep) struct cgroup *cg = NULL;
	_cleanup_free_ char *config_path = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *bundle = NULL;
	struct container_state st = { 0 };
	char buf[PATH_MAX];
	int ret;

	if (ctx && ctx->systemd_cgroup)
		return mini_err_set(err, ENOTSUP,
				    "--systemd-cgroup: the systemd cgroup driver is "
				    "not supported (no systemd on this host)");
	ret = id_validate(id, "container id", err);
	if (ret < 0)
		return ret;
	if (realpath(o->bundle ? o->bundle : ".", buf) == NULL)
		return mini_err_set(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	bundle = xstrdup(buf);
	config_path = o->config ? xstrdup(o->config) : path_join(bundle, "config.json");
	ret = read_file(config_path, &text, NULL, err);
	if (ret < 0)
		return ret;
	ret = spec_parse(text, "config.json", &s, err);
	if (ret < 0)
		return ret;
	ret = check_spec(s, o, console_fd, err);
	if (ret < 0)
		return ret;
	st.id = (char *)id;
	st.bundle = bundle;
	st.rootfs = resolve_rootfs(bundle, s->root_path, err);
	if (st.rootfs == NULL)
		return mini_err_ret(*err);
	st.annotations = s->annotations;
	st.annotations_len = s->annotations_len;
	ret = state_dir_create(ctx_root(ctx), id, &sd, err);
	if (ret < 0) {
		free(st.rootfs);
		return ret;
	}
	st.created = state_now_rfc3339();
	st.owner = owner_name();
	ret = create_in_dir(ctx, sd, s, text, o, console_fd, &st, &cg, err);
	st.cg = NULL;
	if (ret < 0) {
		/* Undo in reverse: the init is already reaped by launch(). */
		if (cg)
			cg->ops->destroy(cg, NULL);
		state_dir_remove(sd, NULL);
	} else {
		log_debug("created container %s, init pid %d", id, (int)st.pid);
		if (init_pid)
			*init_pid = st.pid;
	}
	free(st.rootfs);
	free(st.created);
	free(st.owner);
	return ret;
}

int
minirt_container_create(const struct minirt_ctx *ctx, const char *id,
			const struct minirt_create_opts *o, struct mini_err **err)
{
	return container_create(ctx, id, o, -1, NULL, err);
}

int
container_open(const struct minirt_ctx *ctx, const char *id, struct state_dir **sd,
	       struct container_state **st, enum container_status *status, struct mini_err **err)
{
	int ret;

	ret = id_validate(id, "container id", err);
	if (ret < 0)
		return ret;
	ret = state_dir_open(ctx_root(ctx), id, sd, err);
	if (ret < 0)
		return ret;
	ret = state_load(*sd, st, err);
	if (ret < 0) {
		state_dir_freep(sd);
		return ret;
	}
	*status = state_status(*sd, *st);
	return 0;
}

int
minirt_container_start(const struct minirt_ctx *ctx, const char *id, struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	_cleanup_(spec_freep) struct minirt_spec *s = NULL;
	_cleanup_free_ char *fifo = NULL;
	_cleanup_free_ char *json = NULL;
	_cleanup_close_ int fd = -1;
	enum container_status status;
	struct mini_err *herr = NULL;
	int ret;

	ret = container_open(ctx, id, &sd, &st, &status, err);
	if (ret < 0)
		return ret;
	switch (status) {
	case STATUS_CREATED:
		break;
	case STATUS_STOPPED:
		return mini_err_set(err, EBUSY, "cannot start a container that has stopped");
	case STATUS_CREATING:
	case STATUS_RUNNING:
	case STATUS_PAUSED:
		return mini_err_set(err, EBUSY, "cannot start an already running container");
	}
	fifo = state_dir_file(sd, "exec.fifo");
	/* The init holds the read end: without it (ENXIO) the init is gone. */
	fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENXIO)
		return mini_err_set(err, EBUSY, "cannot start a container that has stopped");
	if (fd < 0)
		return mini_err_set(err, errno, "open %s", fifo);
	if (write(fd, "0", 1) != 1)
		return mini_err_set(err, errno, "write %s", fifo);
	if (unlink(fifo) < 0)
		return mini_err_set(err, errno, "remove %s", fifo);
	if (container_load_spec(sd, &s, &herr) < 0 || s->hooks_len[SPEC_HOOK_POSTSTART] == 0) {
		mini_err_free(herr);
		return 0;
	}
	/* The spec: a failing poststart hook is logged; the container keeps running. */
	json = state_oci_json(st, STATUS_RUNNING, false, false);
	if (hooks_run(s, SPEC_HOOK_POSTSTART, json, &herr) < 0) {
		_cleanup_free_ char *msg = mini_err_render(herr);

		log_warn("container %s: %s", id, msg);
		mini_err_free(herr);
	}
	return 0;
}
