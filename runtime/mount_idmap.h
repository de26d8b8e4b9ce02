/* Id-mapped bind mounts (mounts[].uidMappings / gidMappings, options "idmap" and "ridmap"), made
 * with the new mount API: a detached copy of the source (open_tree), a user namespace that
 * carries the mapping, mount_setattr(MOUNT_ATTR_IDMAP), then move_mount onto the destination.
 *
 * Mapping direction (runtime-spec 1.1, as crun and runc 1.2): an id `containerID + k` of the
 * source filesystem appears in the mount as `hostID + k`; ids outside every range appear as the
 * overflow id (65534) and cannot be written. */
#ifndef MINIRT_MOUNT_IDMAP_H
#define MINIRT_MOUNT_IDMAP_H

#include "err.h"
#include "spec.h"

#include <stdbool.h>

/* Returns a detached mount of src (a tree of mounts when `tree`) carrying m's mappings, on every
 * mount of the tree when `recursive`, else on its top only. The caller owns the fd. m is
 * borrowed; errors name m->destination. */
int idmap_open_tree(const char *src, const struct spec_mount *m, bool tree, bool recursive,
		    struct mini_err **err);

/* Attaches the detached mount tree_fd on top of the directory or file dest_fd (an O_PATH fd)
 * names. Borrows both fds. */
int idmap_move_mount(int tree_fd, int dest_fd, const char *dest, struct mini_err **err);

#endif
