/* shimctl events publish: forward one event to containerd the way a shim does. */
#include "shimctl.h"

#include "cleanup.h"
#include "xalloc.h"

#include "containerd/services/ttrpc/events/v1/events.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The topic containerd's shims use for each task event, so --topic can be left out. */
static const struct {
	const char *type, *topic;
} default_topics[] = {
	{ "containerd.events.TaskCreate", "/tasks/create" },
	{ "containerd.events.TaskStart", "/tasks/start" },
	{ "containerd.events.TaskExit", "/tasks/exit" },
	{ "containerd.events.TaskDelete", "/tasks/delete" },
	{ "containerd.events.TaskOOM", "/tasks/oom" },
	{ "containerd.events.TaskExecAdded", "/tasks/exec-added" },
	{ "containerd.events.TaskExecStarted", "/tasks/exec-started" },
	{ "containerd.events.TaskPaused", "/tasks/paused" },
	{ "containerd.events.TaskResumed", "/tasks/resumed" },
	{ "containerd.events.TaskCheckpointed", "/tasks/checkpointed" },
};

static void
publish_help(void)
{
	fputs("Usage: shimctl events publish [--address ADDR] [--namespace NS] --type TYPE\n"
	      "                              [--topic TOPIC] [--data JSON]\n"
	      "\n"
	      "Publishes one event to containerd as a shim does: the event of message TYPE is\n"
	      "built from JSON on stdin (or --data; empty = {}), wrapped in an Any whose\n"
	      "type_url is the bare full name, in an Envelope{timestamp: now, namespace, topic,\n"
	      "event} and a ForwardRequest, and sent to\n" SHIMCTL_EVENTS_SERVICE
	      "/Forward with metadata " SHIMCTL_NS_METADATA "=NS.\n"
	      "\n"
	      "Options:\n"
	      "  --address ADDR   containerd's ttrpc socket (its --address plus \".ttrpc\");\n"
	      "                   default $TTRPC_ADDRESS\n"
	      "  --namespace NS   the envelope's namespace (default \"default\")\n"
	      "  --type TYPE      full message name, e.g. containerd.events.TaskOOM; a bare name\n"
	      "                   (TaskOOM) means containerd.events.<name>\n"
	      "  --topic TOPIC    default: the shim's topic for containerd.events.Task* types\n"
	      "                   (TaskOOM -> /tasks/oom, TaskExecAdded -> /tasks/exec-added)\n"
	      "  -d, --data JSON  the event instead of stdin\n"
	      "\n"
	      "Examples:\n"
	      "  echo '{\"container_id\":\"c1\"}' | shimctl events publish \\\n"
	      "      --address /run/containerd/containerd.sock.ttrpc --namespace default \\\n"
	      "      --topic /tasks/oom --type containerd.events.TaskOOM\n"
	      "  shimctl events publish --type TaskExit \\\n"
	      "      -d '{\"container_id\":\"c1\",\"id\":\"c1\",\"pid\":42,\"exit_status\":137,\n"
	      "           \"exited_at\":\"2024-05-01T10:00:00Z\"}'\n",
	      stdout);
}

static void
events_help(void)
{
	fputs("Usage: shimctl events publish [OPTIONS]\n"
	      "\n"
	      "Commands:\n"
	      "  publish   send one event to containerd's Events/Forward (see publish --help)\n",
	      stdout);
}

static const ProtobufCMessageDescriptor *
event_type(const char *name)
{
	_cleanup_free_ char *full = NULL;

	if (strchr(name, '.') != NULL)
		return shimctl_lookup_type(name);
	full = xasprintf("containerd.events.%s", name);
	return shimctl_lookup_type(full);
}

static const char *
default_topic(const char *type)
{
	for (size_t i = 0; i < sizeof(default_topics) / sizeof(default_topics[0]); i++) {
		if (strcmp(default_topics[i].type, type) == 0)
			return default_topics[i].topic;
	}
	return NULL;
}

/* Builds the ForwardRequest around event (borrowed) and sends it. */
static int
forward(const char *address, const char *ns, const char *topic, const ProtobufCMessage *event,
	int64_t timeout_ns, struct mini_err **err)
{
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	Containerd__Services__Events__Ttrpc__V1__Envelope env =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	_cleanup_free_ uint8_t *value = NULL;
	ProtobufCMessage *res = NULL;
	struct timespec now;
	int ret;

	value = xmalloc(protobuf_c_message_get_packed_size(event) + 1);
	any.value.len = protobuf_c_message_pack(event, value);
	any.value.data = value;
	/* containerd 1.6 resolves type URLs by the bare full name only. */
	any.type_url = (char *)event->descriptor->name;
	/* 1.6 rejects a zero timestamp ("timestamp must be set on forwarded event"). */
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	env.timestamp = &ts;
	env.namespace_ = (char *)ns;
	env.topic = (char *)topic;
	env.event = &any;
	req.envelope = &env;
	ret = shimctl_rpc_at(address, SHIMCTL_EVENTS_SERVICE, "Forward", &req.base,
			     &google__protobuf__empty__descriptor, timeout_ns, ns, &res, err);
	if (ret < 0)
		return ret;
	protobuf_c_message_free_unpacked(res, NULL);
	return 0;
}

static int
publish(struct shimctl *ctx, const char *type_name, const char *topic, const char *data)
{
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *text = NULL;
	const ProtobufCMessageDescriptor *d = event_type(type_name);
	const char *address = ctx->address ? ctx->address : getenv("TTRPC_ADDRESS");
	ProtobufCMessage *event;
	size_t len;
	int ret;

	if (d == NULL)
		return shimctl_usage_error("events publish", "unknown event type \"%s\"",
					   type_name);
	if (topic == NULL)
		topic = default_topic(d->name);
	if (topic == NULL)
		return shimctl_usage_error("events publish", "--topic is required for %s", d->name);
	if (address == NULL || *address == '\0')
		return shimctl_usage_error("events publish",
					   "--address (or $TTRPC_ADDRESS) is required");
	if (shimctl_read_request(data, &text, &len, &err) < 0)
		goto fail;
	event = pbjson_parse(d, text, len, &shimctl_json_in, &err);
	if (event == NULL) {
		mini_err_wrap(&err, "event %s", d->name);
		goto fail;
	}
	ret = forward(address, ctx->ns, topic, event,
		      ctx->timeout_ns >= 0 ? ctx->timeout_ns : SHIMCTL_DEFAULT_TIMEOUT_NS, &err);
	protobuf_c_message_free_unpacked(event, NULL);
	if (ret < 0)
		goto fail;
	if (ctx->json)
		puts("{}");
	return SHIMCTL_EXIT_OK;
fail:
	shimctl_print_error(err);
	return SHIMCTL_EXIT_FAIL;
}

int
cmd_events(struct shimctl *ctx, int argc, char **argv)
{
	enum { OPT_TYPE = OPT_CMD, OPT_TOPIC };
	static const struct option opts[] = {
		SHIMCTL_GLOBAL_OPTIONS,
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "topic", required_argument, NULL, OPT_TOPIC },
		{ "data", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *type = NULL, *topic = NULL, *data = NULL;
	bool help = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "hd:", opts, NULL)) != -1) {
		int r = shimctl_global_opt(ctx, opt, optarg);
		if (r < 0)
			return SHIMCTL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'h':
			help = true;
			break;
		case OPT_TYPE:
			type = optarg;
			break;
		case OPT_TOPIC:
			topic = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		default:
			return shimctl_usage_error("events publish", "unknown option");
		}
	}
	if (optind >= argc || strcmp(argv[optind], "publish") != 0) {
		if (help) {
			events_help();
			return SHIMCTL_EXIT_OK;
		}
		if (optind < argc)
			return shimctl_usage_error("events", "unknown subcommand \"%s\"",
						   argv[optind]);
		return shimctl_usage_error("events", "expected a subcommand (publish)");
	}
	if (help) {
		publish_help();
		return SHIMCTL_EXIT_OK;
	}
	if (optind + 1 != argc)
		return shimctl_usage_error("events publish", "unexpected argument \"%s\"",
					   argv[optind + 1]);
	if (type == NULL)
		return shimctl_usage_error("events publish", "--type is required");
	return publish(ctx, type, topic, data);
}
