/* OOM notifications for a container's cgroup, delivered on the loop: cgroup v1 through an eventfd
 * registered on memory.oom_control (cgroup.event_control), cgroup v2 by watching memory.events
 * with inotify and comparing its oom_kill counter. */
#ifndef MINI_SHIM_OOM_H
#define MINI_SHIM_OOM_H

#include "cgroup.h"
#include "err.h"

#include <uv.h>

struct oom_watch;

/* Calls cb(data) for every OOM kill in cg. cg is borrowed and must outlive the watch. Returns
 * NULL with *err set when the cgroup has no memory controller or cannot be watched. */
struct oom_watch *oom_watch_new(uv_loop_t *loop, const struct cgroup *cg, void (*cb)(void *data),
				void *data, struct mini_err **err);
/* Stops watching; frees once the handles are closed. Accepts NULL. */
void oom_watch_free(struct oom_watch *w);

#endif
