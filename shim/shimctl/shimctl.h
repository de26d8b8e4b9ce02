/* shimctl internals shared by its command files: the global options, the type registry, the RPC
 * helper and output. */
#ifndef MINI_SHIMCTL_H
#define MINI_SHIMCTL_H

#include "err.h"
#include "pbjson.h"

#include <getopt.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SHIMCTL_TASK_SERVICE "containerd.task.v2.Task"
#define SHIMCTL_EVENTS_SERVICE "containerd.services.events.ttrpc.v1.Events"
#define SHIMCTL_NS_METADATA "containerd-namespace-ttrpc"
#define SHIMCTL_DEFAULT_STATE_DIR "/run/containerd/io.containerd.runtime.v2.task"
#define SHIMCTL_DEFAULT_TIMEOUT_NS (10 * 1000000000LL)

/* Exit codes: 0 success, 1 an RPC or local failure, 2 bad usage. */
enum { SHIMCTL_EXIT_OK = 0, SHIMCTL_EXIT_FAIL = 1, SHIMCTL_EXIT_USAGE = 2 };

struct shimctl {
	const char *address;   /* --address as given ("unix://" prefix allowed), or NULL */
	const char *ns;	       /* --namespace (default $CONTAINERD_NAMESPACE, else "default") */
	const char *id;	       /* --id: the container id */
	const char *state_dir; /* --state-dir: where <ns>/<id>/address is looked up */
	int64_t timeout_ns;    /* --timeout; -1 = not given (each command has its default) */
	bool json;	       /* --json: machine output instead of the human form */
	char *address_owned;   /* address read from the state dir, owned */
};

/* The option-table rows every command accepts (global options may follow the command). */
enum {
	OPT_ADDRESS = 0x100,
	OPT_NAMESPACE,
	OPT_ID,
	OPT_STATE_DIR,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_HELP,
	OPT_CMD, /* first value free for command options */
};
#define SHIMCTL_GLOBAL_OPTIONS                                           \
	{ "address", required_argument, NULL, OPT_ADDRESS },             \
		{ "namespace", required_argument, NULL, OPT_NAMESPACE }, \
		{ "id", required_argument, NULL, OPT_ID },               \
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR }, \
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },     \
		{ "json", no_argument, NULL, OPT_JSON },                 \
	{                                                                \
		"help", no_argument, NULL, 'h'                           \
	}

/* Applies global option opt (a getopt_long result). Returns 1 when it was one, 0 when it is not
 * a global option, -1 after printing an error for a bad value. */
int shimctl_global_opt(struct shimctl *ctx, int opt, const char *arg);

/* Prints "shimctl: <usage line>" style usage text for a command and returns SHIMCTL_EXIT_USAGE. */
int shimctl_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses a Go-style duration ("10s", "1.5m", "250ms", "1h30m"; a plain number is seconds;
 * "0" = none) into nanoseconds. Returns 0 or -EINVAL. */
int shimctl_parse_duration(const char *s, int64_t *ns);

/* The request text: data when given (--data), "" when stdin is a terminal, else all of stdin.
 * Caller owns *out. */
int shimctl_read_request(const char *data, char **out, size_t *len, struct mini_err **err);

/* --- types.c --- */

/* Every message type shimctl knows (containerd's task, events, runc options, cgroup metrics and
 * the well-known types), by full name. */
const ProtobufCMessageDescriptor *shimctl_lookup_type(const char *full_name);

/* Finds a method: service is a full name ("containerd.task.v2.Task"; v3 is accepted as the same
 * messages) or an alias ("task", "events"); method is matched exactly, then ignoring case.
 * *service_out is the name to send. NULL when unknown. */
const ProtobufCMethodDescriptor *shimctl_find_method(const char *service, const char *method,
						     const char **service_out);

/* Prints the known services and methods (for --help and errors). */
void shimctl_list_methods(FILE *out);

/* pbjson options: lookup through the registry; output also emits defaults and is indented. */
extern const struct pbjson_opts shimctl_json_in;
extern const struct pbjson_opts shimctl_json_out;

/* --- rpc.c --- */

/* The socket to dial: --address, else <state-dir>/<ns>/<id>/address (needs --id). */
int shimctl_resolve_address(struct shimctl *ctx, const char **address, struct mini_err **err);

/* Sends req to service/method at the resolved address with the namespace metadata and the
 * timeout (default_timeout_ns when --timeout was not given; 0 = none), and decodes the reply as
 * res_desc into *res (caller owns it). A status from the server becomes *err with that gRPC code
 * and message; a transport failure keeps its code (Unavailable, DeadlineExceeded) and names the
 * address. */
int shimctl_rpc(struct shimctl *ctx, const char *service, const char *method,
		const ProtobufCMessage *req, const ProtobufCMessageDescriptor *res_desc,
		int64_t default_timeout_ns, ProtobufCMessage **res, struct mini_err **err);

/* Like shimctl_rpc to an explicit address with explicit metadata. */
int shimctl_rpc_at(const char *address, const char *service, const char *method,
		   const ProtobufCMessage *req, const ProtobufCMessageDescriptor *res_desc,
		   int64_t timeout_ns, const char *ns, ProtobufCMessage **res,
		   struct mini_err **err);

/* The container id for task commands (--id), or NULL after printing a usage error. */
const char *shimctl_require_id(struct shimctl *ctx, const char *cmd);

/* --- output.c --- */

/* Prints msg as indented JSON (with defaults) on stdout. */
void shimctl_print_json(const ProtobufCMessage *msg);

/* Prints msg for people: one "key: value" line per set field, nested messages indented, empty
 * values left out. */
void shimctl_print_human(const ProtobufCMessage *msg);

/* --json → JSON, else human. */
void shimctl_print(const struct shimctl *ctx, const ProtobufCMessage *msg);

/* Prints "shimctl: <CodeName>: <message>" on stderr. */
void shimctl_print_error(const struct mini_err *err);

/* --- commands --- */
int cmd_call(struct shimctl *ctx, int argc, char **argv);
int cmd_events(struct shimctl *ctx, int argc, char **argv);
int cmd_create(struct shimctl *ctx, int argc, char **argv);
int cmd_start(struct shimctl *ctx, int argc, char **argv);
int cmd_exec(struct shimctl *ctx, int argc, char **argv);

/* The Task shortcuts (state, pids, kill, wait, stats, pause, resume, delete, connect, shutdown)
 * are a table in cmd_task.c: the one called name, or NULL; and running it. */
struct task_cmd;
const struct task_cmd *shimctl_find_task_cmd(const char *name);
int cmd_task(struct shimctl *ctx, const struct task_cmd *c, int argc, char **argv);

#endif
