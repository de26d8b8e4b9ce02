/* Runtime options: the Any that containerd passes in CreateTaskRequest.options (and on the
 * stdin of `start`). containerd.runc.v1.Options is what runc-style clients send;
 * containerd.linux.runc.CreateOptions is what containerd's Go client sends for any runtime whose
 * name does not start with io.containerd.runc (ctr with io.containerd.mini.v2 does);
 * runtimeoptions.v1.Options is what CRI and `ctr run --runtime-config-path` send: the options are
 * then in the TOML file it names (options_file.c). All three are accepted; other types are
 * logged and ignored.
 *
 * The bundle keeps what the `delete` action needs when the daemon is gone (options.json: the
 * runtime binary and its state root), as the runc shim does. */
#ifndef MINI_SHIM_OPTIONS_H
#define MINI_SHIM_OPTIONS_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shim_opts {
	char *binary_name, *root, *shim_cgroup;
	bool no_pivot_root, no_new_keyring, systemd_cgroup;
	uint32_t io_uid, io_gid;
};

/* Decodes the options Any (type_url empty or NULL: no options). Caller clears *o. */
int shim_opts_decode(const char *type_url, const uint8_t *value, size_t len, struct shim_opts *o,
		     struct mini_err **err);
void shim_opts_clear(struct shim_opts *o);
/* Reads a TOML options file (keys as containerd.runc.v1.Options in containerd's config:
 * BinaryName, Root, ShimCgroup, NoPivotRoot, NoNewKeyring, SystemdCgroup, IoUid, IoGid) into *o,
 * over what it holds. Unknown keys are logged and ignored; a bad value names file:line. */
int shim_opts_read_file(const char *path, struct shim_opts *o, struct mini_err **err);

/* <bundle>/options.json: {"binary_name": …, "root": …} (root includes the namespace). */
int shim_state_write(const char *bundle, const char *binary, const char *root,
		     struct mini_err **err);
/* Reads it back; missing members stay NULL. Returns -1 when the file cannot be read. */
int shim_state_read(const char *bundle, char **binary, char **root);

#endif
