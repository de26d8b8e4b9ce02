/* The "tmpcopyup" mount option: a new tmpfs starts with a copy of the directory it covers. */
#ifndef MINIRT_COPYUP_H
#define MINIRT_COPYUP_H

#include "err.h"

/* Copies everything below src_dirfd into dst_dirfd (both borrowed, directories): directories,
 * regular files, symlinks, device nodes, fifos and sockets, with their owner, mode and
 * timestamps. The two directories themselves are not changed. Nothing is followed: every name
 * is opened relative to its parent's fd with O_NOFOLLOW, so a symlink in the source cannot lead
 * the copy outside it. Errors name the path (relative to src_dirfd) being copied. */
int copyup_dir(int src_dirfd, int dst_dirfd, struct mini_err **err);

#endif
