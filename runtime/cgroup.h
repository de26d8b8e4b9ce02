/* Container cgroups: one `struct cgroup_ops` per mode (v1: a hierarchy per controller, as this
 * machine has; v2: the unified hierarchy). The mode is detected at run time. A `struct cgroup`
 * is the container's set of directories, one per hierarchy it belongs to; it is saved in
 * state.json so later commands (kill --all, ps, pause, delete) use the same directories even when
 * the path was relative to the cgroup of the `create` process. */
#ifndef MINIRT_CGROUP_H
#define MINIRT_CGROUP_H

#include "err.h"
#include "spec.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

enum cgroup_mode {
	CGROUP_MODE_V1,
	CGROUP_MODE_V2,
};

/* One hierarchy the container belongs to. */
struct cgroup_hier {
	char *name;	  /* v1: the mount's controllers ("memory", "cpu,cpuacct", "name=systemd");
			     "" for the unified (v2) hierarchy */
	char *mountpoint; /* /sys/fs/cgroup/memory */
	char *dir;	  /* the container's directory in it */
	bool optional;	  /* failures are ignored (the hybrid unified hierarchy under v1) */
};

struct cgroup {
	const struct cgroup_ops *ops;
	char *path; /* the container's path below the hierarchy roots */
	struct cgroup_hier *hiers;
	size_t n_hiers;
	/* Rootless (not uid 0, or in a user namespace) without a cgroupsPath: as runc, a
	 * hierarchy we may not create or join is dropped instead of failing (create only). */
	bool rootless;
};

struct cgroup_ops {
	enum cgroup_mode mode;
	const char *name; /* "v1", "v2" */
	/* Creates the container's directories (existing ones are fine). */
	int (*create)(struct cgroup *cg, struct mini_err **err);
	/* Writes the resource limits present in r (absent and zero values are left alone, as
	 * runc does); `update` is set for `minirun update` (live values). Devices are not
	 * resources here: see set_devices. */
	int (*apply)(struct cgroup *cg, const struct spec_resources *r, bool update,
		     struct mini_err **err);
	/* Installs the device rules (cgroup_devices.h); create only, as runc never changes
	 * them on update. */
	int (*set_devices)(struct cgroup *cg, const struct spec_dev_rule *rules, size_t n,
			   struct mini_err **err);
	/* Moves pid (0: the caller) into every hierarchy. */
	int (*enter)(struct cgroup *cg, pid_t pid, struct mini_err **err);
	/* Freezes or thaws, and waits until the kernel reports the new state. */
	int (*freeze)(struct cgroup *cg, bool frozen, struct mini_err **err);
	int (*is_frozen)(struct cgroup *cg, bool *frozen, struct mini_err **err);
	/* Removes the directories (and sub-cgroups the container made); missing ones are fine. */
	int (*destroy)(struct cgroup *cg, struct mini_err **err);
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

/* Resolves the container's directories: an absolute cgroups_path is below each hierarchy's root
 * (containerd passes "/<namespace>/<id>"), a relative one below the caller's own cgroup, and an
 * empty one means the relative path "<id>" (runc's behaviour). Nothing is created. */
int cgroup_new(const char *cgroups_path, const char *id, struct cgroup **out,
	       struct mini_err **err);
void cgroup_free(struct cgroup *cg);
void cgroup_freep(struct cgroup **cg);

/* state.json round trip: {"mode":"v1","path":…,"dirs":{"memory":"/sys/fs/cgroup/memory/…",…}} */
void cgroup_to_json(const struct cgroup *cg, yajl_gen g);
int cgroup_from_json(yajl_val v, struct cgroup **out, struct mini_err **err);

/* True for the errors a rootless container's cgroup steps may ignore (EACCES, EPERM, EROFS). */
bool cgroup_denied(int errnum);
/* Removes hierarchy i from cg (rootless). */
void cgroup_drop_hier(struct cgroup *cg, size_t i);

/* The container's directory in the hierarchy that has `controller` (v1), or the unified one
 * (v2 or controller NULL in v2). NULL if none. */
const char *cgroup_dir_for(const struct cgroup *cg, const char *controller);

/* All pids in the container's cgroup, sub-cgroups included. Caller owns *pids. */
int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n, struct mini_err **err);
/* Sends sig to every pid in the cgroup; ESRCH races are ignored. */
int cgroup_signal_all(const struct cgroup *cg, int sig, struct mini_err **err);

/* Helpers for the implementations. */
int cgroup_write(const char *dir, const char *file, const char *value, struct mini_err **err);
/* cgroup_write of a formatted value. */
int cgroup_writef(const char *dir, const char *file, struct mini_err **err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int cgroup_read(const char *dir, const char *file, char **out, struct mini_err **err);
/* rmdir of dir and every sub-directory, depth first, retrying EBUSY briefly. */
int cgroup_rmdir_tree(const char *dir, struct mini_err **err);

/* True when this process runs in a user namespace other than the initial one (as runc, the
 * devices cgroup is then left alone: the kernel would refuse it anyway). */
bool cgroup_in_userns(void);

/* runc's v1 → v2 conversions: cpu.shares → cpu.weight, blkio.weight → io.weight (0 stays 0). */
uint64_t cgroup_shares_to_weight(uint64_t shares);
uint64_t cgroup_blkio_to_io_weight(uint64_t weight);

/* True if the space-separated list (cgroup.controllers) has the word. */
bool word_in(const char *list, const char *word);

/* The `events --stats` line for the container: {"type":"stats","id":…,"data":{…}} in runc's
 * format. Caller owns *out. */
int cgroup_stats_json(const struct cgroup *cg, const char *id, char **out, struct mini_err **err);

/* rdma.max lines, the same in v1 and v2. */
int cgroup_rdma_apply(const char *dir, const struct spec_resources *r, struct mini_err **err);

/* The first controller r sets a limit for (v1 names: "memory", "cpu" …), or NULL. */
const char *cgroup_limit_wanted(const struct spec_resources *r);

/* v1 resources (cgroup_v1_apply.c): the `apply` of cgroup_v1_ops. */
int cgroup_v1_apply(struct cgroup *cg, const struct spec_resources *r, bool update,
		    struct mini_err **err);

#endif
