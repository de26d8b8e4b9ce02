/* run (create + start in the foreground) and the signal/terminal relay it shares with exec. */
#include "cleanup.h"
#include "container.h"
#include "fd.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Every signal we pass on to the container (runc's list: all but SIGCHLD, SIGURG and the ones
 * that cannot be caught), plus SIGCHLD to learn about the exit. */
static void
relay_set(sigset_t *set)
{
	int sig;

	sigemptyset(set);
	for (sig = 1; sig < 32; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGURG)
			continue;
		sigaddset(set, sig);
	}
}

void
relay_block_signals(sigset_t *old)
{
	sigset_t set;

	relay_set(&set);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void
copy_some(int from, int to, bool *open_flag)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0) {
		*open_flag = false;
		return;
	}
	write_all(to, buf, (size_t)n, NULL);
}

static void
sync_winsize(int master)
{
	struct winsize ws;

	if (master >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

int
relay_until_exit(pid_t child, int master, int *exit_code, struct mini_err **err)
{
	_cleanup_close_ int sfd = -1;
	sigset_t set;
	bool in_open = master >= 0, out_open = master >= 0;

	relay_set(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return mini_err_set(err, errno, "signalfd");
	sync_winsize(master);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = in_open ? 0 : -1, .events = POLLIN },
			{ .fd = out_open ? master : -1, .events = POLLIN },
		};
		struct signalfd_siginfo si;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return mini_err_set(err, errno, "poll");
		}
		if (p[1].revents)
			copy_some(0, master, &in_open);
		if (p[2].revents)
			copy_some(master, 1, &out_open);
		if (!(p[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGWINCH)
			sync_winsize(master);
		if (si.ssi_signo != SIGCHLD) {
			kill(child, (int)si.ssi_signo);
			continue;
		}
		/* We may be a subreaper for other orphans: reap all, keep the child's status. */
		for (;;) {
			int status;
			pid_t w = waitpid(-1, &status, WNOHANG);

			if (w <= 0)
				break;
			if (w != child)
				continue;
			while (out_open) {
				struct pollfd q = { .fd = master, .events = POLLIN };

				if (poll(&q, 1, 100) <= 0)
					break;
				copy_some(master, 1, &out_open);
			}
			*exit_code =
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			return 0;
		}
	}
}

/* run with process.terminal and no --console-socket: we are the console socket's other end and
 * relay between our stdio and the pty master, like runc run -t. */
static int
make_internal_console(int *ours, int *theirs, struct mini_err **err)
{
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return mini_err_set(err, errno, "socketpair");
	*ours = sp[0];
	*theirs = sp[1];
	return 0;
}

static void
restore_termios(const struct termios *t, bool saved)
{
	if (saved)
		tcsetattr(0, TCSANOW, t);
}

int
minirt_container_run(const struct minirt_ctx *ctx, const char *id,
		     const struct minirt_create_opts *o, bool detach, bool keep, int *exit_code,
		     struct mini_err **err)
{
	_cleanup_close_ int ours = -1, theirs = -1, master = -1;
	struct minirt_spec *probe = NULL;
	struct termios saved_tio, raw;
	bool tio_saved = false, want_tty = false;
	sigset_t old;
	pid_t init_pid = 0;
	int ret;

	*exit_code = 0;
	if (!detach && o->console_socket == NULL) {
		/* Peek at process.terminal to know whether we relay a pty. */
		_cleanup_free_ char *path =
			o->config ? xstrdup(o->config)
				  : xasprintf("%s/config.json", o->bundle ? o->bundle : ".");
		if (spec_load_file(path, &probe, NULL) == 0 && probe->process)
			want_tty = probe->process->terminal;
		spec_free(probe);
	}
	if (want_tty && (ret = make_internal_console(&ours, &theirs, err)) < 0)
		return ret;
	if (!detach) {
		/* A joined pid namespace makes the init our grandchild: adopt it. */
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		relay_block_signals(&old);
	}
	ret = container_create(ctx, id, o, theirs, &init_pid, err);
	if (ret == 0 && want_tty) {
		close(steal_fd(&theirs));
		ret = recv_fd(ours, &master, err);
	}
	if (ret == 0)
		ret = minirt_container_start(ctx, id, err);
	if (ret < 0) {
		struct mini_err *e = NULL;

		if (init_pid > 0)
			minirt_container_delete(ctx, id, true, &e);
		mini_err_free(e);
		if (!detach)
			sigprocmask(SIG_SETMASK, &old, NULL);
		return ret;
	}
	if (detach)
		return 0;
	if (want_tty && isatty(0) && tcgetattr(0, &saved_tio) == 0) {
		tio_saved = true;
		raw = saved_tio;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	ret = relay_until_exit(init_pid, master, exit_code, err);
	restore_termios(&saved_tio, tio_saved);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (ret < 0)
		return ret;
	if (!keep) {
		struct mini_err *e = NULL;

		if (minirt_container_delete(ctx, id, true, &e) < 0) {
			_cleanup_free_ char *msg = mini_err_render(e);

			log_warn("delete %s after run: %s", id, msg);
			mini_err_free(e);
		}
	}
	return 0;
}
