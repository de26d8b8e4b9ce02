/* Root filesystem mounts from CreateTaskRequest.rootfs (overlay from containerd's snapshotter,
 * or bind mounts), made at <bundle>/rootfs in the host mount namespace, with containerd's option
 * rules (mount/mount_linux.go), and their removal. */
#ifndef MINI_SHIM_MOUNT_H
#define MINI_SHIM_MOUNT_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

struct mount_entry {
	const char *type, *source;
	const char *target; /* below the rootfs (containerd 2.x); NULL or "" = the rootfs */
	char *const *options;
	size_t n_options;
};

/* Splits containerd mount options into mount(2) flags (set and cleared as containerd's table
 * says), propagation flags, and the comma-joined rest (the filesystem data). *data is owned by
 * the caller. *loop is set for the "loop" option. Never fails. */
void mount_parse_options(char *const *options, size_t n, unsigned long *flags,
			 unsigned long *propagation, char **data, bool *loop);

/* For overlay options longer than a page minus 512 bytes: the common parent directory of the
 * lowerdirs (returned, caller owns, ends with '/') and the options rewritten with lowerdirs
 * relative to it (*out, a NULL-terminated vector the caller frees with mount_strv_free). NULL
 * when no compaction applies. */
char *mount_compact_lowerdir(char *const *options, size_t n, char ***out, size_t *n_out);
void mount_strv_free(char **v);

/* Mounts every entry on target in order. On failure unmounts what it mounted and sets *err. */
int mount_all(const struct mount_entry *m, size_t n, const char *target, struct mini_err **err);

/* Unmounts target until it is no longer a mount point (stacked mounts included). A busy mount is
 * retried briefly, then detached. Succeeds when nothing is mounted there or it does not exist. */
int unmount_all(const char *target, struct mini_err **err);

#endif
