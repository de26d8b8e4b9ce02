#include "mount_helper.h"
#include "cleanup.h"
#include "run_capture.h"
#include "strv.h"
#include "xalloc.h"

#include <errno.h>
#include <string.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#define FUSE_SUPER_MAGIC 0x65735546
#define HELPER_OUTPUT_MAX 4096
#define HELPER_TIMEOUT_MS (60 * 1000)

const char *
mount_helper_for(const char *type, const char **subtype)
{
	if (strncmp(type, "fuse3.", 6) == 0) {
		*subtype = type + 6;
		return "mount.fuse3";
	}
	if (strncmp(type, "fuse.", 5) == 0) {
		*subtype = type + 5;
		return "mount.fuse";
	}
	return NULL;
}

/* The daemon never calls waitpid() elsewhere while a Create or Delete runs (one thread), so
 * waiting for a helper's pid takes nothing from the reaper. */
static int
run_helper(char *const *argv, char **out, int *status, struct mini_err **err)
{
	const struct spawn_opts o = { .merge_stderr = true,
				      .max_output = HELPER_OUTPUT_MAX,
				      .timeout_ms = HELPER_TIMEOUT_MS };
	size_t len;

	return spawn_capture(&o, argv, out, &len, status, err);
}

static char *
join_argv(char *const *argv)
{
	size_t cap = 1, len = 0;
	char *s;

	for (size_t i = 0; argv[i]; i++)
		cap += strlen(argv[i]) + 1;
	s = xmalloc(cap);
	s[0] = '\0';
	for (size_t i = 0; argv[i]; i++)
		len += (size_t)sprintf(s + len, "%s%s", i ? " " : "", argv[i]);
	return s;
}

int
mount_with_helper(const char *helper, const char *subtype, const char *source, const char *target,
		  char *const *options, size_t n_options, struct mini_err **err)
{
	_cleanup_(strv_freep) struct strv argv = { 0 };
	_cleanup_free_ char *cmd = NULL, *out = NULL;
	int status = 0, rc;

	strv_push(&argv, helper);
	strv_push(&argv, source);
	strv_push(&argv, target);
	for (size_t i = 0; i < n_options; i++) {
		strv_push(&argv, "-o");
		strv_push(&argv, options[i]);
	}
	strv_push(&argv, "-t");
	strv_push(&argv, subtype);
	rc = run_helper(argv.v, &out, &status, err);
	if (rc < 0)
		return rc;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	cmd = join_argv(argv.v);
	out[strcspn(out, "\n")] = '\0'; /* its first line says what went wrong */
	return mini_err_set(err, EIO, "mount helper [%s] failed (%s %d): %s", cmd,
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
}

bool
mount_is_fuse(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == FUSE_SUPER_MAGIC;
}

int
unmount_fuse(const char *path, struct mini_err **err)
{
	static const char *const helpers[] = { "fusermount3", "fusermount" };

	for (size_t i = 0; i < sizeof(helpers) / sizeof(*helpers); i++) {
		char *argv[] = { (char *)helpers[i], "-u", (char *)path, NULL };
		_cleanup_free_ char *out = NULL;
		struct mini_err *e = NULL;
		int status = 0;

		if (run_helper(argv, &out, &status, &e) == 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			return 0;
		mini_err_free(e);
	}
	return mini_err_set(err, EIO, "fusermount3/fusermount -u %s failed", path);
}
