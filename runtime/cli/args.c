#include "args.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct flag *
find_flag(const struct flag *flags, const char *name, size_t len)
{
	const struct flag *f;

	for (f = flags; f->name; f++) {
		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			return f;
		if (f->alias && len == 1 && name[0] == f->alias)
			return f;
	}
	return NULL;
}

static int
set_value(const struct flag *f, const char *value, struct mini_err **err)
{
	char *end = NULL;
	unsigned long v;

	switch (f->type) {
	case FLAG_BOOL:
		if (value == NULL || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			*(bool *)f->ptr = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*(bool *)f->ptr = false;
		else
			return mini_err_set(err, EINVAL, "invalid boolean value \"%s\" for --%s",
					    value, f->name);
		return 0;
	case FLAG_STRING:
		*(const char **)f->ptr = value;
		return 0;
	case FLAG_UINT:
		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno || end == value || *end != '\0' || value[0] == '-')
			return mini_err_set(err, EINVAL, "invalid value \"%s\" for --%s", value,
					    f->name);
		*(unsigned *)f->ptr = (unsigned)v;
		return 0;
	case FLAG_STRV:
		strv_push((struct strv *)f->ptr, value);
		return 0;
	}
	return 0;
}

int
flags_parse(const struct flag *flags, int argc, char **argv, int *i, bool *help,
	    struct mini_err **err)
{
	while (*i < argc) {
		const char *a = argv[*i], *name, *eq;
		const struct flag *f;
		size_t len;
		int ret;

		if (strcmp(a, "--") == 0) {
			(*i)++;
			return 0;
		}
		if (a[0] != '-' || a[1] == '\0')
			return 0;
		name = a + (a[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if ((len == 4 && strncmp(name, "help", 4) == 0) || (len == 1 && name[0] == 'h')) {
			*help = true;
			(*i)++;
			continue;
		}
		f = find_flag(flags, name, len);
		if (f == NULL)
			return mini_err_set(err, EINVAL, "flag provided but not defined: %s", a);
		(*i)++;
		if (eq) {
			ret = set_value(f, eq + 1, err);
		} else if (f->type == FLAG_BOOL) {
			ret = set_value(f, NULL, err);
		} else {
			if (*i >= argc)
				return mini_err_set(err, EINVAL, "flag needs an argument: %s", a);
			ret = set_value(f, argv[(*i)++], err);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

void
flags_usage(const char *usage, const char *description, const struct flag *flags)
{
	const struct flag *f;

	printf("usage: %s\n\n%s\n", usage, description);
	if (flags == NULL || flags->name == NULL)
		return;
	printf("\nOptions:\n");
	for (f = flags; f->name; f++) {
		char left[64];

		if (f->alias)
			snprintf(left, sizeof(left), "--%s, -%c%s", f->name, f->alias,
				 f->type == FLAG_BOOL ? "" : " value");
		else
			snprintf(left, sizeof(left), "--%s%s", f->name,
				 f->type == FLAG_BOOL ? "" : " value");
		printf("   %-28s %s\n", left, f->help);
	}
}

int
flags_parse_or_usage(const struct flag *flags, int argc, char **argv, int *i, const char *usage,
		     const char *description, struct mini_err **err)
{
	bool help = false;
	int ret = flags_parse(flags, argc, argv, i, &help, err);

	if (ret < 0 || !help)
		return ret;
	flags_usage(usage, description, flags);
	return 1;
}
