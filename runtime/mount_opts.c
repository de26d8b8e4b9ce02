#include "mount_opts.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

enum opt_kind { OPT_FLAG, OPT_PROP, OPT_ATTR, OPT_SPECIAL };

struct opt {
	const char *name;
	enum opt_kind kind;
	bool clear;	     /* the option turns the flag/attribute off */
	unsigned long value; /* MS_* or MOUNT_ATTR_* */
};

#define ATTR_ATIME_MASK MOUNT_ATTR__ATIME

static const struct opt opts[] = {
	{ "defaults", OPT_FLAG, false, 0 },
	{ "ro", OPT_FLAG, false, MS_RDONLY },
	{ "rw", OPT_FLAG, true, MS_RDONLY },
	{ "nosuid", OPT_FLAG, false, MS_NOSUID },
	{ "suid", OPT_FLAG, true, MS_NOSUID },
	{ "nodev", OPT_FLAG, false, MS_NODEV },
	{ "dev", OPT_FLAG, true, MS_NODEV },
	{ "noexec", OPT_FLAG, false, MS_NOEXEC },
	{ "exec", OPT_FLAG, true, MS_NOEXEC },
	{ "sync", OPT_FLAG, false, MS_SYNCHRONOUS },
	{ "async", OPT_FLAG, true, MS_SYNCHRONOUS },
	{ "dirsync", OPT_FLAG, false, MS_DIRSYNC },
	{ "remount", OPT_FLAG, false, MS_REMOUNT },
	{ "mand", OPT_FLAG, false, MS_MANDLOCK },
	{ "nomand", OPT_FLAG, true, MS_MANDLOCK },
	{ "noatime", OPT_FLAG, false, MS_NOATIME },
	{ "atime", OPT_FLAG, true, MS_NOATIME },
	{ "nodiratime", OPT_FLAG, false, MS_NODIRATIME },
	{ "diratime", OPT_FLAG, true, MS_NODIRATIME },
	{ "relatime", OPT_FLAG, false, MS_RELATIME },
	{ "norelatime", OPT_FLAG, true, MS_RELATIME },
	{ "strictatime", OPT_FLAG, false, MS_STRICTATIME },
	{ "nostrictatime", OPT_FLAG, true, MS_STRICTATIME },
	{ "lazytime", OPT_FLAG, false, MS_LAZYTIME },
	{ "nolazytime", OPT_FLAG, true, MS_LAZYTIME },
	{ "silent", OPT_FLAG, false, MS_SILENT },
	{ "loud", OPT_FLAG, true, MS_SILENT },
	{ "iversion", OPT_FLAG, false, MS_I_VERSION },
	{ "noiversion", OPT_FLAG, true, MS_I_VERSION },
	{ "nosymfollow", OPT_FLAG, false, MS_NOSYMFOLLOW },
	{ "symfollow", OPT_FLAG, true, MS_NOSYMFOLLOW },
	{ "bind", OPT_FLAG, false, MS_BIND },
	{ "rbind", OPT_FLAG, false, MS_BIND | MS_REC },
	{ "private", OPT_PROP, false, MS_PRIVATE },
	{ "rprivate", OPT_PROP, false, MS_PRIVATE | MS_REC },
	{ "shared", OPT_PROP, false, MS_SHARED },
	{ "rshared", OPT_PROP, false, MS_SHARED | MS_REC },
	{ "slave", OPT_PROP, false, MS_SLAVE },
	{ "rslave", OPT_PROP, false, MS_SLAVE | MS_REC },
	{ "unbindable", OPT_PROP, false, MS_UNBINDABLE },
	{ "runbindable", OPT_PROP, false, MS_UNBINDABLE | MS_REC },
	{ "rro", OPT_ATTR, false, MOUNT_ATTR_RDONLY },
	{ "rrw", OPT_ATTR, true, MOUNT_ATTR_RDONLY },
	{ "rnosuid", OPT_ATTR, false, MOUNT_ATTR_NOSUID },
	{ "rsuid", OPT_ATTR, true, MOUNT_ATTR_NOSUID },
	{ "rnodev", OPT_ATTR, false, MOUNT_ATTR_NODEV },
	{ "rdev", OPT_ATTR, true, MOUNT_ATTR_NODEV },
	{ "rnoexec", OPT_ATTR, false, MOUNT_ATTR_NOEXEC },
	{ "rexec", OPT_ATTR, true, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", OPT_ATTR, false, MOUNT_ATTR_NODIRATIME },
	{ "rdiratime", OPT_ATTR, true, MOUNT_ATTR_NODIRATIME },
	{ "rnosymfollow", OPT_ATTR, false, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rsymfollow", OPT_ATTR, true, MOUNT_ATTR_NOSYMFOLLOW },
	/* The atime modes are one field: set the mode, clear the mask. */
	{ "rrelatime", OPT_ATTR, false, MOUNT_ATTR_RELATIME },
	{ "rnorelatime", OPT_ATTR, true, ATTR_ATIME_MASK },
	{ "rnoatime", OPT_ATTR, false, MOUNT_ATTR_NOATIME },
	{ "ratime", OPT_ATTR, true, ATTR_ATIME_MASK },
	{ "rstrictatime", OPT_ATTR, false, MOUNT_ATTR_STRICTATIME },
	{ "rnostrictatime", OPT_ATTR, true, ATTR_ATIME_MASK },
	{ "tmpcopyup", OPT_SPECIAL, false, 0 },
	{ "idmap", OPT_SPECIAL, false, 1 },
	{ "ridmap", OPT_SPECIAL, false, 2 },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void
apply(const struct opt *o, struct mount_opts *out)
{
	switch (o->kind) {
	case OPT_FLAG:
		if (o->clear) {
			out->flags &= ~o->value;
			out->cleared |= o->value;
		} else {
			out->flags |= o->value;
			out->cleared &= ~o->value;
		}
		break;
	case OPT_PROP:
		if (out->n_prop < sizeof(out->prop) / sizeof(out->prop[0]))
			out->prop[out->n_prop++] = o->value;
		break;
	case OPT_ATTR:
		if (o->clear) {
			out->attr_clr |= o->value;
			out->attr_set &= ~o->value;
		} else {
			out->attr_set |= o->value;
			out->attr_clr &= ~o->value;
			/* An atime mode replaces the previous one. */
			if (o->value == MOUNT_ATTR_RELATIME || o->value == MOUNT_ATTR_NOATIME ||
			    o->value == MOUNT_ATTR_STRICTATIME)
				out->attr_clr |= ATTR_ATIME_MASK;
		}
		break;
	case OPT_SPECIAL:
		if (o->value == 0)
			out->tmpcopyup = true;
		else
			out->idmap = true;
		if (o->value == 2)
			out->ridmap = true;
		break;
	}
}

void
mount_opts_parse(char *const *list, size_t n, struct mount_opts *out)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		for (j = 0; j < N_OPTS; j++) {
			if (strcmp(list[i], opts[j].name) == 0) {
				apply(&opts[j], out);
				break;
			}
		}
		if (j < N_OPTS)
			continue;
		if (out->data == NULL) {
			out->data = xstrdup(list[i]);
		} else {
			char *d = xasprintf("%s,%s", out->data, list[i]);
			free(out->data);
			out->data = d;
		}
	}
}

void
mount_opts_clear(struct mount_opts *o)
{
	free(o->data);
	o->data = NULL;
}

const char *const *
mount_opts_known(void)
{
	static const char *names[N_OPTS + 1];
	size_t i;

	if (names[0] == NULL)
		for (i = 0; i < N_OPTS; i++)
			names[i] = opts[i].name;
	return names;
}
