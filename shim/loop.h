/* Loop devices for rootfs mounts with containerd's "loop" option (a filesystem image file). */
#ifndef MINI_SHIM_LOOP_H
#define MINI_SHIM_LOOP_H

#include "err.h"

#include <stdbool.h>

/* Attaches file to a free loop device (read-only when readonly), with autoclear: the kernel
 * detaches it when its last user goes, that is when the mount made from it is unmounted.
 * Returns an open fd of the device (keep it open until the mount exists) and its path in *dev
 * (caller frees); -errno with *err naming the file and the device on failure. */
int loop_attach(const char *file, bool readonly, char **dev, struct mini_err **err);

#endif
