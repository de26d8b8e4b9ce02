/* events: cgroup statistics and OOM notifications (runc's JSON lines). */
#include "args.h"
#include "cleanup.h"
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A Go duration as urfave/cli takes it: "5s", "500ms", "1m", "1.5s"; milliseconds. */
static int
parse_interval(const char *s, unsigned *ms, struct mini_err **err)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
	char *end = NULL;
	double v = strtod(s, &end);
	size_t i;

	for (i = 0; end != s && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0 && v * units[i].ms < 86400000.0 * 365) {
			*ms = (unsigned)(v * units[i].ms);
			return 0;
		}
	}
	return mini_err_set(err, EINVAL, "invalid value \"%s\" for --interval", s);
}

int
cmd_events(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	   struct mini_err **err)
{
	_cleanup_free_ char *json = NULL;
	const char *interval = "5s";
	bool stats = false;
	const struct flag flags[] = {
		{ "interval", 0, FLAG_STRING, &interval, "stats collection interval (default 5s)" },
		{ "stats", 0, FLAG_BOOL, &stats, "display the container's stats once, then exit" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	unsigned ms = 0;
	int i = 1, ret;

	ret = flags_parse_or_usage(
		flags, argc, argv, &i, "minirun events [--stats] [--interval 5s] <container-id>",
		"Display the container's resource statistics and OOM events (JSON).", err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	ret = cli_want_args(argc, i, 1, "events", err);
	if (ret == 0)
		ret = parse_interval(interval, &ms, err);
	if (ret < 0)
		return ret;
	if (!stats) {
		fflush(stdout);
		return minirt_container_events(ctx, argv[i], ms, STDOUT_FILENO, err);
	}
	ret = minirt_container_stats(ctx, argv[i], &json, err);
	if (ret < 0)
		return ret;
	printf("%s\n", json);
	return 0;
}
