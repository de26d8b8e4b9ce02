/* The Task shortcuts: state, pids, kill, wait, stats, pause, resume, delete, connect, shutdown.
 * Each builds its request from flags and prints the reply (human form, or --json). */
#include "shimctl.h"

#include "cleanup.h"
#include "xalloc.h"

#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "google/protobuf/empty.pb-c.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { TA_EXEC_ID = 1, TA_SIGNAL = 2, TA_ALL = 4, TA_NOW = 8 };

struct task_cmd {
	const char *name;   /* shimctl command */
	const char *method; /* Task method */
	unsigned opts;	    /* TA_* flags it accepts */
	const char *help;   /* what it does, and examples */
};

struct task_args {
	const char *exec_id;
	unsigned signal;
	bool all, now;
};

static void
task_help(const struct task_cmd *c)
{
	printf("Usage: shimctl [--address ADDR] [--namespace NS] --id ID %s%s%s%s%s\n\n", c->name,
	       c->opts & TA_EXEC_ID ? " [--exec-id E]" : "",
	       c->opts & TA_SIGNAL ? " [--signal N|NAME]" : "", c->opts & TA_ALL ? " [--all]" : "",
	       c->opts & TA_NOW ? " [--now]" : "");
	printf("Calls " SHIMCTL_TASK_SERVICE "/%s. %s", c->method, c->help);
	puts("\nThe shim is --address, else the one whose address file is "
	     "STATE_DIR/NS/ID/address.\n"
	     "--json prints the reply as JSON with every field; the default form leaves out empty "
	     "values.");
}

/* Signal by number or name ("KILL", "SIGKILL", "kill"). Returns 0 when invalid. */
static unsigned
parse_signal(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s != '\0' && *end == '\0')
		return n > 0 && n < NSIG ? (unsigned)n : 0;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *name = sigabbrev_np(i);
		if (name && strcasecmp(name, s) == 0)
			return (unsigned)i;
	}
	return 0;
}

/* Parses the command line. Returns true to go on; false with *code set when done (help shown,
 * or a usage error). */
static bool
task_parse(struct shimctl *ctx, int argc, char **argv, const struct task_cmd *c,
	   struct task_args *a, int *code)
{
	enum { OPT_EXEC_ID = OPT_CMD, OPT_SIGNAL, OPT_ALL, OPT_NOW };
	static const struct option opts[] = {
		SHIMCTL_GLOBAL_OPTIONS,
		{ "exec-id", required_argument, NULL, OPT_EXEC_ID },
		{ "signal", required_argument, NULL, OPT_SIGNAL },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "now", no_argument, NULL, OPT_NOW },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*a = (struct task_args){ .exec_id = "", .signal = SIGTERM };
	while ((opt = getopt_long(argc, argv, "hs:e:a", opts, NULL)) != -1) {
		int r = shimctl_global_opt(ctx, opt, optarg);
		unsigned need = opt == OPT_EXEC_ID || opt == 'e'  ? TA_EXEC_ID
				: opt == OPT_SIGNAL || opt == 's' ? TA_SIGNAL
				: opt == OPT_ALL || opt == 'a'	  ? TA_ALL
				: opt == OPT_NOW		  ? TA_NOW
								  : 0;
		*code = SHIMCTL_EXIT_USAGE;
		if (r < 0)
			return false;
		if (r > 0)
			continue;
		if (opt == 'h') {
			task_help(c);
			*code = SHIMCTL_EXIT_OK;
			return false;
		}
		if (need == 0 || !(c->opts & need)) {
			shimctl_usage_error(c->name, "unknown option");
			return false;
		}
		if (need == TA_EXEC_ID)
			a->exec_id = optarg;
		else if (need == TA_ALL)
			a->all = true;
		else if (need == TA_NOW)
			a->now = true;
		else if ((a->signal = parse_signal(optarg)) == 0) {
			shimctl_usage_error(c->name, "invalid signal \"%s\"", optarg);
			return false;
		}
	}
	*code = SHIMCTL_EXIT_USAGE;
	if (optind < argc) {
		shimctl_usage_error(c->name, "unexpected argument \"%s\"", argv[optind]);
		return false;
	}
	return shimctl_require_id(ctx, c->name) != NULL;
}

/* Calls c->method and prints the reply. Returns the exit code. */
static int
task_call(struct shimctl *ctx, const struct task_cmd *c, const ProtobufCMessage *req,
	  const ProtobufCMessageDescriptor *res_desc, int64_t default_timeout,
	  void (*print)(const struct shimctl *, const ProtobufCMessage *))
{
	_cleanup_err_ struct mini_err *err = NULL;
	ProtobufCMessage *res = NULL;

	if (shimctl_rpc(ctx, SHIMCTL_TASK_SERVICE, c->method, req, res_desc, default_timeout, &res,
			&err) < 0) {
		/* The shim may exit before its Shutdown reply is written: that is success. */
		if (strcmp(c->method, "Shutdown") == 0 && err->errnum == ECONNRESET)
			return SHIMCTL_EXIT_OK;
		shimctl_print_error(err);
		return SHIMCTL_EXIT_FAIL;
	}
	if (res_desc != &google__protobuf__empty__descriptor || ctx->json)
		(print ? print : shimctl_print)(ctx, res);
	protobuf_c_message_free_unpacked(res, NULL);
	return SHIMCTL_EXIT_OK;
}

/* The commands whose request is only {id = 1}: builds it from its descriptor, calls and prints. */
static int
id_only_call(struct shimctl *ctx, int argc, char **argv, const struct task_cmd *c,
	     const ProtobufCMessageDescriptor *req_desc, const ProtobufCMessageDescriptor *res_desc)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(req_desc, "id");
	_cleanup_free_ ProtobufCMessage *req = xcalloc(1, req_desc->sizeof_message);
	struct task_args a;
	int code;

	protobuf_c_message_init(req_desc, req);
	if (!task_parse(ctx, argc, argv, c, &a, &code))
		return code;
	*(const char **)((char *)req + f->offset) = ctx->id;
	return task_call(ctx, c, req, res_desc, SHIMCTL_DEFAULT_TIMEOUT_NS, NULL);
}

int
cmd_state(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "state",
		.method = "State",
		.opts = TA_EXEC_ID,
		.help = "Shows the state of the init process, or of an exec with --exec-id:\n"
			"pid, status (CREATED, RUNNING, PAUSED, STOPPED ...), bundle, stdio,\n"
			"exit status and time.\n\n"
			"Examples:\n"
			"  shimctl --id c1 state\n"
			"  shimctl --id c1 state --exec-id sh1 --json\n",
	};
	Containerd__Task__V2__StateRequest req = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	struct task_args a;
	int code;

	if (!task_parse(ctx, argc, argv, &c, &a, &code))
		return code;
	req.id = (char *)ctx->id;
	req.exec_id = (char *)a.exec_id;
	return task_call(ctx, &c, &req.base, &containerd__task__v2__state_response__descriptor,
			 SHIMCTL_DEFAULT_TIMEOUT_NS, NULL);
}

static void
print_pids(const struct shimctl *ctx, const ProtobufCMessage *msg)
{
	const Containerd__Task__V2__PidsResponse *r = (const void *)msg;

	if (ctx->json) {
		shimctl_print_json(msg);
		return;
	}
	printf("%-10s %s\n", "PID", "EXEC ID");
	for (size_t i = 0; i < r->n_processes; i++) {
		const Google__Protobuf__Any *info = r->processes[i]->info;
		Containerd__Runc__V1__ProcessDetails *pd = NULL;

		if (info && strcmp(info->type_url, "containerd.runc.v1.ProcessDetails") == 0)
			pd = containerd__runc__v1__process_details__unpack(NULL, info->value.len,
									   info->value.data);
		printf("%-10u %s\n", r->processes[i]->pid, pd ? pd->exec_id : "");
		if (pd)
			containerd__runc__v1__process_details__free_unpacked(pd, NULL);
	}
}

int
cmd_pids(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "pids",
		.method = "Pids",
		.opts = 0,
		.help = "Lists the processes in the container's cgroup; those that belong to an\n"
			"exec show its exec id.\n\n"
			"Examples:\n"
			"  shimctl --id c1 pids\n",
	};
	Containerd__Task__V2__PidsRequest req = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
	struct task_args a;
	int code;

	if (!task_parse(ctx, argc, argv, &c, &a, &code))
		return code;
	req.id = (char *)ctx->id;
	return task_call(ctx, &c, &req.base, &containerd__task__v2__pids_response__descriptor,
			 SHIMCTL_DEFAULT_TIMEOUT_NS, print_pids);
}

int
cmd_kill(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "kill",
		.method = "Kill",
		.opts = TA_EXEC_ID | TA_SIGNAL | TA_ALL,
		.help = "Sends a signal (default TERM) to the init process, or to an exec with\n"
			"--exec-id; --all signals every process of the container.\n\n"
			"Options:\n"
			"  -s, --signal N|NAME  a number or a name: 9, KILL, SIGKILL\n"
			"  -a, --all            all processes of the container\n"
			"  -e, --exec-id E      an exec process instead of the init\n\n"
			"Examples:\n"
			"  shimctl --id c1 kill\n"
			"  shimctl --id c1 kill --signal KILL --all\n",
	};
	Containerd__Task__V2__KillRequest req = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	struct task_args a;
	int code;

	if (!task_parse(ctx, argc, argv, &c, &a, &code))
		return code;
	req.id = (char *)ctx->id;
	req.exec_id = (char *)a.exec_id;
	req.signal = a.signal;
	req.all = a.all;
	return task_call(ctx, &c, &req.base, &google__protobuf__empty__descriptor,
			 SHIMCTL_DEFAULT_TIMEOUT_NS, NULL);
}

int
cmd_wait(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "wait",
		.method = "Wait",
		.opts = TA_EXEC_ID,
		.help = "Waits until the init process (or an exec) has exited and prints its\n"
			"exit status and time. No timeout unless --timeout is given.\n\n"
			"Examples:\n"
			"  shimctl --id c1 wait\n"
			"  shimctl --id c1 --timeout 5s wait --exec-id sh1\n",
	};
	Containerd__Task__V2__WaitRequest req = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	struct task_args a;
	int code;

	if (!task_parse(ctx, argc, argv, &c, &a, &code))
		return code;
	req.id = (char *)ctx->id;
	req.exec_id = (char *)a.exec_id;
	return task_call(ctx, &c, &req.base, &containerd__task__v2__wait_response__descriptor, 0,
			 NULL);
}

int
cmd_stats(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "stats",
		.method = "Stats",
		.opts = 0,
		.help = "Shows the container's cgroup metrics (io.containerd.cgroups.v1.Metrics\n"
			"or io.containerd.cgroups.v2.Metrics, decoded).\n\n"
			"Examples:\n"
			"  shimctl --id c1 stats\n"
			"  shimctl --id c1 stats --json\n",
	};
	return id_only_call(ctx, argc, argv, &c, &containerd__task__v2__stats_request__descriptor,
			    &containerd__task__v2__stats_response__descriptor);
}

int
cmd_pause(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "pause",
		.method = "Pause",
		.opts = 0,
		.help = "Freezes every process of the container.\n\n"
			"Examples:\n"
			"  shimctl --id c1 pause\n",
	};
	return id_only_call(ctx, argc, argv, &c, &containerd__task__v2__pause_request__descriptor,
			    &google__protobuf__empty__descriptor);
}

int
cmd_resume(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "resume",
		.method = "Resume",
		.opts = 0,
		.help = "Thaws a paused container.\n\n"
			"Examples:\n"
			"  shimctl --id c1 resume\n",
	};
	return id_only_call(ctx, argc, argv, &c, &containerd__task__v2__resume_request__descriptor,
			    &google__protobuf__empty__descriptor);
}

int
cmd_delete(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "delete",
		.method = "Delete",
		.opts = TA_EXEC_ID,
		.help = "Deletes a stopped (or never started) process: the init, which removes\n"
			"the container, or an exec with --exec-id. Prints its pid and exit\n"
			"status.\n\n"
			"Examples:\n"
			"  shimctl --id c1 delete\n"
			"  shimctl --id c1 delete --exec-id sh1\n",
	};
	Containerd__Task__V2__DeleteRequest req = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
	struct task_args a;
	int code;

	if (!task_parse(ctx, argc, argv, &c, &a, &code))
		return code;
	req.id = (char *)ctx->id;
	req.exec_id = (char *)a.exec_id;
	return task_call(ctx, &c, &req.base, &containerd__task__v2__delete_response__descriptor,
			 SHIMCTL_DEFAULT_TIMEOUT_NS, NULL);
}

int
cmd_connect(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "connect",
		.method = "Connect",
		.opts = 0,
		.help = "Shows the shim's pid, the container's init pid and the shim's version.\n\n"
			"Examples:\n"
			"  shimctl --address unix:///run/containerd/s/abc --id c1 connect\n",
	};
	return id_only_call(ctx, argc, argv, &c, &containerd__task__v2__connect_request__descriptor,
			    &containerd__task__v2__connect_response__descriptor);
}

int
cmd_shutdown(struct shimctl *ctx, int argc, char **argv)
{
	static const struct task_cmd c = {
		.name = "shutdown",
		.method = "Shutdown",
		.opts = TA_NOW,
		.help = "Asks the shim to exit; it does only once no container is left. The\n"
			"connection closing before the reply counts as success.\n\n"
			"Options:\n"
			"  --now   set ShutdownRequest.now\n\n"
			"Examples:\n"
			"  shimctl --id c1 shutdown\n",
	};
	Containerd__Task__V2__ShutdownRequest req = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	struct task_args a;
	int code;

	if (!task_parse(ctx, argc, argv, &c, &a, &code))
		return code;
	req.id = (char *)ctx->id;
	req.now = a.now;
	return task_call(ctx, &c, &req.base, &google__protobuf__empty__descriptor,
			 SHIMCTL_DEFAULT_TIMEOUT_NS, NULL);
}
