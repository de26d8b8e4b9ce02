/* Internal pieces shared by the parent-side command implementations (container.c, lifecycle.c,
 * run.c, exec.c). */
#ifndef MINIRT_CONTAINER_H
#define MINIRT_CONTAINER_H

#include "minirt.h"
#include "state.h"

#include <signal.h>

const char *ctx_root(const struct minirt_ctx *ctx);

/* create, with an already connected console fd (run's internal pty relay) or -1, and the init's
 * pid returned for run. */
int container_create(const struct minirt_ctx *ctx, const char *id,
		     const struct minirt_create_opts *o, int console_fd, pid_t *init_pid,
		     struct mini_err **err);

/* Opens, locks and loads a container; the status is computed. */
int container_open(const struct minirt_ctx *ctx, const char *id, struct state_dir **sd,
		   struct container_state **st, enum container_status *status,
		   struct mini_err **err);

/* The frozen config.json of a container. */
int container_load_spec(const struct state_dir *sd, struct minirt_spec **out,
			struct mini_err **err);

/* Sends sig to pid if it is still the process with start time `start` (pidfd, so a recycled pid
 * is never signalled). ESRCH when it is gone. */
int signal_pid(pid_t pid, unsigned long long start, int sig, struct mini_err **err);

/* Waits up to timeout_ms for pid (not necessarily our child) to exit. */
int wait_pid_gone(pid_t pid, unsigned long long start, int timeout_ms, struct mini_err **err);

/* Relays signals to pid and, when master >= 0, the terminal; returns the exit code of child
 * (128+N for a signal) once it has been reaped. Expects the relayed signals to be blocked. */
int relay_until_exit(pid_t child, int master, int *exit_code, struct mini_err **err);

/* Blocks every signal run/exec relay (so none is lost before the child exists); *old gets the
 * previous mask. */
void relay_block_signals(sigset_t *old);

#endif
