/* A container's cgroup, found from its init's /proc/<pid>/cgroup: the per-controller directories
 * on cgroup v1 hosts, or the one directory on v2 (unified) hosts. Used for Stats (the Metrics
 * containerd's `ctr task metrics` decodes) and OOM notifications. */
#ifndef MINI_SHIM_CGROUP_H
#define MINI_SHIM_CGROUP_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup;

/* Where the hierarchy is mounted (tests point this elsewhere). */
#define CGROUP_ROOT "/sys/fs/cgroup"

/* Loads the cgroup of pid. Caller owns the result. NULL with *err set when it cannot be read. */
struct cgroup *shim_cgroup_load(pid_t pid, struct mini_err **err);
/* Same from the text of a /proc/<pid>/cgroup file, with the hierarchy at root (unit tests). */
struct cgroup *shim_cgroup_parse(const char *proc_cgroup, const char *root, bool unified);
void shim_cgroup_free(struct cgroup *cg);

bool shim_cgroup_is_v2(const struct cgroup *cg);
/* The directory of a controller ("memory", "cpuacct" …) or the v2 directory; NULL if absent. */
const char *shim_cgroup_dir(const struct cgroup *cg, const char *controller);
/* True if the cgroup directory still exists (the container may be gone). */
bool shim_cgroup_exists(const struct cgroup *cg);

/* Reads the statistics and packs them as io.containerd.cgroups.v1.Metrics or .v2.Metrics.
 * *type_url is static; *value is owned by the caller. */
int shim_cgroup_stats(const struct cgroup *cg, const char **type_url, uint8_t **value, size_t *len,
		      struct mini_err **err);

/* True when the host mounts cgroup v2 alone at CGROUP_ROOT. */
bool shim_cgroup_unified_host(void);

#endif
