/* Exec processes: Start runs `runtime exec --detach` (the process is created and started then),
 * Kill signals the pid directly, Delete forgets the process. */
#include "cleanup.h"
#include "console.h"
#include "container.h"
#include "events.h"
#include "fs.h"
#include "log.h"
#include "pidutil.h"
#include "server.h" /* ttrpc */
#include "shim.h"
#include "stdio_set.h"
#include "xalloc.h"

#include "containerd/task/v2/shim.pb-c.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct exec_start {
	struct proc *p;
	struct proc_job *job;
	char *process_file, *pid_file;
	struct console_socket cs;
};

static void
start_free(struct exec_start *st)
{
	if (st->process_file)
		unlink(st->process_file);
	free(st->process_file);
	free(st->pid_file);
	console_socket_close(&st->cs);
	free(st);
}

/* The runtime exec failed or never ran: undo, answer, and let Wait return. */
static void
start_failed(struct exec_start *st, struct mini_err *err)
{
	struct proc *p = st->p;
	struct container *c = p->ctr;
	struct proc_job *job = st->job;

	start_free(st);
	stdio_destroy(p->io);
	p->io = NULL;
	p->start_failed = true;
	p->exit_status = 255;
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	proc_reply_waiters(p);
	if (p->counted_running) {
		p->counted_running = false;
		c->running_execs--;
		container_on_reported(c, p); /* a held init exit may be waiting for this one */
	}
	proc_job_fail(p, job, err);
}

static void
on_exec_done(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct exec_start *st = data;
	struct proc *p = st->p;
	struct container *c = p->ctr;
	struct proc_job *job = st->job;
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
	struct reaper_exit early;
	int master = -1;
	pid_t pid = 0;

	if (err) {
		mini_err_wrap(&err, "OCI runtime exec failed");
		start_failed(st, err);
		return;
	}
	if (p->terminal && (console_socket_receive(&st->cs, &master, &err) < 0 ||
			    stdio_attach_console(p->io, master, &err) < 0)) {
		mini_err_wrap(&err, "failed to start console copy");
		start_failed(st, err);
		return;
	}
	if (!p->terminal && stdio_start(p->io, &err) < 0) {
		mini_err_wrap(&err, "failed to start io pipe copy");
		start_failed(st, err);
		return;
	}
	if (pid_file_read(st->pid_file, &pid, &err) < 0) {
		mini_err_wrap(&err, "failed to retrieve OCI runtime exec pid");
		start_failed(st, err);
		return;
	}
	start_free(st);
	p->pid = pid;
	proc_transition(p, PROC_OP_START, NULL);
	log_info("exec %s in container %s started, pid %d", p->id, c->id, (int)pid);
	event_exec_started(c->shim->pub, c->id, p->id, (uint32_t)pid);
	/* The process may be gone already: its exit then sits in the reaper's table, and is
	 * applied when this job ends, after TaskExecStarted. */
	if (reaper_claim(&c->shim->reaper, pid, p->start_seq, &early)) {
		p->early_exit.valid = true;
		p->early_exit.status = reaper_exit_code(early.wstatus);
		p->early_exit.at = early.at;
	} else {
		reaper_watch(&c->shim->reaper, pid, container_on_reaped, p);
	}
	resp.pid = (uint32_t)pid;
	proc_job_reply(p, job, &resp.base);
}

static void
run_exec(struct mini_err *err, void *data)
{
	struct exec_start *st = data;
	struct proc *p = st->p;
	struct container *c = p->ctr;
	char *args[12];
	int child[3] = { -1, -1, -1 }, n = 0;
	struct rt_opts o = { .fd_in = -1, .fd_out = -1, .fd_err = -1 };

	if (err) {
		start_failed(st, err);
		return;
	}
	args[n++] = "exec";
	args[n++] = "--process";
	args[n++] = st->process_file;
	args[n++] = "--detach";
	args[n++] = "--pid-file";
	args[n++] = st->pid_file;
	if (p->terminal) {
		args[n++] = "--console-socket";
		args[n++] = st->cs.path;
		o.capture = true;
	}
	args[n++] = c->id;
	args[n] = NULL;
	stdio_child_fds(p->io, child);
	o.fd_in = child[0], o.fd_out = child[1], o.fd_err = child[2];
	p->start_seq = reaper_seq(&c->shim->reaper);
	if (rt_call(c->shim->loop, &c->shim->reaper, &c->rt, args, &o, on_exec_done, st, &err) <
	    0) {
		mini_err_wrap(&err, "OCI runtime exec failed");
		start_failed(st, err);
		return;
	}
	stdio_close_child(p->io);
}

static void
exec_start(struct proc *p, struct proc_job *job)
{
	struct container *c = p->ctr;
	struct stdio_cfg cfg = {
		.stdin_path = p->stdin_path,
		.stdout_path = p->stdout_path,
		.stderr_path = p->stderr_path,
		.terminal = p->terminal,
		.uid = c->io_uid,
		.gid = c->io_gid,
		.ns = c->shim->ns,
		.proc_id = p->id,
	};
	struct mini_err *err = NULL;
	struct exec_start *st;
	int child[3];

	if (proc_check(p, PROC_OP_START, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	if (c->init_exited || c->init->state == PROC_STOPPED) {
		mini_err_setc(&err, MINI_E_PRECONDITION, 0,
			      "container %s init process is not running", c->id);
		proc_job_fail(p, job, err);
		return;
	}
	st = xcalloc(1, sizeof(*st));
	st->p = p;
	st->job = job;
	st->cs.fd = -1;
	st->pid_file = xasprintf("%s/%s.pid", c->bundle, p->id);
	st->process_file = xasprintf("%s/.%s-process.json", c->bundle, p->id);
	/* Counted from now: an init exit arriving during the runtime call waits for this one. */
	p->counted_running = true;
	c->running_execs++;
	if (write_file_atomic(st->process_file, p->spec_json, strlen(p->spec_json), 0600, &err) <
		    0 ||
	    (p->terminal && console_socket_open(&st->cs, &err) < 0)) {
		start_failed(st, err);
		return;
	}
	p->io = stdio_open(c->shim->loop, &c->shim->reaper, &cfg, child, &err);
	if (p->io == NULL) {
		mini_err_wrap(&err, "failed to create exec process I/O");
		start_failed(st, err);
		return;
	}
	stdio_wait_ready(p->io, run_exec, st);
}

static void
exec_kill(struct proc *p, struct proc_job *job)
{
	struct mini_err *err = NULL;

	if (proc_check(p, PROC_OP_KILL, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	/* Reaped but not reported yet: the pid may already belong to someone else. */
	if (p->exiting || p->pid <= 0 || kill(p->pid, (int)job->signal) < 0) {
		if (p->exiting || p->pid <= 0 || errno == ESRCH)
			mini_err_setc(&err, MINI_E_NOTFOUND, 0, "process already finished");
		else
			mini_err_set(&err, errno, "exec kill error");
		proc_job_fail(p, job, err);
		return;
	}
	proc_job_reply(p, job, NULL);
}

static void
on_exec_drained(void *data)
{
	struct proc_call *d = data;
	struct proc *p = d->p;
	struct proc_job *job = d->job;
	struct container *c = p->ctr;
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	_cleanup_free_ char *pid_file = xasprintf("%s/%s.pid", c->bundle, p->id);
	struct mini_err *err = NULL;

	free(d);
	stdio_destroy(p->io);
	p->io = NULL;
	unlink(pid_file);
	if (proc_transition(p, PROC_OP_DELETE, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	container_remove_exec(c, p);
	pb_timestamp(&ts, &p->exited_at);
	resp.pid = (uint32_t)p->pid;
	resp.exit_status = (uint32_t)p->exit_status;
	resp.exited_at = &ts;
	proc_job_reply(p, job, &resp.base); /* frees p: deleted, and nothing else queued */
}

void
exec_proc_run(struct proc *p, struct proc_job *job)
{
	struct mini_err *err = NULL;

	switch (job->kind) {
	case JOB_START:
		exec_start(p, job);
		return;
	case JOB_KILL:
		exec_kill(p, job);
		return;
	case JOB_DELETE:
		proc_delete_drain(p, job, on_exec_drained);
		return;
	case JOB_PAUSE:
	case JOB_RESUME:
	case JOB_UPDATE:
		break;
	}
	mini_err_setc(&err, MINI_E_PRECONDITION, 0, "not supported for an exec process");
	proc_job_fail(p, job, err);
}
