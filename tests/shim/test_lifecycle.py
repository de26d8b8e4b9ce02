#!/usr/bin/env python3
"""Task life cycle through a real containerd: run in the foreground and detached, exit codes,
signals, kill --all, the event sequence, delete of exited and running tasks, create then start,
a failing create, and the shim process and socket going away afterwards. Every scenario runs
with io.containerd.mini.v2 and io.containerd.runc.v2."""

import glob
import json
import os
import signal
import subprocess
import tempfile
import time

from shimtest import IMAGE, MINI, Suite


def scenario_run(s, rt):
    t = s.t
    r = s.ctr("run", "--rm", *rt.args, IMAGE, rt.cid("echo"), "echo", "hello")
    t.ok(r.returncode == 0 and r.stdout == "hello\n", f"{rt.name}: run --rm from the image",
         diag=r)
    rootfs = s.c.rootfs_dir
    r = s.ctr("run", "--rm", *rt.args, "--rootfs", rootfs, rt.cid("rootfs"), "/bin/echo", "hi")
    t.ok(r.returncode == 0 and r.stdout == "hi\n", f"{rt.name}: run --rm --rootfs (no mounts)",
         diag=r)
    r = s.ctr("run", "--rm", *rt.args, IMAGE, rt.cid("exit3"), "sh", "-c", "exit 3")
    t.is_(r.returncode, 3, f"{rt.name}: exit status reaches ctr", diag=r.stderr)
    codes = [s.ctr("run", "--rm", *rt.args, IMAGE, rt.cid(f"true{i}"), "true").returncode
             for i in range(4)]
    t.is_(codes, [0, 0, 0, 0], f"{rt.name}: instant exits (true) are never lost")
    t.ok(s.wait_gone(rt.cid("exit3")), f"{rt.name}: shim exits after the task is deleted")


def scenario_events(s, rt):
    t = s.t
    cid = rt.cid("ev")
    w = s.events()
    start = len(w.lines)
    r = s.ctr("run", "--rm", *rt.args, IMAGE, cid, "sh", "-c", "exit 5")
    w.wait_for("/tasks/delete", f'"{cid}"', timeout=10, start=start)
    w.stop()
    topics = [line.split()[5] for line in w.lines[start:]
              if f'"{cid}"' in line and " /tasks/" in line]
    t.is_(topics, ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"],
          f"{rt.name}: events create, start, exit, delete in order", diag=r)
    exits = [line for line in w.lines[start:] if "/tasks/exit" in line and cid in line]
    t.ok(exits and '"exit_status":5' in exits[0], f"{rt.name}: /tasks/exit carries the status",
         diag=exits)


def scenario_detached(s, rt):
    t = s.t
    cid = rt.cid("det")
    r = s.ctr("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000")
    t.ok(r.returncode == 0, f"{rt.name}: run -d", diag=r)
    t.is_(s.task_status(cid), "RUNNING", f"{rt.name}: task ls shows RUNNING")
    ps = s.ctr("task", "ps", cid).stdout.split()
    t.ok(len(ps) >= 3 and ps[2].isdigit(), f"{rt.name}: task ps lists the init pid", diag=ps)
    r = s.ctr("task", "rm", cid)
    t.ok(r.returncode != 0 and "must be stopped" in r.stderr,
         f"{rt.name}: deleting a running task is refused", diag=r.stderr)
    s.ctr("task", "kill", "-s", "SIGKILL", cid)
    t.is_(s.wait_status(cid, "STOPPED"), "STOPPED", f"{rt.name}: SIGKILL stops the task")
    r = s.ctr("task", "kill", cid)
    t.ok(r.returncode != 0 and "not found" in r.stderr,
         f"{rt.name}: kill of a stopped task is NotFound", diag=r.stderr)
    r = s.ctr("task", "rm", cid)
    t.ok(r.returncode == 0 and "137" in r.stderr, f"{rt.name}: delete reports 137", diag=r)
    t.ok(s.wait_gone(cid), f"{rt.name}: no shim left after delete")
    s.ctr("containers", "rm", cid)


def scenario_force_delete(s, rt):
    t = s.t
    cid = rt.cid("force")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000")
    r = s.ctr("task", "rm", "-f", cid)
    t.ok(r.returncode == 0 and s.task_status(cid) is None,
         f"{rt.name}: task rm -f kills and deletes a running task", diag=r)
    s.ctr("containers", "rm", cid)


def scenario_create_start(s, rt):
    t = s.t
    cid = rt.cid("cs")
    args = [a for a in rt.args if not a.startswith("--runc-root")]
    if "--runc-root" in rt.args:  # ctr container create knows no --runc-root
        args = ["--runtime", rt.args[1]]
    r = s.ctr("containers", "create", *args, IMAGE, cid, "sleep", "1000")
    r2 = s.ctr("task", "start", "-d", cid)
    t.ok(r.returncode == 0 and r2.returncode == 0 and s.task_status(cid) == "RUNNING",
         f"{rt.name}: container create, then task start -d", diag=(r, r2))
    s.remove(cid)


def scenario_kill_all(s, rt):
    t = s.t
    cid = rt.cid("killall")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sh", "-c", "sleep 100 & sleep 100 & wait")
    time.sleep(0.3)
    n = len(s.ctr("task", "ps", cid).stdout.splitlines()) - 1
    s.ctr("task", "kill", "-a", "-s", "SIGKILL", cid)
    t.ok(n >= 3 and s.wait_status(cid, "STOPPED") == "STOPPED",
         f"{rt.name}: kill --all stops a task with children", diag=f"{n} processes")
    s.remove(cid)


def scenario_signal(s, rt):
    """Ctrl-C at ctr becomes a Kill RPC; the program's handler runs."""
    t = s.t
    cid = rt.cid("sigint")
    p = s.popen("run", "--rm", *rt.args, IMAGE, cid, "sh", "-c",
                'trap "echo got-int; exit 5" INT; echo ready; while true; do sleep 0.1; done',
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline()
    time.sleep(0.5)  # ctr installs its signal forwarding only after Start returned
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    out = line + p.stdout.read()
    t.ok(rc == 5 and out == b"ready\ngot-int\n", f"{rt.name}: SIGINT forwarded, exit 5",
         diag=(rc, out, p.stderr.read()))
    if rc != 5:
        s.remove(cid)


def scenario_failed_create(s, rt):
    t = s.t
    cid = rt.cid("bad")
    r = s.ctr("run", "--rm", *rt.args, IMAGE, cid, "/does-not-exist")
    t.ok(r.returncode != 0 and "does-not-exist" in r.stderr and
         "no such file" in r.stderr.lower(),
         f"{rt.name}: a failing create reports the runtime's error", diag=r.stderr)
    t.ok(s.wait_gone(cid), f"{rt.name}: no shim left after a failed create")
    t.ok(not os.path.exists(s.bundle(cid)), f"{rt.name}: bundle removed after a failed create")
    s.ctr("containers", "rm", cid)


def scenario_shim_state(s, rt):
    """`ctr shim` finds the shim by the socket name convention and talks to it directly."""
    t = s.t
    cid = rt.cid("shimstate")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000")
    r = s.ctr("shim", "--id", cid, "state")
    t.ok(r.returncode == 0 and '"status": 2' in r.stdout.replace('"status":2', '"status": 2'),
         f"{rt.name}: ctr shim --id state answers (RUNNING)", diag=r)
    s.remove(cid)


def scenario_host_pidns(s, rt):
    """No private pid namespace: when the init exits, the shim kills the rest of the cgroup
    (containerd's ShouldKillAllOnExit)."""
    t = s.t
    cid = rt.cid("hostpid")
    s.ctr("run", "-d", *rt.args, "--with-ns", f"pid:/proc/{os.getpid()}/ns/pid", IMAGE, cid, "sh", "-c",
          "sleep 100 & sleep 1")
    st = s.wait_status(cid, "STOPPED", timeout=10)
    procs = os.path.join(s.cgroup_dir("pids", cid), "cgroup.procs")
    deadline = time.monotonic() + 5
    left = "?"
    while time.monotonic() < deadline:
        try:
            with open(procs) as f:
                left = f.read().split()
        except OSError:
            left = []
        if not left:
            break
        time.sleep(0.05)
    t.ok(st == "STOPPED" and left == [], f"{rt.name}: host pid namespace: the rest is killed "
         "when the init exits", diag=(st, left))
    s.remove(cid)


def scenario_grouping(s, rt):
    """Containers with the same group annotation share one shim (the runc shim groups on
    io.kubernetes.cri.sandbox-id; mini also on io.containerd.mini.v2.group)."""
    t = s.t
    g1, g2 = rt.cid("g1"), rt.cid("g2")
    ann = ["--annotation", f"io.kubernetes.cri.sandbox-id={rt.cid('grp')}"]
    s.ctr("run", "-d", *rt.args, *ann, IMAGE, g1, "sleep", "1000")
    s.ctr("run", "-d", *rt.args, *ann, IMAGE, g2, "sleep", "1000")
    with open(os.path.join(s.bundle(g1), "address")) as f1, \
            open(os.path.join(s.bundle(g2), "address")) as f2:
        a1, a2 = f1.read(), f2.read()
    shims = s.shim_pids(g1) + s.shim_pids(g2)
    t.ok(a1 == a2 and len(shims) == 1, f"{rt.name}: grouped containers share one shim",
         diag=(a1, a2, shims))
    s.ctr("task", "rm", "-f", g1)
    r = s.ctr("task", "exec", "--exec-id", "e", g2, "echo", "alive")
    t.ok(r.stdout == "alive\n" and s.task_status(g2) == "RUNNING",
         f"{rt.name}: deleting one keeps the other served", diag=r)
    s.ctr("task", "rm", "-f", g2)
    t.ok(s.wait_gone(g1), f"{rt.name}: the shared shim exits after the last one")
    s.ctr("containers", "rm", g1, g2)


def scenario_runtime_path(s):
    t = s.t
    cid = f"{s.prefix}-path"
    r = s.ctr("run", "--rm", "--runtime", s.shim, IMAGE, cid, "echo", "by-path")
    t.ok(r.returncode == 0 and r.stdout == "by-path\n", "mini: runtime given as a path", diag=r)


def scenario_options_file(s):
    """For a runtime that is not runc, ctr (and CRI) can only send runtimeoptions.v1.Options
    naming a TOML file: mini reads runc's option names there. Root moves the runtime's state
    as --runc-root does for runc; BinaryName = "runc" runs runc; a bad file fails the create
    with file:line."""
    t = s.t
    d = tempfile.mkdtemp(prefix="opts-", dir=s.c.tmpdir)

    def config(text):
        path = os.path.join(d, f"opts-{len(os.listdir(d))}.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def state_files(root):
        return glob.glob(os.path.join(root, "*", "*", "state.json"))

    mini_root, runc_root = os.path.join(d, "mini-root"), os.path.join(d, "runc-root")
    m, r = f"{s.prefix}-optf-mini", f"{s.prefix}-optf-runc"
    s.ctr("run", "-d", "--runtime", MINI, "--runtime-config-path",
          config(f'# mini\nRoot = "{mini_root}"\n'), IMAGE, m, "sleep", "100")
    s.ctr("run", "-d", "--runtime", "io.containerd.runc.v2", "--runc-root", runc_root, IMAGE, r,
          "sleep", "100")
    t.ok(len(state_files(mini_root)) == 1 and len(state_files(runc_root)) == 1,
         "mini: Root from the options file places the runtime state, as --runc-root for runc",
         diag=(state_files(mini_root), state_files(runc_root)))
    s.remove(m)
    s.remove(r)
    b = f"{s.prefix}-optf-bin"
    s.ctr("run", "-d", "--runtime", MINI, "--runtime-config-path",
          config('BinaryName = "runc"\n'), IMAGE, b, "sleep", "100")
    # runc's state.json (wherever the shim put its root) has runc's own keys.
    states = glob.glob(f"/run/containerd/*/{s.c.namespace}/{b}/state.json")
    keys = set()
    for f in states:
        with open(f) as fh:
            keys |= set(json.load(fh))
    t.ok("init_process_pid" in keys, "mini: BinaryName from the options file runs runc",
         diag=(states, keys))
    s.remove(b)
    bad = config("NoPivotRoot = maybe\n")
    res = s.ctr("run", "--rm", "--runtime", MINI, "--runtime-config-path", bad, IMAGE,
                f"{s.prefix}-optf-bad", "true")
    t.ok(res.returncode != 0 and f"{bad}:1: NoPivotRoot must be true or false" in res.stderr,
         "mini: a bad options file fails the create, naming file:line", diag=res)
    s.ctr("containers", "rm", f"{s.prefix}-optf-bad")


def main():
    with Suite("lc") as s:
        s.each_runtime(scenario_run, scenario_events, scenario_detached, scenario_force_delete,
                       scenario_create_start, scenario_kill_all, scenario_signal,
                       scenario_failed_create, scenario_shim_state, scenario_host_pidns,
                       scenario_grouping)
        scenario_runtime_path(s)
        s.t.run("mini: scenario_options_file ran", scenario_options_file, s)

if __name__ == "__main__":
    main()
