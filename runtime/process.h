/* What the container's init and an exec'd process share between their setup and execve():
 * rlimits, the user switch, cwd, environment, executable lookup and fd hygiene. All run inside
 * the container (after pivot_root or the mount-namespace join). */
#ifndef MINIRT_PROCESS_H
#define MINIRT_PROCESS_H

#include "err.h"
#include "spec.h"

#include <stdbool.h>

int process_set_rlimits(const struct spec_process *p, struct mini_err **err);

/* Supplementary groups (exactly additionalGids, as runc), gid, uid, and the umask (user.umask
 * or 0022). */
int process_set_user(const struct spec_process *p, struct mini_err **err);

/* chdir to cwd and make sure the result is inside the container's root (a leaked host directory
 * fd reached through /proc/self/fd would show as "(unreachable)"). */
int process_chdir(const char *cwd, struct mini_err **err);

/* The environment for execve: process.env plus HOME from the container's /etc/passwd when
 * missing (runc's behaviour). Caller owns the vector (json_strv_free). */
char **process_env(const struct spec_process *p);

/* args[0] resolved through PATH of env (exec.LookPath semantics) and checked executable for the
 * current user. Caller owns *out. */
int process_find_executable(const struct spec_process *p, char *const *env, char **out,
			    struct mini_err **err);

/* Closes every fd from 3 up except those in keep[] and the preserved 3 .. 3+preserve-1. */
void process_close_fds_except(unsigned preserve, const int *keep, size_t n_keep);

/* Marks every fd >= 3+preserve close-on-exec and the preserved ones inheritable. */
int process_prepare_fds(unsigned preserve, struct mini_err **err);

/* Restores default signal dispositions and mask, and execve()s. Returns only on failure. */
int process_exec(const struct spec_process *p, const char *path, char *const *env,
		 struct mini_err **err);

#endif
