/* shimctl create and start: the two lifecycle calls whose requests need more than an id. create
 * assembles CreateTaskRequest as JSON from its flags and lets pbjson build the message, so
 * --rootfs and --options take the same JSON as `call`. */
#include "shimctl.h"

#include "cleanup.h"
#include "xalloc.h"

#include "containerd/task/v2/shim.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct create_opts {
	const char *bundle, *stdio[3], *rootfs, *options;
	bool terminal;
};

static void
create_help(void)
{
	fputs("Usage: shimctl [--address ADDR] [--namespace NS] --id ID create --bundle DIR\n"
	      "                [--terminal] [--stdin P] [--stdout P] [--stderr P]\n"
	      "                [--rootfs JSON] [--options JSON]\n"
	      "\n"
	      "Calls " SHIMCTL_TASK_SERVICE "/Create and prints the init's pid. Stdio paths\n"
	      "are FIFOs (or file:// / binary:// URIs) that the caller provides; empty means\n"
	      "none.\n"
	      "\n"
	      "Options:\n"
	      "  --bundle DIR     the OCI bundle (config.json and rootfs)\n"
	      "  -t, --terminal   give the init a terminal\n"
	      "  --rootfs JSON    mounts for DIR/rootfs, as containerd.types.Mount JSON, e.g.\n"
	      "                   "
	      "'[{\"type\":\"bind\",\"source\":\"/srv/r\",\"options\":[\"rbind\"]}]'\n"
	      "  --options JSON   CreateTaskRequest.options, an Any, e.g.\n"
	      "                   '{\"type_url\":\"containerd.runc.v1.Options\",\n"
	      "                     \"value\":{\"binary_name\":\"crun\"}}'\n"
	      "\n"
	      "Examples:\n"
	      "  shimctl --address /run/containerd/s/abc --id c1 create --bundle /tmp/b\n"
	      "  shimctl --id c1 create --bundle /tmp/b --stdout /tmp/b/out --stderr /tmp/b/err\n",
	      stdout);
}

static void
start_help(void)
{
	fputs("Usage: shimctl [--address ADDR] [--namespace NS] --id ID start [--exec-id E]\n"
	      "\n"
	      "Calls " SHIMCTL_TASK_SERVICE "/Start for the init, or for an exec created\n"
	      "with Exec, and prints its pid.\n"
	      "\n"
	      "Examples:\n"
	      "  shimctl --id c1 start\n"
	      "  shimctl --id c1 start --exec-id sh1 --json\n",
	      stdout);
}

static void
gen_key_str(yajl_gen g, const char *key, const char *value)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_string(g, (const unsigned char *)value, strlen(value));
}

/* Copies the JSON text of an option into g under key. */
static int
gen_key_json(yajl_gen g, const char *key, const char *text, struct mini_err **err)
{
	char errbuf[256] = "";
	yajl_val v = yajl_tree_parse(text, errbuf, sizeof(errbuf));

	if (v == NULL) {
		errbuf[strcspn(errbuf, "\n")] = '\0';
		return mini_err_setc(err, MINI_E_INVALID, 0, "--%s: invalid JSON: %s", key, errbuf);
	}
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	pbjson_gen_tree(g, v);
	yajl_tree_free(v);
	return 0;
}

static ProtobufCMessage *
build_create(const struct shimctl *ctx, const struct create_opts *o, struct mini_err **err)
{
	static const char *const names[] = { "stdin", "stdout", "stderr" };
	yajl_gen g = yajl_gen_alloc(NULL);
	ProtobufCMessage *req = NULL;
	const unsigned char *buf;
	size_t len;

	if (g == NULL)
		abort();
	yajl_gen_map_open(g);
	gen_key_str(g, "id", ctx->id);
	gen_key_str(g, "bundle", o->bundle);
	for (int i = 0; i < 3; i++) {
		if (o->stdio[i])
			gen_key_str(g, names[i], o->stdio[i]);
	}
	yajl_gen_string(g, (const unsigned char *)"terminal", 8);
	yajl_gen_bool(g, o->terminal);
	if (o->rootfs && gen_key_json(g, "rootfs", o->rootfs, err) < 0)
		goto out;
	if (o->options && gen_key_json(g, "options", o->options, err) < 0)
		goto out;
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	req = pbjson_parse(&containerd__task__v2__create_task_request__descriptor,
			   (const char *)buf, len, &shimctl_json_in, err);
out:
	yajl_gen_free(g);
	return req;
}

static int
call_and_print(struct shimctl *ctx, const char *method, ProtobufCMessage *req,
	       const ProtobufCMessageDescriptor *res_desc)
{
	_cleanup_err_ struct mini_err *err = NULL;
	ProtobufCMessage *res = NULL;
	int r = shimctl_rpc(ctx, SHIMCTL_TASK_SERVICE, method, req, res_desc,
			    SHIMCTL_DEFAULT_TIMEOUT_NS, &res, &err);

	if (r < 0) {
		shimctl_print_error(err);
		return SHIMCTL_EXIT_FAIL;
	}
	shimctl_print(ctx, res);
	protobuf_c_message_free_unpacked(res, NULL);
	return SHIMCTL_EXIT_OK;
}

int
cmd_create(struct shimctl *ctx, int argc, char **argv)
{
	enum { OPT_BUNDLE = OPT_CMD, OPT_STDIN, OPT_STDOUT, OPT_STDERR, OPT_ROOTFS, OPT_OPTIONS };
	static const struct option opts[] = {
		SHIMCTL_GLOBAL_OPTIONS,
		{ "bundle", required_argument, NULL, OPT_BUNDLE },
		{ "terminal", no_argument, NULL, 't' },
		{ "stdin", required_argument, NULL, OPT_STDIN },
		{ "stdout", required_argument, NULL, OPT_STDOUT },
		{ "stderr", required_argument, NULL, OPT_STDERR },
		{ "rootfs", required_argument, NULL, OPT_ROOTFS },
		{ "options", required_argument, NULL, OPT_OPTIONS },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_err_ struct mini_err *err = NULL;
	struct create_opts o = { 0 };
	ProtobufCMessage *req;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "ht", opts, NULL)) != -1) {
		int r = shimctl_global_opt(ctx, opt, optarg);
		if (r < 0)
			return SHIMCTL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'h':
			create_help();
			return SHIMCTL_EXIT_OK;
		case 't':
			o.terminal = true;
			break;
		case OPT_BUNDLE:
			o.bundle = optarg;
			break;
		case OPT_STDIN:
		case OPT_STDOUT:
		case OPT_STDERR:
			o.stdio[opt - OPT_STDIN] = optarg;
			break;
		case OPT_ROOTFS:
			o.rootfs = optarg;
			break;
		case OPT_OPTIONS:
			o.options = optarg;
			break;
		default:
			return shimctl_usage_error("create", "unknown option");
		}
	}
	if (optind < argc)
		return shimctl_usage_error("create", "unexpected argument \"%s\"", argv[optind]);
	if (o.bundle == NULL)
		return shimctl_usage_error("create", "--bundle is required");
	if (shimctl_require_id(ctx, "create") == NULL)
		return SHIMCTL_EXIT_USAGE;
	req = build_create(ctx, &o, &err);
	if (req == NULL) {
		shimctl_print_error(err);
		return SHIMCTL_EXIT_FAIL;
	}
	ret = call_and_print(ctx, "Create", req,
			     &containerd__task__v2__create_task_response__descriptor);
	protobuf_c_message_free_unpacked(req, NULL);
	return ret;
}

int
cmd_start(struct shimctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		SHIMCTL_GLOBAL_OPTIONS,
		{ "exec-id", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	Containerd__Task__V2__StartRequest req = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	int opt;

	while ((opt = getopt_long(argc, argv, "he:", opts, NULL)) != -1) {
		int r = shimctl_global_opt(ctx, opt, optarg);
		if (r < 0)
			return SHIMCTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (opt == 'h') {
			start_help();
			return SHIMCTL_EXIT_OK;
		}
		if (opt != 'e')
			return shimctl_usage_error("start", "unknown option");
		req.exec_id = optarg;
	}
	if (optind < argc)
		return shimctl_usage_error("start", "unexpected argument \"%s\"", argv[optind]);
	if (shimctl_require_id(ctx, "start") == NULL)
		return SHIMCTL_EXIT_USAGE;
	req.id = (char *)ctx->id;
	return call_and_print(ctx, "Start", &req.base,
			      &containerd__task__v2__start_response__descriptor);
}
