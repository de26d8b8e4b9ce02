#!/usr/bin/env python3
"""Failures and restarts through a real containerd: a shim killed with SIGKILL (containerd's
cleanup through the `delete` action leaves no process, mount or cgroup), the issue's containerd
restart scenario (a task exits and an exec finishes while containerd is down; afterwards the
states, exit statuses, exec, kill and stdio all work), containerd killed in the middle of a
create, and the `delete` action run by hand. Every containerd scenario runs with
io.containerd.mini.v2 and io.containerd.runc.v2."""

import os
import signal
import subprocess
import time

from shimtest import IMAGE, Suite, pb_parse


def mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(f" {path} " in line for line in f)


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return [ln for ln in f if ln.startswith(("State", "PPid"))]
    except OSError:
        return None


def gone(pid, timeout=5.0):
    """The process no longer exists, or is a zombie waiting for its reaper."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = proc_state(pid)
        if st is None or any("zombie" in ln for ln in st):
            return True
        time.sleep(0.05)
    return False


def scenario_shim_killed(s, rt):
    t = s.t
    cid = rt.cid("killed")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sh", "-c", "sleep 1000 & sleep 1000")
    init = int(open(os.path.join(s.bundle(cid), "init.pid")).read())
    rootfs = os.path.join(s.bundle(cid), "rootfs")
    t.ok(mounted(rootfs), f"{rt.name}: rootfs mounted while running")
    w = s.events()
    start = len(w.lines)
    for pid in s.shim_pids(cid):
        os.kill(pid, signal.SIGKILL)
    w.wait_for("/tasks/delete", cid, timeout=10, start=start)
    w.stop()
    topics = [ln.split()[5] for ln in w.lines[start:] if f'"{cid}"' in ln]
    exits = [ln for ln in w.lines[start:] if "/tasks/exit" in ln and cid in ln]
    t.ok(topics == ["/tasks/exit", "/tasks/delete"] and exits and
         '"exit_status":137' in exits[0],
         f"{rt.name}: containerd reports exit 137 and delete for a dead shim", diag=topics)
    t.ok(s.task_status(cid) is None, f"{rt.name}: the task is gone")
    t.ok(gone(init), f"{rt.name}: container processes killed", diag=proc_state(init))
    t.ok(not mounted(rootfs), f"{rt.name}: rootfs unmounted")
    cg = s.cgroup_dir("memory", cid)
    t.ok(not os.path.exists(cg), f"{rt.name}: cgroup removed", diag=cg)
    s.ctr("containers", "rm", cid)


def start_restart_scenario(s, rt):
    """Before the restart: r1 runs (with an exec that ends while containerd is down), r2 exits
    with 42 while containerd is down, r3 keeps printing."""
    r1, r2, r3 = rt.cid("r1"), rt.cid("r2"), rt.cid("r3")
    s.ctr("run", "-d", *rt.args, IMAGE, r1, "sleep", "1000")
    s.ctr("run", "-d", *rt.args, IMAGE, r2, "sh", "-c", "sleep 3; exit 42")
    s.ctr("run", "-d", *rt.args, IMAGE, r3, "sh", "-c",
          "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done")
    s.ctr("task", "exec", "-d", "--exec-id", "ex", r1, "sh", "-c", "sleep 3; exit 9")


def check_restart_scenario(s, rt, forwarded):
    t = s.t
    r1, r2, r3 = rt.cid("r1"), rt.cid("r2"), rt.cid("r3")
    states = (s.task_status(r1), s.task_status(r2), s.task_status(r3))
    t.is_(states, ("RUNNING", "STOPPED", "RUNNING"), f"{rt.name}: states after the restart")
    r = s.ctr("task", "rm", r2)
    t.ok(r.returncode == 0 and "exit code 42" in r.stderr,
         f"{rt.name}: the task that exited meanwhile reports 42", diag=r)
    r = s.ctr("task", "rm", "--exec-id", "ex", r1)
    t.is_(r.returncode, 9, f"{rt.name}: the exec that ended meanwhile reports 9", diag=r.stderr)
    r = s.ctr("task", "exec", "--exec-id", "after", r1, "echo", "still-here")
    t.ok(r.returncode == 0 and r.stdout == "still-here\n",
         f"{rt.name}: exec works after the restart", diag=r)
    p = s.popen("task", "attach", r3, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    p.kill()
    out = p.stdout.read()
    p.wait()
    t.ok(b"tick-" in out, f"{rt.name}: stdio of a running task survives the restart",
         diag=out[:200])
    s.ctr("task", "kill", "-s", "SIGKILL", r1)
    t.is_(s.wait_status(r1, "STOPPED"), "STOPPED", f"{rt.name}: kill works after the restart")
    if rt.name == "mini":
        t.ok(forwarded >= 2, "mini: events queued while containerd was down are delivered "
             "after it is back", diag=f"{forwarded} exit events forwarded after restart")
    for cid in (r1, r2, r3):
        s.remove(cid)


def exits_forwarded_since(s, offset):
    with open(s.c.log_path, errors="replace") as f:
        f.seek(offset)
        return f.read()


def scenario_restart(s):
    t = s.t
    rts = s.runtimes()
    for rt in reversed(rts):  # mini last: its exits must fall in the outage
        start_restart_scenario(s, rt)
    s.c._stop_daemon(signal.SIGKILL)
    time.sleep(4.0)  # r2 exits and the execs end while containerd is down
    offset = os.path.getsize(s.c.log_path)
    s.c._spawn()
    time.sleep(3.0)  # the shims' event retries (mini: backoff ≤ 2 s)
    log = exits_forwarded_since(s, offset)
    # Our shims say so when an event got through after failed attempts (their log reaches
    # containerd's log once it has reopened the shims' log FIFOs).
    n = sum(1 for ln in log.splitlines()
            if "published /tasks/exit after" in ln and "io.containerd.mini.v2" in ln)
    for rt in rts:
        t.run(f"{rt.name}: restart scenario checked", check_restart_scenario, s, rt, n)


def scenario_mid_create(s, rt):
    """containerd dies while a create is in flight; after it is back everything can be
    removed and nothing leaks. containerd 1.6 reconnects to such a shim but never shuts it
    down (for runc the shim stays; mini's exits once it has served no container for
    MINI_SHIM_IDLE_EXIT seconds)."""
    t = s.t
    cid = rt.cid("mid")
    p = s.popen("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not s.shim_pids(cid) and time.monotonic() < deadline:
        time.sleep(0.002)
    s.c._stop_daemon(signal.SIGKILL)  # the shim exists: its start or Create is in flight
    p.wait(10)
    s.c._spawn()
    s.remove(cid)
    time.sleep(0.5)
    left = (s.task_status(cid), s.wait_gone(cid, 8))
    if rt.name == "mini":
        t.ok(left == (None, True), "mini: nothing left of a create interrupted by a "
             "containerd crash", diag=left)
    else:
        t.diag(f"runc: after an interrupted create: task {left[0]}, shim gone {left[1]}")


def scenario_delete_action(s):
    """The `delete` action on a bundle whose shim and container never existed: idempotent,
    protobuf DeleteResponse on stdout, exit 0."""
    t = s.t
    bundle = os.path.join(s.c.tmpdir, "lonely-bundle")
    os.makedirs(os.path.join(bundle, "rootfs"))
    r = subprocess.run([s.shim, "-namespace", "default", "-address", s.c.address,
                        "-publish-binary", "/usr/bin/containerd", "-id", "lonely", "-bundle",
                        bundle, "delete"], capture_output=True, cwd=bundle, timeout=20)
    resp = pb_parse(r.stdout) if r.returncode == 0 else {}
    ts = pb_parse(resp[3][0]) if 3 in resp else {}
    t.ok(r.returncode == 0 and resp.get(2) == [137] and ts.get(1, [0])[0] > 1600000000,
         "mini: delete action prints DeleteResponse{exit_status 137, exited_at now}",
         diag=(r.returncode, r.stdout, r.stderr))
    t.ok(r.stderr == b"", "mini: and nothing on stderr when there was nothing to clean",
         diag=r.stderr)


def main():
    # A shim left without containers exits after this many seconds (default 60).
    with Suite("rec", env={"MINI_SHIM_IDLE_EXIT": "3"}) as s:
        s.each_runtime(scenario_shim_killed)
        s.t.run("restart scenario ran", scenario_restart, s)
        s.each_runtime(scenario_mid_create)
        s.t.run("mini: delete action ran", scenario_delete_action, s)

if __name__ == "__main__":
    main()
