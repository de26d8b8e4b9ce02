/* Command-line flags the way runc (urfave/cli) accepts them: "--name", "-name", "--name=value",
 * "-name value", a one-letter alias ("-b"), boolean flags with an optional "=true|false", and
 * repeatable string flags. Parsing stops at the first argument that is not a flag, or at "--". */
#ifndef MINIRUN_ARGS_H
#define MINIRUN_ARGS_H

#include "err.h"
#include "strv.h"

#include <stdbool.h>

enum flag_type {
	FLAG_BOOL,   /* bool * */
	FLAG_STRING, /* const char ** (points into argv) */
	FLAG_UINT,   /* unsigned * */
	FLAG_STRV,   /* struct strv *, repeatable */
};

struct flag {
	const char *name;
	char alias; /* one-letter alias or 0 */
	enum flag_type type;
	void *ptr;
	const char *help;
};

/* Parses flags from argv[*i]; leaves *i at the first positional argument. "-h"/"--help" sets
 * *help. EINVAL with a message naming the flag on an unknown flag or a missing value. */
int flags_parse(const struct flag *flags, int argc, char **argv, int *i, bool *help,
		struct mini_err **err);

/* Prints "usage" and the flag table to stdout. */
void flags_usage(const char *usage, const char *description, const struct flag *flags);

/* flags_parse, and for -h/--help the usage. Returns 1 when the help was printed (the command is
 * done), 0 to go on, or flags_parse's error. */
int flags_parse_or_usage(const struct flag *flags, int argc, char **argv, int *i, const char *usage,
			 const char *description, struct mini_err **err);

#endif
