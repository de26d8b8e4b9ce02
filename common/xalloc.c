#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
oom_check(void *p)
{
	if (p == NULL)
		abort();
	return p;
}

void *
xmalloc(size_t size)
{
	return oom_check(malloc(size ? size : 1));
}

void *
xcalloc(size_t n, size_t size)
{
	return oom_check(calloc(n ? n : 1, size ? size : 1));
}

void *
xrealloc(void *p, size_t size)
{
	return oom_check(realloc(p, size ? size : 1));
}

char *
xstrdup(const char *s)
{
	return oom_check(strdup(s ? s : ""));
}

char *
xstrndup(const char *s, size_t n)
{
	return oom_check(strndup(s ? s : "", n));
}

char *
xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}
