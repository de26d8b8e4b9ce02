/* config.json → struct minirt_spec, parsed with yajl_tree (OCI runtime-spec v1.1).
 *
 * Conventions: an optional scalar has a `<name>_present` flag; an array has `<name>_len` beside a
 * pointer (string vectors are also NULL-terminated). Unknown keys are ignored; a value of the wrong
 * type, or an unsupported value, is rejected with the field's path in the message
 * ("config.json: process.args: expected array of strings"). The parsed spec owns the yajl tree, so
 * the raw sub-trees it keeps for later stages (seccomp, the rarer resources) stay valid. */
#ifndef MINIRT_SPEC_H
#define MINIRT_SPEC_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

enum spec_ns_type {
	SPEC_NS_PID,
	SPEC_NS_NET,
	SPEC_NS_MNT,
	SPEC_NS_IPC,
	SPEC_NS_UTS,
	SPEC_NS_USER,
	SPEC_NS_CGROUP,
	SPEC_NS_TIME,
	SPEC_NS_COUNT,
};

struct spec_namespace {
	enum spec_ns_type type;
	char *path; /* NULL: create a new one */
};

struct spec_idmap {
	uint32_t container_id, host_id, size;
};

struct spec_device {
	char *path;
	char type; /* 'c', 'b', 'u' (= 'c') or 'p' */
	int64_t major, minor;
	bool file_mode_present, uid_present, gid_present;
	uint32_t file_mode, uid, gid;
};

struct spec_rlimit {
	int resource; /* RLIMIT_* */
	char *type;   /* "RLIMIT_NOFILE" */
	uint64_t soft, hard;
};

struct spec_user {
	uint32_t uid, gid;
	bool umask_present;
	uint32_t umask;
	uint32_t *additional_gids;
	size_t additional_gids_len;
	char *username;
};

/* NULL vectors are absent sets. */
struct spec_caps {
	char **bounding, **effective, **inheritable, **permitted, **ambient;
};

struct spec_process {
	bool terminal;
	bool console_size_present;
	unsigned console_height, console_width;
	struct spec_user user;
	char **args;
	size_t args_len;
	char **env;
	size_t env_len;
	char *cwd;
	struct spec_caps *capabilities; /* NULL when absent */
	yajl_val capabilities_raw;	/* the same, borrowed from the tree (caps.c parses it) */
	struct spec_rlimit *rlimits;
	size_t rlimits_len;
	bool no_new_privileges;
	char *apparmor_profile;
	char *selinux_label;
	bool oom_score_adj_present;
	int oom_score_adj;
	yajl_val scheduler;   /* raw, borrowed from the tree (part 2) */
	yajl_val io_priority; /* raw, borrowed from the tree (part 2) */
	yajl_val tree;	      /* set only by spec_process_load: owned */
};

struct spec_mount {
	char *destination;
	char *type; /* NULL when absent (a bind mount by its options) */
	char *source;
	char **options;
	size_t options_len;
	/* An id-mapped bind mount (runtime-spec 1.1): how ids of the source filesystem appear in
	 * the mount, containerID (on the source) → hostID (in the mount). */
	struct spec_idmap *uid_mappings, *gid_mappings;
	size_t uid_mappings_len, gid_mappings_len;
};

enum spec_hook_kind {
	SPEC_HOOK_PRESTART,
	SPEC_HOOK_CREATE_RUNTIME,
	SPEC_HOOK_CREATE_CONTAINER,
	SPEC_HOOK_START_CONTAINER,
	SPEC_HOOK_POSTSTART,
	SPEC_HOOK_POSTSTOP,
	SPEC_HOOK_KIND_COUNT,
};

/* The hook's key in config.json ("prestart", "createRuntime" …). */
const char *spec_hook_name(enum spec_hook_kind k);

struct spec_hook {
	char *path;
	char **args;
	char **env;
	int timeout; /* seconds, 0 = none */
};

struct spec_kv {
	char *key, *value;
};

/* linux.resources.devices[]: one device cgroup rule. */
struct spec_dev_rule {
	bool allow;
	char type;	      /* 'a' (all, the default), 'c' or 'b' */
	int64_t major, minor; /* -1: any ("*") */
	unsigned access;      /* SPEC_DEV_ACC_* bits, never 0 */
};

#define SPEC_DEV_ACC_READ 1u
#define SPEC_DEV_ACC_WRITE 2u
#define SPEC_DEV_ACC_MKNOD 4u
#define SPEC_DEV_ACC_ALL 7u

/* linux.resources.blockIO.weightDevice[] and the throttle lists (rate). */
struct spec_blkio_dev {
	int64_t major, minor;
	bool weight_present, leaf_weight_present;
	uint16_t weight, leaf_weight;
	uint64_t rate;
};

enum spec_blkio_throttle {
	SPEC_THROTTLE_READ_BPS,
	SPEC_THROTTLE_WRITE_BPS,
	SPEC_THROTTLE_READ_IOPS,
	SPEC_THROTTLE_WRITE_IOPS,
	SPEC_THROTTLE_COUNT,
};

struct spec_hugepage {
	char *page_size; /* "2MB", "1GB" as in the cgroup file names */
	uint64_t limit;
};

struct spec_ifprio {
	char *name;
	uint32_t priority;
};

struct spec_rdma {
	char *device;
	bool handles_present, objects_present;
	uint32_t handles, objects;
};

/* linux.resources. A member that is absent has its _present flag false (or _len 0); the cgroup
 * code writes only what is present, so the same struct serves `create` and `update`. */
struct spec_resources {
	bool memory_limit_present, memory_reservation_present, memory_swap_present;
	int64_t memory_limit, memory_reservation, memory_swap;
	bool memory_kernel_present, memory_kernel_tcp_present, memory_swappiness_present;
	int64_t memory_kernel, memory_kernel_tcp;
	uint64_t memory_swappiness;
	bool memory_disable_oom_killer_present, memory_disable_oom_killer;
	bool memory_use_hierarchy_present, memory_use_hierarchy;
	bool cpu_shares_present, cpu_quota_present, cpu_period_present;
	uint64_t cpu_shares, cpu_period;
	int64_t cpu_quota;
	bool cpu_rt_runtime_present, cpu_rt_period_present, cpu_idle_present;
	int64_t cpu_rt_runtime, cpu_idle;
	uint64_t cpu_rt_period;
	char *cpu_cpus, *cpu_mems;
	bool pids_limit_present;
	int64_t pids_limit;
	bool devices_present; /* linux.resources.devices given (even empty) */
	struct spec_dev_rule *devices;
	size_t devices_len;
	bool blkio_weight_present, blkio_leaf_weight_present;
	uint16_t blkio_weight, blkio_leaf_weight;
	struct spec_blkio_dev *blkio_weight_device;
	size_t blkio_weight_device_len;
	struct spec_blkio_dev *blkio_throttle[SPEC_THROTTLE_COUNT];
	size_t blkio_throttle_len[SPEC_THROTTLE_COUNT];
	struct spec_hugepage *hugepages;
	size_t hugepages_len;
	bool net_class_id_present;
	uint32_t net_class_id;
	struct spec_ifprio *net_priorities;
	size_t net_priorities_len;
	struct spec_rdma *rdma;
	size_t rdma_len;
	bool unified_present;
	struct spec_kv *unified;
	size_t unified_len;
	yajl_val raw; /* the whole resources object, borrowed */
};

struct spec_linux {
	struct spec_namespace *namespaces;
	size_t namespaces_len;
	struct spec_idmap *uid_mappings, *gid_mappings;
	size_t uid_mappings_len, gid_mappings_len;
	struct spec_device *devices;
	size_t devices_len;
	char *cgroups_path;
	struct spec_resources *resources; /* NULL when absent */
	char *rootfs_propagation;
	char **masked_paths, **readonly_paths;
	size_t masked_paths_len, readonly_paths_len;
	struct spec_kv *sysctl;
	size_t sysctl_len;
	char *mount_label;
	bool personality_present;
	unsigned long personality_domain;
	/* linux.timeOffsets, as /proc/self/timens_offsets lines ("monotonic 3600 0\n…"); NULL if
	 * none. Applied after unsharing the time namespace, before its first process exists. */
	char *time_offsets;
	yajl_val seccomp; /* raw, borrowed (part 2) */
};

struct minirt_spec {
	char *oci_version;
	struct spec_process *process; /* NULL when absent */
	char *root_path;	      /* NULL when absent */
	bool root_readonly;
	char *hostname, *domainname;
	struct spec_mount *mounts;
	size_t mounts_len;
	struct spec_hook *hooks[SPEC_HOOK_KIND_COUNT];
	size_t hooks_len[SPEC_HOOK_KIND_COUNT];
	struct spec_kv *annotations;
	size_t annotations_len;
	struct spec_linux *linux_cfg; /* NULL when absent ("linux" is a macro in GNU C) */
	yajl_val tree;		      /* owned */
};

/* Parses a config.json text. `what` prefixes error messages ("config.json"). Caller owns *out. */
int spec_parse(const char *text, const char *what, struct minirt_spec **out, struct mini_err **err);
/* Reads and parses a file; errors are prefixed with the file's base name. */
int spec_load_file(const char *path, struct minirt_spec **out, struct mini_err **err);
void spec_free(struct minirt_spec *s);
void spec_freep(struct minirt_spec **s);

/* Parses a process object (exec --process). `path` names it in errors. */
int spec_parse_process(yajl_val v, const char *path, struct spec_process **out,
		       struct mini_err **err);
/* Reads a process.json file; the result owns its tree. */
int spec_process_load(const char *file, struct spec_process **out, struct mini_err **err);
void spec_process_free(struct spec_process *p);
void spec_process_freep(struct spec_process **p);

/* Parses a linux.resources object (also `update --resources`). Borrows v into out->raw. */
int spec_parse_resources(yajl_val v, const char *path, struct spec_resources **out,
			 struct mini_err **err);
void spec_resources_free(struct spec_resources *r);

/* Checks what `create` needs beyond the types: process and root present, args non-empty, cwd
 * absolute. */
int spec_validate_for_create(const struct minirt_spec *s, struct mini_err **err);

/* True for a mount that asks for an id mapping (uidMappings/gidMappings, idmap, ridmap). */
bool spec_mount_is_idmapped(const struct spec_mount *m);
/* The namespace entry of a type, or NULL. */
const struct spec_namespace *spec_find_ns(const struct minirt_spec *s, enum spec_ns_type t);
/* "pid", "network", … as in config.json, and the CLONE_NEW* flag. */
const char *spec_ns_name(enum spec_ns_type t);
int spec_ns_clone_flag(enum spec_ns_type t);
/* The /proc/<pid>/ns/<file> name of a namespace type ("net", "mnt", …). */
const char *spec_ns_proc_name(enum spec_ns_type t);
/* RLIMIT_* from "RLIMIT_NOFILE", or -1. */
int spec_rlimit_resource(const char *name);
/* The value of an annotation, or NULL. */
const char *spec_annotation(const struct minirt_spec *s, const char *key);

#endif
