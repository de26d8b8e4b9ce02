/* NULL-terminated string vectors (argv, env). */
#ifndef MINI_STRV_H
#define MINI_STRV_H

#include <stddef.h>

struct strv {
	char **v;
	size_t n, cap;
};

/* Appends a copy of s. */
void strv_push(struct strv *sv, const char *s);
/* Appends a formatted string. */
void strv_pushf(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the strings and the vector; leaves an empty strv. */
void strv_clear(struct strv *sv);
void strv_freep(struct strv *sv);
size_t strv_len(char *const *v);

#endif
