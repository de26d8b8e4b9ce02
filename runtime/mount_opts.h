/* OCI mount options → mount(2) flags, propagation changes, recursive attributes
 * (mount_setattr with AT_RECURSIVE for "rro", "rnosuid" …) and the filesystem data string. */
#ifndef MINIRT_MOUNT_OPTS_H
#define MINIRT_MOUNT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mount_opts {
	unsigned long flags;   /* MS_* to set */
	unsigned long cleared; /* MS_* an option explicitly turned off ("rw", "suid" …) */
	unsigned long prop[8]; /* propagation changes, in order (MS_SHARED | MS_REC …) */
	size_t n_prop;
	uint64_t attr_set; /* MOUNT_ATTR_* set recursively */
	uint64_t attr_clr; /* MOUNT_ATTR_* cleared recursively */
	char *data;	   /* the remaining options, comma-joined; NULL when none */
	bool tmpcopyup;
	bool idmap;  /* "idmap" or "ridmap": an id-mapped bind mount */
	bool ridmap; /* "ridmap": the mapping goes on every mount of the tree */
};

/* Parses opts (borrowed). Never fails: options that are not flags are filesystem data. */
void mount_opts_parse(char *const *opts, size_t n, struct mount_opts *out);
void mount_opts_clear(struct mount_opts *o);

/* The list of option names for `features`, NULL-terminated, static. */
const char *const *mount_opts_known(void);

#endif
