/* Namespaces: which to create at clone() time, which to join (by path for create, from
 * /proc/<pid>/ns for exec), the join order, and user-namespace id maps. */
#ifndef MINIRT_NAMESPACES_H
#define MINIRT_NAMESPACES_H

#include "err.h"
#include "spec.h"

#include <sys/types.h>

/* CLONE_NEW* for the namespaces to create with clone(): every new one except cgroup (unshared
 * by the init once it is in its cgroup) and time (unshared by the parent before clone). */
int ns_clone_flags(const struct minirt_spec *s);

/* Opens each namespace the spec joins by path into fds[type]; -1 for the others. */
int ns_open_paths(const struct minirt_spec *s, int fds[SPEC_NS_COUNT], struct mini_err **err);

/* Opens /proc/<pid>/ns/<type> for every namespace of pid that differs from ours. */
int ns_open_pid(pid_t pid, int fds[SPEC_NS_COUNT], struct mini_err **err);

/* setns() into every open fd: user first (it grants the rights for the others), mount last;
 * closes the fds it used. */
int ns_join(int fds[SPEC_NS_COUNT], struct mini_err **err);

void ns_close_all(int fds[SPEC_NS_COUNT]);

/* Writes one id map file of pid ("uid_map" or "gid_map"; nothing when n is 0), in the single
 * write(2) the kernel accepts. */
int ns_write_map(pid_t pid, const char *file, const struct spec_idmap *m, size_t n,
		 struct mini_err **err);
/* Writes /proc/<pid>/uid_map and gid_map from the spec (a new user namespace). */
int ns_write_idmaps(pid_t pid, const struct spec_linux *l, struct mini_err **err);

#endif
