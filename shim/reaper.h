/* The one SIGCHLD reaper of the shim daemon.
 *
 * The daemon is a child subreaper, so container processes (orphaned by `runtime create` and
 * `runtime exec --detach`) and its own runtime invocations all end up as its children. On every
 * SIGCHLD the reaper loops waitpid(-1, WNOHANG) and hands each exit to the callback registered for
 * that pid. An exit of a pid nobody watches yet goes into a bounded early-exit table, because a
 * container process can exit before the runtime call that started it has returned and its pid
 * file has been read. Every exit gets a sequence number; a claim only accepts exits reaped after a
 * given sequence, so a stale exit of a recycled pid is never matched to a new process.
 *
 * No other code in the daemon may call waitpid(): it would steal exits from this table. */
#ifndef MINI_SHIM_REAPER_H
#define MINI_SHIM_REAPER_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <uv.h>

struct reaper_exit {
	pid_t pid;
	int wstatus;	    /* raw wait status */
	struct timespec at; /* wall-clock time the exit was reaped */
	uint64_t seq;	    /* 1, 2, 3 … in reaping order */
};

typedef void (*reaper_fn)(const struct reaper_exit *e, void *data);

#define REAPER_EARLY_MAX 256

struct reaper_watch;

struct reaper {
	uv_signal_t sigchld;
	bool started;
	uint64_t seq;
	struct reaper_watch *watches; /* singly linked */
	struct reaper_exit early[REAPER_EARLY_MAX];
	unsigned n_early;
	unsigned long dropped; /* unclaimed exits evicted from the table */
};

/* Initialises r. With a loop, starts the SIGCHLD handler and reaps what is already waiting;
 * with loop == NULL (unit tests) exits are fed through reaper_handle_exit only. */
int reaper_init(struct reaper *r, uv_loop_t *loop, struct mini_err **err);
/* Stops the handler (the handle is closed; r stays usable for claims). Frees the watches. */
void reaper_close(struct reaper *r);

/* Sequence number of the most recently reaped exit. Read it before forking the runtime call
 * that will start a process, and claim with it afterwards. */
uint64_t reaper_seq(const struct reaper *r);

/* Calls fn(exit, data) once when pid is reaped. A pid has at most one watch; watching again
 * replaces it. The watch is removed before fn runs. */
void reaper_watch(struct reaper *r, pid_t pid, reaper_fn fn, void *data);
void reaper_unwatch(struct reaper *r, pid_t pid);

/* Takes the buffered exit of pid if it was reaped after sequence `after`. Returns true and fills
 * *out if there was one. */
bool reaper_claim(struct reaper *r, pid_t pid, uint64_t after, struct reaper_exit *out);

/* Dispatches one reaped exit (what the SIGCHLD handler does per waitpid result). */
void reaper_handle_exit(struct reaper *r, pid_t pid, int wstatus);

/* The exit code containerd expects: WEXITSTATUS, or 128 + signal number. */
int reaper_exit_code(int wstatus);

#endif
