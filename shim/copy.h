/* A non-blocking one-way copy between two fds on the loop: a container's output pipe to a FIFO,
 * a stdin FIFO to the container's pipe, or a pty master either way. splice(2) moves the data
 * when one side is a pipe (nothing passes through user space); otherwise a small buffer is used.
 * Backpressure is natural: while the destination is full the source is not polled, so a stalled
 * reader stalls the writer, never the loop. */
#ifndef MINI_SHIM_COPY_H
#define MINI_SHIM_COPY_H

#include "err.h"

#include <stdbool.h>
#include <uv.h>

struct copier;

typedef void (*copier_cb)(void *data);

/* Starts copying src to dst. Takes both fds (both are made non-blocking); they are closed when
 * the copy ends (EOF, or a broken destination) or at copier_free (but see copier_linger). `name`
 * is for logs (borrowed static string). Returns NULL with *err set on failure (the fds are closed
 * then too). */
struct copier *copier_new(uv_loop_t *loop, const char *name, int src, int dst,
			  struct mini_err **err);

/* Calls cb once: when everything readable right now has been copied (until_eof false), or when
 * the source reached EOF (until_eof true); immediately if that is already so. One pending drain
 * per copier; a second replaces the first without calling it. */
void copier_drain(struct copier *c, bool until_eof, copier_cb cb, void *data);
/* Forgets a pending drain callback (its owner goes away). */
void copier_cancel_drain(struct copier *c);

/* True once the copy has ended (EOF or error). */
bool copier_finished(const struct copier *c);
/* Bytes written to the destination that its reader has not taken yet (FIONREAD on a FIFO or
 * pipe; 0 for anything else, or once the destination is closed). */
size_t copier_unread(const struct copier *c);
/* For an output: when the copy ends while the destination still holds bytes its reader has not
 * taken, keep the destination open until copier_release (or copier_free). That is how
 * copier_unread keeps seeing those bytes, so that the owner can hold the exit report back until
 * they are read: a client closes its end of the FIFO when it learns of the exit (ctr does). */
void copier_linger(struct copier *c);
/* Closes the destination kept open by copier_linger (the owner has waited for its reader as long
 * as it would). Nothing otherwise. */
void copier_release(struct copier *c);

/* Total bytes copied. */
unsigned long long copier_bytes(const struct copier *c);

/* Stops, closes the fds and frees c once its handles have closed. */
void copier_free(struct copier *c);

#endif
