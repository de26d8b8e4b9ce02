/* The state directory of a container, <root>/<id>/ (mode 0700, like runc's):
 *   state.json   what later commands need (pid and its start time, bundle, cgroup …), atomic
 *   config.json  a frozen copy of the bundle's config, so exec and delete never re-read the bundle
 *   exec.fifo    present from create until start: `created` vs `running`
 * The directory fd is flock()ed for the whole of every command on the container. */
#ifndef MINIRT_STATE_H
#define MINIRT_STATE_H

#include "cgroup.h"
#include "err.h"
#include "spec.h"

#include <stdbool.h>
#include <sys/types.h>

enum container_status {
	STATUS_CREATING,
	STATUS_CREATED,
	STATUS_RUNNING,
	STATUS_PAUSED,
	STATUS_STOPPED,
};

const char *status_name(enum container_status s);

struct state_dir {
	char *path; /* <root>/<id> */
	char *id;
	int fd; /* locked */
};

struct container_state {
	char *id;
	pid_t pid;
	unsigned long long start_time;
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339, nanoseconds */
	char *owner;
	bool new_pid_ns;
	struct cgroup *cg; /* NULL when none */
	struct spec_kv *annotations;
	size_t annotations_len;
};

/* Creates <root>/<id> and locks it. EEXIST (AlreadyExists) when the id is taken. */
int state_dir_create(const char *root, const char *id, struct state_dir **out,
		     struct mini_err **err);
/* Opens and locks an existing state dir. ENOENT "container <id> does not exist". */
int state_dir_open(const char *root, const char *id, struct state_dir **out, struct mini_err **err);
/* Unlocks and frees. */
void state_dir_free(struct state_dir *sd);
void state_dir_freep(struct state_dir **sd);
/* Removes the directory and its files (still locked until state_dir_free). */
int state_dir_remove(struct state_dir *sd, struct mini_err **err);
/* <dir>/<name>. Caller owns the result. */
char *state_dir_file(const struct state_dir *sd, const char *name);

int state_save(const struct state_dir *sd, const struct container_state *st, struct mini_err **err);
int state_load(const struct state_dir *sd, struct container_state **out, struct mini_err **err);
void container_state_free(struct container_state *st);
void container_state_freep(struct container_state **st);

/* created / running / paused / stopped, from the pid, the exec FIFO and the freezer. */
enum container_status state_status(const struct state_dir *sd, const struct container_state *st);

/* The OCI state JSON. With `full`, also rootfs, created and owner as `runc state` prints them
 * (pretty, two spaces); otherwise compact, as hooks receive it. Caller owns the result. */
char *state_oci_json(const struct container_state *st, enum container_status status, bool full,
		     bool pretty);

/* The time now as RFC 3339 with nanoseconds ("2026-11-22T17:30:01.123456789Z"). */
char *state_now_rfc3339(void);

#endif
