/* shimctl: a debugging CLI for containerd runtime shims v2. It speaks ttrpc directly: the Task
 * API to a shim's socket, and Events/Forward to containerd's ttrpc socket. */
#include "shimctl.h"

#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char main_usage[] =
	"Usage: shimctl [OPTIONS] COMMAND [ARGS...]\n"
	"\n"
	"Talks ttrpc to a containerd runtime shim v2 (containerd.task.v2.Task), or to\n"
	"containerd's ttrpc events service, for debugging. Options may also follow the\n"
	"command.\n"
	"\n"
	"Finding the shim:\n"
	"  --address ADDR     the shim's socket (unix:///path or /path)\n"
	"  --namespace NS     containerd namespace (default $CONTAINERD_NAMESPACE, else\n"
	"                     \"default\"); also sent as metadata containerd-namespace-ttrpc\n"
	"  --id ID            the container id; without --address the socket is read from\n"
	"                     STATE_DIR/NS/ID/address\n"
	"  --state-dir DIR    default " SHIMCTL_DEFAULT_STATE_DIR "\n"
	"Other options:\n"
	"  --timeout DUR      per call, e.g. 10s, 500ms, 1m; 0 = none (default 10s; none for wait\n"
	"                     and exec)\n"
	"  --json             JSON output instead of the human form\n"
	"  -h, --help         this help; \"shimctl COMMAND --help\" explains a command\n"
	"\n"
	"Commands:\n"
	"  call SERVICE METHOD  send a request read as JSON from stdin, print the reply as JSON\n"
	"  events publish       publish an event to containerd (Events/Forward)\n"
	"  create               create the container from a bundle (Create)\n"
	"  start                start the init or an exec process (Start)\n"
	"  state                state of the init or an exec process (State)\n"
	"  pids                 processes of the container (Pids)\n"
	"  kill                 signal a process (Kill)\n"
	"  wait                 wait until a process exits (Wait)\n"
	"  stats                cgroup metrics (Stats)\n"
	"  pause, resume        freeze or thaw the container (Pause, Resume)\n"
	"  delete               delete a process (Delete)\n"
	"  connect              the shim's and the task's pids (Connect)\n"
	"  shutdown             ask the shim to exit (Shutdown)\n"
	"  exec                 run a process in the container on this terminal\n"
	"\n"
	"Errors are printed as \"shimctl: <gRPC code>: <message>\", e.g.\n"
	"\"shimctl: NotFound: container not created\". Exit status: 0 success, 1 failure, 2 bad\n"
	"usage; exec exits with the status of the process it ran.\n"
	"\n"
	"Examples:\n"
	"  shimctl --namespace default --id c1 state\n"
	"  shimctl --address unix:///run/containerd/s/0123abcd --id c1 kill --signal KILL --all\n"
	"  echo '{\"id\":\"c1\"}' | shimctl --address /run/containerd/s/0123abcd call task State\n"
	"  shimctl --id c1 exec --exec-id sh1 -t -- /bin/sh\n";

/* The commands besides the Task shortcuts, which are cmd_task.c's table. */
static const struct {
	const char *name;
	int (*fn)(struct shimctl *ctx, int argc, char **argv);
} commands[] = {
	{ "call", cmd_call },	{ "events", cmd_events }, { "create", cmd_create },
	{ "start", cmd_start }, { "exec", cmd_exec },
};

int
shimctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shimctl: ");
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'shimctl %s%s--help' for usage.\n", cmd ? cmd : "", cmd ? " " : "");
	return SHIMCTL_EXIT_USAGE;
}

int
shimctl_parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{ "ns", 1 },  { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	double total = 0;
	const char *p = s;
	char *end;

	if (*s == '\0')
		return -EINVAL;
	total = strtod(s, &end);
	if (end != s && *end == '\0' && total >= 0) {
		/* A plain number is seconds. */
		*ns = (int64_t)(total * 1e9);
		return 0;
	}
	total = 0;
	while (*p) {
		double v = strtod(p, &end);
		size_t i, ulen = 0;

		if (end == p || v < 0 || *p == '-' || *p == '+')
			return -EINVAL;
		p = end;
		/* Two-letter units come first in the table, so "ms" wins over "m". */
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			ulen = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, ulen) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		total += v * units[i].ns;
		p += ulen;
	}
	if (!isfinite(total) || total > 9.2e18)
		return -EINVAL;
	*ns = (int64_t)total;
	return 0;
}

int
shimctl_read_request(const char *data, char **out, size_t *len, struct mini_err **err)
{
	size_t cap = 4096, used = 0;
	_cleanup_free_ char *buf = NULL;

	if (data != NULL || isatty(STDIN_FILENO)) {
		*out = xstrdup(data ? data : "");
		*len = strlen(*out);
		return 0;
	}
	buf = xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(STDIN_FILENO, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mini_err_set(err, errno, "read stdin");
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*len = used;
	*out = steal_ptr(&buf);
	return 0;
}

int
shimctl_global_opt(struct shimctl *ctx, int opt, const char *arg)
{
	switch (opt) {
	case OPT_ADDRESS:
		ctx->address = arg;
		return 1;
	case OPT_NAMESPACE:
		ctx->ns = arg;
		return 1;
	case OPT_ID:
		ctx->id = arg;
		return 1;
	case OPT_STATE_DIR:
		ctx->state_dir = arg;
		return 1;
	case OPT_TIMEOUT:
		if (shimctl_parse_duration(arg, &ctx->timeout_ns) < 0) {
			fprintf(stderr, "shimctl: invalid --timeout \"%s\" (use e.g. 10s, 500ms)\n",
				arg);
			return -1;
		}
		return 1;
	case OPT_JSON:
		ctx->json = true;
		return 1;
	}
	return 0;
}

/* Runs the command argv[0] with its arguments. */
static int
run_command(struct shimctl *ctx, int argc, char **argv)
{
	const struct task_cmd *task = shimctl_find_task_cmd(argv[0]);

	optind = 0; /* reinitialise getopt for the command's parser */
	if (task)
		return cmd_task(ctx, task, argc, argv);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, argv[0]) == 0)
			return commands[i].fn(ctx, argc, argv);
	}
	return shimctl_usage_error(NULL, "unknown command \"%s\"", argv[0]);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = { SHIMCTL_GLOBAL_OPTIONS, { NULL, 0, NULL, 0 } };
	struct shimctl ctx = {
		.ns = getenv("CONTAINERD_NAMESPACE"),
		.state_dir = SHIMCTL_DEFAULT_STATE_DIR,
		.timeout_ns = -1,
	};
	int opt, ret;

	if (ctx.ns == NULL || *ctx.ns == '\0')
		ctx.ns = "default";
	/* '+': stop at the command; its own parser reads the rest, global options included. */
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		int r = shimctl_global_opt(&ctx, opt, optarg);
		if (r < 0)
			return SHIMCTL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (opt == 'h') {
			fputs(main_usage, stdout);
			return SHIMCTL_EXIT_OK;
		}
		return shimctl_usage_error(NULL, "unknown option");
	}
	if (optind >= argc)
		return shimctl_usage_error(NULL, "no command given");
	ret = run_command(&ctx, argc - optind, argv + optind);
	free(ctx.address_owned);
	return ret;
}
