#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
mini_err_ret(const struct mini_err *err)
{
	return err && err->errnum > 0 ? -err->errnum : -EIO;
}

__attribute__((format(printf, 4, 0))) static int
err_vset(struct mini_err **err, int code, int errnum, const char *fmt, va_list ap)
{
	struct mini_err *e = xcalloc(1, sizeof(*e));

	e->errnum = errnum < 0 ? -errnum : errnum;
	e->code = code;
	if (vasprintf(&e->msg, fmt, ap) < 0)
		abort();
	if (err == NULL) {
		/* Caller does not want details: still return the class. */
		int ret = mini_err_ret(e);
		mini_err_free(e);
		return ret;
	}
	*err = e;
	return mini_err_ret(e);
}

int
mini_err_set(struct mini_err **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = err_vset(err, 0, errnum, fmt, ap);
	va_end(ap);
	return ret;
}

int
mini_err_setc(struct mini_err **err, enum mini_code code, int errnum, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = err_vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return ret;
}

int
mini_err_wrap(struct mini_err **err, const char *fmt, ...)
{
	char *prefix = NULL, *joined = NULL;
	va_list ap;

	if (err == NULL || *err == NULL)
		return -EIO;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		abort();
	va_end(ap);
	joined = xasprintf("%s: %s", prefix, (*err)->msg);
	free(prefix);
	free((*err)->msg);
	(*err)->msg = joined;
	return mini_err_ret(*err);
}

int
mini_err_grpc_code(const struct mini_err *err)
{
	if (err == NULL)
		return MINI_E_OK;
	if (err->code)
		return err->code;
	switch (err->errnum) {
	case ENOENT:
	case ESRCH:
		return MINI_E_NOTFOUND;
	case EEXIST:
		return MINI_E_EXISTS;
	case EINVAL:
		return MINI_E_INVALID;
	case EBUSY:
		return MINI_E_PRECONDITION;
	case ENOSYS:
	case ENOTSUP:
		return MINI_E_UNIMPLEMENTED;
	default:
		return MINI_E_UNKNOWN;
	}
}

const char *
mini_code_name(int code)
{
	static const char *const names[] = {
		"OK",
		"Canceled",
		"Unknown",
		"InvalidArgument",
		"DeadlineExceeded",
		"NotFound",
		"AlreadyExists",
		"PermissionDenied",
		"ResourceExhausted",
		"FailedPrecondition",
		"Aborted",
		"OutOfRange",
		"Unimplemented",
		"Internal",
		"Unavailable",
		"DataLoss",
		"Unauthenticated",
	};
	static __thread char buf[32];

	if (code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0]))
		return names[code];
	snprintf(buf, sizeof(buf), "Code(%d)", code);
	return buf;
}

char *
mini_err_render(const struct mini_err *err)
{
	if (err == NULL)
		return xstrdup("no error");
	if (err->errnum > 0)
		return xasprintf("%s: %s", err->msg, strerror(err->errnum));
	return xstrdup(err->msg);
}

void
mini_err_free(struct mini_err *err)
{
	if (err == NULL)
		return;
	free(err->msg);
	free(err);
}

void
mini_err_freep(struct mini_err **err)
{
	mini_err_free(*err);
	*err = NULL;
}
