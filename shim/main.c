/* containerd-shim-mini-v2: the containerd runtime shim v2 for io.containerd.mini.v2.
 *
 *   … -namespace NS -address A -publish-binary B -id ID [-debug] start    (print the address)
 *   … -namespace NS -address A -publish-binary B -id ID -bundle B delete  (clean up after a shim)
 *   … -namespace NS -id ID -address A [-socket PATH] [-debug]            (the daemon itself)
 *
 * Flags are Go-style (one or two dashes, value in the next argument or after '='). Unknown flags
 * are ignored, since newer containerds add some. */
#include "shim.h"
#include "minirun_main.h"
#include "runtime_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct flag {
	const char *name;
	const char **value; /* string flag */
	bool *set;	    /* boolean flag */
};

static bool
is_action(const char *s)
{
	return strcmp(s, "start") == 0 || strcmp(s, "delete") == 0;
}

static int
parse(int argc, char **argv, struct shim_args *a)
{
	const struct flag flags[] = {
		{ "namespace", &a->ns, NULL },	  { "id", &a->id, NULL },
		{ "address", &a->address, NULL }, { "publish-binary", &a->publish_binary, NULL },
		{ "bundle", &a->bundle, NULL },	  { "socket", &a->socket, NULL },
		{ "debug", NULL, &a->debug },	  { "v", NULL, &a->version },
		{ "version", NULL, &a->version }, { "info", NULL, &a->info },
	};

	a->argv0 = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq;
		const struct flag *f = NULL;
		size_t nlen;

		if (arg[0] != '-') {
			if (a->action == NULL)
				a->action = arg;
			continue;
		}
		name = arg + (arg[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strlen(flags[k].name) == nlen &&
			    strncmp(flags[k].name, name, nlen) == 0)
				f = &flags[k];
		if (f && f->set) {
			*f->set = eq == NULL || strcmp(eq + 1, "false") != 0;
			continue;
		}
		if (eq) {
			if (f)
				*f->value = eq + 1;
			continue;
		}
		/* A flag that takes a value, ours or unknown: the value is the next word (unless
		 * that word is the action, for an unknown boolean flag). */
		if (i + 1 < argc && (f || (argv[i + 1][0] != '-' && !is_action(argv[i + 1])))) {
			if (f)
				*f->value = argv[i + 1];
			i++;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct shim_args a = { 0 };
	const char *base = strrchr(argv[0], '/');

	/* The embedded runtime: the shim execs itself under this name (runtime_client.h). */
	if (strcmp(base ? base + 1 : argv[0], MINI_EMBEDDED_RUNTIME) == 0)
		return minirun_main(argc, argv);
	parse(argc, argv, &a);
	if (a.version) {
		printf("containerd-shim-mini-v2:\n  Version:  %s\n  Runtime:  %s\n", SHIM_VERSION,
		       MINI_RUNTIME_NAME);
		return 0;
	}
	if (a.info)
		return shim_info();
	if (a.action == NULL)
		return shim_serve(&a);
	if (strcmp(a.action, "start") == 0)
		return shim_start(&a);
	if (strcmp(a.action, "delete") == 0)
		return shim_delete(&a);
	fprintf(stderr, "containerd-shim-mini-v2: unknown action %s\n", a.action);
	return 1;
}
