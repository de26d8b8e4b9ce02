/* Finding a container's cgroup directories from /proc/<pid>/cgroup. */
#include "cgroup.h"
#include "cleanup.h"
#include "fs.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

struct cg_ctrl {
	char *name;
	char *dir;
};

struct cgroup {
	bool v2;
	char *dir; /* v2 */
	struct cg_ctrl *ctrl;
	size_t n;
};

bool
shim_cgroup_unified_host(void)
{
	struct statfs sf;

	return statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
add_ctrl(struct cgroup *cg, const char *root, const char *name, const char *path)
{
	char *dir;

	/* "name=systemd" lives at <root>/systemd. */
	if (strncmp(name, "name=", 5) == 0)
		name += 5;
	dir = xasprintf("%s/%s%s", root, name, path);
	cg->ctrl = xrealloc(cg->ctrl, (cg->n + 1) * sizeof(*cg->ctrl));
	cg->ctrl[cg->n].name = xstrdup(name);
	cg->ctrl[cg->n].dir = dir;
	cg->n++;
}

struct cgroup *
shim_cgroup_parse(const char *text, const char *root, bool unified)
{
	struct cgroup *cg = xcalloc(1, sizeof(*cg));
	_cleanup_free_ char *copy = xstrdup(text);
	char *line, *save = NULL;

	cg->v2 = unified;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2, *ctrls, *path, *tok, *s2 = NULL;

		if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL)
			continue;
		*c2 = '\0';
		ctrls = c1 + 1;
		path = c2 + 1;
		if (strcmp(path, "/") == 0)
			path = "";
		if (*ctrls == '\0') {
			if (unified)
				cg->dir = xasprintf("%s%s", root, path);
			continue;
		}
		if (unified)
			continue;
		for (tok = strtok_r(ctrls, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
			add_ctrl(cg, root, tok, path);
	}
	return cg;
}

struct cgroup *
shim_cgroup_load(pid_t pid, struct mini_err **err)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid), *text = NULL;
	struct cgroup *cg;

	if (read_file(path, &text, NULL, err) < 0)
		return NULL;
	cg = shim_cgroup_parse(text, CGROUP_ROOT, shim_cgroup_unified_host());
	if ((cg->v2 && cg->dir == NULL) || (!cg->v2 && cg->n == 0)) {
		shim_cgroup_free(cg);
		return mini_err_setc(err, MINI_E_NOTFOUND, 0, "no cgroup for pid %d", (int)pid),
		       NULL;
	}
	return cg;
}

void
shim_cgroup_free(struct cgroup *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->ctrl[i].name);
		free(cg->ctrl[i].dir);
	}
	free(cg->ctrl);
	free(cg->dir);
	free(cg);
}

bool
shim_cgroup_is_v2(const struct cgroup *cg)
{
	return cg->v2;
}

const char *
shim_cgroup_dir(const struct cgroup *cg, const char *controller)
{
	if (cg->v2)
		return cg->dir;
	for (size_t i = 0; i < cg->n; i++)
		if (strcmp(cg->ctrl[i].name, controller) == 0)
			return cg->ctrl[i].dir;
	return NULL;
}

bool
shim_cgroup_exists(const struct cgroup *cg)
{
	const char *d = cg->v2 ? cg->dir : shim_cgroup_dir(cg, "memory");

	if (d == NULL && cg->n > 0)
		d = cg->ctrl[0].dir;
	return d && is_dir(d);
}
