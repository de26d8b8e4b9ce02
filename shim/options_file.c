/* The file named by runtimeoptions.v1.Options.config_path (what CRI and `ctr run
 * --runtime-config-path` send for a runtime that is not runc): TOML with the keys of
 * containerd.runc.v1.Options as containerd's config spells them for runc (BinaryName, Root,
 * SystemdCgroup …), so that a RuntimeClass for mini can say what a runc one says. Only the TOML
 * a flat options table needs is read: comments, [table] headers (ignored), and key = value with
 * basic or literal strings, booleans and integers. */
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "options.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_STRING, K_BOOL, K_UINT32 };

struct key {
	const char *name;
	enum kind kind;
	size_t offset;
};

static const struct key keys[] = {
	{ "BinaryName", K_STRING, offsetof(struct shim_opts, binary_name) },
	{ "Root", K_STRING, offsetof(struct shim_opts, root) },
	{ "ShimCgroup", K_STRING, offsetof(struct shim_opts, shim_cgroup) },
	{ "NoPivotRoot", K_BOOL, offsetof(struct shim_opts, no_pivot_root) },
	{ "NoNewKeyring", K_BOOL, offsetof(struct shim_opts, no_new_keyring) },
	{ "SystemdCgroup", K_BOOL, offsetof(struct shim_opts, systemd_cgroup) },
	{ "IoUid", K_UINT32, offsetof(struct shim_opts, io_uid) },
	{ "IoGid", K_UINT32, offsetof(struct shim_opts, io_gid) },
};

static char *
skip_space(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A basic ("…", with \\ escapes) or literal ('…') string at *p; *p moves past it. */
static char *
parse_string(char **p)
{
	char quote = **p, *out = xmalloc(strlen(*p) + 1), *w = out, *r = *p + 1;

	for (; *r && *r != quote; r++) {
		if (quote == '"' && *r == '\\' && r[1]) {
			r++;
			*w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r;
			continue;
		}
		*w++ = *r;
	}
	if (*r != quote) {
		free(out);
		return NULL;
	}
	*w = '\0';
	*p = r + 1;
	return out;
}

static int
set_value(const struct key *k, char *v, struct shim_opts *o, const char *where,
	  struct mini_err **err)
{
	char *field = (char *)o + k->offset, *end;

	switch (k->kind) {
	case K_STRING:
		if (*v != '"' && *v != '\'')
			return mini_err_set(err, EINVAL, "%s: %s must be a string", where, k->name);
		{
			char *s = parse_string(&v);

			if (s == NULL)
				return mini_err_set(err, EINVAL, "%s: unterminated string", where);
			free(*(char **)field);
			*(char **)field = s;
			if (*s == '\0') { /* an empty string is no value, as in the protobuf */
				free(s);
				*(char **)field = NULL;
			}
		}
		break;
	case K_BOOL:
		if (strncmp(v, "true", 4) == 0 || strncmp(v, "false", 5) == 0) {
			*(bool *)field = *v == 't';
			v += *v == 't' ? 4 : 5;
			break;
		}
		return mini_err_set(err, EINVAL, "%s: %s must be true or false", where, k->name);
	case K_UINT32: {
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)*v) || errno || n > UINT32_MAX)
			return mini_err_set(err, EINVAL, "%s: %s must be an integer 0…4294967295",
					    where, k->name);
		*(uint32_t *)field = (uint32_t)n;
		v = end;
		break;
	}
	}
	v = skip_space(v);
	if (*v && *v != '#')
		return mini_err_set(err, EINVAL, "%s: unexpected text after the value of %s", where,
				    k->name);
	return 0;
}

static int
parse_line(char *line, struct shim_opts *o, const char *where, struct mini_err **err)
{
	char *p = skip_space(line), *name, *eq;

	line[strcspn(line, "\r")] = '\0'; /* CRLF files */
	if (*p == '\0' || *p == '#' || *p == '[')
		return 0; /* blank, comment, or a table header: the keys are the same in any */
	eq = strchr(p, '=');
	if (eq == NULL)
		return mini_err_set(err, EINVAL, "%s: expected key = value", where);
	name = p;
	for (p = eq; p > name && (p[-1] == ' ' || p[-1] == '\t'); p--)
		;
	*p = '\0';
	if ((*name == '"' || *name == '\'') && p - name >= 2 && p[-1] == *name) {
		p[-1] = '\0';
		name++;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return set_value(&keys[i], skip_space(eq + 1), o, where, err);
	log_warn("%s: ignoring unknown runtime option %s", where, name);
	return 0;
}

int
shim_opts_read_file(const char *path, struct shim_opts *o, struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;
	size_t len = 0;
	int n = 0, rc;

	rc = read_file(path, &text, &len, err);
	if (rc < 0)
		return mini_err_wrap(err, "read runtime options file");
	if (memchr(text, '\0', len))
		return mini_err_set(err, EINVAL, "runtime options file %s: not text", path);
	for (line = text; line; line = save) {
		_cleanup_free_ char *where = NULL;

		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		n++;
		where = xasprintf("%s:%d", path, n);
		rc = parse_line(line, o, where, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
