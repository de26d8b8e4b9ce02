/* create and run. */
#include "args.h"
#include "commands.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cli_want_args(int argc, int i, int want, const char *usage, struct mini_err **err)
{
	if (argc - i != want)
		return mini_err_set(err, EINVAL, "\"%s\" requires exactly %d argument%s", usage,
				    want, want == 1 ? "" : "s");
	return 0;
}

static int
create_or_run(const struct minirt_ctx *ctx, int argc, char **argv, bool run, int *exit_code,
	      struct mini_err **err)
{
	struct minirt_create_opts o = { 0 };
	bool detach = false, keep = false, no_subreaper = false;
	const char *ignored = NULL;
	const struct flag flags[] = {
		{ "bundle", 'b', FLAG_STRING, &o.bundle, "path to the bundle (default: .)" },
		{ "config", 0, FLAG_STRING, &o.config, "config.json path (default: bundle's)" },
		{ "pid-file", 0, FLAG_STRING, &o.pid_file, "file to write the init's pid to" },
		{ "console-socket", 0, FLAG_STRING, &o.console_socket,
		  "unix socket that receives the pty master" },
		{ "no-pivot", 0, FLAG_BOOL, &o.no_pivot, "chroot instead of pivot_root" },
		{ "no-new-keyring", 0, FLAG_BOOL, &o.no_new_keyring, "accepted, no effect" },
		{ "preserve-fds", 0, FLAG_UINT, &o.preserve_fds, "pass N fds from 3 on" },
		{ "detach", 'd', FLAG_BOOL, &detach, "run: return after start" },
		{ "keep", 0, FLAG_BOOL, &keep, "run: do not delete the container after exit" },
		{ "no-subreaper", 0, FLAG_BOOL, &no_subreaper, "accepted, no effect" },
		{ "criu", 0, FLAG_STRING, &ignored, "ignored" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	const char *usage = run ? "minirun run [options] <container-id>"
				: "minirun create [options] <container-id>";
	int i = 1, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i, usage,
				   run ? "Create and run a container." : "Create a container.",
				   err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	ret = cli_want_args(argc, i, 1, run ? "run" : "create", err);
	if (ret < 0)
		return ret;
	if (!run && (detach || keep))
		return mini_err_set(err, EINVAL, "--detach and --keep are run options");
	if (run)
		return minirt_container_run(ctx, argv[i], &o, detach, keep, exit_code, err);
	return minirt_container_create(ctx, argv[i], &o, err);
}

int
cmd_create(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	   struct mini_err **err)
{
	return create_or_run(ctx, argc, argv, false, exit_code, err);
}

int
cmd_run(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code, struct mini_err **err)
{
	return create_or_run(ctx, argc, argv, true, exit_code, err);
}
