/* exec: a new process in a running container, from --process or from the arguments. */
#include "args.h"
#include "cleanup.h"
#include "commands.h"
#include "strv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
cmd_exec(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code, struct mini_err **err)
{
	_cleanup_(strv_freep) struct strv env = { 0 };
	_cleanup_(strv_freep) struct strv gids = { 0 };
	_cleanup_(strv_freep) struct strv caps = { 0 };
	struct minirt_exec_opts o = { 0 };
	const char *ignored = NULL;
	const struct flag flags[] = {
		{ "process", 'p', FLAG_STRING, &o.process, "process.json to run" },
		{ "console-socket", 0, FLAG_STRING, &o.console_socket,
		  "unix socket that receives the pty master" },
		{ "cwd", 0, FLAG_STRING, &o.cwd, "working directory in the container" },
		{ "env", 'e', FLAG_STRV, &env, "add KEY=VALUE to the environment" },
		{ "tty", 't', FLAG_BOOL, &o.tty, "allocate a pseudo-TTY" },
		{ "user", 'u', FLAG_STRING, &o.user, "uid[:gid]" },
		{ "additional-gids", 'g', FLAG_STRV, &gids, "additional gids" },
		{ "detach", 'd', FLAG_BOOL, &o.detach, "do not wait for the process" },
		{ "pid-file", 0, FLAG_STRING, &o.pid_file, "file to write the process's pid to" },
		{ "no-new-privs", 0, FLAG_BOOL, &o.no_new_privs, "set no_new_privs" },
		{ "cap", 'c', FLAG_STRV, &caps, "add a capability (not applied yet)" },
		{ "preserve-fds", 0, FLAG_UINT, &o.preserve_fds, "pass N fds from 3 on" },
		{ "apparmor", 0, FLAG_STRING, &ignored, "ignored" },
		{ "process-label", 0, FLAG_STRING, &ignored, "ignored" },
		{ "cgroup", 0, FLAG_STRING, &ignored, "ignored" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	int i = 1, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i,
				   "minirun exec [options] <container-id> [command [args...]]",
				   "Execute a new process inside the container.", err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	if (argc - i < 1)
		return mini_err_set(err, EINVAL, "\"exec\" requires a container id");
	if (o.process == NULL && argc - i < 2)
		return mini_err_set(err, EINVAL, "\"exec\" requires a command or --process");
	o.args = argv + i + 1;
	o.env = env.v;
	o.additional_gids = gids.v;
	return minirt_container_exec(ctx, argv[i], &o, exit_code, err);
}
