/* Shared helpers of the ttrpc server/client tests: a test service, call outcomes, a loop runner
 * and a raw peer that speaks bytes (to send what a correct client never would). */
#ifndef MINI_TEST_RPC_UTIL_H
#define MINI_TEST_RPC_UTIL_H

#include "client.h"
#include "frame.h"
#include "server.h"

#include <stdbool.h>
#include <uv.h>

#define TEST_SVC "mini.test.v1.Test"
#define MAX_PARKED 16

/* Requests the Park method kept; answered by the test whenever it likes. */
extern struct ttrpc_request *parked[MAX_PARKED];
extern int n_parked;
/* Calls of the Big handler so far; set by Shutdown once the server it closed is gone. */
extern int big_calls;
extern bool shutdown_done;

/* Registers Echo, Park, Meta, Fail, Status, Big and Shutdown (replies, then closes srv) on
 * TEST_SVC. */
void test_service_register(struct ttrpc_server *srv);

/* A finished call, as the callback saw it (copies). */
struct outcome {
	bool done;
	int code;
	char *message;
	char *key, *value; /* the Ttrpc__KeyValue in the payload, if it decodes */
	size_t len;
	int order; /* 1 for the first call to complete, 2 for the next... */
};
void on_outcome(const struct ttrpc_result *res, void *data);
void outcome_clear(struct outcome *o);
/* Calls method with a KeyValue{key, value} body. */
int call_kv(struct ttrpc_client *c, const char *method, const char *key, const char *value,
	    int64_t timeout_ns, struct outcome *o);

/* Runs loop until *flag or timeout_ms; returns *flag. */
bool run_until(uv_loop_t *loop, const bool *flag, unsigned timeout_ms);
/* Runs loop until pred(arg) or timeout_ms; returns pred(arg). */
bool run_until_fn(uv_loop_t *loop, bool (*pred)(void *), void *arg, unsigned timeout_ms);

#define RAW_MAX_FRAMES 16
struct raw_frame {
	struct ttrpc_header h;
	int code; /* status code of a response, -1 if it did not decode */
	char *message;
};
struct raw_peer {
	uv_pipe_t pipe;
	struct ttrpc_decoder dec;
	struct raw_frame frames[RAW_MAX_FRAMES];
	int n;	   /* frames kept in frames[] */
	int total; /* frames received */
	bool eof, closed;
};
int raw_open(uv_loop_t *loop, struct raw_peer *p, const char *path);
/* Copies buf and queues it. */
void raw_write(struct raw_peer *p, const void *buf, size_t len);
void raw_close(struct raw_peer *p);
/* Stops or resumes reading (a peer that does not read its replies). */
void raw_reading(struct raw_peer *p, bool on);

#endif
