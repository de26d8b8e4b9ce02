/* The container's init, from clone() to execve(), and the rootfs steps it runs. The parent
 * (container.c) fills `struct init_config` before clone(); the child only reads it.
 *
 * The sync protocol, numbered on both sides (container.c: P<n>, init.c: C<n>):
 *   C1  close every fd the container must not see; join namespaces given by path
 *   C2  if a pid namespace is joined: fork; the middle process sends SYNC_PID and exits
 *   P1  (after SYNC_PID) reap the middle process
 *   P2  oom_score_adj, cgroup placement; send SYNC_GO with the state JSON for hooks
 *   C3  receive SYNC_GO; unshare the cgroup namespace (now rooted at the container's cgroup)
 *   C4  rootfs: propagation, bind, mounts, /dev
 *   C5  SYNC_HOOKS → P3 prestart + createRuntime hooks → SYNC_HOOKS_DONE; createContainer hooks
 *   C6  pivot_root, console, root read-only, hostname, sysctl, read-only and masked paths
 *   C7  rlimits, capabilities + user + seccomp (security.h; a NOTIFY listener goes to the parent
 *       with SYNC_SECCOMP → P4 hands it to the agent), cwd, executable lookup, fds;
 *       SYNC_READY → P5 state.json, pid file
 *   C8  wait on the exec FIFO (`start`), startContainer hooks, execve */
#ifndef MINIRT_INIT_H
#define MINIRT_INIT_H

#include "cgroup.h"
#include "err.h"
#include "security.h"
#include "spec.h"

#include <stdbool.h>

struct init_config {
	const struct minirt_spec *spec;
	const struct spec_process *process;
	const char *id;
	const char *bundle;
	const char *rootfs;		    /* absolute, symlinks resolved */
	const struct cgroup *cg;	    /* for cgroup mounts; may be NULL */
	const struct process_security *sec; /* capabilities and the compiled seccomp filter */
	int sync_fd;			    /* the child's end of the sync pair */
	int fifo_fd;			    /* read end of exec.fifo */
	int console_fd;			    /* connected --console-socket, or -1 */
	int ns_fds[SPEC_NS_COUNT];	    /* namespaces to join, or -1 */
	bool join_pid;			    /* a pid namespace is joined: fork once more */
	bool new_cgroupns;		    /* unshare(CLONE_NEWCGROUP) after the cgroup move */
	bool no_pivot;
	unsigned preserve_fds;
	int log_fd;	/* kept open for the child's debug lines, or -1 */
	int *idmap_fds; /* per mount: an id-mapped tree the parent opened, or -1; NULL: none */
};

/* The child after clone(). Never returns. */
void init_main(const struct init_config *c) __attribute__((noreturn));

/* mounts.c: for a container with a user namespace, the parent opens the id-mapped mounts
 * before the clone (from inside that namespace the kernel refuses to put a mapping on a mount)
 * and the init attaches them at C4. Fills c->idmap_fds; rootfs_close_idmapped releases them. */
int rootfs_open_idmapped(struct init_config *c, struct mini_err **err);
void rootfs_close_idmapped(struct init_config *c);

/* mounts.c: C4 and C6. */
int rootfs_prepare(const struct init_config *c, struct mini_err **err);
int rootfs_pivot(const struct init_config *c, struct mini_err **err);
int rootfs_finalize(const struct init_config *c, struct mini_err **err);
/* masked and read-only paths, after sysctl */
int rootfs_protect_paths(const struct init_config *c, struct mini_err **err);

/* devices.c: default devices, linux.devices, the /dev symlinks and ptmx, below rootfd. */
int dev_setup(const struct init_config *c, int rootfd, struct mini_err **err);

#endif
