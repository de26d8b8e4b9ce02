/* File-descriptor helpers. All return 0/-errno and set *err on failure. */
#ifndef MINI_FD_H
#define MINI_FD_H

#include "err.h"
#include <stddef.h>
#include <sys/types.h>

/* Reads until EOF or len bytes; stores the count in *got. Retries EINTR. */
int read_all(int fd, void *buf, size_t len, size_t *got, struct mini_err **err);
/* Writes all len bytes (blocking fds), retrying EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len, struct mini_err **err);
int set_nonblock(int fd, int on, struct mini_err **err);
int set_cloexec(int fd, int on, struct mini_err **err);
/* Sends one fd over a unix socket with SCM_RIGHTS (one data byte). */
int send_fd(int sock, int fd, struct mini_err **err);
/* Receives one fd sent with send_fd; *out is the new fd (O_CLOEXEC). */
int recv_fd(int sock, int *out, struct mini_err **err);

#endif
