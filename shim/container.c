/* Containers: lookup, Create (rootfs, stdio, runtime create), Exec records, and what the init's
 * exit means for the rest of the container. */
#include "container.h"
#include "cgroup.h"
#include "cleanup.h"
#include "console.h"
#include "events.h"
#include "fs.h"
#include "ids.h"
#include "json.h"
#include "log.h"
#include "mount.h"
#include "oom.h"
#include "options.h"
#include "pidutil.h"
#include "server.h" /* ttrpc */
#include "shim.h"
#include "stdio_set.h"
#include "xalloc.h"

#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct container *
container_find(struct shim *s, const char *id)
{
	struct dlist *pos, *tmp;

	dlist_for_each(pos, tmp, &s->containers)
	{
		struct container *c = dlist_entry(pos, struct container, link);

		if (c->ready && strcmp(c->id, id) == 0)
			return c;
	}
	return NULL;
}

static struct proc *
find_exec(struct container *c, const char *exec_id)
{
	struct dlist *pos, *tmp;

	dlist_for_each(pos, tmp, &c->execs)
	{
		struct proc *p = dlist_entry(pos, struct proc, link);

		if (strcmp(p->id, exec_id) == 0)
			return p;
	}
	return NULL;
}

int
container_lookup(struct shim *s, const char *id, const char *exec_id, struct container **cp,
		 struct proc **pp, struct mini_err **err)
{
	struct container *c = container_find(s, id ? id : "");
	struct proc *p;

	if (c == NULL)
		return mini_err_setc(err, MINI_E_NOTFOUND, 0, "container not created");
	if (exec_id == NULL || *exec_id == '\0') {
		p = c->init;
	} else {
		p = find_exec(c, exec_id);
		if (p == NULL)
			return mini_err_setc(err, MINI_E_NOTFOUND, 0, "process does not exist %s",
					     exec_id);
	}
	*cp = c;
	if (pp)
		*pp = p;
	return 0;
}

void
container_ref(struct container *c)
{
	c->refs++;
}

static void
container_free(struct container *c)
{
	struct dlist *n;

	while ((n = dlist_pop(&c->execs)))
		proc_free(dlist_entry(n, struct proc, link));
	proc_free(c->init);
	oom_watch_free(c->oom);
	shim_cgroup_free(c->cg);
	rt_clear(&c->rt);
	free(c->id);
	free(c->bundle);
	free(c->rootfs);
	free(c);
}

void
container_unref(struct container *c)
{
	if (--c->refs > 0 || !c->removed)
		return;
	container_free(c);
}

void
container_remove(struct container *c)
{
	if (c->removed)
		return;
	c->removed = true;
	c->ready = false;
	dlist_del(&c->link);
	shim_update_idle(c->shim);
	/* No more OOM events for a deleted container. */
	oom_watch_free(c->oom);
	c->oom = NULL;
	if (c->refs == 0)
		container_free(c);
}

void
container_remove_exec(struct container *c, struct proc *p)
{
	dlist_del(&p->link); /* the id is free again; p itself goes when its jobs are done */
}

void
container_on_reaped(const struct reaper_exit *e, void *data)
{
	struct proc *p = data;

	proc_on_exit(p, reaper_exit_code(e->wstatus), &e->at);
}

/* ---- exit ordering -------------------------------------------------------------------------- */

void
container_on_init_exit(struct container *c, int status, const struct timespec *at)
{
	c->init_exited = true;
	/* Without a private pid namespace the kernel leaves the other processes alive. */
	if (c->kill_all_on_exit)
		init_proc_kill_all(c);
	/* A frozen cgroup cannot die: thaw it (the runc shim does the same). */
	if (c->init->state == PROC_PAUSED)
		init_proc_thaw(c);
	if (c->running_execs > 0) {
		/* Every exec reports its exit before the init does (see container_on_reported). */
		c->held_init_exit.valid = true;
		c->held_init_exit.status = status;
		c->held_init_exit.at = *at;
		return;
	}
	proc_report_exit(c->init, status, at);
}

void
container_on_reported(struct container *c, struct proc *p)
{
	if (p->kind == PROC_EXEC && p->counted_running) {
		p->counted_running = false;
		c->running_execs--;
	}
	if (c->running_execs == 0 && c->held_init_exit.valid) {
		struct proc_exit e = c->held_init_exit;

		c->held_init_exit.valid = false;
		proc_report_exit(c->init, e.status, &e.at);
	}
}

/* ---- exec ----------------------------------------------------------------------------------- */

/* The OCI process JSON with "terminal" forced to the request's value, as the runc shim does. */
static int
exec_spec(const uint8_t *spec, size_t len, bool terminal, char **out, struct mini_err **err)
{
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	_cleanup_(yajl_gen_freep) yajl_gen g = NULL;
	_cleanup_free_ char *text = xstrndup((const char *)spec, len);

	if (json_parse(text, "exec process spec", &v, err) < 0)
		return -1;
	if (json_want_object(v, "exec process spec", err) < 0)
		return -1;
	g = json_gen_new(false);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < v->u.object.len; i++) {
		if (strcmp(v->u.object.keys[i], "terminal") == 0)
			continue;
		json_gen_str(g, v->u.object.keys[i]);
		json_gen_value(g, v->u.object.values[i]);
	}
	json_gen_kv_bool(g, "terminal", terminal);
	yajl_gen_map_close(g);
	*out = json_gen_take(g, NULL);
	return 0;
}

int
container_exec(struct container *c, const char *exec_id, bool terminal, const char *in,
	       const char *out, const char *err_path, const char *spec_type, const uint8_t *spec,
	       size_t spec_len, struct mini_err **err)
{
	_cleanup_free_ char *json = NULL;
	struct proc *p;

	if (id_validate(exec_id, "exec id", err) < 0)
		return -1;
	if (find_exec(c, exec_id))
		return mini_err_setc(err, MINI_E_EXISTS, 0, "id %s: already exists", exec_id);
	if (proc_check(c->init, PROC_OP_EXEC, err) < 0)
		return -1;
	if (exec_spec(spec, spec_len, terminal, &json, err) < 0)
		return -1;
	p = proc_new(c, PROC_EXEC, exec_id);
	p->terminal = terminal;
	p->stdin_path = xstrdup(in ? in : "");
	p->stdout_path = xstrdup(out ? out : "");
	p->stderr_path = xstrdup(err_path ? err_path : "");
	p->spec_json = steal_ptr(&json);
	dlist_add_tail(&c->execs, &p->link);
	return 0;
}

/* ---- pids ----------------------------------------------------------------------------------- */

struct pids_call {
	struct container *c;
	struct ttrpc_request *req;
};

static void
reply_pids(struct container *c, struct ttrpc_request *req, yajl_val arr)
{
	Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	size_t n = json_len(arr);
	Containerd__V1__Types__ProcessInfo *infos = xcalloc(n + 1, sizeof(*infos));
	Containerd__V1__Types__ProcessInfo **ptrs = xcalloc(n + 1, sizeof(*ptrs));
	Containerd__Runc__V1__ProcessDetails *details = xcalloc(n + 1, sizeof(*details));
	Google__Protobuf__Any *anys = xcalloc(n + 1, sizeof(*anys));
	uint8_t **bufs = xcalloc(n + 1, sizeof(*bufs));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		yajl_val v = arr->u.array.values[i];
		struct dlist *pos, *tmp;

		if (!YAJL_IS_INTEGER(v))
			continue;
		containerd__v1__types__process_info__init(&infos[k]);
		infos[k].pid = (uint32_t)YAJL_GET_INTEGER(v);
		dlist_for_each(pos, tmp, &c->execs)
		{
			struct proc *p = dlist_entry(pos, struct proc, link);
			size_t len;

			if (p->pid != (pid_t)infos[k].pid)
				continue;
			containerd__runc__v1__process_details__init(&details[k]);
			details[k].exec_id = p->id;
			len = protobuf_c_message_get_packed_size(&details[k].base);
			bufs[k] = xmalloc(len + 1);
			protobuf_c_message_pack(&details[k].base, bufs[k]);
			google__protobuf__any__init(&anys[k]);
			anys[k].type_url = "containerd.runc.v1.ProcessDetails";
			anys[k].value.data = bufs[k];
			anys[k].value.len = len;
			infos[k].info = &anys[k];
			break;
		}
		ptrs[k] = &infos[k];
		k++;
	}
	resp.n_processes = k;
	resp.processes = ptrs;
	ttrpc_reply(req, &resp.base);
	for (size_t i = 0; i < k; i++)
		free(bufs[i]);
	free(bufs);
	free(anys);
	free(details);
	free(ptrs);
	free(infos);
}

static void
on_ps(struct mini_err *err, const char *out, size_t len, void *data)
{
	struct pids_call *pc = data;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;

	if (err == NULL && json_parse(out, "runtime ps output", &v, &err) == 0 &&
	    (YAJL_IS_NULL(v) || json_want_array(v, "runtime ps output", &err) == 0))
		reply_pids(pc->c, pc->req, v); /* null: no processes */
	else
		ttrpc_reply_err(pc->req, err);
	container_unref(pc->c);
	free(pc);
}

void
container_pids(struct container *c, struct ttrpc_request *req)
{
	char *args[] = { "ps", "--format", "json", c->id, NULL };
	struct rt_opts o = {
		.fd_in = -1, .fd_out = -1, .fd_err = -1, .capture = true, .stderr_null = true
	};
	struct pids_call *pc = xcalloc(1, sizeof(*pc));
	struct mini_err *err = NULL;

	pc->c = c;
	pc->req = req;
	container_ref(c);
	if (rt_call(c->shim->loop, &c->shim->reaper, &c->rt, args, &o, on_ps, pc, &err) < 0) {
		ttrpc_reply_err(req, err);
		container_unref(c);
		free(pc);
	}
}
