/* A tiny TAP producer for the unit suites (meson test protocol: 'tap'). */
#ifndef MINI_TAP_H
#define MINI_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                   \
	do {                                                                            \
		int _c = !!(cond);                                                      \
		tap_n++;                                                                \
		if (!_c)                                                                \
			tap_failed++;                                                   \
		printf("%sok %d - ", _c ? "" : "not ", tap_n);                          \
		printf(__VA_ARGS__);                                                    \
		printf("\n");                                                           \
		if (!_c)                                                                \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} while (0)

#define is_int(got, want, ...)                                           \
	do {                                                             \
		long long _g = (long long)(got), _w = (long long)(want); \
		ok(_g == _w, __VA_ARGS__);                               \
		if (_g != _w)                                            \
			printf("#   got %lld, want %lld\n", _g, _w);     \
	} while (0)

#define is_str(got, want, ...)                                                         \
	do {                                                                           \
		const char *_g = (got), *_w = (want);                                  \
		int _e = _g && _w && strcmp(_g, _w) == 0;                              \
		ok(_e, __VA_ARGS__);                                                   \
		if (!_e)                                                               \
			printf("#   got \"%s\"\n#  want \"%s\"\n", _g ? _g : "(null)", \
			       _w ? _w : "(null)");                                    \
	} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
