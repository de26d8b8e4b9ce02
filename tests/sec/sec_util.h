/* Small helpers shared by the seccomp and capabilities tests. */
#ifndef MINI_TESTS_SEC_UTIL_H
#define MINI_TESTS_SEC_UTIL_H

#include "cleanup.h"
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static inline void
tree_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
}

/* Parses JSON text; aborts the test on a syntax error in the test's own data. */
static inline yajl_val
parse_json(const char *text)
{
	char errbuf[256];
	yajl_val v = yajl_tree_parse(text, errbuf, sizeof(errbuf));

	if (v == NULL) {
		fprintf(stderr, "bad JSON in test data: %s\n%s\n", errbuf, text);
		abort();
	}
	return v;
}

/* The whole file as a string, or NULL. Caller frees. */
static inline char *
slurp(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	return buf;
}

/* Everything readable from fd (from its current offset) as a string. Caller frees. */
static inline char *
slurp_fd(int fd)
{
	char *buf = NULL;
	size_t cap = 0, len = 0;
	ssize_t n;

	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0 || (n < 0 && errno == EINTR));
	buf[len] = '\0';
	return buf;
}

/* Whether a privileged test must run (CI) rather than skip. */
static inline int
require_root(void)
{
	const char *v = getenv("MINI_TESTS_REQUIRE_ROOT");

	return v && strcmp(v, "1") == 0;
}

#endif
