/* The init process's jobs: runtime start, kill, pause, resume, update and delete, plus the
 * fire-and-forget calls the init's exit triggers (kill --all, thaw). */
#include "cgroup.h"
#include "container.h"
#include "events.h"
#include "log.h"
#include "mount.h"
#include "oom.h"
#include "server.h" /* ttrpc */
#include "shim.h"
#include "stdio_set.h"
#include "xalloc.h"

#include "containerd/task/v2/shim.pb-c.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Delete waits this long for the output copies to reach EOF (the runc shim's 2 s). */

static int
call_runtime(struct proc *p, struct proc_job *job, char *const *args, const void *input,
	     size_t input_len, rt_done_fn cb, struct mini_err **err)
{
	struct container *c = p->ctr;
	struct rt_opts o = { .fd_in = -1,
			     .fd_out = -1,
			     .fd_err = -1,
			     .capture = true,
			     .input = input,
			     .input_len = input_len };
	struct proc_call *ic = xcalloc(1, sizeof(*ic));

	ic->p = p;
	ic->job = job;
	if (rt_call(c->shim->loop, &c->shim->reaper, &c->rt, args, &o, cb, ic, err) < 0) {
		free(ic);
		return -1;
	}
	return 0;
}

/* ---- start ---------------------------------------------------------------------------------- */

static void
on_oom(void *data)
{
	struct container *c = data;

	log_info("container %s: OOM kill", c->id);
	event_task_oom(c->shim->pub, c->id);
}

/* The cgroup is known once the init exists; OOM notifications begin at Start, as in the runc
 * shim. Failures are logged: a container without stats or OOM events still runs. */
static void
watch_cgroup(struct container *c)
{
	struct mini_err *err = NULL;

	if (c->cg == NULL && c->init->pid > 0) {
		c->cg = shim_cgroup_load(c->init->pid, &err);
		if (c->cg == NULL) {
			log_warn("container %s: load cgroup: %s", c->id, err->msg);
			mini_err_free(err);
			return;
		}
	}
	if (c->cg && c->oom == NULL) {
		c->oom = oom_watch_new(c->shim->loop, c->cg, on_oom, c, &err);
		if (c->oom == NULL) {
			log_warn("container %s: watch OOM: %s", c->id, err->msg);
			mini_err_free(err);
		}
	}
}

static void
on_started(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct proc_call *ic = data;
	struct proc *p = ic->p;
	struct proc_job *job = ic->job;
	struct container *c = p->ctr;
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;

	free(ic);
	if (err) {
		mini_err_wrap(&err, "OCI runtime start failed");
		proc_job_fail(p, job, err);
		return;
	}
	if (proc_transition(p, PROC_OP_START, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	watch_cgroup(c);
	log_info("container %s started, pid %d", c->id, (int)p->pid);
	/* Published before this job ends, so before any exit held meanwhile. */
	event_task_start(c->shim->pub, c->id, (uint32_t)p->pid);
	resp.pid = (uint32_t)p->pid;
	proc_job_reply(p, job, &resp.base);
}

static void
init_start(struct proc *p, struct proc_job *job)
{
	struct container *c = p->ctr;
	char *args[] = { "start", c->id, NULL };
	struct mini_err *err = NULL;

	if (proc_check(p, PROC_OP_START, &err) < 0 ||
	    call_runtime(p, job, args, NULL, 0, on_started, &err) < 0)
		proc_job_fail(p, job, err);
}

/* ---- kill ----------------------------------------------------------------------------------- */

/* The runc shim's checkKillError: the runtime's words decide the class. minirun also gives an
 * errno, which is preferred. */
static struct mini_err *
kill_error(struct mini_err *err)
{
	struct mini_err *out = NULL;
	const char *m = err->msg;

	if (err->errnum == ESRCH || strstr(m, "container not running") ||
	    strstr(m, "process already finished") || strcasestr(m, "no such process"))
		mini_err_setc(&out, MINI_E_NOTFOUND, 0, "process already finished");
	else if (err->errnum == ENOENT || strstr(m, "does not exist"))
		mini_err_setc(&out, MINI_E_NOTFOUND, 0, "no such container");
	else
		mini_err_setc(&out, MINI_E_UNKNOWN, 0, "unknown error after kill: %s", m);
	mini_err_free(err);
	return out;
}

static void
on_killed(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct proc_call *ic = data;
	struct proc *p = ic->p;
	struct proc_job *job = ic->job;

	free(ic);
	if (err) {
		proc_job_fail(p, job, kill_error(err));
		return;
	}
	proc_job_reply(p, job, NULL);
}

static void
init_kill(struct proc *p, struct proc_job *job)
{
	struct container *c = p->ctr;
	char sig[16], *args[6];
	struct mini_err *err = NULL;
	int n = 0;

	snprintf(sig, sizeof(sig), "%u", job->signal);
	args[n++] = "kill";
	if (job->all)
		args[n++] = "--all";
	args[n++] = c->id;
	args[n++] = sig;
	args[n] = NULL;
	if (proc_check(p, PROC_OP_KILL, &err) < 0 ||
	    call_runtime(p, job, args, NULL, 0, on_killed, &err) < 0)
		proc_job_fail(p, job, err);
}

/* ---- pause / resume / update ---------------------------------------------------------------- */

static void
on_paused(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct proc_call *ic = data;
	struct proc *p = ic->p;
	struct proc_job *job = ic->job;

	free(ic);
	p->pausing = false;
	if (err) {
		mini_err_wrap(&err, "OCI runtime pause failed");
		proc_job_fail(p, job, err);
		return;
	}
	if (proc_transition(p, PROC_OP_PAUSE, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	event_task_paused(p->ctr->shim->pub, p->ctr->id);
	proc_job_reply(p, job, NULL);
}

static void
init_pause(struct proc *p, struct proc_job *job)
{
	char *args[] = { "pause", p->ctr->id, NULL };
	struct mini_err *err = NULL;

	if (proc_check(p, PROC_OP_PAUSE, &err) < 0 ||
	    call_runtime(p, job, args, NULL, 0, on_paused, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	p->pausing = true;
}

static void
on_resumed(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct proc_call *ic = data;
	struct proc *p = ic->p;
	struct proc_job *job = ic->job;

	free(ic);
	if (err) {
		mini_err_wrap(&err, "OCI runtime resume failed");
		proc_job_fail(p, job, err);
		return;
	}
	if (proc_transition(p, PROC_OP_RESUME, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	event_task_resumed(p->ctr->shim->pub, p->ctr->id);
	proc_job_reply(p, job, NULL);
}

static void
init_resume(struct proc *p, struct proc_job *job)
{
	char *args[] = { "resume", p->ctr->id, NULL };
	struct mini_err *err = NULL;

	if (proc_check(p, PROC_OP_RESUME, &err) < 0 ||
	    call_runtime(p, job, args, NULL, 0, on_resumed, &err) < 0)
		proc_job_fail(p, job, err);
}

static void
on_updated(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct proc_call *ic = data;

	if (err) {
		mini_err_wrap(&err, "OCI runtime update failed");
		proc_job_fail(ic->p, ic->job, err);
	} else {
		proc_job_reply(ic->p, ic->job, NULL);
	}
	free(ic);
}

static void
init_update(struct proc *p, struct proc_job *job)
{
	char *args[] = { "update", "--resources", "-", p->ctr->id, NULL };
	struct mini_err *err = NULL;

	if (proc_check(p, PROC_OP_UPDATE, &err) < 0 ||
	    call_runtime(p, job, args, job->input, job->input_len, on_updated, &err) < 0)
		proc_job_fail(p, job, err);
}

/* ---- delete --------------------------------------------------------------------------------- */

static void
finish_delete(struct proc *p, struct proc_job *job, struct mini_err *rt_err)
{
	struct container *c = p->ctr;
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct mini_err *err = rt_err;

	stdio_destroy(p->io);
	p->io = NULL;
	if (c->rootfs) {
		struct mini_err *uerr = NULL;

		if (unmount_all(c->rootfs, &uerr) < 0) {
			log_warn("container %s: failed to cleanup rootfs mount: %s", c->id,
				 uerr->msg);
			if (err == NULL) {
				err = uerr;
				mini_err_wrap(&err, "failed rootfs umount");
			} else {
				mini_err_free(uerr);
			}
		}
	}
	if (err) {
		proc_job_fail(p, job, err);
		return;
	}
	if (proc_transition(p, PROC_OP_DELETE, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	log_info("container %s deleted", c->id);
	container_remove(c);
	event_task_delete(c->shim->pub, c->id, (uint32_t)p->pid, (uint32_t)p->exit_status,
			  &p->exited_at);
	pb_timestamp(&ts, &p->exited_at);
	resp.pid = (uint32_t)p->pid;
	resp.exit_status = (uint32_t)p->exit_status;
	resp.exited_at = &ts;
	proc_job_reply(p, job, &resp.base);
}

static void
on_runtime_deleted(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct proc_call *ic = data;
	struct proc *p = ic->p;
	struct proc_job *job = ic->job;

	free(ic);
	/* The runtime already forgot it (a checkpoint, or a runtime that cleans up after the
	 * process exits): there is nothing left to delete there. */
	if (err && (err->errnum == ENOENT || strstr(err->msg, "does not exist") ||
		    strstr(err->msg, "not exist"))) {
		mini_err_free(err);
		err = NULL;
	}
	if (err)
		mini_err_wrap(&err, "failed to delete task");
	finish_delete(p, job, err);
}

static void
on_delete_drained(void *data)
{
	struct proc_call *ic = data;
	struct proc *p = ic->p;
	struct container *c = p->ctr;
	char *args[] = { "delete", c->id, NULL };
	struct mini_err *err = NULL;
	struct rt_opts o = { .fd_in = -1, .fd_out = -1, .fd_err = -1, .capture = true };

	if (rt_call(c->shim->loop, &c->shim->reaper, &c->rt, args, &o, on_runtime_deleted, ic,
		    &err) < 0) {
		struct proc_job *job = ic->job;

		free(ic);
		finish_delete(p, job, err);
	}
}

static void
init_delete(struct proc *p, struct proc_job *job)
{
	proc_delete_drain(p, job, on_delete_drained);
}

void
init_proc_run(struct proc *p, struct proc_job *job)
{
	switch (job->kind) {
	case JOB_START:
		init_start(p, job);
		return;
	case JOB_KILL:
		init_kill(p, job);
		return;
	case JOB_PAUSE:
		init_pause(p, job);
		return;
	case JOB_RESUME:
		init_resume(p, job);
		return;
	case JOB_UPDATE:
		init_update(p, job);
		return;
	case JOB_DELETE:
		init_delete(p, job);
		return;
	}
}

/* ---- side effects of the init's exit -------------------------------------------------------- */

static void
on_side_call(struct mini_err *err, const char *out, size_t len, void *data)
{
	char *what = data;

	if (err) {
		log_warn("%s: %s", what, err->msg);
		mini_err_free(err);
	}
	free(what);
}

/* Runs a runtime command whose outcome only matters to the log. */
static void
side_call(struct container *c, char *const *args, const char *what)
{
	struct rt_opts o = { .fd_in = -1, .fd_out = -1, .fd_err = -1, .capture = true };
	struct mini_err *err = NULL;
	char *label = xasprintf("container %s: %s", c->id, what);

	if (rt_call(c->shim->loop, &c->shim->reaper, &c->rt, args, &o, on_side_call, label, &err) <
	    0) {
		log_warn("%s: %s", label, err->msg);
		mini_err_free(err);
		free(label);
	}
}

void
init_proc_kill_all(struct container *c)
{
	char *args[] = { "kill", "--all", c->id, "9", NULL };

	side_call(c, args, "kill remaining processes");
}

void
init_proc_thaw(struct container *c)
{
	char *args[] = { "resume", c->id, NULL };

	side_call(c, args, "resume exited container from paused state");
}
