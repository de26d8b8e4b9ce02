/* Launching the OCI runtime (minirun, or runc/crun through the BinaryName option) the way
 * containerd's runc shim launches runc: global flags `--root R --log B/log.json --log-format
 * json`, then the command. Every invocation is a child forked here and watched by the reaper; the
 * caller learns the outcome in a callback, so the loop never waits for the runtime.
 *
 * On failure the error carries the runtime's own message: the last "level":"error" line that the
 * call appended to the log file (its "errno" member, written by minirun, becomes the errnum), else
 * the runtime's captured output, else its exit status. */
#ifndef MINI_SHIM_RUNTIME_CLIENT_H
#define MINI_SHIM_RUNTIME_CLIENT_H

#include "err.h"
#include "reaper.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* The embedded runtime: the shim's own binary, run under the name "minirun" (main.c dispatches
 * on argv[0]), so no other runtime needs to be installed. It is the default when neither the
 * BinaryName option nor $MINI_RUNTIME names one. */
#define MINI_EMBEDDED_RUNTIME "minirun"
#define MINI_DEFAULT_RUNTIME MINI_EMBEDDED_RUNTIME
/* Default state root; the containerd namespace is appended (runc shim: /run/containerd/runc). */
#define MINI_DEFAULT_RUNTIME_ROOT "/run/containerd/mini"

/* How to invoke the runtime for one container. */
struct rt {
	char *binary; /* a path, or a name looked up in PATH */
	char *root;   /* --root: <root option or default>/<namespace> */
	char *log;    /* --log: <bundle>/log.json */
	bool systemd_cgroup;
};

/* Fills rt from the options (NULL/empty = default). Caller frees with rt_clear. */
void rt_setup(struct rt *rt, const char *binary, const char *root, const char *ns,
	      const char *bundle);
void rt_clear(struct rt *rt);
/* The binary chosen when no BinaryName option is given: $MINI_RUNTIME, else the default. */
const char *rt_default_binary(void);
/* The file to execute for argv[0] of a runtime command line: /proc/self/exe for the embedded
 * runtime, else argv0 itself (looked up in PATH by execvp). */
const char *rt_exec_path(const char *argv0);

struct rt_opts {
	int fd_in, fd_out, fd_err; /* become the runtime's 0/1/2; -1 = /dev/null or capture */
	bool capture;		   /* collect stdout (and stderr) when fd_out/fd_err are -1 */
	bool stderr_null;	   /* with capture: stderr to /dev/null, for parsable stdout */
	const void *input;	   /* written to the runtime's stdin (fd_in must be -1) */
	size_t input_len;
};

/* err: NULL on success; otherwise owned by the callback. out: the captured output (NUL
 * terminated, possibly empty), valid during the callback. */
typedef void (*rt_done_fn)(struct mini_err *err, const char *out, size_t out_len, void *data);

/* Runs `rt->binary <global flags> args…` (args NULL-terminated). Returns 0 and calls cb later
 * exactly once (cb may be NULL: fire and forget), or returns -errno with *err set (cb never called)
 * when the fork fails. The fds in opts are borrowed: the caller may close them once this returns.
 */
int rt_call(uv_loop_t *loop, struct reaper *reaper, const struct rt *rt, char *const *args,
	    const struct rt_opts *opts, rt_done_fn cb, void *data, struct mini_err **err);

/* Builds the argv that rt_call executes (for logs and tests). Caller frees with strv. */
char **rt_argv(const struct rt *rt, char *const *args);

/* Reads the last error line the runtime appended to `log` after byte `offset`. Returns a new
 * string (caller owns) or NULL; *errnum gets the "errno" member or 0. */
char *rt_last_log_error(const char *log, long offset, int *errnum);

#endif
