/* FIFOs and terminal handling for `shimctl exec` (see exec_io.h). */
#include "exec_io.h"

#include "cleanup.h"
#include "fd.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const fifo_names[] = { "stdin", "stdout", "stderr" };

int
exec_io_open(struct exec_io *io, bool tty, struct mini_err **err)
{
	const char *tmp = getenv("TMPDIR");

	memset(io, 0, sizeof(*io));
	io->fds[0] = io->fds[1] = io->fds[2] = -1;
	io->dir = xasprintf("%s/shimctl-exec-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(io->dir) == NULL) {
		int e = errno;
		free(io->dir);
		io->dir = NULL;
		return mini_err_set(err, e, "create a directory for the exec's FIFOs");
	}
	for (int i = EXEC_STDIN; i <= EXEC_STDERR; i++) {
		if (tty && i == EXEC_STDERR)
			break;
		io->paths[i] = xasprintf("%s/%s", io->dir, fifo_names[i]);
		if (mkfifo(io->paths[i], 0600) < 0) {
			int e = errno;
			exec_io_close(io);
			return mini_err_set(err, e, "mkfifo %s", io->paths[i]);
		}
		/* stdin: O_RDWR opens at once on Linux, with no reader present yet; output:
		 * O_NONBLOCK read ends open at once too. poll() reports no POLLHUP on a read end
		 * until a writer has come and gone, so waiting before the shim opens is safe. */
		io->fds[i] = open(io->paths[i],
				  (i == EXEC_STDIN ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
		if (io->fds[i] < 0) {
			int e = errno;
			exec_io_close(io);
			return mini_err_set(err, e, "open %s", io->paths[i]);
		}
	}
	return 0;
}

int
exec_io_make_raw(struct exec_io *io, struct mini_err **err)
{
	struct termios t;

	if (!isatty(STDIN_FILENO))
		return 0;
	if (tcgetattr(STDIN_FILENO, &io->saved) < 0)
		return mini_err_set(err, errno, "read the terminal mode");
	t = io->saved;
	cfmakeraw(&t);
	/* Keep output post-processing so our own error lines still start at column 0. */
	t.c_oflag |= OPOST;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
		return mini_err_set(err, errno, "set the terminal to raw mode");
	io->raw = true;
	return 0;
}

void
exec_io_close_stdin(struct exec_io *io)
{
	closep(&io->fds[EXEC_STDIN]);
	io->fds[EXEC_STDIN] = -1;
	io->len = io->off = 0;
}

void
exec_io_close(struct exec_io *io)
{
	if (io->raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &io->saved);
		io->raw = false;
	}
	for (int i = EXEC_STDIN; i <= EXEC_STDERR; i++) {
		closep(&io->fds[i]);
		io->fds[i] = -1;
		if (io->paths[i])
			unlink(io->paths[i]);
		free(io->paths[i]);
		io->paths[i] = NULL;
	}
	if (io->dir)
		rmdir(io->dir);
	free(io->dir);
	io->dir = NULL;
}

int
exec_io_pump_output(struct exec_io *io, int which, struct mini_err **err)
{
	char buf[32768];
	ssize_t n;

	for (;;) {
		n = read(io->fds[which], buf, sizeof(buf));
		if (n > 0) {
			/* Our stdout/stderr are blocking: a slow terminal slows the copy, which
			 * then backs up into the FIFO and the process, as with ctr. */
			if (write_all(which == EXEC_STDOUT ? STDOUT_FILENO : STDERR_FILENO, buf,
				      (size_t)n, err) < 0)
				return mini_err_ret(*err);
			continue;
		}
		if (n == 0) {
			closep(&io->fds[which]);
			io->fds[which] = -1;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 1;
		return mini_err_set(err, errno, "read %s", io->paths[which]);
	}
}

int
exec_io_read_stdin(struct exec_io *io, struct mini_err **err)
{
	ssize_t n;

	do
		n = read(STDIN_FILENO, io->buf, sizeof(io->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 1;
	if (n < 0)
		return mini_err_set(err, errno, "read stdin");
	io->len = (size_t)n;
	io->off = 0;
	return n > 0;
}

int
exec_io_flush_stdin(struct exec_io *io, struct mini_err **err)
{
	while (io->off < io->len) {
		ssize_t n = write(io->fds[EXEC_STDIN], io->buf + io->off, io->len - io->off);
		if (n > 0) {
			io->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		io->len = io->off = 0;
		return mini_err_set(err, n < 0 ? errno : EPIPE, "write %s", io->paths[EXEC_STDIN]);
	}
	io->len = io->off = 0;
	return 0;
}
