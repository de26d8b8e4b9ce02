/* start, state, kill, delete, pause, resume: one container id each. */
#include "args.h"
#include "cleanup.h"
#include "commands.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM },     { "BUS", SIGBUS },       { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "FPE", SIGFPE },	      { "HUP", SIGHUP },       { "ILL", SIGILL },
	{ "INT", SIGINT },   { "IO", SIGIO },	      { "IOT", SIGIOT },       { "KILL", SIGKILL },
	{ "PIPE", SIGPIPE }, { "POLL", SIGPOLL },     { "PROF", SIGPROF },     { "PWR", SIGPWR },
	{ "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT }, { "STOP", SIGSTOP },
	{ "SYS", SIGSYS },   { "TERM", SIGTERM },     { "TRAP", SIGTRAP },     { "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },       { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },   { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },
};

int
cli_parse_signal(const char *s, int *sig, struct mini_err **err)
{
	char *end = NULL;
	long v;
	size_t i;

	v = strtol(s, &end, 10);
	if (end != s && *end == '\0') {
		if (v <= 0 || v >= NSIG)
			return mini_err_set(err, EINVAL, "invalid signal number %s", s);
		*sig = (int)v;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (strcasecmp(signals[i].name, s) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	if (strncasecmp(s, "RTMIN+", 6) == 0 || strncasecmp(s, "RTMAX-", 6) == 0) {
		bool min = toupper((unsigned char)s[4]) == 'I';

		v = strtol(s + 6, &end, 10);
		if (end != s + 6 && *end == '\0' && v >= 0 && v <= SIGRTMAX - SIGRTMIN) {
			*sig = min ? SIGRTMIN + (int)v : SIGRTMAX - (int)v;
			return 0;
		}
	}
	return mini_err_set(err, EINVAL, "unknown signal \"%s\"", s);
}

/* Parses flags and the single id of the commands below. Returns 1 when help was printed. */
static int
one_id(int argc, char **argv, const struct flag *flags, const char *usage, const char *desc,
       const char **id, struct mini_err **err)
{
	int i = 1, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i, usage, desc, err);
	if (ret != 0)
		return ret;
	ret = cli_want_args(argc, i, 1, argv[0], err);
	if (ret < 0)
		return ret;
	*id = argv[i];
	return 0;
}

static const struct flag no_flags[] = { { NULL, 0, FLAG_BOOL, NULL, NULL } };

int
cmd_start(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	  struct mini_err **err)
{
	const char *id;
	int ret = one_id(argc, argv, no_flags, "minirun start <container-id>",
			 "Execute the user process of a created container.", &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return minirt_container_start(ctx, id, err);
}

int
cmd_state(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	  struct mini_err **err)
{
	_cleanup_free_ char *json = NULL;
	const char *id;
	int ret = one_id(argc, argv, no_flags, "minirun state <container-id>",
			 "Output the state of a container.", &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	ret = minirt_container_state(ctx, id, &json, err);
	if (ret < 0)
		return ret;
	fputs(json, stdout);
	return 0;
}

int
cmd_kill(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code, struct mini_err **err)
{
	bool all = false;
	const struct flag flags[] = {
		{ "all", 'a', FLAG_BOOL, &all, "signal every process in the container" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	int i = 1, sig = SIGTERM, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i,
				   "minirun kill [--all] <container-id> [signal]",
				   "Send a signal (default SIGTERM) to the container's init.", err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	if (argc - i < 1 || argc - i > 2)
		return mini_err_set(err, EINVAL, "\"kill\" requires 1 or 2 arguments");
	if (argc - i == 2 && (ret = cli_parse_signal(argv[i + 1], &sig, err)) < 0)
		return ret;
	return minirt_container_kill(ctx, argv[i], sig, all, err);
}

int
cmd_delete(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	   struct mini_err **err)
{
	bool force = false;
	const struct flag flags[] = {
		{ "force", 'f', FLAG_BOOL, &force, "kill a running container first" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	const char *id;
	int ret = one_id(argc, argv, flags, "minirun delete [--force] <container-id>",
			 "Delete a container and the resources it holds.", &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return minirt_container_delete(ctx, id, force, err);
}

int
cmd_pause(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	  struct mini_err **err)
{
	const char *id;
	int ret = one_id(argc, argv, no_flags, "minirun pause <container-id>",
			 "Freeze every process of the container.", &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return minirt_container_pause(ctx, id, err);
}

int
cmd_resume(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	   struct mini_err **err)
{
	const char *id;
	int ret = one_id(argc, argv, no_flags, "minirun resume <container-id>",
			 "Thaw a paused container.", &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return minirt_container_resume(ctx, id, err);
}
