/* libminirt: the embedded OCI runtime (runtime-spec v1.1) behind the `minirun` CLI.
 *
 * Every operation works on a container id under a state root (default /run/minirun), like runc:
 * <root>/<id>/state.json, a frozen copy of config.json and the exec FIFO. Operations on one
 * container are serialised by a lock on its state directory. Functions return 0 or a negative
 * errno and set *err (STYLE.md §4); errors carry the errno the shim maps to a gRPC code. */
#ifndef MINIRT_H
#define MINIRT_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MINIRT_DEFAULT_ROOT "/run/minirun"
#define MINIRT_OCI_VERSION "1.1.0"

/* Global options of every command. Strings are borrowed for the call. */
struct minirt_ctx {
	const char *root;    /* state root; NULL = MINIRT_DEFAULT_ROOT (rootless:
				$XDG_RUNTIME_DIR/minirun when set, as runc) */
	bool systemd_cgroup; /* refused: there is no systemd driver */
	int log_fd;	     /* the --log file (kept open in the init for its last words), or -1 */
};

struct minirt_create_opts {
	const char *bundle;	    /* NULL = the current directory */
	const char *config;	    /* NULL = <bundle>/config.json */
	const char *pid_file;	    /* optional; written when the init is ready */
	const char *console_socket; /* required when process.terminal is true (unless run) */
	bool no_pivot;		    /* chroot instead of pivot_root */
	bool no_new_keyring;	    /* accepted; session keyrings are not created anyway */
	unsigned preserve_fds;	    /* fds 3 .. 3+N-1 are passed to the container */
};

/* create: the init exists in its namespaces, everything applied, blocked before the exec of
 * process.args (on <root>/<id>/exec.fifo). */
int minirt_container_create(const struct minirt_ctx *ctx, const char *id,
			    const struct minirt_create_opts *o, struct mini_err **err);

/* start: releases a created container's init, runs poststart hooks. */
int minirt_container_start(const struct minirt_ctx *ctx, const char *id, struct mini_err **err);

/* run: create + start. With detach it returns after start; otherwise it forwards signals, waits
 * for the init, deletes the container and stores the exit status (128+N for a signal) in
 * *exit_code. */
int minirt_container_run(const struct minirt_ctx *ctx, const char *id,
			 const struct minirt_create_opts *o, bool detach, bool keep, int *exit_code,
			 struct mini_err **err);

/* kill: sends sig to the init, or with all to every process in the container's cgroup. */
int minirt_container_kill(const struct minirt_ctx *ctx, const char *id, int sig, bool all,
			  struct mini_err **err);

/* delete: removes a stopped (or created) container; force kills a running one first. A missing
 * container is an error (ENOENT) unless force. Runs poststop hooks. */
int minirt_container_delete(const struct minirt_ctx *ctx, const char *id, bool force,
			    struct mini_err **err);

/* state: the OCI state JSON (as `runc state` prints it). Caller owns *json. */
int minirt_container_state(const struct minirt_ctx *ctx, const char *id, char **json,
			   struct mini_err **err);

struct minirt_exec_opts {
	const char *process; /* a process.json file; NULL = build from args and the config */
	char *const *args;   /* when process is NULL */
	const char *cwd;     /* overrides */
	char *const *env;    /* appended KEY=VALUE */
	const char *user;    /* "uid[:gid]" */
	char *const *additional_gids;
	bool tty, tty_set; /* -t (tty_set: given on the command line) */
	bool detach;
	bool no_new_privs;
	const char *pid_file;
	const char *console_socket;
	unsigned preserve_fds;
};

/* exec: runs a new process in a running container. Without detach it waits and stores the exit
 * status in *exit_code. */
int minirt_container_exec(const struct minirt_ctx *ctx, const char *id,
			  const struct minirt_exec_opts *o, int *exit_code, struct mini_err **err);

/* The host pids of all processes in the container's cgroup. Caller owns *pids. */
int minirt_container_pids(const struct minirt_ctx *ctx, const char *id, pid_t **pids, size_t *n,
			  struct mini_err **err);

/* pause/resume: freeze and thaw the container's cgroup. */
int minirt_container_pause(const struct minirt_ctx *ctx, const char *id, struct mini_err **err);
int minirt_container_resume(const struct minirt_ctx *ctx, const char *id, struct mini_err **err);

/* update: applies a linux.resources JSON object to a live container. */
int minirt_container_update(const struct minirt_ctx *ctx, const char *id,
			    const char *resources_json, struct mini_err **err);

/* events --stats: the container's cgroup statistics as runc prints them,
 * {"type":"stats","id":…,"data":{"cpu":…,"memory":…,"pids":…,"blkio":…,"hugetlb":…}} on one
 * line. Caller owns *json. ESRCH when the container is stopped. */
int minirt_container_stats(const struct minirt_ctx *ctx, const char *id, char **json,
			   struct mini_err **err);

/* events: a stats line every interval_ms and {"type":"oom","id":…} on each OOM kill, written to
 * out_fd, until the container stops. */
int minirt_container_events(const struct minirt_ctx *ctx, const char *id, unsigned interval_ms,
			    int out_fd, struct mini_err **err);

/* One row of `list`. */
struct minirt_info {
	char *id;
	pid_t pid;
	char *status;
	char *bundle;
	char *created;
	char *owner;
};

/* All containers under the root, sorted by id. Caller owns *out (minirt_info_free). */
int minirt_list(const struct minirt_ctx *ctx, struct minirt_info **out, size_t *n,
		struct mini_err **err);
void minirt_info_free(struct minirt_info *v, size_t n);

/* The default config.json (`spec`), and the `features` document. Caller owns the result. */
char *minirt_default_spec(bool rootless);
char *minirt_features(void);

/* CVE-2019-5736: re-executes the running binary from a sealed memfd copy unless it already runs
 * from one, so nothing in a container can reach and overwrite the binary on the host. Returns
 * only on error or when already protected. */
int minirt_ensure_cloned_binary(char **argv, struct mini_err **err);

#endif
