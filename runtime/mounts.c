/* The container's filesystem (init steps C4 and C6): rootfs propagation, the rootfs bind, every
 * config.json mount, pivot_root, and the read-only and masked paths. Every destination is
 * resolved inside the rootfs (paths.c) and mounted through its /proc/self/fd name. */
#include "cleanup.h"
#include "copyup.h"
#include "fs.h"
#include "init.h"
#include "mount_idmap.h"
#include "mount_opts.h"
#include "paths.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Flags a bind remount must keep: in a user namespace, dropping a locked one fails with EPERM. */
static unsigned long
locked_flags(const char *target)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(target, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int
remount_bind(const char *target, const char *dest, unsigned long flags, struct mini_err **err)
{
	unsigned long f = MS_BIND | MS_REMOUNT | flags;

	if (mount(NULL, target, NULL, f, NULL) == 0)
		return 0;
	if (errno == EPERM && mount(NULL, target, NULL, f | locked_flags(target), NULL) == 0)
		return 0;
	return mini_err_set(err, errno, "remount %s", dest);
}

/* After a mount at dest, the fd opened before it names the covered directory: reopen to get the
 * new mount on top. */
static int
reopen_dest(int rootfd, const char *dest, struct mini_err **err)
{
	return open_in_root(rootfd, dest, O_PATH, err);
}

/* Propagation changes and recursive attributes after the mount. */
static int
finish_mount(int rootfd, const char *dest, const struct mount_opts *o, struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	char buf[64];
	size_t i;

	if (o->n_prop == 0 && o->attr_set == 0 && o->attr_clr == 0)
		return 0;
	fd = reopen_dest(rootfd, dest, err);
	if (fd < 0)
		return fd;
	for (i = 0; i < o->n_prop; i++)
		if (mount(NULL, fd_path(fd, buf, sizeof(buf)), NULL, o->prop[i], NULL) < 0)
			return mini_err_set(err, errno, "set propagation of %s", dest);
	if (o->attr_set || o->attr_clr) {
		struct mount_attr attr = { .attr_set = o->attr_set, .attr_clr = o->attr_clr };

		if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
			return mini_err_set(err, errno, "set recursive attributes of %s", dest);
	}
	return 0;
}

static char *
bind_source(const struct init_config *c, const char *src)
{
	if (src == NULL || src[0] == '\0')
		return NULL;
	if (src[0] == '/')
		return xstrdup(src);
	return path_join(c->bundle, src);
}

/* The rest of a bind mount once it is attached at m->destination. */
static int
bind_finish(int rootfd, const struct spec_mount *m, const struct mount_opts *o,
	    struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	unsigned long extra;
	char buf[64];
	int ret;

	/* A bind mount ignores every other flag; they need a remount of the new mount. */
	extra = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	if (extra) {
		fd = reopen_dest(rootfd, m->destination, err);
		if (fd < 0)
			return fd;
		ret = remount_bind(fd_path(fd, buf, sizeof(buf)), m->destination, extra, err);
		if (ret < 0)
			return ret;
	}
	return finish_mount(rootfd, m->destination, o, err);
}

static int
mount_bind(const struct init_config *c, int rootfd, const struct spec_mount *m,
	   const struct mount_opts *o, struct mini_err **err)
{
	_cleanup_free_ char *src = bind_source(c, m->source);
	_cleanup_close_ int fd = -1;
	struct stat st;
	char buf[64];

	if (src == NULL)
		return mini_err_set(err, EINVAL, "bind mount on %s: source missing",
				    m->destination);
	if (stat(src, &st) < 0)
		return mini_err_set(err, errno, "bind mount source %s", src);
	fd = mkdir_in_root(rootfd, m->destination, 0755, !S_ISDIR(st.st_mode), err);
	if (fd < 0)
		return fd;
	if (mount(src, fd_path(fd, buf, sizeof(buf)), NULL, MS_BIND | (o->flags & MS_REC), NULL) <
	    0)
		return mini_err_set(err, errno, "bind mount %s on %s", src, m->destination);
	return bind_finish(rootfd, m, o, err);
}

/* uidMappings/gidMappings or the idmap/ridmap option. The mapping must be set by a process
 * with CAP_SYS_ADMIN over the source's filesystem, which the init no longer has once it is in
 * a user namespace: that case is refused (README.md). */
/* The mappings an id-mapped mount gets: its own, else (option idmap/ridmap alone) those of the
 * container's new user namespace, so that the source's ids appear as the container sees its own
 * (runc 1.2, crun). Returns m itself or *tmp filled. */
static const struct spec_mount *
mount_mappings(const struct minirt_spec *s, const struct spec_mount *m, struct spec_mount *tmp)
{
	if (m->uid_mappings_len || m->gid_mappings_len || s->linux_cfg == NULL)
		return m;
	*tmp = *m;
	tmp->uid_mappings = s->linux_cfg->uid_mappings;
	tmp->uid_mappings_len = s->linux_cfg->uid_mappings_len;
	tmp->gid_mappings = s->linux_cfg->gid_mappings;
	tmp->gid_mappings_len = s->linux_cfg->gid_mappings_len;
	return tmp;
}

/* The detached, id-mapped copy of m's source. */
static int
open_idmapped(const struct init_config *c, const struct spec_mount *m, const struct mount_opts *o,
	      struct mini_err **err)
{
	_cleanup_free_ char *src = bind_source(c, m->source);
	struct spec_mount tmp;

	if (!(o->flags & MS_BIND))
		return mini_err_set(err, EINVAL, "mount %s: an id mapping needs a bind mount",
				    m->destination);
	m = mount_mappings(c->spec, m, &tmp);
	if (m->uid_mappings_len == 0 && m->gid_mappings_len == 0)
		return mini_err_set(err, EINVAL,
				    "mount %s: the %s option needs uidMappings and gidMappings "
				    "without a user namespace",
				    m->destination, o->ridmap ? "ridmap" : "idmap");
	if (src == NULL)
		return mini_err_set(err, EINVAL, "bind mount on %s: source missing",
				    m->destination);
	return idmap_open_tree(src, m, (o->flags & MS_REC) || o->ridmap, o->ridmap, err);
}

static void
mount_opts_for(const struct spec_mount *m, struct mount_opts *o)
{
	mount_opts_parse(m->options, m->options_len, o);
	if (m->type && (strcmp(m->type, "bind") == 0 || strcmp(m->type, "rbind") == 0)) {
		o->flags |= MS_BIND;
		if (strcmp(m->type, "rbind") == 0)
			o->flags |= MS_REC;
	}
}

int
rootfs_open_idmapped(struct init_config *c, struct mini_err **err)
{
	const struct minirt_spec *s = c->spec;

	c->idmap_fds = NULL;
	for (size_t i = 0; i < s->mounts_len; i++) {
		_cleanup_(mount_opts_clear) struct mount_opts o;
		int fd;

		if (!spec_mount_is_idmapped(&s->mounts[i]))
			continue;
		if (c->idmap_fds == NULL) {
			c->idmap_fds = xcalloc(s->mounts_len, sizeof(*c->idmap_fds));
			for (size_t k = 0; k < s->mounts_len; k++)
				c->idmap_fds[k] = -1;
		}
		mount_opts_for(&s->mounts[i], &o);
		fd = open_idmapped(c, &s->mounts[i], &o, err);
		if (fd < 0) {
			rootfs_close_idmapped(c);
			return fd;
		}
		c->idmap_fds[i] = fd;
	}
	return 0;
}

void
rootfs_close_idmapped(struct init_config *c)
{
	for (size_t i = 0; c->idmap_fds && i < c->spec->mounts_len; i++)
		if (c->idmap_fds[i] >= 0)
			close(c->idmap_fds[i]);
	free(c->idmap_fds);
	c->idmap_fds = NULL;
}

/* An id-mapped bind mount: the tree the parent opened (a container with a user namespace), or
 * one opened here. */
static int
mount_idmapped(const struct init_config *c, int rootfd, const struct spec_mount *m,
	       const struct mount_opts *o, struct mini_err **err)
{
	size_t idx = (size_t)(m - c->spec->mounts);
	_cleanup_close_ int tree = -1;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int ret;

	if (c->idmap_fds && idx < c->spec->mounts_len && c->idmap_fds[idx] >= 0) {
		tree = dup(c->idmap_fds[idx]);
		if (tree < 0)
			return mini_err_set(err, errno, "idmapped mount %s: dup", m->destination);
	} else {
		tree = open_idmapped(c, m, o, err);
		if (tree < 0)
			return tree;
	}
	if (fstat(tree, &st) < 0)
		return mini_err_set(err, errno, "idmapped mount %s: stat the source",
				    m->destination);
	fd = mkdir_in_root(rootfd, m->destination, 0755, !S_ISDIR(st.st_mode), err);
	if (fd < 0)
		return fd;
	ret = idmap_move_mount(tree, fd, m->destination, err);
	if (ret < 0)
		return ret;
	return bind_finish(rootfd, m, o, err);
}

/* cgroup v1 without a cgroup namespace, as runc: a tmpfs with one read-only bind of the
 * container's own directory per hierarchy. With a cgroup namespace, real cgroup mounts. */
static int
mount_cgroup_v1(const struct init_config *c, int rootfd, const struct spec_mount *m,
		const struct mount_opts *o, struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	unsigned long base = o->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
	char buf[64];
	size_t i;
	int ret;

	fd = mkdir_in_root(rootfd, m->destination, 0755, false, err);
	if (fd < 0)
		return fd;
	if (mount("tmpfs", fd_path(fd, buf, sizeof(buf)), "tmpfs", base, "mode=755") < 0)
		return mini_err_set(err, errno, "mount tmpfs on %s", m->destination);
	for (i = 0; c->cg && i < c->cg->n_hiers; i++) {
		const struct cgroup_hier *h = &c->cg->hiers[i];
		const char *name = strrchr(h->mountpoint, '/');
		_cleanup_free_ char *sub = NULL;
		_cleanup_close_ int sfd = -1;

		if (h->optional || name == NULL)
			continue;
		sub = path_join(m->destination, name + 1);
		sfd = mkdir_in_root(rootfd, sub, 0755, false, err);
		if (sfd < 0)
			return sfd;
		fd_path(sfd, buf, sizeof(buf));
		if (c->new_cgroupns) {
			if (mount("cgroup", buf, "cgroup", o->flags & ~(MS_BIND | MS_REC),
				  h->name) < 0)
				return mini_err_set(err, errno, "mount cgroup %s on %s", h->name,
						    sub);
		} else {
			if (mount(h->dir, buf, NULL, MS_BIND | MS_REC, NULL) < 0)
				return mini_err_set(err, errno, "bind cgroup %s on %s", h->dir,
						    sub);
			close(steal_fd(&sfd));
			sfd = reopen_dest(rootfd, sub, err);
			if (sfd < 0)
				return sfd;
			ret = remount_bind(fd_path(sfd, buf, sizeof(buf)), sub,
					   o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT), err);
			if (ret < 0)
				return ret;
		}
		/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
		if (strchr(name + 1, ',')) {
			_cleanup_free_ char *list = xstrdup(name + 1);
			_cleanup_close_ int dfd = open_in_root(rootfd, m->destination, O_PATH, err);
			char *tok, *save = NULL;

			if (dfd < 0)
				return dfd;
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				if (symlinkat(name + 1, dfd, tok) < 0 && errno != EEXIST)
					return mini_err_set(err, errno, "symlink %s/%s", sub, tok);
		}
	}
	return 0;
}

static int
mount_cgroup(const struct init_config *c, int rootfd, const struct spec_mount *m,
	     const struct mount_opts *o, struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	bool v2 = c->cg ? c->cg->ops->mode == CGROUP_MODE_V2 : strcmp(m->type, "cgroup2") == 0;
	unsigned long flags = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	const char *dir;
	char buf[64];
	int ret;

	if (!v2 && strcmp(m->type, "cgroup") == 0)
		return mount_cgroup_v1(c, rootfd, m, o, err);
	fd = mkdir_in_root(rootfd, m->destination, 0755, false, err);
	if (fd < 0)
		return fd;
	fd_path(fd, buf, sizeof(buf));
	dir = c->cg ? cgroup_dir_for(c->cg, NULL) : NULL;
	if (c->new_cgroupns || dir == NULL) {
		if (mount("cgroup2", buf, "cgroup2", flags, NULL) < 0)
			return mini_err_set(err, errno, "mount cgroup2 on %s", m->destination);
		return finish_mount(rootfd, m->destination, o, err);
	}
	/* No cgroup namespace: the container sees its own directory only. */
	if (mount(dir, buf, NULL, MS_BIND | MS_REC, NULL) < 0)
		return mini_err_set(err, errno, "bind cgroup %s on %s", dir, m->destination);
	close(steal_fd(&fd));
	fd = reopen_dest(rootfd, m->destination, err);
	if (fd < 0)
		return fd;
	ret = remount_bind(fd_path(fd, buf, sizeof(buf)), m->destination, flags, err);
	if (ret < 0)
		return ret;
	return finish_mount(rootfd, m->destination, o, err);
}

/* Whether the comma-separated filesystem data sets key ("mode=", "uid=" …). */
static bool
data_has(const char *data, const char *key)
{
	size_t n = strlen(key);
	const char *p = data;

	while (p && *p) {
		if (strncmp(p, key, n) == 0)
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* The root of a copied-up tmpfs is the destination directory's copy too, unless the options
 * say otherwise (runc copies the mode; the owner matters for a home directory). */
static int
copyup_root_attrs(int dst, const struct stat *st, const char *data, const char *dest,
		  struct mini_err **err)
{
	uid_t uid = data_has(data, "uid=") ? (uid_t)-1 : st->st_uid;
	gid_t gid = data_has(data, "gid=") ? (gid_t)-1 : st->st_gid;

	if (fchown(dst, uid, gid) < 0)
		return mini_err_set(err, errno, "tmpcopyup on %s: set owner", dest);
	if (!data_has(data, "mode=") && fchmod(dst, st->st_mode & 07777) < 0)
		return mini_err_set(err, errno, "tmpcopyup on %s: set mode", dest);
	return 0;
}

/* The per-mount flags a read-only remount must repeat, or it clears them. */
#define MNT_FLAGS                                                                                  \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
	 MS_STRICTATIME | MS_NOSYMFOLLOW)

/* "tmpcopyup": the tmpfs is mounted on the destination and filled from the directory it now
 * covers, still reachable through an fd opened before the mount (runc mounts it on a scratch
 * directory of the host instead and moves it; the result is the same). The copy needs a
 * writable tmpfs: "ro" is applied once it is done, as runc does. */
static int
mount_tmpfs_copyup(int rootfd, const struct spec_mount *m, const struct mount_opts *o,
		   struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int src = -1;
	_cleanup_close_ int dst = -1;
	struct stat sst, dst_st;
	struct statfs sfs;
	char buf[64];
	int ret;

	fd = mkdir_in_root(rootfd, m->destination, 0755, false, err);
	if (fd < 0)
		return fd;
	src = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src < 0 || fstat(src, &sst) < 0)
		return mini_err_set(err, errno, "tmpcopyup on %s: open the destination",
				    m->destination);
	if (mount(m->source ? m->source : "tmpfs", fd_path(fd, buf, sizeof(buf)), "tmpfs",
		  o->flags & ~(MS_RDONLY | MS_REMOUNT), o->data) < 0)
		return mini_err_set(err, errno, "mount tmpfs on %s (options %s)", m->destination,
				    o->data ? o->data : "");
	dst = open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, err);
	if (dst < 0)
		return dst;
	/* Never copy anywhere but into the tmpfs just mounted. */
	if (fstatfs(dst, &sfs) < 0 || fstat(dst, &dst_st) < 0)
		return mini_err_set(err, errno, "tmpcopyup on %s: stat the new tmpfs",
				    m->destination);
	if (sfs.f_type != TMPFS_MAGIC || dst_st.st_dev == sst.st_dev)
		return mini_err_set(err, EXDEV, "tmpcopyup on %s: the new tmpfs is not there",
				    m->destination);
	ret = copyup_dir(src, dst, err);
	if (ret < 0)
		return mini_err_wrap(err, "tmpcopyup on %s", m->destination);
	ret = copyup_root_attrs(dst, &sst, o->data, m->destination, err);
	if (ret < 0)
		return ret;
	if (o->flags & MS_RDONLY) {
		ret = remount_bind(fd_path(dst, buf, sizeof(buf)), m->destination,
				   o->flags & MNT_FLAGS, err);
		if (ret < 0)
			return ret;
	}
	return finish_mount(rootfd, m->destination, o, err);
}

/* A tmpfs over an existing directory gets that directory's mode unless the options give one,
 * as runc does (runc 1.1 even overrides mode=; 1.2 and crun keep it, and so do we). */
static void
tmpfs_keep_mode(int rootfd, const char *dest, struct mount_opts *o)
{
	_cleanup_close_ int fd = -1;
	struct mini_err *ignored = NULL;
	struct stat st;
	char *data;

	if (data_has(o->data, "mode="))
		return;
	fd = open_in_root(rootfd, dest, O_PATH | O_DIRECTORY, &ignored);
	mini_err_free(ignored);
	if (fd < 0 || fstat(fd, &st) < 0)
		return; /* a new directory: the tmpfs default (1777) */
	data = xasprintf("%s%smode=%o", o->data ? o->data : "", o->data ? "," : "",
			 (unsigned)(st.st_mode & 07777));
	free(o->data);
	o->data = data;
}

static int
mount_one(const struct init_config *c, int rootfd, const struct spec_mount *m,
	  struct mini_err **err)
{
	_cleanup_(mount_opts_clear) struct mount_opts o;
	_cleanup_close_ int fd = -1;
	const char *type = m->type;
	unsigned long flags;
	char buf[64];

	mount_opts_for(m, &o);
	if (o.idmap || m->uid_mappings_len || m->gid_mappings_len)
		return mount_idmapped(c, rootfd, m, &o, err);
	if (o.flags & MS_BIND)
		return mount_bind(c, rootfd, m, &o, err);
	if (type == NULL || type[0] == '\0' || strcmp(type, "none") == 0)
		return mini_err_set(err, EINVAL, "mount %s: type missing", m->destination);
	if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
		return mount_cgroup(c, rootfd, m, &o, err);
	if (o.tmpcopyup && strcmp(type, "tmpfs") == 0)
		return mount_tmpfs_copyup(rootfd, m, &o, err);
	if (strcmp(type, "tmpfs") == 0)
		tmpfs_keep_mode(rootfd, m->destination, &o);
	fd = mkdir_in_root(rootfd, m->destination, 0755, false, err);
	if (fd < 0)
		return fd;
	flags = o.flags & ~MS_REMOUNT;
	if (mount(m->source ? m->source : type, fd_path(fd, buf, sizeof(buf)), type, flags,
		  o.data) < 0) {
		int e = errno;

		/* sysfs needs a network namespace of our own; like runc, fall back to a bind of
		 * the host's /sys. */
		if (strcmp(type, "sysfs") == 0 && (e == EPERM || e == EBUSY)) {
			struct spec_mount bm = *m;
			struct mount_opts bo = o;

			bm.source = (char *)"/sys";
			bo.flags |= MS_BIND | MS_REC;
			return mount_bind(c, rootfd, &bm, &bo, err);
		}
		return mini_err_set(err, e, "mount %s on %s (type %s, options %s)",
				    m->source ? m->source : type, m->destination, type,
				    o.data ? o.data : "");
	}
	return finish_mount(rootfd, m->destination, &o, err);
}

static unsigned long
propagation_flags(const char *name)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} t[] = {
		{ "private", MS_PRIVATE },	 { "rprivate", MS_PRIVATE | MS_REC },
		{ "slave", MS_SLAVE },		 { "rslave", MS_SLAVE | MS_REC },
		{ "shared", MS_SHARED },	 { "rshared", MS_SHARED | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};
	size_t i;

	for (i = 0; name && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].flags;
	return 0;
}

/* pivot_root refuses a new root whose parent mount is shared: make that parent private. */
static int
make_parent_mount_private(const char *rootfs, struct mini_err **err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ char *best = NULL;
	size_t cap = 0, best_len = 0;

	if (f == NULL)
		return mini_err_set(err, errno, "open /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		char mnt[4096];
		size_t len;

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		len = strlen(mnt);
		if (strncmp(rootfs, mnt, len) != 0 ||
		    !(rootfs[len] == '/' || rootfs[len] == '\0' || len == 1))
			continue;
		if (len >= best_len && strlen(rootfs) != len) {
			free(best);
			best = xstrdup(mnt);
			best_len = len;
		}
	}
	if (best && mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
		return mini_err_set(err, errno, "make %s private", best);
	return 0;
}

static bool
dev_is_bind(const struct minirt_spec *s)
{
	size_t i, j;

	for (i = 0; i < s->mounts_len; i++) {
		const struct spec_mount *m = &s->mounts[i];

		if (strcmp(m->destination, "/dev") != 0)
			continue;
		if (m->type && (strcmp(m->type, "bind") == 0 || strcmp(m->type, "rbind") == 0))
			return true;
		for (j = 0; j < m->options_len; j++)
			if (strcmp(m->options[j], "bind") == 0 ||
			    strcmp(m->options[j], "rbind") == 0)
				return true;
	}
	return false;
}

int
rootfs_prepare(const struct init_config *c, struct mini_err **err)
{
	const struct spec_linux *l = c->spec->linux_cfg;
	const char *prop = l ? l->rootfs_propagation : NULL;
	unsigned long pflags = propagation_flags(prop);
	_cleanup_close_ int rootfd = -1;
	size_t i;
	int ret;

	/* Nothing we mount may propagate back to the host: rslave unless told otherwise. */
	if (pflags == 0)
		pflags = MS_SLAVE | MS_REC;
	if (mount(NULL, "/", NULL, pflags, NULL) < 0)
		return mini_err_set(err, errno, "set propagation of / to %s",
				    prop ? prop : "rslave");
	if (pflags & MS_SHARED) {
		ret = make_parent_mount_private(c->rootfs, err);
		if (ret < 0)
			return ret;
	}
	if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return mini_err_set(err, errno, "bind mount rootfs %s", c->rootfs);
	rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return mini_err_set(err, errno, "open rootfs %s", c->rootfs);
	for (i = 0; i < c->spec->mounts_len; i++) {
		ret = mount_one(c, rootfd, &c->spec->mounts[i], err);
		if (ret < 0)
			return mini_err_wrap(err, "mounts[%zu]", i);
	}
	if (!dev_is_bind(c->spec)) {
		ret = dev_setup(c, rootfd, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int
rootfs_pivot(const struct init_config *c, struct mini_err **err)
{
	const struct spec_linux *l = c->spec->linux_cfg;
	unsigned long pflags = propagation_flags(l ? l->rootfs_propagation : NULL);

	if (chdir(c->rootfs) < 0)
		return mini_err_set(err, errno, "chdir to rootfs %s", c->rootfs);
	if (c->no_pivot) {
		if (mount(c->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return mini_err_set(err, errno, "move rootfs to /");
		if (chroot(".") < 0)
			return mini_err_set(err, errno, "chroot to rootfs");
	} else {
		/* pivot_root(".", ".") stacks the old root on top of the new one; detaching it
		 * leaves the new root alone (pivot_root(2), NOTES). */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return mini_err_set(err, errno, "pivot_root to %s", c->rootfs);
		if (umount2(".", MNT_DETACH) < 0)
			return mini_err_set(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return mini_err_set(err, errno, "chdir to /");
	if (pflags && mount(NULL, "/", NULL, pflags, NULL) < 0)
		return mini_err_set(err, errno, "set propagation of the rootfs");
	return 0;
}

int
rootfs_finalize(const struct init_config *c, struct mini_err **err)
{
	if (c->spec->root_readonly && remount_bind("/", "/", MS_RDONLY, err) < 0)
		return mini_err_wrap(err, "make the rootfs read-only");
	return 0;
}

static int
readonly_path(const char *path, struct mini_err **err)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return mini_err_set(err, errno, "bind %s read-only", path);
	}
	return remount_bind(path, path, MS_RDONLY, err);
}

static int
masked_path(const char *path, struct mini_err **err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return mini_err_set(err, errno, "stat masked path %s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
			return mini_err_set(err, errno, "mask %s", path);
		return 0;
	}
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
		return mini_err_set(err, errno, "mask %s", path);
	return 0;
}

int
rootfs_protect_paths(const struct init_config *c, struct mini_err **err)
{
	const struct spec_linux *l = c->spec->linux_cfg;
	size_t i;
	int ret;

	if (l == NULL)
		return 0;
	for (i = 0; i < l->readonly_paths_len; i++) {
		ret = readonly_path(l->readonly_paths[i], err);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < l->masked_paths_len; i++) {
		ret = masked_path(l->masked_paths[i], err);
		if (ret < 0)
			return ret;
	}
	return 0;
}
