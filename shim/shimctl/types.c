/* The registry of message types shimctl can show and build, and the services it can call.
 *
 * The registry starts from a list of roots and adds every message type reachable through their
 * fields, so nested and map-entry types need no listing. Types that only travel inside an Any
 * (events, options, metrics) are roots. */
#include "shimctl.h"

#include "containerd/cgroups/v1/metrics.pb-c.h"
#include "containerd/cgroups/v2/metrics.pb-c.h"
#include "containerd/events/task.pb-c.h"
#include "containerd/linux/runctypes.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/runtimeoptions/v1/api.pb-c.h"
#include "containerd/services/ttrpc/events/v1/events.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/rpc/status.pb-c.h"

#include <string.h>
#include <strings.h>

static const ProtobufCServiceDescriptor *const services[] = {
	&containerd__task__v2__task__descriptor,
	&containerd__services__events__ttrpc__v1__events__descriptor,
};

/* Short names accepted for `call SERVICE`, and other names with the same messages. */
static const struct {
	const char *alias, *service, *send_as;
} service_aliases[] = {
	{ "task", SHIMCTL_TASK_SERVICE, SHIMCTL_TASK_SERVICE },
	{ "events", SHIMCTL_EVENTS_SERVICE, SHIMCTL_EVENTS_SERVICE },
	/* containerd 2.x task API v3: wire-identical to v2. */
	{ "containerd.task.v3.Task", SHIMCTL_TASK_SERVICE, "containerd.task.v3.Task" },
};

static const ProtobufCMessageDescriptor *const roots[] = {
	&containerd__events__task_create__descriptor,
	&containerd__events__task_start__descriptor,
	&containerd__events__task_delete__descriptor,
	&containerd__events__task_io__descriptor,
	&containerd__events__task_exit__descriptor,
	&containerd__events__task_oom__descriptor,
	&containerd__events__task_exec_added__descriptor,
	&containerd__events__task_exec_started__descriptor,
	&containerd__events__task_paused__descriptor,
	&containerd__events__task_resumed__descriptor,
	&containerd__events__task_checkpointed__descriptor,
	&containerd__runc__v1__options__descriptor,
	&containerd__runc__v1__checkpoint_options__descriptor,
	&containerd__runc__v1__process_details__descriptor,
	&containerd__linux__runc__runc_options__descriptor,
	&containerd__linux__runc__create_options__descriptor,
	&containerd__linux__runc__checkpoint_options__descriptor,
	&containerd__linux__runc__process_details__descriptor,
	&runtimeoptions__v1__options__descriptor,
	&io__containerd__cgroups__v1__metrics__descriptor,
	&io__containerd__cgroups__v2__metrics__descriptor,
	&containerd__task__v2__exec_process_response__descriptor,
	&google__rpc__status__descriptor,
	&google__protobuf__empty__descriptor,
};

#define MAX_TYPES 512
static const ProtobufCMessageDescriptor *types[MAX_TYPES];
static size_t n_types;

static void
add_type(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < n_types; i++) {
		if (types[i] == d)
			return;
	}
	/* The roots above reach well under MAX_TYPES; a miss would only hide a type. */
	if (n_types == MAX_TYPES)
		return;
	types[n_types++] = d;
	for (unsigned f = 0; f < d->n_fields; f++) {
		if (d->fields[f].type == PROTOBUF_C_TYPE_MESSAGE)
			add_type(d->fields[f].descriptor);
	}
}

static void
registry_init(void)
{
	if (n_types > 0)
		return;
	for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
		for (unsigned m = 0; m < services[s]->n_methods; m++) {
			add_type(services[s]->methods[m].input);
			add_type(services[s]->methods[m].output);
		}
	}
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		add_type(roots[i]);
}

const ProtobufCMessageDescriptor *
shimctl_lookup_type(const char *full_name)
{
	registry_init();
	for (size_t i = 0; i < n_types; i++) {
		if (strcmp(types[i]->name, full_name) == 0)
			return types[i];
	}
	return NULL;
}

static const ProtobufCServiceDescriptor *
find_service(const char *name, const char **send_as)
{
	for (size_t i = 0; i < sizeof(service_aliases) / sizeof(service_aliases[0]); i++) {
		if (strcmp(service_aliases[i].alias, name) == 0) {
			*send_as = service_aliases[i].send_as;
			name = service_aliases[i].service;
			break;
		}
	}
	for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
		if (strcmp(services[s]->name, name) == 0) {
			if (*send_as == NULL)
				*send_as = services[s]->name;
			return services[s];
		}
	}
	return NULL;
}

const ProtobufCMethodDescriptor *
shimctl_find_method(const char *service, const char *method, const char **service_out)
{
	const ProtobufCServiceDescriptor *sd;
	const ProtobufCMethodDescriptor *md;
	const char *send_as = NULL;

	sd = find_service(service, &send_as);
	if (sd == NULL)
		return NULL;
	md = protobuf_c_service_descriptor_get_method_by_name(sd, method);
	for (unsigned m = 0; md == NULL && m < sd->n_methods; m++) {
		if (strcasecmp(sd->methods[m].name, method) == 0)
			md = &sd->methods[m];
	}
	if (md != NULL)
		*service_out = send_as;
	return md;
}

void
shimctl_list_methods(FILE *out)
{
	for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
		fprintf(out, "  %s\n", services[s]->name);
		for (unsigned m = 0; m < services[s]->n_methods; m++) {
			const ProtobufCMethodDescriptor *md = &services[s]->methods[m];
			fprintf(out, "    %-11s %s -> %s\n", md->name, md->input->name,
				md->output->name);
		}
	}
}

const struct pbjson_opts shimctl_json_in = { .lookup = shimctl_lookup_type };
const struct pbjson_opts shimctl_json_out = {
	.flags = PBJSON_EMIT_DEFAULTS | PBJSON_PRETTY,
	.lookup = shimctl_lookup_type,
};
