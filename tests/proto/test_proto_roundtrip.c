/* The wire contract with containerd: every message we declare round-trips through protobuf-c
 * with every field set, encodes the fields with the declared numbers and wire types, carries
 * containerd's fully-qualified names (type URLs are the bare names), and a few encodings match
 * bytes worked out by hand from the protobuf wire format. */
#include "tap.h"
#include "pb_walk.h"

#include "containerd/cgroups/v1/metrics.pb-c.h"
#include "containerd/cgroups/v2/metrics.pb-c.h"
#include "containerd/events/task.pb-c.h"
#include "containerd/linux/runctypes.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/runtimeoptions/v1/api.pb-c.h"
#include "containerd/services/ttrpc/events/v1/events.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"
#include "containerd/types/mount.pb-c.h"
#include "containerd/types/task/task.pb-c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct msg_case {
	const ProtobufCMessageDescriptor *desc;
	const char *full_name;
};

/* Every message of every containerd file we declare, with the name containerd gives it. */
static const struct msg_case messages[] = {
	/* containerd/task/v2/shim.proto */
	{ &containerd__task__v2__create_task_request__descriptor,
	  "containerd.task.v2.CreateTaskRequest" },
	{ &containerd__task__v2__create_task_response__descriptor,
	  "containerd.task.v2.CreateTaskResponse" },
	{ &containerd__task__v2__delete_request__descriptor, "containerd.task.v2.DeleteRequest" },
	{ &containerd__task__v2__delete_response__descriptor, "containerd.task.v2.DeleteResponse" },
	{ &containerd__task__v2__exec_process_request__descriptor,
	  "containerd.task.v2.ExecProcessRequest" },
	{ &containerd__task__v2__exec_process_response__descriptor,
	  "containerd.task.v2.ExecProcessResponse" },
	{ &containerd__task__v2__resize_pty_request__descriptor,
	  "containerd.task.v2.ResizePtyRequest" },
	{ &containerd__task__v2__state_request__descriptor, "containerd.task.v2.StateRequest" },
	{ &containerd__task__v2__state_response__descriptor, "containerd.task.v2.StateResponse" },
	{ &containerd__task__v2__kill_request__descriptor, "containerd.task.v2.KillRequest" },
	{ &containerd__task__v2__close_iorequest__descriptor, "containerd.task.v2.CloseIORequest" },
	{ &containerd__task__v2__pids_request__descriptor, "containerd.task.v2.PidsRequest" },
	{ &containerd__task__v2__pids_response__descriptor, "containerd.task.v2.PidsResponse" },
	{ &containerd__task__v2__checkpoint_task_request__descriptor,
	  "containerd.task.v2.CheckpointTaskRequest" },
	{ &containerd__task__v2__update_task_request__descriptor,
	  "containerd.task.v2.UpdateTaskRequest" },
	{ &containerd__task__v2__update_task_request__annotations_entry__descriptor,
	  "containerd.task.v2.UpdateTaskRequest.AnnotationsEntry" },
	{ &containerd__task__v2__start_request__descriptor, "containerd.task.v2.StartRequest" },
	{ &containerd__task__v2__start_response__descriptor, "containerd.task.v2.StartResponse" },
	{ &containerd__task__v2__wait_request__descriptor, "containerd.task.v2.WaitRequest" },
	{ &containerd__task__v2__wait_response__descriptor, "containerd.task.v2.WaitResponse" },
	{ &containerd__task__v2__stats_request__descriptor, "containerd.task.v2.StatsRequest" },
	{ &containerd__task__v2__stats_response__descriptor, "containerd.task.v2.StatsResponse" },
	{ &containerd__task__v2__connect_request__descriptor, "containerd.task.v2.ConnectRequest" },
	{ &containerd__task__v2__connect_response__descriptor,
	  "containerd.task.v2.ConnectResponse" },
	{ &containerd__task__v2__shutdown_request__descriptor,
	  "containerd.task.v2.ShutdownRequest" },
	{ &containerd__task__v2__pause_request__descriptor, "containerd.task.v2.PauseRequest" },
	{ &containerd__task__v2__resume_request__descriptor, "containerd.task.v2.ResumeRequest" },
	/* containerd/types */
	{ &containerd__types__mount__descriptor, "containerd.types.Mount" },
	{ &containerd__v1__types__process_info__descriptor, "containerd.v1.types.ProcessInfo" },
	/* containerd/events/task.proto */
	{ &containerd__events__task_create__descriptor, "containerd.events.TaskCreate" },
	{ &containerd__events__task_start__descriptor, "containerd.events.TaskStart" },
	{ &containerd__events__task_delete__descriptor, "containerd.events.TaskDelete" },
	{ &containerd__events__task_io__descriptor, "containerd.events.TaskIO" },
	{ &containerd__events__task_exit__descriptor, "containerd.events.TaskExit" },
	{ &containerd__events__task_oom__descriptor, "containerd.events.TaskOOM" },
	{ &containerd__events__task_exec_added__descriptor, "containerd.events.TaskExecAdded" },
	{ &containerd__events__task_exec_started__descriptor, "containerd.events.TaskExecStarted" },
	{ &containerd__events__task_paused__descriptor, "containerd.events.TaskPaused" },
	{ &containerd__events__task_resumed__descriptor, "containerd.events.TaskResumed" },
	{ &containerd__events__task_checkpointed__descriptor,
	  "containerd.events.TaskCheckpointed" },
	/* containerd/services/ttrpc/events/v1/events.proto */
	{ &containerd__services__events__ttrpc__v1__forward_request__descriptor,
	  "containerd.services.events.ttrpc.v1.ForwardRequest" },
	{ &containerd__services__events__ttrpc__v1__envelope__descriptor,
	  "containerd.services.events.ttrpc.v1.Envelope" },
	/* containerd/runc/options.proto */
	{ &containerd__runc__v1__options__descriptor, "containerd.runc.v1.Options" },
	{ &containerd__runc__v1__checkpoint_options__descriptor,
	  "containerd.runc.v1.CheckpointOptions" },
	{ &containerd__runc__v1__process_details__descriptor, "containerd.runc.v1.ProcessDetails" },
	/* containerd/linux/runctypes.proto */
	{ &containerd__linux__runc__runc_options__descriptor, "containerd.linux.runc.RuncOptions" },
	{ &containerd__linux__runc__create_options__descriptor,
	  "containerd.linux.runc.CreateOptions" },
	{ &containerd__linux__runc__checkpoint_options__descriptor,
	  "containerd.linux.runc.CheckpointOptions" },
	{ &containerd__linux__runc__process_details__descriptor,
	  "containerd.linux.runc.ProcessDetails" },
	/* containerd/runtimeoptions/v1/api.proto */
	{ &runtimeoptions__v1__options__descriptor, "runtimeoptions.v1.Options" },
	/* containerd/cgroups/v1/metrics.proto */
	{ &io__containerd__cgroups__v1__metrics__descriptor, "io.containerd.cgroups.v1.Metrics" },
	{ &io__containerd__cgroups__v1__hugetlb_stat__descriptor,
	  "io.containerd.cgroups.v1.HugetlbStat" },
	{ &io__containerd__cgroups__v1__pids_stat__descriptor,
	  "io.containerd.cgroups.v1.PidsStat" },
	{ &io__containerd__cgroups__v1__cpustat__descriptor, "io.containerd.cgroups.v1.CPUStat" },
	{ &io__containerd__cgroups__v1__cpuusage__descriptor, "io.containerd.cgroups.v1.CPUUsage" },
	{ &io__containerd__cgroups__v1__throttle__descriptor, "io.containerd.cgroups.v1.Throttle" },
	{ &io__containerd__cgroups__v1__memory_stat__descriptor,
	  "io.containerd.cgroups.v1.MemoryStat" },
	{ &io__containerd__cgroups__v1__memory_entry__descriptor,
	  "io.containerd.cgroups.v1.MemoryEntry" },
	{ &io__containerd__cgroups__v1__memory_oom_control__descriptor,
	  "io.containerd.cgroups.v1.MemoryOomControl" },
	{ &io__containerd__cgroups__v1__blk_iostat__descriptor,
	  "io.containerd.cgroups.v1.BlkIOStat" },
	{ &io__containerd__cgroups__v1__blk_ioentry__descriptor,
	  "io.containerd.cgroups.v1.BlkIOEntry" },
	{ &io__containerd__cgroups__v1__rdma_stat__descriptor,
	  "io.containerd.cgroups.v1.RdmaStat" },
	{ &io__containerd__cgroups__v1__rdma_entry__descriptor,
	  "io.containerd.cgroups.v1.RdmaEntry" },
	{ &io__containerd__cgroups__v1__network_stat__descriptor,
	  "io.containerd.cgroups.v1.NetworkStat" },
	{ &io__containerd__cgroups__v1__cgroup_stats__descriptor,
	  "io.containerd.cgroups.v1.CgroupStats" },
	/* containerd/cgroups/v2/metrics.proto */
	{ &io__containerd__cgroups__v2__metrics__descriptor, "io.containerd.cgroups.v2.Metrics" },
	{ &io__containerd__cgroups__v2__pids_stat__descriptor,
	  "io.containerd.cgroups.v2.PidsStat" },
	{ &io__containerd__cgroups__v2__cpustat__descriptor, "io.containerd.cgroups.v2.CPUStat" },
	{ &io__containerd__cgroups__v2__memory_stat__descriptor,
	  "io.containerd.cgroups.v2.MemoryStat" },
	{ &io__containerd__cgroups__v2__memory_events__descriptor,
	  "io.containerd.cgroups.v2.MemoryEvents" },
	{ &io__containerd__cgroups__v2__rdma_stat__descriptor,
	  "io.containerd.cgroups.v2.RdmaStat" },
	{ &io__containerd__cgroups__v2__rdma_entry__descriptor,
	  "io.containerd.cgroups.v2.RdmaEntry" },
	{ &io__containerd__cgroups__v2__iostat__descriptor, "io.containerd.cgroups.v2.IOStat" },
	{ &io__containerd__cgroups__v2__ioentry__descriptor, "io.containerd.cgroups.v2.IOEntry" },
	{ &io__containerd__cgroups__v2__huge_tlb_stat__descriptor,
	  "io.containerd.cgroups.v2.HugeTlbStat" },
};

static int
in_table(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(messages); i++) {
		if (messages[i].desc == d)
			return 1;
	}
	return 0;
}

/* Fill → pack → inspect the wire → unpack → compare, for one message type. */
static void
roundtrip(const ProtobufCMessageDescriptor *desc, unsigned *seed)
{
	ProtobufCMessage *in = pbw_new_filled(desc, seed);
	ProtobufCMessage *out;
	char where[512];
	uint8_t *buf;
	size_t len, packed;
	int n;

	n = pbw_count_default(in, where, sizeof(where));
	ok(n == 0, "%s: filler sets every field%s%s", desc->name, n ? " — " : "", n ? where : "");

	len = protobuf_c_message_get_packed_size(in);
	buf = malloc(len ? len : 1);
	packed = protobuf_c_message_pack(in, buf);
	is_int(packed, len, "%s: pack writes get_packed_size bytes", desc->name);
	ok(desc->n_fields == 0 ? len == 0 : len > 0, "%s: encoding size %zu", desc->name, len);

	n = pbw_check_wire(desc, buf, packed, where, sizeof(where));
	ok(n == 0, "%s: every declared field on the wire with its wire type%s%s", desc->name,
	   n ? " — " : "", n ? where : "");

	out = protobuf_c_message_unpack(desc, NULL, packed, buf);
	ok(out != NULL, "%s: unpacks", desc->name);
	if (out) {
		n = pbw_compare(in, out, where, sizeof(where));
		ok(n == 0, "%s: unpacked equals packed field by field%s%s", desc->name,
		   n ? " — " : "", n ? where : "");
		protobuf_c_message_free_unpacked(out, NULL);
	}
	free(buf);
	protobuf_c_message_free_unpacked(in, NULL);
}

/* The helpers themselves must be able to fail, or the round trips prove nothing. */
static void
test_walker_catches_differences(void)
{
	const ProtobufCMessageDescriptor *d = &containerd__task__v2__state_response__descriptor;
	/* KillRequest{id="a", field 9 (undeclared) = 1}. */
	static const uint8_t stray[] = { 0x0a, 0x01, 'a', 0x48, 0x01 };
	unsigned s1 = 0, s2 = 1000;
	ProtobufCMessage *a = pbw_new_filled(d, &s1);
	ProtobufCMessage *b = pbw_new_filled(d, &s2);
	ProtobufCMessage *empty = protobuf_c_message_unpack(d, NULL, 0, (const uint8_t *)"");
	char where[512];

	/* 11 fields, exited_at has 2; status (same enum value) and terminal (true) match. */
	is_int(pbw_compare(a, b, where, sizeof(where)), 10, "compare counts every differing field");
	is_str(where, "StateResponse.id: strings differ", "compare names the first difference");
	is_int(pbw_count_default(empty, where, sizeof(where)), 11,
	       "count_default sees every field of an empty StateResponse");
	ok(pbw_check_wire(&containerd__task__v2__kill_request__descriptor, stray, sizeof(stray),
			  where, sizeof(where)) == 4,
	   "check_wire flags an undeclared number and 3 missing fields (%s)", where);
	protobuf_c_message_free_unpacked(a, NULL);
	protobuf_c_message_free_unpacked(b, NULL);
	protobuf_c_message_free_unpacked(empty, NULL);
}

static void
test_names_and_roundtrips(void)
{
	unsigned seed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(messages); i++) {
		const ProtobufCMessageDescriptor *d = messages[i].desc;

		is_str(d->name, messages[i].full_name, "full name (= type URL) %s",
		       messages[i].full_name);
		roundtrip(d, &seed);
	}
}

/* The request and response of every Task rpc must be covered by the round trips above. */
static void
test_task_service(void)
{
	static const char *const methods[] = {
		"State",  "Create",	"Start", "Delete",  "Pids",	 "Pause",
		"Resume", "Checkpoint", "Kill",	 "Exec",    "ResizePty", "CloseIO",
		"Update", "Wait",	"Stats", "Connect", "Shutdown",
	};
	const ProtobufCServiceDescriptor *sd = &containerd__task__v2__task__descriptor;

	is_str(sd->name, "containerd.task.v2.Task", "Task service full name");
	is_int(sd->n_methods, ARRAY_SIZE(methods), "Task has %zu rpcs", ARRAY_SIZE(methods));
	for (unsigned i = 0; i < sd->n_methods && i < ARRAY_SIZE(methods); i++) {
		const ProtobufCMethodDescriptor *m = &sd->methods[i];
		int covered =
			in_table(m->input) &&
			(in_table(m->output) || m->output == &google__protobuf__empty__descriptor);

		is_str(m->name, methods[i], "Task rpc %u is %s", i, methods[i]);
		ok(covered, "Task.%s: %s and %s are round-tripped", m->name, m->input->name,
		   m->output->name);
	}

	sd = &containerd__services__events__ttrpc__v1__events__descriptor;
	is_str(sd->name, "containerd.services.events.ttrpc.v1.Events", "Events service full name");
	ok(sd->n_methods == 1 && strcmp(sd->methods[0].name, "Forward") == 0 &&
		   sd->methods[0].input ==
			   &containerd__services__events__ttrpc__v1__forward_request__descriptor &&
		   sd->methods[0].output == &google__protobuf__empty__descriptor,
	   "Events has Forward(ForwardRequest) returns Empty");
}

static void
test_status_enum(void)
{
	static const struct {
		const char *name;
		int value;
	} want[] = {
		{ "UNKNOWN", 0 }, { "CREATED", 1 }, { "RUNNING", 2 },
		{ "STOPPED", 3 }, { "PAUSED", 4 },  { "PAUSING", 5 },
	};
	const ProtobufCEnumDescriptor *ed = &containerd__v1__types__status__descriptor;

	is_str(ed->name, "containerd.v1.types.Status", "Status enum full name");
	is_int(ed->n_values, ARRAY_SIZE(want), "Status has %zu values", ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const ProtobufCEnumValue *v =
			protobuf_c_enum_descriptor_get_value_by_name(ed, want[i].name);

		ok(v && v->value == want[i].value, "Status.%s = %d", want[i].name, want[i].value);
	}
	is_int(CONTAINERD__V1__TYPES__STATUS__PAUSING, 5, "C constant for PAUSING");
}

/* Packs m, compares with the hand-computed bytes, then decodes those bytes and compares the
 * result with m: both directions of the codec against the wire format. */
static void
golden(const char *what, const ProtobufCMessage *m, const uint8_t *want, size_t want_len)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	ProtobufCMessage *back;
	char where[512];
	int same;

	protobuf_c_message_pack(m, buf);
	same = len == want_len && memcmp(buf, want, len) == 0;
	ok(same, "golden bytes: %s", what);
	if (!same) {
		printf("#   got ");
		for (size_t i = 0; i < len; i++)
			printf(" %02x", buf[i]);
		printf("\n#   want");
		for (size_t i = 0; i < want_len; i++)
			printf(" %02x", want[i]);
		printf("\n");
	}
	back = protobuf_c_message_unpack(m->descriptor, NULL, want_len, want);
	ok(back && pbw_compare(m, back, where, sizeof(where)) == 0, "golden decode: %s%s%s", what,
	   back ? " " : "", back ? where : "");
	if (back)
		protobuf_c_message_free_unpacked(back, NULL);
	free(buf);
}

#define GOLDEN(what, msg, ...)                                   \
	do {                                                     \
		static const uint8_t _want[] = { __VA_ARGS__ };  \
		golden(what, &(msg).base, _want, sizeof(_want)); \
	} while (0)

static void
test_golden_task(void)
{
	Containerd__Task__V2__KillRequest kill = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	Containerd__Task__V2__DeleteResponse del = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Containerd__Task__V2__StateResponse st = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__ExecProcessRequest ex =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Containerd__Task__V2__ConnectResponse co = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	Containerd__Task__V2__UpdateTaskRequest up =
		CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__UpdateTaskRequest__AnnotationsEntry kv =
		CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__ANNOTATIONS_ENTRY__INIT;
	Containerd__Task__V2__UpdateTaskRequest__AnnotationsEntry *kvs[] = { &kv };
	Containerd__Task__V2__PidsResponse pids = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	Containerd__V1__Types__ProcessInfo pi = CONTAINERD__V1__TYPES__PROCESS_INFO__INIT;
	Containerd__V1__Types__ProcessInfo *pis[] = { &pi };
	Containerd__Types__Mount mnt = CONTAINERD__TYPES__MOUNT__INIT;
	Containerd__Types__Mount *mnts[] = { &mnt };
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT, any2 = GOOGLE__PROTOBUF__ANY__INIT;
	static uint8_t details[] = { 0x0a, 0x01, 'e' }, json[] = { '{', '}' };
	static char *mopts[] = { "rbind", "ro" };

	kill.id = "a";
	kill.signal = 9;
	kill.all = 1;
	GOLDEN("KillRequest{id=a, signal=9, all=true}", kill, 0x0a, 0x01, 'a', 0x18, 0x09, 0x20,
	       0x01);

	/* Go's zero time, how the runc shim says "not exited": a negative int64 is a 10-byte
	 * varint. */
	del.pid = 1;
	del.exit_status = 137;
	ts.seconds = -62135596800LL;
	del.exited_at = &ts;
	GOLDEN("DeleteResponse with Go zero exited_at", del, 0x08, 0x01, 0x10, 0x89, 0x01, 0x1a,
	       0x0b, 0x08, 0x80, 0x92, 0xb8, 0xc3, 0x98, 0xfe, 0xff, 0xff, 0xff, 0x01);

	st.id = "c";
	st.pid = 5;
	st.status = CONTAINERD__V1__TYPES__STATUS__RUNNING;
	st.terminal = 1;
	st.exec_id = "e";
	GOLDEN("StateResponse{status=RUNNING, terminal, exec_id=11}", st, 0x0a, 0x01, 'c', 0x18,
	       0x05, 0x20, 0x02, 0x40, 0x01, 0x5a, 0x01, 'e');

	mnt.type = "bind";
	mnt.source = "/s";
	mnt.n_options = 2;
	mnt.options = mopts;
	cr.id = "c";
	cr.bundle = "/b";
	cr.n_rootfs = 1;
	cr.rootfs = mnts;
	cr.terminal = 1;
	cr.stdout = "o";
	GOLDEN("CreateTaskRequest with a bind rootfs", cr, 0x0a, 0x01, 'c', 0x12, 0x02, '/', 'b',
	       0x1a, 0x15, 0x0a, 0x04, 'b', 'i', 'n', 'd', 0x12, 0x02, '/', 's', 0x22, 0x05, 'r',
	       'b', 'i', 'n', 'd', 0x22, 0x02, 'r', 'o', 0x20, 0x01, 0x32, 0x01, 'o');

	any.type_url = "t";
	any.value.len = sizeof(json);
	any.value.data = json;
	ex.id = "c";
	ex.exec_id = "e";
	ex.terminal = 1;
	ex.stdout = "o";
	ex.spec = &any;
	GOLDEN("ExecProcessRequest with spec Any (field 7)", ex, 0x0a, 0x01, 'c', 0x12, 0x01, 'e',
	       0x18, 0x01, 0x2a, 0x01, 'o', 0x3a, 0x07, 0x0a, 0x01, 't', 0x12, 0x02, '{', '}');

	co.shim_pid = 100;
	co.task_pid = 200;
	co.version = "2";
	GOLDEN("ConnectResponse", co, 0x08, 0x64, 0x10, 0xc8, 0x01, 0x1a, 0x01, '2');

	kv.key = "k";
	kv.value = "v";
	up.id = "a";
	up.n_annotations = 1;
	up.annotations = kvs;
	GOLDEN("UpdateTaskRequest annotations map (field 3)", up, 0x0a, 0x01, 'a', 0x1a, 0x06, 0x0a,
	       0x01, 'k', 0x12, 0x01, 'v');

	any2.type_url = "x";
	any2.value.len = sizeof(details);
	any2.value.data = details;
	pi.pid = 7;
	pi.info = &any2;
	pids.n_processes = 1;
	pids.processes = pis;
	GOLDEN("PidsResponse with ProcessInfo.info", pids, 0x0a, 0x0c, 0x08, 0x07, 0x12, 0x08, 0x0a,
	       0x01, 'x', 0x12, 0x03, 0x0a, 0x01, 'e');
}

static void
test_golden_events(void)
{
	Containerd__Events__TaskExit te = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Containerd__Events__TaskCreate tc = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	Containerd__Events__TaskIO tio = CONTAINERD__EVENTS__TASK_IO__INIT;
	Containerd__Events__TaskDelete td = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	Containerd__Events__TaskExecStarted tes = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
	Containerd__Events__TaskOOM oom = CONTAINERD__EVENTS__TASK_OOM__INIT;
	Containerd__Services__Events__Ttrpc__V1__Envelope env =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest fwd =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Timestamp ts1 = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t oom_bytes[16];

	ts.seconds = 1700000000;
	ts.nanos = 5;
	te.container_id = "c1";
	te.id = "c1";
	te.pid = 42;
	te.exit_status = 137;
	te.exited_at = &ts;
	GOLDEN("TaskExit with exited_at", te, 0x0a, 0x02, 'c', '1', 0x12, 0x02, 'c', '1', 0x18,
	       0x2a, 0x20, 0x89, 0x01, 0x2a, 0x08, 0x08, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x10, 0x05);

	tio.stdin = "i";
	tio.terminal = 1;
	tc.container_id = "c";
	tc.io = &tio;
	tc.pid = 9;
	GOLDEN("TaskCreate{io=4, pid=6}", tc, 0x0a, 0x01, 'c', 0x22, 0x05, 0x0a, 0x01, 'i', 0x20,
	       0x01, 0x30, 0x09);

	ts1.seconds = 1;
	td.container_id = "c";
	td.pid = 3;
	td.exited_at = &ts1;
	td.id = "e";
	GOLDEN("TaskDelete{exited_at=4, id=5}", td, 0x0a, 0x01, 'c', 0x10, 0x03, 0x22, 0x02, 0x08,
	       0x01, 0x2a, 0x01, 'e');

	tes.container_id = "c";
	tes.exec_id = "e";
	tes.pid = 300;
	GOLDEN("TaskExecStarted", tes, 0x0a, 0x01, 'c', 0x12, 0x01, 'e', 0x18, 0xac, 0x02);

	/* The publisher's path: event → Any{bare type URL} → Envelope → ForwardRequest. */
	oom.container_id = "c";
	any.type_url = (char *)containerd__events__task_oom__descriptor.name;
	any.value.len = protobuf_c_message_pack(&oom.base, oom_bytes);
	any.value.data = oom_bytes;
	ts.seconds = 1700000000;
	ts.nanos = 0;
	env.timestamp = &ts;
	env.namespace_ = "default";
	env.topic = "/tasks/oom";
	env.event = &any;
	fwd.envelope = &env;
	GOLDEN("ForwardRequest{Envelope{TaskOOM}}", fwd, 0x0a, 0x3f, 0x0a, 0x06, 0x08, 0x80, 0xe2,
	       0xcf, 0xaa, 0x06, 0x12, 0x07, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0x1a, 0x0a, '/',
	       't', 'a', 's', 'k', 's', '/', 'o', 'o', 'm', 0x22, 0x20, 0x0a, 0x19, 'c', 'o', 'n',
	       't', 'a', 'i', 'n', 'e', 'r', 'd', '.', 'e', 'v', 'e', 'n', 't', 's', '.', 'T', 'a',
	       's', 'k', 'O', 'O', 'M', 0x12, 0x03, 0x0a, 0x01, 'c');
}

static void
test_golden_options_and_metrics(void)
{
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Containerd__Linux__Runc__CreateOptions lo = CONTAINERD__LINUX__RUNC__CREATE_OPTIONS__INIT;
	Runtimeoptions__V1__Options rto = RUNTIMEOPTIONS__V1__OPTIONS__INIT;
	Io__Containerd__Cgroups__V1__Metrics m1 = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	Io__Containerd__Cgroups__V1__MemoryStat ms1 =
		IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry me =
		IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	Io__Containerd__Cgroups__V1__CPUStat cs = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V1__CPUUsage cu = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	Io__Containerd__Cgroups__V2__Metrics m2 = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
	Io__Containerd__Cgroups__V2__MemoryStat ms2 =
		IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V2__IOStat ios = IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
	Io__Containerd__Cgroups__V2__IOEntry ioe = IO__CONTAINERD__CGROUPS__V2__IOENTRY__INIT;
	Io__Containerd__Cgroups__V2__IOEntry *ioes[] = { &ioe };
	static uint64_t per_cpu[] = { 1, 2 };

	ro.binary_name = "runc";
	ro.systemd_cgroup = 1;
	ro.task_api_version = 3;
	GOLDEN("runc.v1.Options{binary_name=6, systemd_cgroup=9, task_api_version=13}", ro, 0x32,
	       0x04, 'r', 'u', 'n', 'c', 0x48, 0x01, 0x68, 0x03);

	lo.io_uid = 1000;
	lo.criu_image_path = "x";
	GOLDEN("linux.runc.CreateOptions{io_uid=10, criu_image_path=13}", lo, 0x50, 0xe8, 0x07,
	       0x6a, 0x01, 'x');

	rto.type_url = "t";
	rto.config_path = "/p";
	GOLDEN("runtimeoptions.v1.Options", rto, 0x0a, 0x01, 't', 0x12, 0x02, '/', 'p');

	me.usage = 5;
	ms1.usage = &me;
	m1.memory = &ms1;
	GOLDEN("cgroups.v1 Metrics{memory{usage=33{usage}}}", m1, 0x22, 0x05, 0x8a, 0x02, 0x02,
	       0x10, 0x05);

	/* Repeated scalars are packed in proto3, as Go's encoder does. */
	cu.n_per_cpu = 2;
	cu.per_cpu = per_cpu;
	cs.usage = &cu;
	m1.memory = NULL;
	m1.cpu = &cs;
	GOLDEN("cgroups.v1 Metrics{cpu{usage{per_cpu packed}}}", m1, 0x1a, 0x06, 0x0a, 0x04, 0x22,
	       0x02, 0x01, 0x02);

	ms2.usage = 7;
	m2.memory = &ms2;
	ioe.major = 8;
	ioe.rbytes = 1;
	ios.n_usage = 1;
	ios.usage = ioes;
	m2.io = &ios;
	GOLDEN("cgroups.v2 Metrics{memory=4{usage=32}, io=6}", m2, 0x22, 0x03, 0x80, 0x02, 0x07,
	       0x32, 0x06, 0x0a, 0x04, 0x08, 0x08, 0x18, 0x01);
}

/* Decoding what newer or broken peers send: unknown fields are skipped, truncation fails. */
static void
test_decode_edges(void)
{
	/* binary_name = "runc", then field 14 (not declared) = 1, as a future containerd might. */
	static const uint8_t newer[] = { 0x32, 0x04, 'r', 'u', 'n', 'c', 0x70, 0x01 };
	static const uint8_t truncated[] = { 0x0a, 0x05, 'a' };
	Containerd__Runc__V1__Options *o;
	ProtobufCMessage *m;

	o = containerd__runc__v1__options__unpack(NULL, sizeof(newer), newer);
	ok(o && strcmp(o->binary_name, "runc") == 0, "unknown field in Options is skipped");
	if (o)
		containerd__runc__v1__options__free_unpacked(o, NULL);

	m = protobuf_c_message_unpack(&containerd__task__v2__kill_request__descriptor, NULL,
				      sizeof(truncated), truncated);
	ok(m == NULL, "truncated KillRequest is rejected");
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);

	m = protobuf_c_message_unpack(&containerd__task__v2__delete_response__descriptor, NULL, 0,
				      (const uint8_t *)"");
	ok(m != NULL, "empty stdout of the delete action decodes as an all-zero DeleteResponse");
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

int
main(void)
{
	test_walker_catches_differences();
	test_names_and_roundtrips();
	test_task_service();
	test_status_enum();
	test_golden_task();
	test_golden_events();
	test_golden_options_and_metrics();
	test_decode_edges();
	return tap_done();
}
