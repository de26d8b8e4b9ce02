/* Validation of container and exec ids, as containerd's identifiers: [A-Za-z0-9]+ groups joined by
 * single '.', '_' or '-', at most 76 characters. Safe as a path component. */
#ifndef MINI_IDS_H
#define MINI_IDS_H

#include "err.h"

/* Returns 0 if id is valid, else -EINVAL with an error naming the id and what is wrong. `what`
 * names the kind of id in the message ("container id", "exec id"). */
int id_validate(const char *id, const char *what, struct mini_err **err);

#endif
