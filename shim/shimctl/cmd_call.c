/* shimctl call SERVICE METHOD: any unary RPC, request and reply as JSON. */
#include "shimctl.h"

#include "cleanup.h"
#include "xalloc.h"

#include <stdio.h>
#include <string.h>

static void
call_help(void)
{
	fputs("Usage: shimctl [--address ADDR | --id ID [--namespace NS]] call SERVICE METHOD\n"
	      "                [--data JSON]\n"
	      "       shimctl ... call SERVICE/METHOD\n"
	      "\n"
	      "Builds the METHOD request from JSON read on stdin (or --data; empty input,\n"
	      "or stdin being a terminal, is {}), sends it, and prints the reply as indented\n"
	      "JSON with every field. Field names are the .proto names (lowerCamelCase is\n"
	      "accepted too); 64-bit integers are numbers; bytes are base64; enums are names;\n"
	      "timestamps are RFC 3339; an Any is {\"type_url\": T, \"value\": V} with V the\n"
	      "JSON of a known type T, the JSON document for runtime-spec types, or base64.\n"
	      "\n"
	      "SERVICE is a full name or an alias: task = " SHIMCTL_TASK_SERVICE ",\n"
	      "events = " SHIMCTL_EVENTS_SERVICE ". containerd.task.v3.Task is sent with the v2\n"
	      "messages (they are wire-identical). METHOD also matches ignoring case.\n"
	      "\n"
	      "Options:\n"
	      "  -d, --data JSON   the request instead of stdin\n"
	      "\n"
	      "Methods:\n",
	      stdout);
	shimctl_list_methods(stdout);
	fputs("\n"
	      "Examples:\n"
	      "  echo '{\"id\":\"c1\"}' |\n"
	      "      shimctl --address unix:///run/containerd/s/abc call task State\n"
	      "  shimctl --id c1 call containerd.task.v2.Task Kill \\\n"
	      "      -d '{\"id\":\"c1\",\"signal\":9}'\n"
	      "  shimctl --address /run/containerd/s/abc call task/Connect\n",
	      stdout);
}

static int
do_call(struct shimctl *ctx, const char *service, const char *method, const char *data)
{
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *text = NULL;
	const ProtobufCMethodDescriptor *md;
	ProtobufCMessage *req = NULL, *res = NULL;
	const char *send_as = NULL;
	size_t len;
	int ret;

	md = shimctl_find_method(service, method, &send_as);
	if (md == NULL) {
		fprintf(stderr, "shimctl: call: unknown method %s/%s; known methods:\n", service,
			method);
		shimctl_list_methods(stderr);
		return SHIMCTL_EXIT_USAGE;
	}
	if (shimctl_read_request(data, &text, &len, &err) < 0)
		goto fail;
	req = pbjson_parse(md->input, text, len, &shimctl_json_in, &err);
	if (req == NULL) {
		mini_err_wrap(&err, "request %s", md->input->name);
		goto fail;
	}
	ret = shimctl_rpc(ctx, send_as, md->name, req, md->output, SHIMCTL_DEFAULT_TIMEOUT_NS, &res,
			  &err);
	protobuf_c_message_free_unpacked(req, NULL);
	if (ret < 0)
		goto fail;
	shimctl_print_json(res);
	protobuf_c_message_free_unpacked(res, NULL);
	return SHIMCTL_EXIT_OK;
fail:
	shimctl_print_error(err);
	return SHIMCTL_EXIT_FAIL;
}

int
cmd_call(struct shimctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		SHIMCTL_GLOBAL_OPTIONS,
		{ "data", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *service = NULL;
	const char *data = NULL, *method;
	int opt;

	while ((opt = getopt_long(argc, argv, "hd:", opts, NULL)) != -1) {
		int r = shimctl_global_opt(ctx, opt, optarg);
		if (r < 0)
			return SHIMCTL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'h':
			call_help();
			return SHIMCTL_EXIT_OK;
		case 'd':
			data = optarg;
			break;
		default:
			return shimctl_usage_error("call", "unknown option");
		}
	}
	if (argc - optind == 1 && strchr(argv[optind], '/')) {
		/* SERVICE/METHOD, as in ttrpc's own "/service/method" notation. */
		const char *arg = argv[optind] + (argv[optind][0] == '/');
		const char *slash = strrchr(arg, '/');
		service = xstrndup(arg, (size_t)(slash - arg));
		method = slash + 1;
	} else if (argc - optind == 2) {
		service = xstrdup(argv[optind]);
		method = argv[optind + 1];
	} else {
		return shimctl_usage_error("call", "expected SERVICE METHOD");
	}
	return do_call(ctx, service, method, data);
}
