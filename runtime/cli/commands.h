/* The minirun commands. Each parses its own flags from argv (argv[0] is the command name) and
 * returns 0 or a negative errno with *err set; run and exec store the process's exit code. */
#ifndef MINIRUN_COMMANDS_H
#define MINIRUN_COMMANDS_H

#include "err.h"
#include "minirt.h"

#include <stdint.h>

typedef int (*cmd_fn)(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
		      struct mini_err **err);

int cmd_create(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	       struct mini_err **err);
int cmd_run(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	    struct mini_err **err);
int cmd_start(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	      struct mini_err **err);
int cmd_state(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	      struct mini_err **err);
int cmd_kill(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	     struct mini_err **err);
int cmd_delete(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	       struct mini_err **err);
int cmd_pause(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	      struct mini_err **err);
int cmd_resume(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	       struct mini_err **err);
int cmd_exec(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	     struct mini_err **err);
int cmd_ps(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	   struct mini_err **err);
int cmd_list(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	     struct mini_err **err);
int cmd_spec(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	     struct mini_err **err);
int cmd_features(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
		 struct mini_err **err);
int cmd_events(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	       struct mini_err **err);
int cmd_update(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	       struct mini_err **err);

/* Shared helpers. */
/* Exactly `want` positional arguments after flags at argv[i], else EINVAL naming the usage. */
int cli_want_args(int argc, int i, int want, const char *usage, struct mini_err **err);
/* A size as runc's flags take it (docker/go-units RAMInBytes: "512m", "1.5g", "-1"). */
int cli_parse_ram(const char *s, int64_t *out, struct mini_err **err);
/* A signal by name ("KILL", "SIGKILL", "sigterm") or number. */
int cli_parse_signal(const char *s, int *sig, struct mini_err **err);

#endif
