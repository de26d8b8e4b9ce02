/* The containerd.task.v2.Task service (and its wire-identical v3 name) on the shim's server. */
#ifndef MINI_SHIM_TASK_SERVICE_H
#define MINI_SHIM_TASK_SERVICE_H

struct shim;
struct ttrpc_server;

void task_service_register(struct ttrpc_server *srv, struct shim *s);

#endif
