/* ps and list. */
#include "args.h"
#include "cleanup.h"
#include "commands.h"
#include "json.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool
has_pid(const pid_t *pids, size_t n, long pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* runc's table: run ps(1) with the given options and keep the header and our pids' lines. */
static int
ps_table(const pid_t *pids, size_t n, char **ps_args, struct mini_err **err)
{
	_cleanup_free_ char *cmd = xstrdup("ps");
	_cleanup_free_ char *line = NULL;
	FILE *f;
	size_t cap = 0;
	int col = -1, lineno = 0, status;

	if (ps_args == NULL || ps_args[0] == NULL) {
		free(cmd);
		cmd = xstrdup("ps -ef");
	}
	for (; ps_args && *ps_args; ps_args++) {
		char *next;

		/* The arguments come from our own command line: quote them for sh anyway. */
		if (strchr(*ps_args, '\''))
			return mini_err_set(err, EINVAL, "ps: invalid argument %s", *ps_args);
		next = xasprintf("%s '%s'", cmd, *ps_args);
		free(cmd);
		cmd = next;
	}
	f = popen(cmd, "re");
	if (f == NULL)
		return mini_err_set(err, errno, "run %s", cmd);
	while (getline(&line, &cap, f) > 0) {
		if (lineno++ == 0) {
			char *copy = xstrdup(line), *tok, *save = NULL;
			int c = 0;

			for (tok = strtok_r(copy, " \t\n", &save); tok;
			     tok = strtok_r(NULL, " \t\n", &save), c++)
				if (strcmp(tok, "PID") == 0)
					col = c;
			free(copy);
			fputs(line, stdout);
			continue;
		}
		if (col >= 0) {
			char *copy = xstrdup(line), *tok, *save = NULL;
			int c = 0;
			bool ours = false;

			for (tok = strtok_r(copy, " \t\n", &save); tok;
			     tok = strtok_r(NULL, " \t\n", &save), c++)
				if (c == col)
					ours = has_pid(pids, n, strtol(tok, NULL, 10));
			free(copy);
			if (ours)
				fputs(line, stdout);
		}
	}
	status = pclose(f);
	if (col < 0)
		return mini_err_set(err, EINVAL, "ps: no PID column in the output of %s", cmd);
	(void)status;
	return 0;
}

int
cmd_ps(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code, struct mini_err **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	const char *format = "table";
	const struct flag flags[] = {
		{ "format", 'f', FLAG_STRING, &format, "table or json" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	size_t n = 0, k;
	int i = 1, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i,
				   "minirun ps [--format table|json] <container-id> [ps options]",
				   "Display the processes running inside a container.", err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	if (argc - i < 1)
		return mini_err_set(err, EINVAL, "\"ps\" requires a container id");
	ret = minirt_container_pids(ctx, argv[i], &pids, &n, err);
	if (ret < 0)
		return ret;
	if (strcmp(format, "json") == 0) {
		printf("[");
		for (k = 0; k < n; k++)
			printf("%s%d", k ? "," : "", (int)pids[k]);
		printf("]\n");
		return 0;
	}
	if (strcmp(format, "table") != 0)
		return mini_err_set(err, EINVAL, "invalid format option %s", format);
	fflush(stdout);
	return ps_table(pids, n, argv + i + 1, err);
}

int
cmd_list(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code, struct mini_err **err)
{
	struct minirt_info *v = NULL;
	const char *format = "table";
	bool quiet = false;
	const struct flag flags[] = {
		{ "format", 'f', FLAG_STRING, &format, "table or json" },
		{ "quiet", 'q', FLAG_BOOL, &quiet, "only the ids" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	size_t n = 0, k;
	int i = 1, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i,
				   "minirun list [--format table|json] [--quiet]",
				   "List the containers under the state root.", err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	ret = minirt_list(ctx, &v, &n, err);
	if (ret < 0)
		return ret;
	if (quiet) {
		for (k = 0; k < n; k++)
			printf("%s\n", v[k].id);
	} else if (strcmp(format, "json") == 0) {
		_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(false);
		_cleanup_free_ char *text = NULL;

		yajl_gen_array_open(g);
		for (k = 0; k < n; k++) {
			yajl_gen_map_open(g);
			json_gen_kv_str(g, "ociVersion", MINIRT_OCI_VERSION);
			json_gen_kv_str(g, "id", v[k].id);
			json_gen_kv_int(g, "pid", v[k].pid);
			json_gen_kv_str(g, "status", v[k].status);
			json_gen_kv_str(g, "bundle", v[k].bundle);
			json_gen_kv_str(g, "created", v[k].created);
			json_gen_kv_str(g, "owner", v[k].owner);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		text = json_gen_take(g, NULL);
		printf("%s\n", text);
	} else {
		printf("%-12s%-12s%-12s%-12s%-32s%s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
		       "OWNER");
		for (k = 0; k < n; k++)
			printf("%-12s%-12d%-12s%-12s%-32s%s\n", v[k].id, (int)v[k].pid, v[k].status,
			       v[k].bundle, v[k].created, v[k].owner);
	}
	minirt_info_free(v, n);
	return 0;
}
