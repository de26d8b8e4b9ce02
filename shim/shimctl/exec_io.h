/* The stdio plumbing of `shimctl exec`: FIFOs in a private temporary directory (what containerd
 * clients hand to a shim), our ends of them, and the terminal's raw mode. */
#ifndef MINI_SHIMCTL_EXEC_IO_H
#define MINI_SHIMCTL_EXEC_IO_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

enum { EXEC_STDIN, EXEC_STDOUT, EXEC_STDERR };

struct exec_io {
	char *dir;	/* the temporary directory, owned */
	char *paths[3]; /* FIFO paths for the request; [EXEC_STDERR] is NULL with a terminal */
	int fds[3];	/* our ends: write end of stdin, read ends of stdout/stderr; -1 closed */
	bool raw;	/* the terminal on fd 0 is in raw mode; saved holds its old mode */
	struct termios saved;
	char buf[32768]; /* stdin data read but not yet written into the FIFO */
	size_t len, off;
};

/* Creates the directory and FIFOs and opens our ends without blocking (the shim opens its
 * ends during Exec or Start). tty: no stderr FIFO. On failure everything made is removed. */
int exec_io_open(struct exec_io *io, bool tty, struct mini_err **err);

/* Puts the terminal on stdin into raw mode, if stdin is a terminal. */
int exec_io_make_raw(struct exec_io *io, struct mini_err **err);

/* Restores the terminal, closes our ends, removes the FIFOs and the directory. Idempotent. */
void exec_io_close(struct exec_io *io);

/* Closes our write end of the stdin FIFO (the process then sees EOF once the shim closes its
 * own keep-alive end on CloseIO). */
void exec_io_close_stdin(struct exec_io *io);

/* Moves what is readable from fds[which] (stdout or stderr) to fd 1 or 2. Returns 1 while the
 * FIFO is open, 0 at EOF (fds[which] is then closed), -errno on a write failure. */
int exec_io_pump_output(struct exec_io *io, int which, struct mini_err **err);

/* Reads our stdin into the buffer when it is empty. Returns 1 on data, 0 at EOF, -errno. */
int exec_io_read_stdin(struct exec_io *io, struct mini_err **err);

/* Writes buffered stdin into the FIFO without blocking. Returns 0, or -EPIPE when nobody reads
 * the FIFO any more (the buffer is dropped). */
int exec_io_flush_stdin(struct exec_io *io, struct mini_err **err);

#endif
