/* Pid helpers: pid files and the /proc start time that guards against pid reuse. */
#ifndef MINI_PIDUTIL_H
#define MINI_PIDUTIL_H

#include "err.h"

#include <stdbool.h>
#include <sys/types.h>

/* The start time of pid (field 22 of /proc/<pid>/stat, clock ticks since boot) and its state
 * letter (R, S, Z …; state may be NULL). ENOENT/ESRCH when the process does not exist. */
int pid_start_time(pid_t pid, unsigned long long *start, char *state, struct mini_err **err);

/* True if pid exists, is not a zombie, and (when start is not 0) has that start time. */
bool pid_is_alive(pid_t pid, unsigned long long start);

/* Writes "<pid>" to path atomically (temporary file and rename), as runc does. */
int pid_file_write(const char *path, pid_t pid, struct mini_err **err);
/* Reads a pid file. */
int pid_file_read(const char *path, pid_t *pid, struct mini_err **err);

#endif
