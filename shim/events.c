#include "events.h"
#include "xalloc.h"

#include "containerd/events/task.pb-c.h"

#include <stdlib.h>

void
pb_timestamp(Google__Protobuf__Timestamp *ts, const struct timespec *t)
{
	if (t == NULL || (t->tv_sec == 0 && t->tv_nsec == 0)) {
		ts->seconds = GO_ZERO_TIME_SECONDS;
		ts->nanos = 0;
		return;
	}
	ts->seconds = t->tv_sec;
	ts->nanos = (int32_t)t->tv_nsec;
}

/* Packs msg and queues it. The strings inside msg are only borrowed for the call. */
static void
post(struct publisher *p, const char *topic, const char *type_url, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = xmalloc(len ? len : 1);

	protobuf_c_message_pack(msg, buf);
	publisher_post(p, topic, type_url, buf, len);
}

/* protobuf-c wants char * for strings it only reads when packing. */
#define S(x) ((char *)((x) ? (x) : ""))

void
event_task_create(struct publisher *p, const struct task_create_info *info)
{
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;

	ev.container_id = S(info->container_id);
	ev.bundle = S(info->bundle);
	ev.n_rootfs = info->n_rootfs;
	ev.rootfs = (Containerd__Types__Mount **)info->rootfs;
	io.stdin = S(info->stdin_path);
	io.stdout = S(info->stdout_path);
	io.stderr = S(info->stderr_path);
	io.terminal = info->terminal;
	ev.io = &io;
	ev.checkpoint = S(info->checkpoint);
	ev.pid = info->pid;
	post(p, "/tasks/create", "containerd.events.TaskCreate", &ev.base);
}

void
event_task_start(struct publisher *p, const char *cid, uint32_t pid)
{
	Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;

	ev.container_id = S(cid);
	ev.pid = pid;
	post(p, "/tasks/start", "containerd.events.TaskStart", &ev.base);
}

void
event_task_exit(struct publisher *p, const char *cid, const char *id, uint32_t pid, uint32_t status,
		const struct timespec *at)
{
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	pb_timestamp(&ts, at);
	ev.container_id = S(cid);
	ev.id = S(id);
	ev.pid = pid;
	ev.exit_status = status;
	ev.exited_at = &ts;
	post(p, "/tasks/exit", "containerd.events.TaskExit", &ev.base);
}

void
event_task_delete(struct publisher *p, const char *cid, uint32_t pid, uint32_t status,
		  const struct timespec *at)
{
	Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	pb_timestamp(&ts, at);
	ev.container_id = S(cid);
	ev.pid = pid;
	ev.exit_status = status;
	ev.exited_at = &ts;
	post(p, "/tasks/delete", "containerd.events.TaskDelete", &ev.base);
}

void
event_exec_added(struct publisher *p, const char *cid, const char *exec_id)
{
	Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;

	ev.container_id = S(cid);
	ev.exec_id = S(exec_id);
	post(p, "/tasks/exec-added", "containerd.events.TaskExecAdded", &ev.base);
}

void
event_exec_started(struct publisher *p, const char *cid, const char *exec_id, uint32_t pid)
{
	Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;

	ev.container_id = S(cid);
	ev.exec_id = S(exec_id);
	ev.pid = pid;
	post(p, "/tasks/exec-started", "containerd.events.TaskExecStarted", &ev.base);
}

void
event_task_paused(struct publisher *p, const char *cid)
{
	Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;

	ev.container_id = S(cid);
	post(p, "/tasks/paused", "containerd.events.TaskPaused", &ev.base);
}

void
event_task_resumed(struct publisher *p, const char *cid)
{
	Containerd__Events__TaskResumed ev = CONTAINERD__EVENTS__TASK_RESUMED__INIT;

	ev.container_id = S(cid);
	post(p, "/tasks/resumed", "containerd.events.TaskResumed", &ev.base);
}

void
event_task_oom(struct publisher *p, const char *cid)
{
	Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;

	ev.container_id = S(cid);
	post(p, "/tasks/oom", "containerd.events.TaskOOM", &ev.base);
}
