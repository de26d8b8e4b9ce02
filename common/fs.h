/* Filesystem helpers. All return 0/-errno and set *err on failure. */
#ifndef MINI_FS_H
#define MINI_FS_H

#include "err.h"
#include <stddef.h>
#include <sys/types.h>

/* Joins a and b with one '/'. Caller owns the result. */
char *path_join(const char *a, const char *b);
/* mkdir -p with mode for each created component. */
int mkdir_p(const char *path, mode_t mode, struct mini_err **err);
/* Reads a whole file into a NUL-terminated buffer; *out owned by caller, *len optional. */
int read_file(const char *path, char **out, size_t *len, struct mini_err **err);
/* Writes a file atomically: a temporary name in the same directory, fsync-free, then rename. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      struct mini_err **err);

#endif
