/* The containerd.task.v2.Task service: one handler per RPC. Each decodes its request, finds the
 * container and process, and either answers at once or hands the request to a job, a parked
 * Wait, or the Create pipeline, which answer later. */
#include "cgroup.h"
#include "container.h"
#include "events.h"
#include "log.h"
#include "server.h" /* ttrpc */
#include "shim.h"
#include "stdio_set.h"
#include "task_service.h"
#include "xalloc.h"

#include "containerd/task/v2/shim.pb-c.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Decodes the request payload as d; answers Internal and returns NULL when it does not decode,
 * as the Go ttrpc server does. */
static void *
decode(struct ttrpc_request *req, const ProtobufCMessageDescriptor *d)
{
	size_t len = 0;
	const uint8_t *buf = ttrpc_request_payload(req, &len);
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, buf);

	if (m == NULL) {
		ttrpc_reply_status(req, MINI_E_INTERNAL, "%s: cannot decode %s",
				   ttrpc_request_method(req), d->name);
		return NULL;
	}
	log_debug("rpc %s", ttrpc_request_method(req));
	return m;
}

static void
release(void *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

#define DECODE(req, var, type, desc)                                             \
	type *var __attribute__((cleanup(release_##type))) = decode(req, &desc); \
	if (var == NULL)                                                         \
		return;

#define RELEASER(type)                              \
	static inline void release_##type(type **m) \
	{                                           \
		release(*m);                        \
	}

RELEASER(Containerd__Task__V2__StateRequest)
RELEASER(Containerd__Task__V2__StartRequest)
RELEASER(Containerd__Task__V2__DeleteRequest)
RELEASER(Containerd__Task__V2__PidsRequest)
RELEASER(Containerd__Task__V2__PauseRequest)
RELEASER(Containerd__Task__V2__ResumeRequest)
RELEASER(Containerd__Task__V2__CheckpointTaskRequest)
RELEASER(Containerd__Task__V2__KillRequest)
RELEASER(Containerd__Task__V2__ExecProcessRequest)
RELEASER(Containerd__Task__V2__ResizePtyRequest)
RELEASER(Containerd__Task__V2__CloseIORequest)
RELEASER(Containerd__Task__V2__UpdateTaskRequest)
RELEASER(Containerd__Task__V2__WaitRequest)
RELEASER(Containerd__Task__V2__StatsRequest)
RELEASER(Containerd__Task__V2__ConnectRequest)
RELEASER(Containerd__Task__V2__ShutdownRequest)

/* Finds (container, process) or answers the lookup error. */
static bool
lookup(struct shim *s, struct ttrpc_request *req, const char *id, const char *exec_id,
       struct container **c, struct proc **p)
{
	struct mini_err *err = NULL;

	if (container_lookup(s, id, exec_id, c, p, &err) < 0) {
		ttrpc_reply_err(req, err);
		return false;
	}
	return true;
}

static void
submit(struct proc *p, enum proc_job_kind kind, struct ttrpc_request *req)
{
	proc_submit(p, proc_job_new(kind, req));
}

static void
on_create(struct ttrpc_request *req, void *data)
{
	void *m = decode(req, &containerd__task__v2__create_task_request__descriptor);

	if (m)
		container_rpc_create(data, req, m);
}

static void
on_state(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__StateRequest,
	       containerd__task__v2__state_request__descriptor);
	Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct container *c;
	struct proc *p;

	if (!lookup(data, req, m->id, m->exec_id, &c, &p))
		return;
	resp.id = p->kind == PROC_INIT ? c->id : p->id;
	resp.bundle = c->bundle;
	resp.pid = (uint32_t)p->pid;
	resp.status = proc_status(p);
	resp.stdin = p->stdin_path;
	resp.stdout = p->stdout_path;
	resp.stderr = p->stderr_path;
	resp.terminal = p->terminal;
	resp.exit_status = (uint32_t)p->exit_status;
	pb_timestamp(&ts, &p->exited_at);
	resp.exited_at = &ts;
	ttrpc_reply(req, &resp.base);
}

static void
on_start(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__StartRequest,
	       containerd__task__v2__start_request__descriptor);
	struct container *c;
	struct proc *p;

	if (lookup(data, req, m->id, m->exec_id, &c, &p))
		submit(p, JOB_START, req);
}

static void
on_delete(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__DeleteRequest,
	       containerd__task__v2__delete_request__descriptor);
	struct container *c;
	struct proc *p;

	if (lookup(data, req, m->id, m->exec_id, &c, &p))
		submit(p, JOB_DELETE, req);
}

static void
on_pids(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__PidsRequest,
	       containerd__task__v2__pids_request__descriptor);
	struct container *c;

	if (lookup(data, req, m->id, NULL, &c, NULL))
		container_pids(c, req);
}

static void
on_pause(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__PauseRequest,
	       containerd__task__v2__pause_request__descriptor);
	struct container *c;
	struct proc *p;

	if (lookup(data, req, m->id, NULL, &c, &p))
		submit(p, JOB_PAUSE, req);
}

static void
on_resume(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__ResumeRequest,
	       containerd__task__v2__resume_request__descriptor);
	struct container *c;
	struct proc *p;

	if (lookup(data, req, m->id, NULL, &c, &p))
		submit(p, JOB_RESUME, req);
}

static void
on_checkpoint(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__CheckpointTaskRequest,
	       containerd__task__v2__checkpoint_task_request__descriptor);
	struct container *c;
	struct proc *p;

	if (lookup(data, req, m->id, NULL, &c, &p))
		ttrpc_reply_status(req, MINI_E_UNIMPLEMENTED,
				   "checkpoint is not supported by io.containerd.mini.v2 "
				   "(CRIU does not run on this kernel)");
}

static void
on_kill(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__KillRequest,
	       containerd__task__v2__kill_request__descriptor);
	struct container *c;
	struct proc *p;
	struct proc_job *j;

	if (!lookup(data, req, m->id, m->exec_id, &c, &p))
		return;
	j = proc_job_new(JOB_KILL, req);
	j->signal = m->signal;
	j->all = m->all;
	proc_submit(p, j);
}

static void
on_exec(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__ExecProcessRequest,
	       containerd__task__v2__exec_process_request__descriptor);
	struct shim *s = data;
	struct mini_err *err = NULL;
	struct container *c;

	if (!lookup(s, req, m->id, NULL, &c, NULL))
		return;
	if (m->spec == NULL) {
		ttrpc_reply_status(req, MINI_E_INVALID, "exec %s: no process spec", m->exec_id);
		return;
	}
	if (container_exec(c, m->exec_id, m->terminal, m->stdin, m->stdout, m->stderr,
			   m->spec->type_url, m->spec->value.data, m->spec->value.len, &err) < 0) {
		ttrpc_reply_err(req, err);
		return;
	}
	event_exec_added(s->pub, c->id, m->exec_id);
	ttrpc_reply(req, NULL);
}

static void
on_resize_pty(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__ResizePtyRequest,
	       containerd__task__v2__resize_pty_request__descriptor);
	struct mini_err *err = NULL;
	struct container *c;
	struct proc *p;

	if (!lookup(data, req, m->id, m->exec_id, &c, &p))
		return;
	if (proc_check(p, PROC_OP_RESIZE, &err) < 0 ||
	    stdio_resize(p->io, m->width, m->height, &err) < 0) {
		ttrpc_reply_err(req, err);
		return;
	}
	ttrpc_reply(req, NULL);
}

static void
on_close_io(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__CloseIORequest,
	       containerd__task__v2__close_iorequest__descriptor);
	struct container *c;
	struct proc *p;

	if (!lookup(data, req, m->id, m->exec_id, &c, &p))
		return;
	stdio_close_stdin(p->io);
	ttrpc_reply(req, NULL);
}

static void
on_update(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__UpdateTaskRequest,
	       containerd__task__v2__update_task_request__descriptor);
	struct container *c;
	struct proc *p;
	struct proc_job *j;

	if (!lookup(data, req, m->id, NULL, &c, &p))
		return;
	if (m->resources == NULL) {
		ttrpc_reply_status(req, MINI_E_INVALID, "update %s: no resources", m->id);
		return;
	}
	j = proc_job_new(JOB_UPDATE, req);
	j->input = xmalloc(m->resources->value.len + 1);
	memcpy(j->input, m->resources->value.data, m->resources->value.len);
	j->input_len = m->resources->value.len;
	proc_submit(p, j);
}

static void
on_wait(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__WaitRequest,
	       containerd__task__v2__wait_request__descriptor);
	struct container *c;
	struct proc *p;

	if (lookup(data, req, m->id, m->exec_id, &c, &p))
		proc_wait(p, req);
}

static void
on_stats(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__StatsRequest,
	       containerd__task__v2__stats_request__descriptor);
	Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	struct mini_err *err = NULL;
	const char *type_url;
	struct container *c;
	uint8_t *value = NULL;
	size_t len = 0;

	if (!lookup(data, req, m->id, NULL, &c, NULL))
		return;
	if (c->cg == NULL) {
		ttrpc_reply_status(req, MINI_E_NOTFOUND, "cgroup does not exist");
		return;
	}
	if (shim_cgroup_stats(c->cg, &type_url, &value, &len, &err) < 0) {
		ttrpc_reply_err(req, err);
		return;
	}
	any.type_url = (char *)type_url;
	any.value.data = value;
	any.value.len = len;
	resp.stats = &any;
	ttrpc_reply(req, &resp.base);
	free(value);
}

static void
on_connect(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__ConnectRequest,
	       containerd__task__v2__connect_request__descriptor);
	Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	struct container *c = container_find(data, m->id);

	resp.shim_pid = (uint32_t)getpid();
	resp.task_pid = c ? (uint32_t)c->init->pid : 0;
	ttrpc_reply(req, &resp.base);
}

static void
on_shutdown(struct ttrpc_request *req, void *data)
{
	DECODE(req, m, Containerd__Task__V2__ShutdownRequest,
	       containerd__task__v2__shutdown_request__descriptor);
	struct shim *s = data;

	ttrpc_reply(req, NULL);
	/* Still serving a container (containerd sends Shutdown after every Delete, and grouped
	 * containers share this shim), or one is being created: nothing to do. */
	if (!dlist_empty(&s->containers) || s->creating > 0)
		return;
	shim_shutdown(s);
}

static const struct {
	const char *method;
	ttrpc_handler_fn fn;
} methods[] = {
	{ "State", on_state },
	{ "Create", on_create },
	{ "Start", on_start },
	{ "Delete", on_delete },
	{ "Pids", on_pids },
	{ "Pause", on_pause },
	{ "Resume", on_resume },
	{ "Checkpoint", on_checkpoint },
	{ "Kill", on_kill },
	{ "Exec", on_exec },
	{ "ResizePty", on_resize_pty },
	{ "CloseIO", on_close_io },
	{ "Update", on_update },
	{ "Wait", on_wait },
	{ "Stats", on_stats },
	{ "Connect", on_connect },
	{ "Shutdown", on_shutdown },
};

void
task_service_register(struct ttrpc_server *srv, struct shim *s)
{
	/* v3 has the same messages; containerd 2.x only uses it with shims that ask for it. */
	static const char *const services[] = { "containerd.task.v2.Task",
						"containerd.task.v3.Task" };

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			ttrpc_server_register(srv, services[k], methods[i].method, methods[i].fn,
					      s);
}
