/* The reaper's dispatch without signals: watched pids, the early-exit table, sequence-guarded
 * claims (pid reuse) and eviction. */
#include "reaper.h"
#include "tap.h"

#include <signal.h>
#include <sys/wait.h>

static int calls;
static struct reaper_exit last;

static void
on_exit_cb(const struct reaper_exit *e, void *data)
{
	calls++;
	last = *e;
	*(int *)data += 1;
}

/* Builds a wait status the way the kernel does. */
static int
exited(int code)
{
	return (code & 0xff) << 8;
}

int
main(void)
{
	struct reaper r;
	struct reaper_exit e;
	uint64_t before;
	int hits = 0;

	ok(reaper_init(&r, NULL, NULL) == 0, "init without a loop");
	is_int(reaper_exit_code(exited(3)), 3, "exit code");
	is_int(reaper_exit_code(SIGKILL), 137, "SIGKILL is 137");
	is_int(reaper_exit_code(SIGTERM), 143, "SIGTERM is 143");

	reaper_watch(&r, 100, on_exit_cb, &hits);
	reaper_handle_exit(&r, 100, exited(7));
	is_int(hits, 1, "watched pid dispatched");
	is_int(last.pid, 100, "with its pid");
	is_int(reaper_exit_code(last.wstatus), 7, "and its status");
	ok(last.at.tv_sec > 0, "and a time");
	reaper_handle_exit(&r, 100, exited(8));
	is_int(hits, 1, "a watch fires once");
	ok(reaper_claim(&r, 100, 0, &e), "the second exit of 100 went to the table");

	/* An exit before the pid is known: buffered, then claimed. */
	before = reaper_seq(&r);
	reaper_handle_exit(&r, 200, exited(1));
	ok(reaper_claim(&r, 200, before, &e), "early exit claimed");
	is_int(reaper_exit_code(e.wstatus), 1, "early exit status");
	ok(!reaper_claim(&r, 200, before, &e), "claimed only once");

	/* Pid reuse: an exit reaped before the runtime call started is somebody else's. */
	reaper_handle_exit(&r, 300, exited(2));
	before = reaper_seq(&r);
	ok(!reaper_claim(&r, 300, before, &e), "stale exit of a reused pid not claimed");
	reaper_handle_exit(&r, 300, exited(4));
	ok(reaper_claim(&r, 300, before, &e), "the new process's exit is");
	is_int(reaper_exit_code(e.wstatus), 4, "with the new status");

	/* Unwatch: the exit goes to the table instead. */
	reaper_watch(&r, 400, on_exit_cb, &hits);
	reaper_unwatch(&r, 400);
	reaper_handle_exit(&r, 400, exited(0));
	is_int(hits, 1, "unwatched pid not dispatched");
	/* Watching again replaces the callback data. */
	reaper_watch(&r, 500, on_exit_cb, &calls);
	reaper_watch(&r, 500, on_exit_cb, &hits);
	reaper_handle_exit(&r, 500, exited(0));
	is_int(hits, 2, "a second watch replaces the first");

	/* The table is bounded: the oldest unclaimed exits go first. */
	before = reaper_seq(&r);
	for (int i = 0; i < REAPER_EARLY_MAX + 10; i++)
		reaper_handle_exit(&r, 10000 + i, exited(0));
	ok(!reaper_claim(&r, 10000, before, &e), "oldest evicted");
	ok(reaper_claim(&r, 10000 + REAPER_EARLY_MAX + 9, before, &e), "newest kept");
	ok(r.dropped >= 10, "evictions counted");
	reaper_close(&r);
	return tap_done();
}
