/* The Task shortcuts: state, pids, kill, wait, stats, pause, resume, delete, connect, shutdown.
 * They are one table: each builds its request from flags and prints the reply (human form, or
 * --json) the same way. */
#include "shimctl.h"

#include "cleanup.h"
#include "xalloc.h"

#include "containerd/runc/options.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "google/protobuf/empty.pb-c.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { TA_EXEC_ID = 1, TA_SIGNAL = 2, TA_ALL = 4, TA_NOW = 8 };

/* A shortcut. Each TA_* flag in opts sets the request field of its name (exec_id, signal, all,
 * now); every request has "id". */
struct task_cmd {
	const char *name;   /* shimctl command */
	const char *method; /* Task method */
	unsigned opts;	    /* TA_* flags it accepts */
	const ProtobufCMessageDescriptor *req, *res;
	/* No timeout unless --timeout is given; else SHIMCTL_DEFAULT_TIMEOUT_NS. */
	bool no_timeout;
	/* Prints the reply; NULL is shimctl_print. */
	void (*print)(const struct shimctl *ctx, const ProtobufCMessage *res);
	const char *help; /* what it does, and examples */
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

static const struct task_cmd task_cmds[] = {
	{
		.name = "state",
		.method = "State",
		.opts = TA_EXEC_ID,
		.req = &containerd__task__v2__state_request__descriptor,
		.res = &containerd__task__v2__state_response__descriptor,
		.help = "Shows the state of the init process, or of an exec with --exec-id:\n"
			"pid, status (CREATED, RUNNING, PAUSED, STOPPED ...), bundle, stdio,\n"
			"exit status and time.\n\n"
			"Examples:\n"
			"  shimctl --id c1 state\n"
			"  shimctl --id c1 state --exec-id sh1 --json\n",
	},
	{
		.name = "pids",
		.method = "Pids",
		.req = &containerd__task__v2__pids_request__descriptor,
		.res = &containerd__task__v2__pids_response__descriptor,
		.print = print_pids,
		.help = "Lists the processes in the container's cgroup; those that belong to an\n"
			"exec show its exec id.\n\n"
			"Examples:\n"
			"  shimctl --id c1 pids\n",
	},
	{
		.name = "kill",
		.method = "Kill",
		.opts = TA_EXEC_ID | TA_SIGNAL | TA_ALL,
		.req = &containerd__task__v2__kill_request__descriptor,
		.res = &google__protobuf__empty__descriptor,
		.help = "Sends a signal (default TERM) to the init process, or to an exec with\n"
			"--exec-id; --all signals every process of the container.\n\n"
			"Options:\n"
			"  -s, --signal N|NAME  a number or a name: 9, KILL, SIGKILL\n"
			"  -a, --all            all processes of the container\n"
			"  -e, --exec-id E      an exec process instead of the init\n\n"
			"Examples:\n"
			"  shimctl --id c1 kill\n"
			"  shimctl --id c1 kill --signal KILL --all\n",
	},
	{
		.name = "wait",
		.method = "Wait",
		.opts = TA_EXEC_ID,
		.req = &containerd__task__v2__wait_request__descriptor,
		.res = &containerd__task__v2__wait_response__descriptor,
		.no_timeout = true,
		.help = "Waits until the init process (or an exec) has exited and prints its\n"
			"exit status and time. No timeout unless --timeout is given.\n\n"
			"Examples:\n"
			"  shimctl --id c1 wait\n"
			"  shimctl --id c1 --timeout 5s wait --exec-id sh1\n",
	},
	{
		.name = "stats",
		.method = "Stats",
		.req = &containerd__task__v2__stats_request__descriptor,
		.res = &containerd__task__v2__stats_response__descriptor,
		.help = "Shows the container's cgroup metrics (io.containerd.cgroups.v1.Metrics\n"
			"or io.containerd.cgroups.v2.Metrics, decoded).\n\n"
			"Examples:\n"
			"  shimctl --id c1 stats\n"
			"  shimctl --id c1 stats --json\n",
	},
	{
		.name = "pause",
		.method = "Pause",
		.req = &containerd__task__v2__pause_request__descriptor,
		.res = &google__protobuf__empty__descriptor,
		.help = "Freezes every process of the container.\n\n"
			"Examples:\n"
			"  shimctl --id c1 pause\n",
	},
	{
		.name = "resume",
		.method = "Resume",
		.req = &containerd__task__v2__resume_request__descriptor,
		.res = &google__protobuf__empty__descriptor,
		.help = "Thaws a paused container.\n\n"
			"Examples:\n"
			"  shimctl --id c1 resume\n",
	},
	{
		.name = "delete",
		.method = "Delete",
		.opts = TA_EXEC_ID,
		.req = &containerd__task__v2__delete_request__descriptor,
		.res = &containerd__task__v2__delete_response__descriptor,
		.help = "Deletes a stopped (or never started) process: the init, which removes\n"
			"the container, or an exec with --exec-id. Prints its pid and exit\n"
			"status.\n\n"
			"Examples:\n"
			"  shimctl --id c1 delete\n"
			"  shimctl --id c1 delete --exec-id sh1\n",
	},
	{
		.name = "connect",
		.method = "Connect",
		.req = &containerd__task__v2__connect_request__descriptor,
		.res = &containerd__task__v2__connect_response__descriptor,
		.help = "Shows the shim's pid, the container's init pid and the shim's version.\n\n"
			"Examples:\n"
			"  shimctl --address unix:///run/containerd/s/abc --id c1 connect\n",
	},
	{
		.name = "shutdown",
		.method = "Shutdown",
		.opts = TA_NOW,
		.req = &containerd__task__v2__shutdown_request__descriptor,
		.res = &google__protobuf__empty__descriptor,
		.help = "Asks the shim to exit; it does only once no container is left. The\n"
			"connection closing before the reply counts as success.\n\n"
			"Options:\n"
			"  --now   set ShutdownRequest.now\n\n"
			"Examples:\n"
			"  shimctl --id c1 shutdown\n",
	},
};

const struct task_cmd *
shimctl_find_task_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(task_cmds) / sizeof(task_cmds[0]); i++) {
		if (strcmp(task_cmds[i].name, name) == 0)
			return &task_cmds[i];
	}
	return NULL;
}

/* Where the request field name is. The table gives a command a TA_* flag only when its request
 * has that field with that type, so a miss is a bug in the table. */
static void *
req_field(ProtobufCMessage *req, const char *name, ProtobufCType type)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(req->descriptor, name);

	if (f == NULL || f->type != type || f->label == PROTOBUF_C_LABEL_REPEATED)
		abort();
	return (char *)req + f->offset;
}

/* The request: the container id and the fields of the options the command accepts. Its strings
 * point into ctx and a; the caller frees only the message itself. */
static ProtobufCMessage *
task_request(const struct shimctl *ctx, const struct task_cmd *c, const struct task_args *a)
{
	ProtobufCMessage *req = xcalloc(1, c->req->sizeof_message);

	protobuf_c_message_init(c->req, req);
	*(const char **)req_field(req, "id", PROTOBUF_C_TYPE_STRING) = ctx->id;
	if (c->opts & TA_EXEC_ID)
		*(const char **)req_field(req, "exec_id", PROTOBUF_C_TYPE_STRING) = a->exec_id;
	if (c->opts & TA_SIGNAL)
		*(uint32_t *)req_field(req, "signal", PROTOBUF_C_TYPE_UINT32) = a->signal;
	if (c->opts & TA_ALL)
		*(protobuf_c_boolean *)req_field(req, "all", PROTOBUF_C_TYPE_BOOL) = a->all;
	if (c->opts & TA_NOW)
		*(protobuf_c_boolean *)req_field(req, "now", PROTOBUF_C_TYPE_BOOL) = a->now;
	return req;
}

int
cmd_task(struct shimctl *ctx, const struct task_cmd *c, int argc, char **argv)
{
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ ProtobufCMessage *req = NULL;
	ProtobufCMessage *res = NULL;
	struct task_args a;
	int code;

	if (!task_parse(ctx, argc, argv, c, &a, &code))
		return code;
	req = task_request(ctx, c, &a);
	if (shimctl_rpc(ctx, SHIMCTL_TASK_SERVICE, c->method, req, c->res,
			c->no_timeout ? 0 : SHIMCTL_DEFAULT_TIMEOUT_NS, &res, &err) < 0) {
		/* The shim may exit before its Shutdown reply is written: that is success. */
		if (strcmp(c->method, "Shutdown") == 0 && err->errnum == ECONNRESET)
			return SHIMCTL_EXIT_OK;
		shimctl_print_error(err);
		return SHIMCTL_EXIT_FAIL;
	}
	if (c->res != &google__protobuf__empty__descriptor || ctx->json)
		(c->print ? c->print : shimctl_print)(ctx, res);
	protobuf_c_message_free_unpacked(res, NULL);
	return SHIMCTL_EXIT_OK;
}
