/* Processes of a container: the init (exec id "") and exec processes.
 *
 * Every state change goes through proc_transition(), which checks the static transition table of
 * STYLE.md §3 (one per process kind) and is the only code that writes p->state.
 *
 * Operations that invoke the runtime or change state (Start, Kill, Pause, Resume, Update, Delete)
 * run one at a time per process, as jobs: while a job is in flight the process is `busy`, later
 * jobs queue behind it, and an exit reaped meanwhile is held in `early_exit` and applied when the
 * job ends. That is how a Start publishes TaskStart before the TaskExit of a process that died at
 * once, without locks. */
#ifndef MINI_SHIM_PROCESS_H
#define MINI_SHIM_PROCESS_H

#include "dlist.h"
#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct container;
struct stdio_set;
struct ttrpc_request;

enum proc_state { PROC_CREATED, PROC_RUNNING, PROC_PAUSED, PROC_STOPPED, PROC_DELETED };
#define PROC_NSTATES 5

enum proc_op {
	PROC_OP_START,
	PROC_OP_PAUSE,
	PROC_OP_RESUME,
	PROC_OP_KILL,
	PROC_OP_EXEC, /* Exec of a new process into this (init) process's container */
	PROC_OP_DELETE,
	PROC_OP_EXIT, /* the process was reaped */
	PROC_OP_UPDATE,
	PROC_OP_RESIZE,
};
#define PROC_NOPS 9

enum proc_kind { PROC_INIT, PROC_EXEC };

enum proc_cell_kind {
	CELL_ALLOW,  /* permitted, the state does not change */
	CELL_MOVE,   /* permitted, the state becomes `to` */
	CELL_ERR,    /* refused with `code` and `msg` */
	CELL_IGNORE, /* silently nothing (late exits) */
};

struct proc_cell {
	enum proc_cell_kind kind;
	enum proc_state to;
	int code; /* enum mini_code */
	const char *msg;
};

/* The table cell for (kind, state, op). Never NULL. */
const struct proc_cell *proc_cell(enum proc_kind kind, enum proc_state state, enum proc_op op);
const char *proc_state_name(enum proc_state s);
const char *proc_op_name(enum proc_op op);

struct proc_exit {
	bool valid;
	int status; /* exit code: WEXITSTATUS or 128+signal */
	struct timespec at;
};

struct proc_job;

struct proc {
	struct dlist link; /* in the container's exec list (execs only) */
	struct container *ctr;
	enum proc_kind kind;
	char *id; /* "" for the init, else the exec id */
	enum proc_state state;
	bool pausing;	   /* Pause in flight: State reports PAUSING */
	bool busy;	   /* a job is in flight */
	bool exiting;	   /* exit observed, output being drained before it is reported */
	bool start_failed; /* an exec whose runtime exec failed: Wait answers at once */
	pid_t pid;
	int exit_status;
	struct timespec exited_at; /* zero until exited */
	char *stdin_path, *stdout_path, *stderr_path;
	bool terminal;
	struct stdio_set *io;
	char *spec_json; /* exec: the OCI process JSON (terminal already set) */
	struct dlist waiters;
	struct dlist jobs;
	struct proc_exit early_exit; /* exit reaped while busy */
	struct proc_exit reporting;  /* exit being reported (output draining) */
	uint64_t start_seq;	     /* reaper sequence before the runtime start call */
	bool counted_running;	     /* exec counted in ctr->running_execs */
	bool in_job_loop;	     /* run_jobs is on the stack: do not recurse or free */
};

/* Checks op against the table without changing anything. 0 if allowed (ALLOW or MOVE), -1 with
 * *err from the cell otherwise (IGNORE counts as refused, without an error: err untouched). */
int proc_check(const struct proc *p, enum proc_op op, struct mini_err **err);
/* Checks op and applies the cell: MOVE writes p->state. Same returns as proc_check. */
int proc_transition(struct proc *p, enum proc_op op, struct mini_err **err);

/* The status containerd sees (containerd.v1.types.Status): PAUSING while a pause is in flight,
 * and an exec of a paused container reports the container's state. */
int proc_status(const struct proc *p);

/* Allocates a process (caller owns; free with proc_free once no job is in flight). */
struct proc *proc_new(struct container *ctr, enum proc_kind kind, const char *id);
void proc_free(struct proc *p);

/* Parks a Wait request: replied at once if the process has exited, else when it does. */
void proc_wait(struct proc *p, struct ttrpc_request *req);
/* Replies every parked Wait with the exit (status, time). */
void proc_reply_waiters(struct proc *p);

/* A state-changing request on one process. */
enum proc_job_kind { JOB_START, JOB_KILL, JOB_PAUSE, JOB_RESUME, JOB_UPDATE, JOB_DELETE };

struct proc_job {
	struct dlist link;
	enum proc_job_kind kind;
	struct ttrpc_request *req; /* answered by the job */
	uint32_t signal;	   /* JOB_KILL */
	bool all;		   /* JOB_KILL */
	char *input;		   /* JOB_UPDATE: LinuxResources JSON */
	size_t input_len;
};

/* A new job answering req (taken). Caller hands it to proc_submit. */
struct proc_job *proc_job_new(enum proc_job_kind kind, struct ttrpc_request *req);
void proc_job_free(struct proc_job *j);

/* Runs or queues a job. Takes the job. */
void proc_submit(struct proc *p, struct proc_job *job);
/* Ends the running job: applies an exit held meanwhile, then starts the next queued job. May free
 * nothing; the process stays valid (container refcount). */
void proc_job_done(struct proc *p);

/* The reaper reported this process's exit (exit code, time). Holds it while busy; otherwise the
 * container decides what happens (container_on_exit). */
void proc_on_exit(struct proc *p, int status, const struct timespec *at);
/* Reports an exit: drains the output (bounded), then moves to STOPPED, records status and time,
 * publishes TaskExit, answers the waiters and tells the container (container_on_reported). */
void proc_report_exit(struct proc *p, int status, const struct timespec *at);

/* Ends the running job: answers its request with err (taken) or msg, frees the job, then
 * proc_job_done(p). */
void proc_job_fail(struct proc *p, struct proc_job *job, struct mini_err *err);
void proc_job_reply(struct proc *p, struct proc_job *job, const void *msg);

/* A job carried across an asynchronous step (a runtime call, a drain); the callee frees it. */
struct proc_call {
	struct proc *p;
	struct proc_job *job;
};
/* A Delete's first step for any process: refuses what the state table refuses (ending the job),
 * else drains the output, bounded, and then calls cb with a struct proc_call. */
void proc_delete_drain(struct proc *p, struct proc_job *job, void (*cb)(void *call));

/* Job bodies, by kind of process (init_proc.c, exec_proc.c). Each answers job->req, frees the job
 * and calls proc_job_done(p) exactly once. */
void init_proc_run(struct proc *p, struct proc_job *job);
void exec_proc_run(struct proc *p, struct proc_job *job);

#endif
