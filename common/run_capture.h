/* Running a short-lived program to completion and keeping what it printed. For the few places
 * that must wait for a helper on the spot (FUSE mount helpers, `runtime features` for -info);
 * the shim daemon's runtime calls go through the reaper instead. */
#ifndef MINI_RUN_CAPTURE_H
#define MINI_RUN_CAPTURE_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

struct spawn_opts {
	const char *path;    /* the program; NULL: argv[0], looked up in PATH */
	bool merge_stderr;   /* stderr into the output too, else to /dev/null */
	size_t max_output;   /* bytes kept; more is read and dropped */
	unsigned timeout_ms; /* then SIGKILL and ETIMEDOUT; 0 = none */
};

/* Runs argv with stdin on /dev/null and stdout in a pipe, until it exits (not until EOF: a
 * program may leave a daemon behind that holds the pipe). *out (NUL-terminated, caller frees)
 * and *len get the output, *status the wait status. Waits for this pid only. */
int spawn_capture(const struct spawn_opts *o, char *const *argv, char **out, size_t *len,
		  int *status, struct mini_err **err);

#endif
