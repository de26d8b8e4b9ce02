/* The stdio of one container process, as containerd hands it over in Create or Exec.
 *
 * Paths are FIFOs created by the client (the usual case), regular files, or URIs: `file:///path`
 * (stdout and stderr appended to that file) and `binary:///logger?k=v` (stdout and stderr piped to
 * a logger process started here). Empty paths mean /dev/null. The shim creates the process's pipes
 * (the runtime passes them through to the container), keeps the FIFOs open for the life of the
 * process — stdout/stderr read-write so writes never fail while the client is away, stdin with an
 * extra write end that CloseIO drops — and copies without blocking the loop (copy.h).
 *
 * With a terminal, the runtime creates the pty and sends its master over a console socket
 * (console.h); the master is attached here and copied both ways. */
#ifndef MINI_SHIM_STDIO_SET_H
#define MINI_SHIM_STDIO_SET_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct reaper;

struct stdio_cfg {
	const char *stdin_path, *stdout_path, *stderr_path; /* "" or NULL = none */
	bool terminal;
	uid_t uid; /* owner of the pipes (runc option IoUid/IoGid) */
	gid_t gid;
	const char *ns, *proc_id; /* for binary:// loggers (CONTAINER_NAMESPACE, CONTAINER_ID) */
};

struct stdio_set;

/* Opens the FIFOs or files, creates the pipes and starts a binary:// logger. child[0..2] get the
 * fds the runtime must pass to the process as 0/1/2 (-1: /dev/null, or nothing with a terminal);
 * they stay owned by io: close them with stdio_close_child once the runtime has been forked.
 * Returns NULL with *err set. */
struct stdio_set *stdio_open(uv_loop_t *loop, struct reaper *reaper, const struct stdio_cfg *cfg,
			     int child[3], struct mini_err **err);

/* The fds for the runtime again (as stdio_open returned them; -1 once closed). */
void stdio_child_fds(const struct stdio_set *io, int child[3]);

/* Closes the fds given to the runtime (the process has its own copies by now). */
void stdio_close_child(struct stdio_set *io);

/* With a binary:// logger: calls cb once the logger said it is ready (closed or wrote to its fd
 * 5), immediately otherwise. err is NULL when ready, else owned by cb. */
void stdio_wait_ready(struct stdio_set *io, void (*cb)(struct mini_err *err, void *data),
		      void *data);

/* Starts copying after the runtime created the process. */
int stdio_start(struct stdio_set *io, struct mini_err **err);
/* Terminal: takes the pty master and starts copying stdin → master → stdout. */
int stdio_attach_console(struct stdio_set *io, int master, struct mini_err **err);

/* ResizePty: no-op without a terminal. */
int stdio_resize(struct stdio_set *io, uint32_t width, uint32_t height, struct mini_err **err);
/* CloseIO: drops the shim's extra write end of the stdin FIFO, so the process sees EOF once the
 * client's end is closed too. No-op without stdin. */
void stdio_close_stdin(struct stdio_set *io);

/* Calls cb once the output copies are drained: what is readable now has been copied (until_eof
 * false), or the pipes reached EOF (until_eof true), or timeout_ms passed. May call cb before
 * returning. */
void stdio_drain(struct stdio_set *io, bool until_eof, unsigned timeout_ms, void (*cb)(void *data),
		 void *data);

/* Stops everything, stops a binary logger (SIGTERM, SIGKILL after 12 s), and frees io once the
 * handles are closed. Accepts NULL. */
void stdio_destroy(struct stdio_set *io);

#endif
