/* The console socket: a unix socket the runtime connects to (`--console-socket PATH`) to hand
 * over the master of the pty it created for a process with a terminal, as runc and crun do. One
 * socket per process, in a private temporary directory. */
#ifndef MINI_SHIM_CONSOLE_H
#define MINI_SHIM_CONSOLE_H

#include "err.h"

struct console_socket {
	char *dir;  /* temporary directory, removed on close */
	char *path; /* dir/pty.sock */
	int fd;	    /* listening socket */
};

/* Creates and listens. On failure *err is set and nothing is left behind. */
int console_socket_open(struct console_socket *cs, struct mini_err **err);
/* Takes the master fd the runtime sent. Called once the runtime call that created the pty has
 * returned, so the connection and its message are already queued: never blocks. */
int console_socket_receive(struct console_socket *cs, int *master, struct mini_err **err);
/* Closes the socket and removes the directory. Accepts a zeroed/closed struct. */
void console_socket_close(struct console_socket *cs);

#endif
