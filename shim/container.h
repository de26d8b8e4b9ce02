/* A container served by this shim: its bundle, rootfs mounts, runtime settings, its init process
 * and exec processes, cgroup and OOM watch.
 *
 * Lifetime: registered in shim->containers when Create succeeds, removed by Delete of the init.
 * Asynchronous work (runtime calls, output drains) holds a reference, so the struct outlives its
 * removal until the last callback has run. */
#ifndef MINI_SHIM_CONTAINER_H
#define MINI_SHIM_CONTAINER_H

#include "dlist.h"
#include "err.h"
#include "process.h"
#include "runtime_client.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct shim;
struct cgroup;
struct oom_watch;
struct ttrpc_request;

struct container {
	struct dlist link;
	struct shim *shim;
	char *id, *bundle;
	char *rootfs; /* <bundle>/rootfs when the shim mounted it, else NULL */
	struct rt rt;
	bool no_pivot_root, no_new_keyring;
	uid_t io_uid;
	gid_t io_gid;
	struct proc *init;
	struct dlist execs;	/* struct proc, by link */
	unsigned running_execs; /* execs started (or starting) and not yet reported exited */
	bool init_exited;	/* the init was reaped (its exit may still be held back) */
	bool kill_all_on_exit;	/* no private pid namespace: kill the cgroup when the init exits */
	struct proc_exit held_init_exit; /* held until running_execs drops to 0 */
	struct cgroup *cg;
	struct oom_watch *oom;
	int refs;
	bool ready;   /* Create succeeded: visible to lookups */
	bool removed; /* deleted: gone from shim->containers */
};

/* The container with that id, or NULL. */
struct container *container_find(struct shim *s, const char *id);
/* Looks up a container and one of its processes (exec_id "" = init) the way the runc shim does:
 * NotFound "container not created", NotFound "process does not exist <id>". */
int container_lookup(struct shim *s, const char *id, const char *exec_id, struct container **c,
		     struct proc **p, struct mini_err **err);

void container_ref(struct container *c);
/* Drops a reference; frees the container once removed and unreferenced. */
void container_unref(struct container *c);

/* Create: takes req (the ttrpc request; the decoded CreateTaskRequest is `msg`, taken too) and
 * answers it when the runtime is done. */
void container_rpc_create(struct shim *s, struct ttrpc_request *req, void *msg);

/* Exec: records a new exec process (CREATED) from an ExecProcessRequest. */
int container_exec(struct container *c, const char *exec_id, bool terminal, const char *in,
		   const char *out, const char *err_path, const char *spec_type,
		   const uint8_t *spec, size_t spec_len, struct mini_err **err);

/* Removes an exec after its Delete. */
void container_remove_exec(struct container *c, struct proc *p);
/* Removes the container from the shim after the init's Delete (frees once unreferenced). */
void container_remove(struct container *c);

/* Reaper callback for container processes (data: the struct proc). */
void container_on_reaped(const struct reaper_exit *e, void *data);

/* The init was reaped: kill the rest if needed, thaw, and report now or once execs are done. */
void container_on_init_exit(struct container *c, int status, const struct timespec *at);
/* An exit was reported (after drain); lets a held init exit through when the last exec is done. */
void container_on_reported(struct container *c, struct proc *p);

/* After the init's exit (init_proc.c): SIGKILL whatever is left in the container, and thaw a
 * paused container so that it can die. Outcomes are logged. */
void init_proc_kill_all(struct container *c);
void init_proc_thaw(struct container *c);

/* Pids in the container (runtime ps), for Pids. Answers req. */
void container_pids(struct container *c, struct ttrpc_request *req);

#endif
