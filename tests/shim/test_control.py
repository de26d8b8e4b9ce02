#!/usr/bin/env python3
"""Control RPCs through a real containerd (and, where ctr has no command, straight over ttrpc
to the shim's socket): pause and resume with their events, metrics, Update of the memory limit,
OOM events, checkpoint refused clearly, and the status codes of refusals. Every scenario runs
with io.containerd.mini.v2 and io.containerd.runc.v2."""

import json
import os
import subprocess
import time

from shimtest import IMAGE, Suite, pb_bytes, pb_parse, pb_uint, shim_address, ttrpc_call

TASK = "containerd.task.v2.Task"
RESOURCES_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"
PROCESS_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process"


def scenario_pause(s, rt):
    t = s.t
    cid = rt.cid("pause")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sh", "-c", "while true; do sleep 0.1; done")
    w = s.events()
    start = len(w.lines)
    r = s.ctr("task", "pause", cid)
    st = s.task_status(cid)
    frozen = ""
    try:
        with open(os.path.join(s.cgroup_dir("freezer", cid), "freezer.state")) as f:
            frozen = f.read().strip()
    except OSError as e:
        frozen = str(e)
    t.ok(r.returncode == 0 and st == "PAUSED" and frozen == "FROZEN",
         f"{rt.name}: pause freezes the cgroup, task ls says PAUSED", diag=(r, st, frozen))
    r = s.ctr("task", "exec", "--exec-id", "p", cid, "true")
    t.ok(r.returncode != 0, f"{rt.name}: no exec while paused", diag=r)
    r = s.ctr("task", "pause", cid)
    t.ok(r.returncode != 0, f"{rt.name}: pausing twice is refused", diag=r)
    r = s.ctr("task", "resume", cid)
    t.ok(r.returncode == 0 and s.task_status(cid) == "RUNNING", f"{rt.name}: resume", diag=r)
    w.wait_for("/tasks/resumed", cid, timeout=5, start=start)
    w.stop()
    topics = [ln.split()[5] for ln in w.lines[start:] if cid in ln]
    t.is_(topics, ["/tasks/paused", "/tasks/resumed"], f"{rt.name}: paused and resumed events")
    # Killing a paused task: it must still die (the shim thaws it).
    s.ctr("task", "pause", cid)
    s.ctr("task", "kill", "-s", "SIGKILL", cid)
    t.is_(s.wait_status(cid, "STOPPED"), "STOPPED", f"{rt.name}: a paused task can be killed")
    s.remove(cid)


def scenario_metrics(s, rt):
    t = s.t
    cid = rt.cid("metrics")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000")
    r = s.ctr("task", "metrics", cid)
    t.ok(r.returncode == 0 and "memory.usage_in_bytes" in r.stdout and
         "pids.current" in r.stdout and "cpuacct.usage" in r.stdout,
         f"{rt.name}: task metrics table (cgroup v1)", diag=r)
    r = s.ctr("task", "metrics", "--format", "json", cid)
    try:
        m = json.loads(r.stdout)
        good = (m["memory"]["usage"]["usage"] > 0 and m["pids"]["current"] >= 1 and
                m["cpu"]["usage"]["total"] > 0 and len(m["cpu"]["usage"]["per_cpu"]) >= 1)
    except (ValueError, KeyError, TypeError) as e:
        good, m = False, e
    t.ok(good, f"{rt.name}: metrics JSON has memory, pids and cpu figures", diag=r.stdout[:500])
    s.remove(cid)


def scenario_update(s, rt):
    t = s.t
    cid = rt.cid("update")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000")
    limit = 64 << 20
    any_ = pb_bytes(1, RESOURCES_URL) + pb_bytes(2, json.dumps({"memory": {"limit": limit}}))
    code, msg, _ = ttrpc_call(shim_address(s, cid), TASK, "Update",
                              pb_bytes(1, cid) + pb_bytes(2, any_))
    try:
        with open(os.path.join(s.cgroup_dir("memory", cid), "memory.limit_in_bytes")) as f:
            got = int(f.read())
    except OSError as e:
        got = str(e)
    t.ok(code == 0 and got == limit, f"{rt.name}: Update sets the memory limit",
         diag=(code, msg, got))
    s.remove(cid)


def scenario_oom(s, rt):
    t = s.t
    cid = rt.cid("oom")
    w = s.events()
    start = len(w.lines)
    r = s.ctr("run", "--rm", *rt.args, "--memory-limit", str(32 << 20), IMAGE, cid, "sh", "-c",
              "a=x; while true; do a=$a$a; done")
    w.wait_for("/tasks/delete", cid, timeout=10, start=start)
    w.stop()
    topics = [ln.split()[5] for ln in w.lines[start:] if f'"{cid}"' in ln]
    t.ok(r.returncode == 137 and "/tasks/oom" in topics,
         f"{rt.name}: OOM kill: /tasks/oom event and exit 137", diag=(r.returncode, topics))


def scenario_codes(s, rt):
    """Refusals straight from the shim. mini answers with the classes containerd's errdefs
    know; runc 1.6.20 answers Unknown (2) for state-machine refusals."""
    t = s.t
    live, dead = rt.cid("codes"), rt.cid("codes-dead")
    s.ctr("run", "-d", *rt.args, IMAGE, live, "sleep", "1000")
    s.ctr("run", "-d", *rt.args, IMAGE, dead, "true")
    s.wait_status(dead, "STOPPED")
    addr, addr_dead = shim_address(s, live), shim_address(s, dead)
    refusal = 9 if rt.name == "mini" else 2
    got = {
        "state unknown": ttrpc_call(addr, TASK, "State", pb_bytes(1, "nope"))[0],
        "start twice": ttrpc_call(addr, TASK, "Start", pb_bytes(1, live))[0],
        "delete running": ttrpc_call(addr, TASK, "Delete", pb_bytes(1, live))[0],
        "kill stopped": ttrpc_call(addr_dead, TASK, "Kill",
                                   pb_bytes(1, dead) + pb_uint(3, 15))[0],
        "unknown method": ttrpc_call(addr, TASK, "NoSuchMethod", b"")[0],
        "unknown exec": ttrpc_call(addr, TASK, "State", pb_bytes(1, live) + pb_bytes(2, "x"))[0],
    }
    spec = pb_bytes(1, PROCESS_URL) + pb_bytes(2, json.dumps({"args": ["true"], "cwd": "/"}))
    exec_req = pb_bytes(1, live) + pb_bytes(2, "dup") + pb_bytes(7, spec)
    first = ttrpc_call(addr, TASK, "Exec", exec_req)[0]
    got["exec duplicate"] = ttrpc_call(addr, TASK, "Exec", exec_req)[0]
    got["kill created exec"] = ttrpc_call(addr, TASK, "Kill", pb_bytes(1, live) +
                                          pb_bytes(2, "dup") + pb_uint(3, 9))[0]
    ttrpc_call(addr, TASK, "Delete", pb_bytes(1, live) + pb_bytes(2, "dup"))
    want = {"state unknown": 5, "start twice": refusal, "delete running": refusal,
            "kill stopped": 5, "unknown method": 12, "unknown exec": 5, "exec duplicate": 6,
            "kill created exec": 9}
    t.ok(first == 0 and got == want, f"{rt.name}: status codes of refusals", diag=(first, got))
    code, _, payload = ttrpc_call(addr, TASK, "Connect", pb_bytes(1, live))
    resp = pb_parse(payload)
    t.ok(code == 0 and resp.get(1, [0])[0] > 0 and resp.get(2, [0])[0] > 0,
         f"{rt.name}: Connect reports the shim and task pids", diag=resp)
    code, _, payload = ttrpc_call(addr, TASK, "Connect", pb_bytes(1, "nope"))
    t.ok(code == 0 and pb_parse(payload).get(2, [0])[0] == 0,
         f"{rt.name}: Connect for an unknown id: task pid 0, no error")
    s.remove(live)
    s.remove(dead)


def scenario_checkpoint(s):
    t = s.t
    cid = f"{s.prefix}-ckpt"
    s.ctr("run", "-d", "--runtime", "io.containerd.mini.v2", IMAGE, cid, "sleep", "1000")
    r = s.ctr("task", "checkpoint", cid)
    t.ok(r.returncode != 0 and "not implemented" in r.stderr,
         "mini: checkpoint refused as not implemented", diag=r)
    t.is_(s.task_status(cid), "RUNNING", "mini: the task keeps running")
    s.remove(cid)


def main():
    with Suite("ctl") as s:
        s.each_runtime(scenario_pause, scenario_metrics, scenario_update, scenario_oom,
                       scenario_codes)
        s.t.run("mini: scenario_checkpoint ran", scenario_checkpoint, s)

if __name__ == "__main__":
    main()
