/* Process bookkeeping shared by init and exec processes: the per-process job queue, parked Wait
 * requests, and the path from a reaped exit to the TaskExit event. */
#include "process.h"
#include "container.h"
#include "events.h"
#include "log.h"
#include "server.h" /* ttrpc */
#include "shim.h"
#include "stdio_set.h"
#include "xalloc.h"

#include "containerd/task/v2/shim.pb-c.h"
#include "containerd/types/task/task.pb-c.h"

#include <stdlib.h>
#include <string.h>

/* How long the output of an exited process may take to reach its FIFOs before the exit is
 * reported: `ctr run` closes its FIFOs as soon as Wait returns, so anything still in our pipes
 * then would be lost; a client that does not read at all must not hold the exit back for long. */
#define EXIT_DRAIN_TIMEOUT_MS 1000

struct waiter {
	struct dlist link;
	struct ttrpc_request *req;
};

struct proc *
proc_new(struct container *ctr, enum proc_kind kind, const char *id)
{
	struct proc *p = xcalloc(1, sizeof(*p));

	p->ctr = ctr;
	p->kind = kind;
	p->id = xstrdup(id ? id : "");
	p->state = PROC_CREATED;
	dlist_init(&p->link);
	dlist_init(&p->waiters);
	dlist_init(&p->jobs);
	return p;
}

struct proc_job *
proc_job_new(enum proc_job_kind kind, struct ttrpc_request *req)
{
	struct proc_job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	j->req = req;
	dlist_init(&j->link);
	return j;
}

void
proc_job_free(struct proc_job *j)
{
	if (j == NULL)
		return;
	free(j->input);
	free(j);
}

int
proc_status(const struct proc *p)
{
	const struct proc *init = p->ctr ? p->ctr->init : NULL;

	/* An exec of a paused container is paused too, as far as anyone can tell. */
	if (p->kind == PROC_EXEC && init && init != p && p->state == PROC_RUNNING) {
		if (init->pausing)
			return CONTAINERD__V1__TYPES__STATUS__PAUSING;
		if (init->state == PROC_PAUSED)
			return CONTAINERD__V1__TYPES__STATUS__PAUSED;
	}
	if (p->pausing)
		return CONTAINERD__V1__TYPES__STATUS__PAUSING;
	switch (p->state) {
	case PROC_CREATED:
		return CONTAINERD__V1__TYPES__STATUS__CREATED;
	case PROC_RUNNING:
		return CONTAINERD__V1__TYPES__STATUS__RUNNING;
	case PROC_PAUSED:
		return CONTAINERD__V1__TYPES__STATUS__PAUSED;
	case PROC_STOPPED:
	case PROC_DELETED:
		return CONTAINERD__V1__TYPES__STATUS__STOPPED;
	}
	return CONTAINERD__V1__TYPES__STATUS__UNKNOWN;
}

static bool
has_exited(const struct proc *p)
{
	return p->exited_at.tv_sec != 0 || p->exited_at.tv_nsec != 0;
}

static void
reply_wait(struct ttrpc_request *req, const struct proc *p)
{
	Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	pb_timestamp(&ts, &p->exited_at);
	resp.exit_status = (uint32_t)p->exit_status;
	resp.exited_at = &ts;
	ttrpc_reply(req, &resp.base);
}

void
proc_wait(struct proc *p, struct ttrpc_request *req)
{
	struct waiter *w;

	if (has_exited(p)) {
		reply_wait(req, p);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->req = req;
	dlist_add_tail(&p->waiters, &w->link);
}

void
proc_reply_waiters(struct proc *p)
{
	struct dlist *n;

	while ((n = dlist_pop(&p->waiters))) {
		struct waiter *w = dlist_entry(n, struct waiter, link);

		reply_wait(w->req, p);
		free(w);
	}
}

static void
run_job(struct proc *p, struct proc_job *job)
{
	if (p->kind == PROC_INIT)
		init_proc_run(p, job);
	else
		exec_proc_run(p, job);
}

static bool
proc_freeable(const struct proc *p)
{
	return p->kind == PROC_EXEC && p->state == PROC_DELETED && !p->busy && !p->exiting &&
	       !p->in_job_loop && dlist_empty(&p->jobs);
}

/* Runs queued jobs one after another. A job that completes at once (a refusal, or a synchronous
 * kill) comes back through proc_job_done while we are still here, so the loop, not recursion,
 * takes the next one. */
static void
run_jobs(struct proc *p)
{
	struct dlist *n;

	if (p->in_job_loop)
		return;
	p->in_job_loop = true;
	while (!p->busy && (n = dlist_pop(&p->jobs))) {
		p->busy = true;
		container_ref(p->ctr);
		run_job(p, dlist_entry(n, struct proc_job, link));
	}
	p->in_job_loop = false;
	if (proc_freeable(p))
		proc_free(p);
}

void
proc_submit(struct proc *p, struct proc_job *job)
{
	struct container *c = p->ctr;

	dlist_add_tail(&p->jobs, &job->link);
	container_ref(c);
	run_jobs(p); /* may free p (a deleted exec); c stays valid through our reference */
	container_unref(c);
}

void
proc_job_done(struct proc *p)
{
	struct container *c = p->ctr;

	p->busy = false;
	if (p->early_exit.valid) {
		struct proc_exit e = p->early_exit;

		p->early_exit.valid = false;
		proc_on_exit(p, e.status, &e.at);
	}
	if (!p->in_job_loop)
		run_jobs(p);
	container_unref(c); /* last: may free c and with it p */
}

static void
on_exit_drained(void *data)
{
	struct proc *p = data;
	struct container *c = p->ctr;
	struct mini_err *err = NULL;

	p->exiting = false;
	if (proc_transition(p, PROC_OP_EXIT, &err) < 0) {
		log_warn("exit of %s: %s", p->kind == PROC_INIT ? c->id : p->id,
			 err ? err->msg : "ignored");
		mini_err_free(err);
	}
	p->exit_status = p->reporting.status;
	p->exited_at = p->reporting.at;
	log_info("%s %s exited with status %d", p->kind == PROC_INIT ? "container" : "exec",
		 p->kind == PROC_INIT ? c->id : p->id, p->exit_status);
	event_task_exit(c->shim->pub, c->id, p->kind == PROC_INIT ? c->id : p->id, (uint32_t)p->pid,
			(uint32_t)p->exit_status, &p->exited_at);
	proc_reply_waiters(p);
	container_on_reported(c, p);
	if (proc_freeable(p))
		proc_free(p);
	container_unref(c);
}

void
proc_report_exit(struct proc *p, int status, const struct timespec *at)
{
	p->exiting = true;
	p->reporting.valid = true;
	p->reporting.status = status;
	p->reporting.at = *at;
	container_ref(p->ctr);
	stdio_drain(p->io, false, EXIT_DRAIN_TIMEOUT_MS, on_exit_drained, p);
}

void
proc_on_exit(struct proc *p, int status, const struct timespec *at)
{
	const struct proc_cell *cell = proc_cell(p->kind, p->state, PROC_OP_EXIT);

	if (cell->kind == CELL_IGNORE) {
		/* Exited after Delete (a created init killed by the runtime's delete): nobody
		 * reports it any more, but a parked Wait learns the truth. */
		if (!has_exited(p)) {
			p->exit_status = status;
			p->exited_at = *at;
		}
		proc_reply_waiters(p);
		return;
	}
	if (p->busy || p->exiting) {
		p->early_exit.valid = true;
		p->early_exit.status = status;
		p->early_exit.at = *at;
		return;
	}
	if (p->kind == PROC_INIT)
		container_on_init_exit(p->ctr, status, at);
	else
		proc_report_exit(p, status, at);
}

void
proc_free(struct proc *p)
{
	struct dlist *n;

	if (p == NULL)
		return;
	if (p->pid > 0 && p->ctr)
		reaper_unwatch(&p->ctr->shim->reaper, p->pid);
	/* Waits parked on a process that goes away without an exit of its own (deleted before
	 * it ran): the runtime's delete killed it, so report that. */
	if (!dlist_empty(&p->waiters) && !has_exited(p)) {
		p->exit_status = p->pid > 0 ? 137 : 255;
		clock_gettime(CLOCK_REALTIME, &p->exited_at);
	}
	proc_reply_waiters(p);
	while ((n = dlist_pop(&p->jobs))) {
		struct proc_job *j = dlist_entry(n, struct proc_job, link);

		ttrpc_reply_status(j->req, MINI_E_NOTFOUND, "process does not exist %s", p->id);
		proc_job_free(j);
	}
	dlist_del(&p->link);
	stdio_destroy(p->io);
	free(p->id);
	free(p->stdin_path);
	free(p->stdout_path);
	free(p->stderr_path);
	free(p->spec_json);
	free(p);
}

void
proc_job_fail(struct proc *p, struct proc_job *job, struct mini_err *err)
{
	ttrpc_reply_err(job->req, err);
	proc_job_free(job);
	proc_job_done(p);
}

void
proc_job_reply(struct proc *p, struct proc_job *job, const void *msg)
{
	ttrpc_reply(job->req, msg);
	proc_job_free(job);
	proc_job_done(p);
}

/* Output still unread when a process is deleted is not waited for longer than this. */
#define DELETE_DRAIN_TIMEOUT_MS 2000

void
proc_delete_drain(struct proc *p, struct proc_job *job, void (*cb)(void *call))
{
	struct mini_err *err = NULL;
	struct proc_call *call;

	if (proc_check(p, PROC_OP_DELETE, &err) < 0) {
		proc_job_fail(p, job, err);
		return;
	}
	call = xcalloc(1, sizeof(*call));
	call->p = p;
	call->job = job;
	stdio_drain(p->io, true, DELETE_DRAIN_TIMEOUT_MS, cb, call);
}
