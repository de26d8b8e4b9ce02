/* Task.Create: validate, decode options, mount the rootfs, open the stdio, `runtime create`,
 * then register the container and publish TaskCreate. Every step is undone on failure, so a
 * failed Create leaves no mount, no registration and no process behind. */
#include "cgroup.h"
#include "cleanup.h"
#include "console.h"
#include "container.h"
#include "events.h"
#include "fs.h"
#include "ids.h"
#include "json.h"
#include "log.h"
#include "mount.h"
#include "options.h"
#include "pidutil.h"
#include "server.h" /* ttrpc */
#include "shim.h"
#include "stdio_set.h"
#include "xalloc.h"

#include "containerd/task/v2/shim.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct create_ctx {
	struct shim *s;
	struct container *c;
	struct ttrpc_request *req;
	Containerd__Task__V2__CreateTaskRequest *msg;
	struct console_socket cs;
	char *pid_file;
	uint64_t seq;
};

/* containerd's ShouldKillAllOnExit: unless the spec gives the container its own pid namespace
 * (a "pid" entry without a path), the processes outlive the init and must be killed. A spec
 * that cannot be read counts as "kill all". */
static bool
should_kill_all(const char *bundle)
{
	_cleanup_free_ char *path = path_join(bundle, "config.json"), *text = NULL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	yajl_val ns;

	if (read_file(path, &text, NULL, NULL) < 0 || json_parse(text, path, &v, NULL) < 0)
		return true;
	ns = json_get(json_get(v, "linux"), "namespaces");
	for (size_t i = 0; i < json_len(ns) && YAJL_IS_ARRAY(ns); i++) {
		yajl_val e = ns->u.array.values[i], type = json_get(e, "type"),
			 p = json_get(e, "path");

		if (YAJL_IS_STRING(type) && strcmp(type->u.string, "pid") == 0)
			return YAJL_IS_STRING(p) && *p->u.string;
	}
	return true;
}

static void
ctx_free(struct create_ctx *x)
{
	console_socket_close(&x->cs);
	free(x->pid_file);
	if (x->msg)
		protobuf_c_message_free_unpacked(&x->msg->base, NULL);
	free(x);
}

/* Undoes everything and answers with err. */
static void
create_fail(struct create_ctx *x, struct mini_err *err)
{
	struct container *c = x->c;

	if (c) {
		stdio_destroy(c->init ? c->init->io : NULL);
		if (c->init)
			c->init->io = NULL;
		if (c->rootfs) {
			struct mini_err *uerr = NULL;

			if (unmount_all(c->rootfs, &uerr) < 0) {
				log_warn("undo rootfs mount: %s", uerr->msg);
				mini_err_free(uerr);
			}
		}
		container_remove(c);
	}
	log_error("create %s: %s", x->msg->id, err->msg);
	x->s->creating--;
	shim_update_idle(x->s);
	ttrpc_reply_err(x->req, err);
	ctx_free(x);
}

static void
create_done(struct create_ctx *x, pid_t pid, const struct reaper_exit *early)
{
	Containerd__Task__V2__CreateTaskResponse resp =
		CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
	struct container *c = x->c;
	Containerd__Task__V2__CreateTaskRequest *m = x->msg;
	struct task_create_info info = {
		.container_id = c->id,
		.bundle = c->bundle,
		.rootfs = (void *const *)m->rootfs,
		.n_rootfs = m->n_rootfs,
		.stdin_path = m->stdin,
		.stdout_path = m->stdout,
		.stderr_path = m->stderr,
		.terminal = m->terminal,
		.checkpoint = m->checkpoint,
		.pid = (uint32_t)pid,
	};
	struct mini_err *err = NULL;

	c->init->pid = pid;
	c->kill_all_on_exit = should_kill_all(c->bundle);
	c->cg = shim_cgroup_load(pid, &err);
	if (c->cg == NULL) {
		log_warn("container %s: load cgroup: %s", c->id, err->msg);
		mini_err_free(err);
	}
	c->ready = true;
	x->s->creating--;
	log_info("container %s created, pid %d", c->id, (int)pid);
	event_task_create(x->s->pub, &info);
	resp.pid = (uint32_t)pid;
	ttrpc_reply(x->req, &resp.base);
	if (early)
		proc_on_exit(c->init, reaper_exit_code(early->wstatus), &early->at);
	else
		reaper_watch(&x->s->reaper, pid, container_on_reaped, c->init);
	ctx_free(x);
}

static void
on_runtime_created(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct create_ctx *x = data;
	struct proc *p = x->c->init;
	struct reaper_exit early;
	int master = -1;
	pid_t pid = 0;

	if (err) {
		mini_err_wrap(&err, "OCI runtime create failed");
		create_fail(x, err);
		return;
	}
	if (p->terminal && (console_socket_receive(&x->cs, &master, &err) < 0 ||
			    stdio_attach_console(p->io, master, &err) < 0)) {
		mini_err_wrap(&err, "failed to start console copy");
		goto fail;
	}
	if (!p->terminal && stdio_start(p->io, &err) < 0) {
		mini_err_wrap(&err, "failed to start io pipe copy");
		goto fail;
	}
	if (pid_file_read(x->pid_file, &pid, &err) < 0) {
		mini_err_wrap(&err, "failed to retrieve OCI runtime container pid");
		goto fail;
	}
	create_done(x, pid, reaper_claim(&x->s->reaper, pid, x->seq, &early) ? &early : NULL);
	return;
fail:
	/* The runtime made a container: remove it, or it would linger in the runtime's state. */
	{
		char *args[] = { "delete", "--force", x->c->id, NULL };
		struct rt_opts o = { .fd_in = -1, .fd_out = -1, .fd_err = -1, .capture = true };
		struct mini_err *derr = NULL;

		if (rt_call(x->s->loop, &x->s->reaper, &x->c->rt, args, &o, NULL, NULL, &derr) < 0)
			mini_err_free(derr);
	}
	create_fail(x, err);
}

static void
run_create(struct mini_err *err, void *data)
{
	struct create_ctx *x = data;
	struct container *c = x->c;
	struct proc *p = c->init;
	char *args[14];
	int child[3], n = 0;
	struct rt_opts o = { .fd_in = -1, .fd_out = -1, .fd_err = -1 };

	if (err) {
		create_fail(x, err);
		return;
	}
	args[n++] = "create";
	args[n++] = "--bundle";
	args[n++] = c->bundle;
	args[n++] = "--pid-file";
	args[n++] = x->pid_file;
	if (p->terminal) {
		args[n++] = "--console-socket";
		args[n++] = x->cs.path;
		o.capture = true; /* no stdio of its own: keep the runtime's output for errors */
	}
	if (c->no_pivot_root)
		args[n++] = "--no-pivot";
	if (c->no_new_keyring)
		args[n++] = "--no-new-keyring";
	args[n++] = c->id;
	args[n] = NULL;
	stdio_child_fds(p->io, child);
	o.fd_in = child[0], o.fd_out = child[1], o.fd_err = child[2];
	x->seq = reaper_seq(&x->s->reaper);
	if (rt_call(x->s->loop, &x->s->reaper, &c->rt, args, &o, on_runtime_created, x, &err) < 0) {
		mini_err_wrap(&err, "OCI runtime create failed");
		create_fail(x, err);
		return;
	}
	stdio_close_child(p->io);
}

static int
mount_rootfs(struct container *c, Containerd__Task__V2__CreateTaskRequest *m, struct mini_err **err)
{
	_cleanup_free_ struct mount_entry *mounts = NULL;
	_cleanup_free_ char *target = NULL;

	if (m->n_rootfs == 0)
		return 0;
	target = path_join(c->bundle, "rootfs");
	if (mkdir(target, 0711) < 0 && errno != EEXIST)
		return mini_err_set(err, errno, "create %s", target);
	mounts = xcalloc(m->n_rootfs, sizeof(*mounts));
	for (size_t i = 0; i < m->n_rootfs; i++) {
		mounts[i].type = m->rootfs[i]->type;
		mounts[i].source = m->rootfs[i]->source;
		mounts[i].target = m->rootfs[i]->target;
		mounts[i].options = m->rootfs[i]->options;
		mounts[i].n_options = m->rootfs[i]->n_options;
	}
	if (mount_all(mounts, m->n_rootfs, target, err) < 0)
		return -1;
	c->rootfs = steal_ptr(&target);
	return 0;
}

static struct container *
container_new(struct shim *s, Containerd__Task__V2__CreateTaskRequest *m, const struct shim_opts *o)
{
	struct container *c = xcalloc(1, sizeof(*c));
	struct proc *p;

	c->shim = s;
	c->id = xstrdup(m->id);
	c->bundle = xstrdup(m->bundle);
	dlist_init(&c->execs);
	rt_setup(&c->rt, o->binary_name, o->root, s->ns, c->bundle);
	c->no_pivot_root = o->no_pivot_root;
	c->no_new_keyring = o->no_new_keyring;
	c->io_uid = o->io_uid;
	c->io_gid = o->io_gid;
	p = proc_new(c, PROC_INIT, "");
	p->terminal = m->terminal;
	p->stdin_path = xstrdup(m->stdin);
	p->stdout_path = xstrdup(m->stdout);
	p->stderr_path = xstrdup(m->stderr);
	c->init = p;
	dlist_add_tail(&s->containers, &c->link); /* not `ready`: invisible to lookups */
	return c;
}

static bool
id_taken(struct shim *s, const char *id)
{
	struct dlist *pos, *tmp;

	dlist_for_each(pos, tmp, &s->containers)
	{
		if (strcmp(dlist_entry(pos, struct container, link)->id, id) == 0)
			return true;
	}
	return false;
}

/* Checks the request and the options. */
static int
validate(struct shim *s, Containerd__Task__V2__CreateTaskRequest *m, struct shim_opts *o,
	 struct mini_err **err)
{
	if (id_validate(m->id, "container id", err) < 0)
		return -1;
	if (m->bundle == NULL || m->bundle[0] != '/')
		return mini_err_set(err, EINVAL, "bundle must be an absolute path");
	if (id_taken(s, m->id))
		return mini_err_setc(err, MINI_E_EXISTS, 0, "container %s: already exists", m->id);
	if (m->checkpoint && *m->checkpoint)
		return mini_err_setc(err, MINI_E_UNIMPLEMENTED, 0,
				     "restore from a checkpoint is not supported by this runtime");
	if (m->options && shim_opts_decode(m->options->type_url, m->options->value.data,
					   m->options->value.len, o, err) < 0)
		return -1;
	if (o->systemd_cgroup)
		return mini_err_setc(err, MINI_E_INVALID, 0,
				     "SystemdCgroup is not supported by io.containerd.mini.v2: "
				     "use the cgroupfs driver");
	return 0;
}

void
container_rpc_create(struct shim *s, struct ttrpc_request *req, void *msg)
{
	struct create_ctx *x = xcalloc(1, sizeof(*x));
	struct shim_opts o = { 0 };
	struct mini_err *err = NULL;
	struct stdio_cfg cfg;
	int child[3];
	struct proc *p;

	x->s = s;
	x->req = req;
	x->msg = msg;
	x->cs.fd = -1;
	s->creating++;
	shim_update_idle(s);
	if (validate(s, x->msg, &o, &err) < 0) {
		shim_opts_clear(&o);
		create_fail(x, err);
		return;
	}
	x->c = container_new(s, x->msg, &o);
	shim_opts_clear(&o);
	p = x->c->init;
	x->pid_file = path_join(x->c->bundle, "init.pid");
	if (shim_state_write(x->c->bundle, x->c->rt.binary, x->c->rt.root, &err) < 0 ||
	    mount_rootfs(x->c, x->msg, &err) < 0 ||
	    (p->terminal && console_socket_open(&x->cs, &err) < 0)) {
		create_fail(x, err);
		return;
	}
	cfg = (struct stdio_cfg){
		.stdin_path = p->stdin_path,
		.stdout_path = p->stdout_path,
		.stderr_path = p->stderr_path,
		.terminal = p->terminal,
		.uid = x->c->io_uid,
		.gid = x->c->io_gid,
		.ns = s->ns,
		.proc_id = x->c->id,
	};
	p->io = stdio_open(s->loop, &s->reaper, &cfg, child, &err);
	if (p->io == NULL) {
		mini_err_wrap(&err, "failed to create init process I/O");
		create_fail(x, err);
		return;
	}
	stdio_wait_ready(p->io, run_create, x);
}
