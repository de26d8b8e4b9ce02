/* minirun: global flags, the command table, and the one place errors are reported (as runc: a
 * JSON line {"level":"error","msg":…,"errno":N,"time":…} in the --log file when --log-format json,
 * a logrus text line otherwise, and the bare message on stderr when a log file is used). */
#include "minirun_main.h"
#include "args.h"
#include "cleanup.h"
#include "commands.h"
#include "log.h"
#include "minirt.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MINIRUN_VERSION "0.1.0"

static const struct command {
	const char *name;
	cmd_fn fn;
	bool enters_container; /* runs from a sealed copy of the binary (CVE-2019-5736) */
	const char *summary;
} commands[] = {
	{ "create", cmd_create, true, "create a container" },
	{ "start", cmd_start, false, "execute the user process in a created container" },
	{ "run", cmd_run, true, "create and run a container" },
	{ "state", cmd_state, false, "output the state of a container" },
	{ "kill", cmd_kill, false, "send a signal to the container's init process" },
	{ "delete", cmd_delete, false, "delete any resources held by the container" },
	{ "exec", cmd_exec, true, "execute a new process inside the container" },
	{ "ps", cmd_ps, false, "display the processes running inside a container" },
	{ "list", cmd_list, false, "list containers started by minirun with the given root" },
	{ "pause", cmd_pause, false, "pause all processes in the container" },
	{ "resume", cmd_resume, false, "resume all processes that have been paused" },
	{ "update", cmd_update, false, "update container resource constraints" },
	{ "events", cmd_events, false, "display container resource statistics and OOM events" },
	{ "spec", cmd_spec, false, "create a new specification file" },
	{ "features", cmd_features, false, "show the enabled features" },
};

static void
usage(void)
{
	size_t i;

	printf("usage: minirun [global options] command [command options] [arguments...]\n\n"
	       "minirun is an OCI runtime (runtime-spec %s), runc-compatible.\n\nCommands:\n",
	       MINIRT_OCI_VERSION);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("   %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\nGlobal options:\n"
	       "   --root value          state directory (default: %s)\n"
	       "   --log value           log file (default: stderr)\n"
	       "   --log-format value    text or json (default: text)\n"
	       "   --debug               debug logging\n"
	       "   --systemd-cgroup      use the systemd cgroup driver (not supported)\n"
	       "   --help, -h            show help\n"
	       "   --version, -v         print the version\n",
	       MINIRT_DEFAULT_ROOT);
}

static void
version(void)
{
	printf("minirun version %s\nspec: %s\n", MINIRUN_VERSION, MINIRT_OCI_VERSION);
}

/* The final error. In JSON the errno is a number, so the shim reads it without parsing text. */
static void
report_error(const struct mini_err *e, int log_fd, enum mini_log_format fmt)
{
	_cleanup_free_ char *msg = mini_err_render(e);

	if (fmt == MINI_LOG_JSON) {
		char line[MINI_LOG_LINE_MAX];
		struct timespec ts;
		size_t len;

		clock_gettime(CLOCK_REALTIME, &ts);
		len = mini_log_format_json(line, sizeof(line),
					   ts.tv_sec * 1000000000LL + ts.tv_nsec, MINI_LOG_ERROR,
					   msg, NULL, 0);
		/* Splice "errno":N in front of "time" (the formatter only knows string fields). */
		{
			char *t = strstr(line, ",\"time\":");
			_cleanup_free_ char *out = NULL;

			if (t) {
				*t = '\0';
				out = xasprintf("%s,\"errno\":%d,%s", line, e ? e->errnum : 0,
						t + 1);
				if (write(log_fd, out, strlen(out)) < 0)
					(void)0;
			} else if (write(log_fd, line, len) < 0) {
				(void)0;
			}
		}
	} else {
		log_error("%s", msg);
	}
	if (log_fd != 2)
		dprintf(2, "%s\n", msg);
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
minirun_main(int argc, char **argv)
{
	_cleanup_err_ struct mini_err *err = NULL;
	const char *root = NULL, *log_path = NULL, *log_format = "text", *criu = NULL;
	const char *rootless = NULL;
	bool debug = false, systemd = false, help = false, show_version = false;
	const struct flag global[] = {
		{ "root", 0, FLAG_STRING, &root, "state directory" },
		{ "log", 0, FLAG_STRING, &log_path, "log file" },
		{ "log-format", 0, FLAG_STRING, &log_format, "text or json" },
		{ "debug", 0, FLAG_BOOL, &debug, "debug logging" },
		{ "systemd-cgroup", 0, FLAG_BOOL, &systemd, "systemd cgroup driver" },
		{ "criu", 0, FLAG_STRING, &criu, "ignored (no checkpoint support)" },
		{ "rootless", 0, FLAG_STRING, &rootless, "ignored" },
		{ "version", 'v', FLAG_BOOL, &show_version, "print the version" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	enum mini_log_format fmt = MINI_LOG_TEXT;
	struct minirt_ctx ctx = { .log_fd = -1 };
	const struct command *cmd;
	int i = 1, log_fd = 2, exit_code = 0, ret;

	ret = flags_parse(global, argc, argv, &i, &help, &err);
	if (ret == 0 && strcmp(log_format, "json") == 0)
		fmt = MINI_LOG_JSON;
	else if (ret == 0 && strcmp(log_format, "text") != 0)
		ret = mini_err_set(&err, EINVAL, "--log-format: unknown format \"%s\"", log_format);
	if (ret == 0 && log_path) {
		log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (log_fd < 0) {
			log_fd = 2;
			ret = mini_err_set(&err, errno, "open log file %s", log_path);
		}
	}
	mini_log_init(log_fd, fmt, debug ? MINI_LOG_DEBUG : MINI_LOG_WARN);
	if (ret < 0)
		goto fail;
	if (show_version) {
		version();
		return 0;
	}
	if (help || i >= argc) {
		usage();
		return help ? 0 : 1;
	}
	cmd = find_command(argv[i]);
	if (cmd == NULL) {
		ret = mini_err_set(&err, EINVAL, "no such command: %s", argv[i]);
		goto fail;
	}
	if (cmd->enters_container) {
		ret = minirt_ensure_cloned_binary(argv, &err);
		if (ret < 0)
			goto fail;
	}
	ctx.root = root;
	ctx.systemd_cgroup = systemd;
	ctx.log_fd = log_fd;
	if (debug)
		log_debug("%s %s", argv[0], cmd->name);
	ret = cmd->fn(&ctx, argc - i, argv + i, &exit_code, &err);
	if (ret < 0)
		goto fail;
	return exit_code;
fail:
	report_error(err, log_fd, fmt);
	return 1;
}
