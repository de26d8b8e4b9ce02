/* Path resolution inside a container's rootfs that never leaves it: symlinks (absolute or with
 * "..") are resolved as if the rootfs were "/" (openat2 RESOLVE_IN_ROOT, with a manual walk on
 * kernels without openat2). Mount targets are then named by "/proc/self/fd/N", so a symlink
 * swapped in afterwards cannot redirect the mount. */
#ifndef MINI_PATHS_H
#define MINI_PATHS_H

#include "err.h"

#include <stdbool.h>
#include <sys/types.h>

/* Opens path below rootfd. flags are open(2) flags (O_PATH, O_DIRECTORY …); O_CLOEXEC is added.
 * Returns the fd or a negative errno with *err set. */
int open_in_root(int rootfd, const char *path, int flags, struct mini_err **err);

/* Creates the missing directories of path below rootfd (mode for each), the last one as an empty
 * regular file when `file`, and returns an O_PATH fd of the result. An existing destination of
 * the other kind is accepted. */
int mkdir_in_root(int rootfd, const char *path, mode_t mode, bool file, struct mini_err **err);

/* "/proc/self/fd/N" for fd, in buf (at least 32 bytes). */
const char *fd_path(int fd, char *buf, size_t len);

#endif
