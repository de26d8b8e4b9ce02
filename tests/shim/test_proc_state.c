/* Walks every cell of both process transition tables (STYLE.md §3) against an independent
 * statement of what each cell must be, and checks that proc_transition writes the state only for
 * "→" cells. */
#include "process.h"
#include "tap.h"

#include <stdlib.h>

/* One expected cell: "ok", "ignore", "->created" …, or "pre"/"nf" for the error classes. */
static const char *const want_init[PROC_NSTATES][PROC_NOPS] = {
	/* Columns: start, pause, resume, kill, exec, delete, exit, update, resize. */
	[PROC_CREATED] = { "->running", "pre", "pre", "ok", "ok", "->deleted", "->stopped", "ok",
			   "ok" },
	[PROC_RUNNING] = { "pre", "->paused", "pre", "ok", "ok", "pre", "->stopped", "ok", "ok" },
	[PROC_PAUSED] = { "pre", "pre", "->running", "ok", "pre", "pre", "->stopped", "ok", "ok" },
	[PROC_STOPPED] = { "pre", "pre", "pre", "nf", "pre", "->deleted", "ignore", "pre", "ok" },
	[PROC_DELETED] = { "nf", "nf", "nf", "nf", "nf", "nf", "ignore", "nf", "nf" },
};

static const char *const want_exec[PROC_NSTATES][PROC_NOPS] = {
	[PROC_CREATED] = { "->running", "pre", "pre", "pre", "pre", "->deleted", "->stopped", "pre",
			   "ok" },
	[PROC_RUNNING] = { "pre", "pre", "pre", "ok", "pre", "pre", "->stopped", "pre", "ok" },
	[PROC_PAUSED] = { "pre", "pre", "pre", "ok", "pre", "pre", "->stopped", "pre", "ok" },
	[PROC_STOPPED] = { "pre", "pre", "pre", "nf", "pre", "->deleted", "ignore", "pre", "pre" },
	[PROC_DELETED] = { "nf", "nf", "nf", "nf", "nf", "nf", "ignore", "nf", "nf" },
};

static const char *
describe(const struct proc_cell *c)
{
	static char buf[32];

	switch (c->kind) {
	case CELL_ALLOW:
		return "ok";
	case CELL_IGNORE:
		return "ignore";
	case CELL_MOVE:
		snprintf(buf, sizeof(buf), "->%s", proc_state_name(c->to));
		return buf;
	case CELL_ERR:
		return c->code == MINI_E_PRECONDITION ? "pre"
		       : c->code == MINI_E_NOTFOUND   ? "nf"
						      : "?";
	}
	return "?";
}

static void
walk(enum proc_kind kind, const char *const want[PROC_NSTATES][PROC_NOPS])
{
	const char *kname = kind == PROC_INIT ? "init" : "exec";

	for (int s = 0; s < PROC_NSTATES; s++) {
		for (int op = 0; op < PROC_NOPS; op++) {
			const struct proc_cell *c = proc_cell(kind, s, op);
			struct proc p = { .kind = kind, .state = s };
			struct mini_err *err = NULL;
			int rc;

			is_str(describe(c), want[s][op], "%s %s/%s", kname, proc_state_name(s),
			       proc_op_name(op));
			if (c->kind == CELL_ERR)
				ok(c->msg && c->msg[0], "%s %s/%s has a message", kname,
				   proc_state_name(s), proc_op_name(op));
			rc = proc_transition(&p, op, &err);
			switch (c->kind) {
			case CELL_ALLOW:
				ok(rc == 0 && p.state == (enum proc_state)s && err == NULL,
				   "%s %s/%s allowed, state unchanged", kname, proc_state_name(s),
				   proc_op_name(op));
				break;
			case CELL_MOVE:
				ok(rc == 0 && p.state == c->to && err == NULL, "%s %s/%s moves",
				   kname, proc_state_name(s), proc_op_name(op));
				break;
			case CELL_IGNORE:
				ok(rc < 0 && p.state == (enum proc_state)s && err == NULL,
				   "%s %s/%s ignored without error", kname, proc_state_name(s),
				   proc_op_name(op));
				break;
			case CELL_ERR:
				ok(rc < 0 && p.state == (enum proc_state)s && err &&
					   mini_err_grpc_code(err) == c->code,
				   "%s %s/%s refused with code %d", kname, proc_state_name(s),
				   proc_op_name(op), c->code);
				break;
			}
			mini_err_free(err);
		}
	}
}

int
main(void)
{
	struct proc p = { .kind = PROC_INIT, .state = PROC_CREATED };
	struct mini_err *err = NULL;

	walk(PROC_INIT, want_init);
	walk(PROC_EXEC, want_exec);

	/* A whole life: created → running → paused → running → stopped → deleted. */
	ok(proc_transition(&p, PROC_OP_START, NULL) == 0 && p.state == PROC_RUNNING, "start");
	ok(proc_transition(&p, PROC_OP_PAUSE, NULL) == 0 && p.state == PROC_PAUSED, "pause");
	ok(proc_transition(&p, PROC_OP_RESUME, NULL) == 0 && p.state == PROC_RUNNING, "resume");
	ok(proc_transition(&p, PROC_OP_EXIT, NULL) == 0 && p.state == PROC_STOPPED, "exit");
	ok(proc_transition(&p, PROC_OP_START, &err) < 0 && err, "no restart");
	is_str(err ? err->msg : NULL, "cannot start a stopped process", "runc's message");
	mini_err_free(err);
	ok(proc_transition(&p, PROC_OP_DELETE, NULL) == 0 && p.state == PROC_DELETED, "delete");

	/* Out-of-range arguments get an Internal error cell, not a crash. */
	ok(proc_cell(PROC_INIT, (enum proc_state)99, PROC_OP_START)->kind == CELL_ERR,
	   "bad state refused");
	ok(proc_cell(PROC_INIT, PROC_CREATED, (enum proc_op)99)->kind == CELL_ERR,
	   "bad op refused");
	return tap_done();
}
