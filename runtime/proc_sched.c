/* process.scheduler and process.ioPriority (see proc_sched.h). */
#include "proc_sched.h"
#include "cleanup.h"
#include "json.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Kernel ABI (include/uapi/linux/sched/types.h), spelled out here: <linux/sched.h> clashes with
 * glibc's <sched.h>. */
struct k_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

#define K_SCHED_DEADLINE 6
#define K_IOPRIO_WHO_PROCESS 1
#define K_IOPRIO_CLASS_SHIFT 13

static const char *const policies[] = {
	"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
	"SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
};

static const char *const flag_names[] = {
	"SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
	"SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
	"SCHED_FLAG_UTIL_CLAMP_MAX",
};

static const char *const io_classes[] = { NULL, "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
					  "IOPRIO_CLASS_IDLE" };

static int
index_of(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

static int
opt_range(yajl_val obj, const char *key, const char *path, int64_t min, int64_t max, int64_t *out,
	  struct mini_err **err)
{
	yajl_val v = json_get(obj, key);
	_cleanup_free_ char *p = NULL;

	if (v == NULL)
		return 0;
	p = xasprintf("%s.%s", path, key);
	return json_want_range(v, p, min, max, out, err);
}

static int
parse_flags(yajl_val v, struct proc_sched *s, struct mini_err **err)
{
	const char *path = "process.scheduler.flags";
	size_t i;
	int ret, f;

	if (v == NULL)
		return 0;
	ret = json_want_array(v, path, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < v->u.array.len; i++) {
		const char *name = YAJL_GET_STRING(v->u.array.values[i]);

		if (name == NULL)
			return mini_err_set(err, EINVAL, "%s[%zu]: expected a string", path, i);
		f = index_of(flag_names, 7, name);
		if (f < 0)
			return mini_err_set(err, EINVAL, "%s[%zu]: unknown flag \"%s\"", path, i,
					    name);
		s->flags |= 1ULL << f;
	}
	return 0;
}

static int
parse_scheduler(yajl_val v, struct proc_sched *s, struct mini_err **err)
{
	const char *path = "process.scheduler";
	_cleanup_free_ char *policy = NULL;
	int64_t nice = 0, prio = 0, rt = 0, dl = 0, period = 0;
	int p, ret;

	if ((ret = json_want_object(v, path, err)) < 0)
		return ret;
	if (json_get(v, "policy") &&
	    (ret = json_want_string(json_get(v, "policy"), "process.scheduler.policy", &policy,
				    err)) < 0)
		return ret;
	if (policy == NULL)
		return mini_err_set(err, EINVAL, "%s.policy: required", path);
	p = index_of(policies, 7, policy);
	if (p < 0)
		return mini_err_set(err, EINVAL, "%s.policy: unknown policy \"%s\"", path, policy);
	if ((ret = opt_range(v, "nice", path, -20, 19, &nice, err)) < 0 ||
	    (ret = opt_range(v, "priority", path, 0, 99, &prio, err)) < 0 ||
	    (ret = opt_range(v, "runtime", path, 0, INT64_MAX, &rt, err)) < 0 ||
	    (ret = opt_range(v, "deadline", path, 0, INT64_MAX, &dl, err)) < 0 ||
	    (ret = opt_range(v, "period", path, 0, INT64_MAX, &period, err)) < 0 ||
	    (ret = parse_flags(json_get(v, "flags"), s, err)) < 0)
		return ret;
	/* The kernel's rules, reported with the field instead of a bare EINVAL. */
	if ((p == 1 || p == 2) && prio < 1)
		return mini_err_set(err, EINVAL, "%s.priority: %s needs a priority of 1 to 99",
				    path, policy);
	if (p != 1 && p != 2 && prio != 0)
		return mini_err_set(err, EINVAL, "%s.priority: must be 0 for %s", path, policy);
	if (p == K_SCHED_DEADLINE && (rt == 0 || dl == 0))
		return mini_err_set(err, EINVAL, "%s: SCHED_DEADLINE needs runtime and deadline",
				    path);
	s->sched_present = true;
	s->policy = (uint32_t)p;
	s->nice = (int32_t)nice;
	s->priority = (uint32_t)prio;
	s->runtime = (uint64_t)rt;
	s->deadline = (uint64_t)dl;
	s->period = (uint64_t)period;
	return 0;
}

static int
parse_ioprio(yajl_val v, struct proc_sched *s, struct mini_err **err)
{
	const char *path = "process.ioPriority";
	_cleanup_free_ char *cls = NULL;
	int64_t prio = 0;
	int c, ret;

	if ((ret = json_want_object(v, path, err)) < 0)
		return ret;
	if (json_get(v, "class") &&
	    (ret = json_want_string(json_get(v, "class"), "process.ioPriority.class", &cls, err)) <
		    0)
		return ret;
	c = cls ? index_of(io_classes, 4, cls) : -1;
	if (c < 0)
		return mini_err_set(err, EINVAL, "%s.class: unknown class \"%s\"", path,
				    cls ? cls : "");
	if ((ret = opt_range(v, "priority", path, 0, 7, &prio, err)) < 0)
		return ret;
	s->ioprio_present = true;
	s->ioprio = (c << K_IOPRIO_CLASS_SHIFT) | (int)prio;
	return 0;
}

int
proc_sched_parse(yajl_val scheduler, yajl_val io_priority, struct proc_sched *out,
		 struct mini_err **err)
{
	int ret;

	*out = (struct proc_sched){ 0 };
	if (scheduler && (ret = parse_scheduler(scheduler, out, err)) < 0)
		return ret;
	if (io_priority && (ret = parse_ioprio(io_priority, out, err)) < 0)
		return ret;
	return 0;
}

int
proc_sched_apply(const struct proc_sched *s, struct mini_err **err)
{
	if (s->sched_present) {
		struct k_sched_attr a = {
			.size = sizeof(a),
			.sched_policy = s->policy,
			.sched_flags = s->flags,
			.sched_nice = s->nice,
			.sched_priority = s->priority,
			.sched_runtime = s->runtime,
			.sched_deadline = s->deadline,
			.sched_period = s->period,
		};

		if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
			return mini_err_set(err, errno, "process.scheduler: sched_setattr %s",
					    policies[s->policy]);
	}
	if (s->ioprio_present && syscall(SYS_ioprio_set, K_IOPRIO_WHO_PROCESS, 0, s->ioprio) < 0)
		return mini_err_set(err, errno, "process.ioPriority: ioprio_set");
	return 0;
}
