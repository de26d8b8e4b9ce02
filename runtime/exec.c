/* exec: a new process in a running container. A middle process joins the container's cgroup and
 * namespaces (read from /proc/<init>/ns, pinned before the pid is re-checked), forks once more so
 * the process is inside the pid namespace, and reports the pid; the process then chroots to the
 * init's root, sets itself up like the init (process.c) and execs. Its sync fd is close-on-exec:
 * EOF means execve succeeded. */
#include "cleanup.h"
#include "console.h"
#include "container.h"
#include "fd.h"
#include "json.h"
#include "namespaces.h"
#include "pidutil.h"
#include "process.h"
#include "security.h"
#include "sync.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct exec_ctx {
	const struct container_state *st;
	struct spec_process *p;
	const struct process_security *sec;
	int ns_fds[SPEC_NS_COUNT];
	int root_fd;
	int sync_fd;
	int console_fd;
	unsigned preserve_fds;
};

static int
parse_user(const char *s, struct spec_user *u, struct mini_err **err)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || (*end != '\0' && *end != ':'))
		return mini_err_set(err, EINVAL, "--user %s: expected uid[:gid]", s);
	u->uid = (uint32_t)v;
	if (*end == ':') {
		const char *g = end + 1;

		v = strtoul(g, &end, 10);
		if (errno || end == g || *end != '\0')
			return mini_err_set(err, EINVAL, "--user %s: expected uid[:gid]", s);
		u->gid = (uint32_t)v;
	}
	return 0;
}

static void
replace_strv(char ***v, size_t *len, char *const *src)
{
	size_t n = 0, i;

	json_strv_free(*v);
	while (src && src[n])
		n++;
	*v = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		(*v)[i] = xstrdup(src[i]);
	*len = n;
}

/* The process to run: --process as is, or the container's process (from s, the frozen config,
 * which must outlive the result: raw nodes point into its tree) with the CLI's overrides, as
 * runc does. Caller owns *out. */
static int
build_process(struct minirt_spec *s, const struct minirt_exec_opts *o, struct spec_process **out,
	      struct mini_err **err)
{
	struct spec_process *p;
	size_t i, n;
	int ret;

	if (o->process)
		return spec_process_load(o->process, out, err);
	if (o->args == NULL || o->args[0] == NULL)
		return mini_err_set(err, EINVAL, "exec: no command given");
	if (s->process == NULL)
		return mini_err_set(err, EINVAL, "config.json: process: missing");
	p = steal_ptr(&s->process);
	replace_strv(&p->args, &p->args_len, o->args);
	p->terminal = o->tty;
	if (o->cwd) {
		free(p->cwd);
		p->cwd = xstrdup(o->cwd);
	}
	for (n = 0; o->env && o->env[n]; n++)
		;
	if (n) {
		p->env = xrealloc(p->env, (p->env_len + n + 1) * sizeof(char *));
		for (i = 0; i < n; i++)
			p->env[p->env_len++] = xstrdup(o->env[i]);
		p->env[p->env_len] = NULL;
	}
	if (o->user && (ret = parse_user(o->user, &p->user, err)) < 0) {
		spec_process_free(p);
		return ret;
	}
	if (o->no_new_privs)
		p->no_new_privileges = true;
	*out = p;
	return 0;
}

/* The exec'd process itself, inside every namespace. Returns only on failure. */
static int
exec_child(struct exec_ctx *x, struct mini_err **err)
{
	_cleanup_free_ char *exe = NULL;
	char **env;
	int notify_fd = -1, ret;

	/* setns(CLONE_NEWNS) put us at the namespace's root; the init may be chrooted
	 * (--no-pivot): use its root. */
	if (fchdir(x->root_fd) < 0 || chroot(".") < 0)
		return mini_err_set(err, errno, "enter the container's root");
	close(x->root_fd);
	if (x->p->terminal) {
		if (setsid() < 0)
			return mini_err_set(err, errno, "setsid");
		ret = console_setup(x->console_fd, x->p, false, err);
		if (ret < 0)
			return ret;
		close(x->console_fd);
	}
	ret = process_set_rlimits(x->p, err);
	if (ret < 0)
		return ret;
	env = process_env(x->p);
	ret = security_apply(x->p, x->sec, &notify_fd, err);
	if (ret == 0 && notify_fd >= 0)
		ret = security_handoff_notify(x->sync_fd, notify_fd, err);
	if (ret == 0)
		ret = process_chdir(x->p->cwd ? x->p->cwd : "/", err);
	if (ret == 0)
		ret = process_find_executable(x->p, env, &exe, err);
	if (ret == 0)
		ret = process_prepare_fds(x->preserve_fds, err);
	if (ret == 0)
		ret = process_exec(x->p, exe, env, err);
	json_strv_free(env);
	return ret;
}

/* The middle process: cgroup, namespaces, and the fork into the pid namespace. */
static void __attribute__((noreturn)) exec_middle(struct exec_ctx *x)
{
	struct mini_err *err = NULL;
	pid_t child;
	int ret = 0;

	if (x->st->cg)
		ret = x->st->cg->ops->enter(x->st->cg, 0, &err);
	if (ret == 0)
		ret = ns_join(x->ns_fds, &err);
	if (ret < 0)
		goto fail;
	child = fork();
	if (child < 0) {
		mini_err_set(&err, errno, "fork");
		goto fail;
	}
	if (child > 0) {
		sync_send(x->sync_fd, SYNC_PID, child, NULL, 0, NULL);
		_exit(0);
	}
	exec_child(x, &err);
fail:
	sync_send_error(x->sync_fd, err);
	_exit(127);
}

/* Pins the init's namespaces and root, and only then checks the pid is still the init. */
static int
open_container(const struct container_state *st, struct exec_ctx *x, struct mini_err **err)
{
	char path[64];
	int ret;

	ret = ns_open_pid(st->pid, x->ns_fds, err);
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)st->pid);
	x->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x->root_fd < 0)
		return mini_err_set(err, errno, "open %s", path);
	if (!pid_is_alive(st->pid, st->start_time))
		return mini_err_set(err, ESRCH, "cannot exec in a stopped container");
	return 0;
}

static int
start_exec(struct exec_ctx *x, pid_t *out, struct mini_err **err)
{
	_cleanup_close_ int parent_fd = -1;
	_cleanup_(sync_msg_freep) struct sync_msg *m = NULL;
	int sp[2], ret;
	pid_t middle;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return mini_err_set(err, errno, "socketpair");
	parent_fd = sp[0];
	x->sync_fd = sp[1];
	middle = fork();
	if (middle < 0) {
		close(x->sync_fd);
		return mini_err_set(err, errno, "fork");
	}
	if (middle == 0) {
		close(parent_fd);
		exec_middle(x);
	}
	close(x->sync_fd);
	ret = sync_expect(parent_fd, SYNC_PID, &m, err);
	waitpid(middle, NULL, 0);
	if (ret < 0)
		return mini_err_wrap(err, "exec");
	*out = (pid_t)m->value;
	sync_msg_freep(&m);
	/* EOF: execve() closed the process's end. Before that, maybe a seccomp listener. */
	for (;;) {
		ret = sync_recv(parent_fd, &m, err);
		if (ret == -EPIPE) {
			mini_err_freep(err);
			return 0;
		}
		if (ret == 0 && m->type == SYNC_SECCOMP) {
			_cleanup_free_ char *json =
				state_oci_json(x->st, STATUS_RUNNING, true, false);

			ret = security_forward_notify(parent_fd, *out, (int)m->value, x->sec, json,
						      err);
			sync_msg_freep(&m);
			if (ret == 0)
				continue;
		} else if (ret == 0 && m->type == SYNC_ERROR) {
			ret = mini_err_set(err, m->errnum, "exec failed: %s", m->data);
		} else if (ret == 0) {
			ret = mini_err_set(err, EPROTO, "exec: unexpected sync message %d",
					   m->type);
		}
		break;
	}
	waitpid(*out, NULL, 0);
	return ret;
}

int
minirt_container_exec(const struct minirt_ctx *ctx, const char *id,
		      const struct minirt_exec_opts *o, int *exit_code, struct mini_err **err)
{
	_cleanup_(state_dir_freep) struct state_dir *sd = NULL;
	_cleanup_(container_state_freep) struct container_state *st = NULL;
	_cleanup_(spec_process_freep) struct spec_process *p = NULL;
	_cleanup_(spec_freep) struct minirt_spec *s = NULL;
	_cleanup_(security_clear) struct process_security sec = { .seccomp_fd = -1 };
	_cleanup_close_ int console = -1, ours = -1, master = -1;
	struct exec_ctx x = { .root_fd = -1, .console_fd = -1 };
	enum container_status status;
	bool blocked = false;
	sigset_t old;
	pid_t pid = 0;
	int ret;

	*exit_code = 0;
	ret = container_open(ctx, id, &sd, &st, &status, err);
	if (ret < 0)
		return ret;
	if (status == STATUS_STOPPED)
		return mini_err_set(err, EBUSY, "cannot exec in a stopped container");
	ret = container_load_spec(sd, &s, err);
	if (ret < 0)
		return ret;
	ret = build_process(s, o, &p, err);
	if (ret < 0)
		return ret;
	if (p->args_len == 0)
		return mini_err_set(err, EINVAL, "process.args: must not be empty");
	/* The container's seccomp profile applies to exec'd processes too (runc). */
	ret = security_prepare(p, s->linux_cfg ? s->linux_cfg->seccomp : NULL, &sec, err);
	if (ret < 0)
		return ret;
	if (p->terminal && o->console_socket) {
		console = console_connect(o->console_socket, err);
		if (console < 0)
			return console;
	} else if (p->terminal && !o->detach) {
		int sp[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
			return mini_err_set(err, errno, "socketpair");
		ours = sp[0];
		console = sp[1];
	} else if (p->terminal) {
		return mini_err_set(err, EINVAL, "cannot allocate a tty without --console-socket");
	}
	x.st = st;
	x.p = p;
	x.sec = &sec;
	x.console_fd = console;
	x.preserve_fds = o->preserve_fds;
	ret = open_container(st, &x, err);
	if (ret == 0 && !o->detach) {
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		relay_block_signals(&old);
		blocked = true;
	}
	if (ret == 0)
		ret = start_exec(&x, &pid, err);
	ns_close_all(x.ns_fds);
	if (x.root_fd >= 0)
		close(x.root_fd);
	if (ret == 0 && ours >= 0) {
		close(steal_fd(&console));
		ret = recv_fd(ours, &master, err);
	}
	if (ret == 0 && o->pid_file)
		ret = pid_file_write(o->pid_file, pid, err);
	/* Other commands may proceed while the process runs. */
	state_dir_freep(&sd);
	if (ret == 0 && !o->detach)
		ret = relay_until_exit(pid, master, exit_code, err);
	if (blocked)
		sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
