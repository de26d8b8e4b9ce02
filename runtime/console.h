/* The container's terminal: a pty opened inside the container (its /dev/ptmx), the master sent to
 * the --console-socket with SCM_RIGHTS as runc does, the slave made the controlling terminal and
 * stdio of the process. */
#ifndef MINIRT_CONSOLE_H
#define MINIRT_CONSOLE_H

#include "err.h"
#include "spec.h"

#include <stdbool.h>

/* Runs in the process that will exec (after pivot_root, or after joining the mount namespace).
 * With bind_console, the slave is also bind-mounted on /dev/console (the init). Closes nothing
 * of the caller's except through dup2 onto 0, 1, 2. */
int console_setup(int sock, const struct spec_process *p, bool bind_console, struct mini_err **err);

/* Connects to a console socket path. Returns the fd (O_CLOEXEC). */
int console_connect(const char *path, struct mini_err **err);

#endif
