/* Pid files written by the runtime (`--pid-file`). */
#ifndef MINI_SHIM_PIDFILE_H
#define MINI_SHIM_PIDFILE_H

#include "err.h"

#include <sys/types.h>

/* Reads a positive pid from path. */
int pid_file_read(const char *path, pid_t *pid, struct mini_err **err);

#endif
