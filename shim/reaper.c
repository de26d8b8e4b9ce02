#include "reaper.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct reaper_watch {
	struct reaper_watch *next;
	pid_t pid;
	reaper_fn fn;
	void *data;
};

int
reaper_exit_code(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 255;
}

uint64_t
reaper_seq(const struct reaper *r)
{
	return r->seq;
}

static struct reaper_watch *
take_watch(struct reaper *r, pid_t pid)
{
	for (struct reaper_watch **pp = &r->watches; *pp; pp = &(*pp)->next) {
		struct reaper_watch *w = *pp;

		if (w->pid == pid) {
			*pp = w->next;
			return w;
		}
	}
	return NULL;
}

void
reaper_watch(struct reaper *r, pid_t pid, reaper_fn fn, void *data)
{
	struct reaper_watch *w = take_watch(r, pid);

	if (w == NULL)
		w = xcalloc(1, sizeof(*w));
	w->pid = pid;
	w->fn = fn;
	w->data = data;
	w->next = r->watches;
	r->watches = w;
}

void
reaper_unwatch(struct reaper *r, pid_t pid)
{
	free(take_watch(r, pid));
}

static void
buffer_early(struct reaper *r, const struct reaper_exit *e)
{
	if (r->n_early == REAPER_EARLY_MAX) {
		/* Oldest first out: exits of helper grandchildren nobody will ever claim. */
		memmove(&r->early[0], &r->early[1], (REAPER_EARLY_MAX - 1) * sizeof(r->early[0]));
		r->n_early--;
		r->dropped++;
	}
	r->early[r->n_early++] = *e;
}

bool
reaper_claim(struct reaper *r, pid_t pid, uint64_t after, struct reaper_exit *out)
{
	for (unsigned i = 0; i < r->n_early; i++) {
		if (r->early[i].pid != pid)
			continue;
		if (r->early[i].seq <= after)
			continue; /* an older process that had the same pid */
		*out = r->early[i];
		memmove(&r->early[i], &r->early[i + 1], (r->n_early - i - 1) * sizeof(r->early[0]));
		r->n_early--;
		return true;
	}
	return false;
}

void
reaper_handle_exit(struct reaper *r, pid_t pid, int wstatus)
{
	struct reaper_exit e = { .pid = pid, .wstatus = wstatus, .seq = ++r->seq };
	struct reaper_watch *w;

	clock_gettime(CLOCK_REALTIME, &e.at);
	w = take_watch(r, pid);
	if (w == NULL) {
		buffer_early(r, &e);
		return;
	}
	w->fn(&e, w->data);
	free(w);
}

static void
reap_all(struct reaper *r)
{
	for (;;) {
		int wstatus = 0;
		pid_t pid = waitpid(-1, &wstatus, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		reaper_handle_exit(r, pid, wstatus);
	}
}

static void
on_sigchld(uv_signal_t *h, int signum)
{
	reap_all(h->data);
}

int
reaper_init(struct reaper *r, uv_loop_t *loop, struct mini_err **err)
{
	int rc;

	/* All but the early-exit table, whose entries count only below n_early: a table nobody
	 * wrote stays out of the shim's resident memory (issue 6). */
	memset(r, 0, offsetof(struct reaper, early));
	r->n_early = 0;
	r->dropped = 0;
	if (loop == NULL)
		return 0;
	rc = uv_signal_init(loop, &r->sigchld);
	if (rc < 0)
		return mini_err_set(err, -rc, "init SIGCHLD handler");
	r->sigchld.data = r;
	rc = uv_signal_start(&r->sigchld, on_sigchld, SIGCHLD);
	if (rc < 0)
		return mini_err_set(err, -rc, "start SIGCHLD handler");
	/* Children that exited before the handler existed raise no new signal. */
	r->started = true;
	reap_all(r);
	return 0;
}

void
reaper_close(struct reaper *r)
{
	if (r->started) {
		uv_signal_stop(&r->sigchld);
		uv_close((uv_handle_t *)&r->sigchld, NULL);
		r->started = false;
	}
	while (r->watches) {
		struct reaper_watch *w = r->watches;

		r->watches = w->next;
		free(w);
	}
}
