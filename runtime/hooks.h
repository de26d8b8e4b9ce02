/* OCI hooks: each runs with the container's state JSON on its stdin, its args and env (the
 * runtime's environment when env is absent, as runc), and an optional timeout. Output is
 * captured and quoted in the error when a hook fails. */
#ifndef MINIRT_HOOKS_H
#define MINIRT_HOOKS_H

#include "err.h"
#include "spec.h"

/* Runs the hooks of kind k in order; the first failure stops and sets *err. */
int hooks_run(const struct minirt_spec *s, enum spec_hook_kind k, const char *state_json,
	      struct mini_err **err);

#endif
