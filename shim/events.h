/* Task events (containerd.events.*) and their topics, built here and queued on the publisher.
 * Type URLs are the bare message names containerd 1.6 resolves ("containerd.events.TaskExit"). */
#ifndef MINI_SHIM_EVENTS_H
#define MINI_SHIM_EVENTS_H

#include "publisher.h"

#include "google/protobuf/timestamp.pb-c.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Go's zero time (0001-01-01T00:00:00Z): what containerd expects for "has not exited". */
#define GO_ZERO_TIME_SECONDS (-62135596800LL)

/* Fills ts from t; a zero t becomes Go's zero time. */
void pb_timestamp(Google__Protobuf__Timestamp *ts, const struct timespec *t);

struct task_create_info {
	const char *container_id, *bundle;
	void *const *rootfs; /* Containerd__Types__Mount * array, borrowed */
	size_t n_rootfs;
	const char *stdin_path, *stdout_path, *stderr_path;
	bool terminal;
	const char *checkpoint;
	uint32_t pid;
};

void event_task_create(struct publisher *p, const struct task_create_info *info);
void event_task_start(struct publisher *p, const char *cid, uint32_t pid);
/* id: the exec id, or the container id for the init. */
void event_task_exit(struct publisher *p, const char *cid, const char *id, uint32_t pid,
		     uint32_t status, const struct timespec *at);
void event_task_delete(struct publisher *p, const char *cid, uint32_t pid, uint32_t status,
		       const struct timespec *at);
void event_exec_added(struct publisher *p, const char *cid, const char *exec_id);
void event_exec_started(struct publisher *p, const char *cid, const char *exec_id, uint32_t pid);
void event_task_paused(struct publisher *p, const char *cid);
void event_task_resumed(struct publisher *p, const char *cid);
void event_task_oom(struct publisher *p, const char *cid);

#endif
