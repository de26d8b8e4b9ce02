/* The process state machine: one static table per kind of process, and the one function that
 * writes p->state. The messages are the runc shim's, so users see familiar errors; the codes are
 * ours (FailedPrecondition for refusals, NotFound for finished or deleted processes), so
 * containerd's errdefs classify them. */
#include "process.h"

#include <stddef.h>

/* clang-format off */
#define A { CELL_ALLOW, 0, 0, NULL }
#define M(s) { CELL_MOVE, s, 0, NULL }
#define E(c, m) { CELL_ERR, 0, c, m }
#define I { CELL_IGNORE, 0, 0, NULL }
/* clang-format on */
#define PRE MINI_E_PRECONDITION
#define NF MINI_E_NOTFOUND

/* Columns: Start, Pause, Resume, Kill, Exec, Delete, Exit, Update, Resize. */
static const struct proc_cell init_table[PROC_NSTATES][PROC_NOPS] = {
	[PROC_CREATED] = {
		M(PROC_RUNNING),
		E(PRE, "cannot pause task in created state"),
		E(PRE, "cannot resume task in created state"),
		A, A,
		M(PROC_DELETED),
		M(PROC_STOPPED),
		A, A,
	},
	[PROC_RUNNING] = {
		E(PRE, "cannot start a running process"),
		M(PROC_PAUSED),
		E(PRE, "cannot resume a running process"),
		A, A,
		E(PRE, "cannot delete a running process"),
		M(PROC_STOPPED),
		A, A,
	},
	[PROC_PAUSED] = {
		E(PRE, "cannot start a paused process"),
		E(PRE, "cannot pause a paused container"),
		M(PROC_RUNNING),
		A,
		E(PRE, "cannot exec in a paused state"),
		E(PRE, "cannot delete a paused process"),
		M(PROC_STOPPED),
		A, A,
	},
	[PROC_STOPPED] = {
		E(PRE, "cannot start a stopped process"),
		E(PRE, "cannot pause a stopped container"),
		E(PRE, "cannot resume a stopped container"),
		E(NF, "process already finished"),
		E(PRE, "cannot exec in a stopped state"),
		M(PROC_DELETED),
		I,
		E(PRE, "cannot update a stopped container"),
		A,
	},
	[PROC_DELETED] = {
		E(NF, "cannot start a deleted process"),
		E(NF, "cannot pause a deleted process"),
		E(NF, "cannot resume a deleted process"),
		E(NF, "cannot kill a deleted process"),
		E(NF, "cannot exec in a deleted state"),
		E(NF, "cannot delete a deleted process"),
		I,
		E(NF, "cannot update a deleted process"),
		E(NF, "cannot resize a deleted process"),
	},
};

/* Exec processes are never paused themselves (Pause and Resume act on the container); their row
 * for PAUSED exists only so that every cell is defined. */
#define EX_PAUSE E(PRE, "cannot pause an exec process")
#define EX_RESUME E(PRE, "cannot resume an exec process")
#define EX_EXEC E(PRE, "cannot exec from an exec process")
#define EX_UPDATE E(PRE, "cannot update an exec process")

static const struct proc_cell exec_table[PROC_NSTATES][PROC_NOPS] = {
	[PROC_CREATED] = {
		M(PROC_RUNNING), EX_PAUSE, EX_RESUME,
		E(PRE, "process not created"),
		EX_EXEC,
		M(PROC_DELETED),
		M(PROC_STOPPED),
		EX_UPDATE, A,
	},
	[PROC_RUNNING] = {
		E(PRE, "cannot start a running process"), EX_PAUSE, EX_RESUME,
		A,
		EX_EXEC,
		E(PRE, "cannot delete a running process"),
		M(PROC_STOPPED),
		EX_UPDATE, A,
	},
	[PROC_PAUSED] = {
		E(PRE, "cannot start a paused process"), EX_PAUSE, EX_RESUME,
		A,
		EX_EXEC,
		E(PRE, "cannot delete a paused process"),
		M(PROC_STOPPED),
		EX_UPDATE, A,
	},
	[PROC_STOPPED] = {
		E(PRE, "cannot start a stopped process"), EX_PAUSE, EX_RESUME,
		E(NF, "process already finished"),
		EX_EXEC,
		M(PROC_DELETED),
		I,
		EX_UPDATE,
		E(PRE, "cannot resize a stopped container"),
	},
	[PROC_DELETED] = {
		E(NF, "cannot start a deleted process"),
		E(NF, "cannot pause a deleted process"),
		E(NF, "cannot resume a deleted process"),
		E(NF, "cannot kill a deleted process"),
		E(NF, "cannot exec in a deleted state"),
		E(NF, "cannot delete a deleted process"),
		I,
		E(NF, "cannot update a deleted process"),
		E(NF, "cannot resize a deleted process"),
	},
};

const struct proc_cell *
proc_cell(enum proc_kind kind, enum proc_state state, enum proc_op op)
{
	static const struct proc_cell bad = E(MINI_E_INTERNAL, "invalid process state");

	if ((unsigned)state >= PROC_NSTATES || (unsigned)op >= PROC_NOPS)
		return &bad;
	return kind == PROC_INIT ? &init_table[state][op] : &exec_table[state][op];
}

const char *
proc_state_name(enum proc_state s)
{
	switch (s) {
	case PROC_CREATED:
		return "created";
	case PROC_RUNNING:
		return "running";
	case PROC_PAUSED:
		return "paused";
	case PROC_STOPPED:
		return "stopped";
	case PROC_DELETED:
		return "deleted";
	}
	return "unknown";
}

const char *
proc_op_name(enum proc_op op)
{
	static const char *const names[PROC_NOPS] = {
		"start", "pause", "resume", "kill", "exec", "delete", "exit", "update", "resize",
	};

	return (unsigned)op < PROC_NOPS ? names[op] : "unknown";
}

int
proc_check(const struct proc *p, enum proc_op op, struct mini_err **err)
{
	const struct proc_cell *c = proc_cell(p->kind, p->state, op);

	switch (c->kind) {
	case CELL_ALLOW:
	case CELL_MOVE:
		return 0;
	case CELL_IGNORE:
		return -1;
	case CELL_ERR:
		mini_err_setc(err, c->code, 0, "%s", c->msg);
		return -1;
	}
	return -1;
}

int
proc_transition(struct proc *p, enum proc_op op, struct mini_err **err)
{
	const struct proc_cell *c = proc_cell(p->kind, p->state, op);

	if (proc_check(p, op, err) < 0)
		return -1;
	if (c->kind == CELL_MOVE)
		p->state = c->to;
	return 0;
}
