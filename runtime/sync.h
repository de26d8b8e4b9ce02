/* Typed messages over the SOCK_SEQPACKET pair between `minirun` and the process it cloned (crun's
 * pattern). One message per datagram: a fixed header and an optional payload. An error in the
 * child travels as SYNC_ERROR with its errno and message, so the parent fails with the child's
 * words ("create: mount proc on /proc: Operation not permitted"). */
#ifndef MINIRT_SYNC_H
#define MINIRT_SYNC_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

enum sync_type {
	SYNC_GO = 1,	   /* parent → child: cgroup joined; payload: the state JSON for hooks */
	SYNC_PID,	   /* child → parent: the init's pid after an extra fork (value) */
	SYNC_HOOKS,	   /* child → parent: run prestart and createRuntime hooks now */
	SYNC_HOOKS_DONE,   /* parent → child */
	SYNC_READY,	   /* child → parent: blocked before exec, or (exec) about to execve */
	SYNC_ERROR,	   /* either way: errnum and message */
	SYNC_SECCOMP,	   /* child → parent: the seccomp listener is fd number `value` here */
	SYNC_SECCOMP_DONE, /* parent → child: the agent has it, close yours */
};

#define SYNC_MAX_PAYLOAD (128 * 1024)

struct sync_msg {
	enum sync_type type;
	int errnum;
	int64_t value;
	size_t len;
	char *data; /* NUL-terminated payload (may be empty) */
};

void sync_msg_free(struct sync_msg *m);
void sync_msg_freep(struct sync_msg **m);

/* Sends one message. */
int sync_send(int fd, enum sync_type type, int64_t value, const char *data, size_t len,
	      struct mini_err **err);
/* Sends err as SYNC_ERROR (does not free it). Best effort: returns nothing. */
void sync_send_error(int fd, const struct mini_err *e);
/* Receives one message; EPIPE with "peer exited" on EOF. A SYNC_ERROR is returned as a message,
 * not as an error. */
int sync_recv(int fd, struct sync_msg **out, struct mini_err **err);
/* Receives a message of the expected type; a SYNC_ERROR becomes *err with the peer's errno and
 * message, anything else is a protocol error. `out` may be NULL. */
int sync_expect(int fd, enum sync_type type, struct sync_msg **out, struct mini_err **err);

#endif
