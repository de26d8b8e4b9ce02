#!/usr/bin/env python3
"""Control RPCs through a real containerd (and, where ctr has no command, straight over ttrpc
to the shim's socket): pause and resume with their events, metrics, Update of the memory limit,
OOM events, checkpoint refused clearly, and the status codes of refusals. Every scenario runs
with io.containerd.mini.v2 and io.containerd.runc.v2."""

import json
import os
import shutil
import subprocess
import tempfile
import threading
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


CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "blkio", "devices", "freezer", "cpuset",
               "systemd", "net_cls", "net_prio", "perf_event", "hugetlb", "unified")


def direct_bundle(s, ns, cid, args):
    """A bundle made by hand (no containerd): the busybox rootfs read-only, args, no terminal,
    the cgroup /<ns>/<cid>."""
    d = tempfile.mkdtemp(prefix=f"direct-{cid}-", dir=s.c.tmpdir)
    subprocess.run(["runc", "spec"], cwd=d, check=True)
    with open(os.path.join(d, "config.json")) as f:
        spec = json.load(f)
    spec["root"] = {"path": s.c.rootfs_dir, "readonly": True}
    spec["process"]["args"] = args
    spec["process"]["terminal"] = False
    spec["linux"]["cgroupsPath"] = f"/{ns}/{cid}"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(spec, f)
    return d


def direct_start(s, shim, ns, cid, bundle, options=b""):
    """The `start` action as containerd runs it, runtime options (an Any) on stdin."""
    env = dict(s.c.env(), TTRPC_ADDRESS="")
    return subprocess.run([shim, "-namespace", ns, "-address", s.c.address, "-id", cid,
                           "start"], cwd=bundle, input=options, capture_output=True, env=env,
                          timeout=10)


def direct_cleanup(ns, cids, extra_cgroups=()):
    """What containerd would remove after a hand-driven shim: runtime state roots, cgroups."""
    for root in ("mini", "runc"):
        try:
            os.rmdir(f"/run/containerd/{root}/{ns}")
        except OSError:
            pass
    for ctl in CONTROLLERS:
        for sub in [f"{ns}/{c}" for c in cids] + [ns] + list(extra_cgroups):
            try:
                os.rmdir(os.path.join("/sys/fs/cgroup", ctl, sub.lstrip("/")))
            except OSError:
                pass


def shim_cgroup_bases():
    """Where a shim cgroup is made: the unified root, or the v1 controllers runc's shim needs."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return ["/sys/fs/cgroup"]
    return [os.path.join("/sys/fs/cgroup", c) for c in ("memory", "pids", "cpu", "cpuacct")
            if os.path.isdir(os.path.join("/sys/fs/cgroup", c))]


def read_line(fd, timeout=10.0):
    out, deadline = b"", time.monotonic() + timeout
    while b"\n" not in out and time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        if not chunk and out:
            break
        out += chunk
    return out.decode(errors="replace")


def scenario_options(s, name, shim):
    """containerd.runc.v1.Options, on `start`'s stdin and in Create, as containerd sends them:
    ShimCgroup puts the shim daemon in that (existing) cgroup and a missing one fails `start`
    with its name; IoUid/IoGid own the pipes of the container's stdio. Driven by hand, for our
    shim and for containerd's runc shim alike."""
    t = s.t
    ns, cid = f"{s.c.namespace}-opt{name}", "o1"
    shimcg = f"/{ns}-shimcg"
    for base in shim_cgroup_bases():
        os.makedirs(base + shimcg, exist_ok=True)

    def options(cg):
        opts = pb_bytes(3, cg) + pb_uint(4, 1234) + pb_uint(5, 1235)
        return pb_bytes(1, "containerd.runc.v1.Options") + pb_bytes(2, opts)

    bad = direct_bundle(s, ns, "o0", ["true"])
    r = direct_start(s, shim, ns, "o0", bad, options(f"/{ns}-missing"))
    t.ok(r.returncode != 0 and f"{ns}-missing" in r.stderr.decode(),
         f"{name}: a missing ShimCgroup fails start, naming it", diag=r)

    bundle = direct_bundle(s, ns, cid, ["sh", "-c", "stat -L -c %u:%g /proc/self/fd/1 2>&1"])
    fifo, err, log = (os.path.join(bundle, n) for n in ("stdout", "stderr", "log"))
    for f in (fifo, err, log):  # as containerd makes them; the runc shim needs the log
        os.mkfifo(f)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    errfd = os.open(err, os.O_RDONLY | os.O_NONBLOCK)
    logfd = os.open(log, os.O_RDONLY | os.O_NONBLOCK)
    try:
        r = direct_start(s, shim, ns, cid, bundle, options(shimcg))
        addr = r.stdout.decode()
        t.ok(r.returncode == 0 and addr.startswith("unix://"), f"{name}: start with options",
             diag=r)
        code, msg, pl = ttrpc_call(addr, TASK, "Connect", pb_bytes(1, cid))
        shim_pid = pb_parse(pl).get(1, [0])[0]
        with open(f"/proc/{shim_pid}/cgroup") as f:
            groups = [line.strip().split(":", 2) for line in f]
        want = [g for g in groups if g[2] == shimcg]
        t.ok(code == 0 and want, f"{name}: the shim daemon runs in ShimCgroup",
             diag=(code, msg, groups))
        code, msg, _ = ttrpc_call(addr, TASK, "Create",
                                  pb_bytes(1, cid) + pb_bytes(2, bundle) + pb_bytes(6, fifo) +
                                  pb_bytes(7, err) +
                                  pb_bytes(10, options(shimcg)))
        t.is_((code, msg), (0, ""), f"{name}: Create with options")
        ttrpc_call(addr, TASK, "Start", pb_bytes(1, cid))
        # IoUid/IoGid own the pipes; then the runtime gives stdio to the process's user (root
        # here) and keeps the group, as runc does (fixStdioPermissions).
        t.is_(read_line(rfd).strip(), "0:1235",
              f"{name}: IoGid owns the container's stdout pipe, the uid is the process's")
        code, _, pl = ttrpc_call(addr, TASK, "Wait", pb_bytes(1, cid), timeout=20)
        t.is_((code, pb_parse(pl).get(1, [0])[0]), (0, 0), f"{name}: exit status 0")
        ttrpc_call(addr, TASK, "Delete", pb_bytes(1, cid))
        try:
            ttrpc_call(addr, TASK, "Shutdown", pb_bytes(1, cid))
        except (ConnectionError, OSError):
            pass  # the shim may exit before it answers
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{shim_pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for fd in (rfd, errfd, logfd):
            os.close(fd)
        direct_cleanup(ns, [cid, "o0"], [shimcg])


def scenario_direct(s):
    """The shim without containerd: the `start` action in a hand-made bundle, then Create, a
    Wait parked before anything runs, Delete of the created (never started) task answering
    that Wait, NotFound afterwards, and Shutdown removing the socket."""
    t = s.t
    ns = f"{s.c.namespace}-direct"
    d = direct_bundle(s, ns, "d1", ["/bin/sleep", "100"])
    r = direct_start(s, s.shim, ns, "d1", d)
    addr = r.stdout.decode()
    t.ok(r.returncode == 0 and addr.startswith("unix:///run/containerd/s/") and not r.stderr,
         "mini: start prints only the socket address", diag=r)
    with open(os.path.join(d, "address")) as f:
        t.is_(f.read(), addr, "mini: start writes the address file, no newline")
    code, msg, pl = ttrpc_call(addr, TASK, "Create", pb_bytes(1, "d1") + pb_bytes(2, d))
    pid = pb_parse(pl).get(1, [0])[0]
    t.ok(code == 0 and pid > 0, "mini: Create without containerd", diag=(code, msg))
    res = {}
    th = threading.Thread(target=lambda: res.setdefault(
        "wait", ttrpc_call(addr, TASK, "Wait", pb_bytes(1, "d1"), timeout=20)))
    th.start()
    time.sleep(0.3)
    st = pb_parse(ttrpc_call(addr, TASK, "State", pb_bytes(1, "d1"))[2]).get(4, [0])[0]
    t.is_(st, 1, "mini: State is CREATED while a Wait is parked")
    code, msg, _ = ttrpc_call(addr, TASK, "Delete", pb_bytes(1, "d1"))
    th.join(10)
    w = res.get("wait")
    t.ok(code == 0 and w and w[0] == 0 and pb_parse(w[2]).get(1) == [137],
         "mini: Delete of a created task kills it and answers the parked Wait (137)",
         diag=(code, msg, w))
    t.is_(ttrpc_call(addr, TASK, "State", pb_bytes(1, "d1"))[0], 5,
          "mini: NotFound after Delete")
    ttrpc_call(addr, TASK, "Shutdown", pb_bytes(1, "d1"))
    deadline = time.monotonic() + 5
    while os.path.exists(addr[len("unix://"):]) and time.monotonic() < deadline:
        time.sleep(0.05)
    t.ok(not os.path.exists(addr[len("unix://"):]), "mini: Shutdown removes the socket")
    t.ok(not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read(),
         "mini: the created process is gone")
    direct_cleanup(ns, ["d1"])


def main():
    s = Suite("ctl")
    try:
        for rt in s.runtimes():
            for fn in (scenario_pause, scenario_metrics, scenario_update, scenario_oom,
                       scenario_codes):
                s.t.run(f"{rt.name}: {fn.__name__} ran", fn, s, rt)
        s.t.run("mini: scenario_checkpoint ran", scenario_checkpoint, s)
        s.t.run("mini: scenario_direct ran", scenario_direct, s)
        for name, shim in (("mini", s.shim), ("runc", shutil.which("containerd-shim-runc-v2"))):
            s.t.run(f"{name}: scenario_options ran", scenario_options, s, name, shim)
        if s.t.failed:
            s.fail_dump()
    finally:
        s.done()


if __name__ == "__main__":
    main()
