/* FUSE rootfs mounts go through external programs, as containerd does: the mount.fuse3 /
 * mount.fuse helper mounts a "fuse3.TYPE" / "fuse.TYPE" entry, fusermount3 / fusermount
 * unmounts one. The helpers run to completion (Create and Delete wait for their mounts). */
#ifndef MINI_SHIM_MOUNT_HELPER_H
#define MINI_SHIM_MOUNT_HELPER_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

/* The helper for a mount type: "mount.fuse3" for "fuse3.*", "mount.fuse" for "fuse.*", else
 * NULL. *subtype is the part after the prefix. */
const char *mount_helper_for(const char *type, const char **subtype);

/* Runs `helper source target -o OPT … -t subtype`. On failure *err carries the helper's
 * command line and what it printed. */
int mount_with_helper(const char *helper, const char *subtype, const char *source,
		      const char *target, char *const *options, size_t n_options,
		      struct mini_err **err);

/* True when path is the root of a FUSE mount. */
bool mount_is_fuse(const char *path);

/* Unmounts a FUSE mount with fusermount3, else fusermount. 0 when one of them did. */
int unmount_fuse(const char *path, struct mini_err **err);

#endif
