/* One error convention for all of mini.
 *
 * A function that can fail returns 0 (or a valid pointer) on success, and on failure a negative
 * errno (or NULL) after setting *err exactly once: it creates the error, or propagates the one a
 * callee set, optionally wrapped with context. On success *err is never touched.
 *
 * Messages are lowercase and read as "what we were doing"; strerror(errnum) is appended only when
 * the error is rendered, so a chain reads "create container abc: mount proc: Permission denied".
 */
#ifndef MINI_ERR_H
#define MINI_ERR_H

#include <stdarg.h>

/* gRPC status classes (the codes containerd's errdefs understands). */
enum mini_code {
	MINI_E_OK = 0,
	MINI_E_CANCELED = 1,
	MINI_E_UNKNOWN = 2,
	MINI_E_INVALID = 3,
	MINI_E_DEADLINE = 4,
	MINI_E_NOTFOUND = 5,
	MINI_E_EXISTS = 6,
	MINI_E_PERMISSION = 7,
	MINI_E_EXHAUSTED = 8,
	MINI_E_PRECONDITION = 9,
	MINI_E_ABORTED = 10,
	MINI_E_OUTOFRANGE = 11,
	MINI_E_UNIMPLEMENTED = 12,
	MINI_E_INTERNAL = 13,
	MINI_E_UNAVAILABLE = 14,
};

struct mini_err {
	int errnum; /* errno cause, 0 if none */
	int code;   /* explicit enum mini_code, 0 = derive from errnum */
	char *msg;  /* context chain, without strerror */
};

/* Creates *err with errnum and a formatted message. Returns -errnum (-EIO when errnum is 0). */
int mini_err_set(struct mini_err **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like mini_err_set with an explicit gRPC class. Returns -errnum (-EIO when errnum is 0). */
int mini_err_setc(struct mini_err **err, enum mini_code code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefixes "<context>: " to the message of an existing *err. Returns -errnum (or -EIO). */
int mini_err_wrap(struct mini_err **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The gRPC class: the explicit code, else derived from errnum (ENOENT/ESRCH → NotFound, EEXIST →
 * AlreadyExists, EINVAL → InvalidArgument, EBUSY → FailedPrecondition, ENOSYS/ENOTSUP →
 * Unimplemented, anything else → Unknown). */
int mini_err_grpc_code(const struct mini_err *err);

/* The name of a gRPC code ("NotFound"), or "Code(N)". Static storage. */
const char *mini_code_name(int code);

/* Renders "msg: strerror(errnum)" (or just msg). Caller owns the result. */
char *mini_err_render(const struct mini_err *err);

/* The negative errno that functions return for this error. */
int mini_err_ret(const struct mini_err *err);

void mini_err_free(struct mini_err *err);
void mini_err_freep(struct mini_err **err);

#endif
