/* process.scheduler (sched_setattr(2)) and process.ioPriority (ioprio_set(2)): parsed and
 * checked in the parent with the rest of the process's security settings, applied in the child
 * while it still has the privileges a real-time policy needs (before the uid change and capset),
 * for the init and for exec'd processes alike. runc 1.1 predates both fields (it ignores them);
 * the names and checks follow the runtime-spec and runc 1.2. */
#ifndef MINIRT_PROC_SCHED_H
#define MINIRT_PROC_SCHED_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

struct proc_sched {
	bool sched_present;
	uint32_t policy; /* SCHED_* */
	int32_t nice;
	uint32_t priority;
	uint64_t flags; /* SCHED_FLAG_* */
	uint64_t runtime, deadline, period;
	bool ioprio_present;
	int ioprio; /* IOPRIO_PRIO_VALUE(class, priority) */
};

/* Parses process.scheduler and process.ioPriority (borrowed nodes; NULL: absent). Errors name
 * the field ("process.scheduler.policy: unknown policy \"SCHED_FOO\""). */
int proc_sched_parse(yajl_val scheduler, yajl_val io_priority, struct proc_sched *out,
		     struct mini_err **err);

/* In the child: sched_setattr(0, …) and ioprio_set(IOPRIO_WHO_PROCESS, 0, …). */
int proc_sched_apply(const struct proc_sched *s, struct mini_err **err);

#endif
