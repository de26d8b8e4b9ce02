#!/usr/bin/env python3
"""Exec processes through a real containerd: attached exec with its exit status, detached exec,
duplicate exec ids, killing and deleting an exec, many concurrent execs, exec with a terminal,
exec after the init exited, `task ps` naming exec processes, and the event order when the init
exits while an exec runs. Every scenario runs with io.containerd.mini.v2 and
io.containerd.runc.v2."""

import subprocess
import time

from shimtest import IMAGE, Suite, strip_ansi

CONCURRENT = 16


def scenario_basic(s, rt):
    t = s.t
    cid = rt.cid("base")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000")
    w = s.events()
    start = len(w.lines)
    r = s.ctr("task", "exec", "--exec-id", "e1", cid, "sh", "-c", "echo in; echo err >&2; exit 7")
    t.ok(r.returncode == 7 and r.stdout == "in\n" and "err" in r.stderr,
         f"{rt.name}: attached exec: output and exit status", diag=r)
    w.wait_for("/tasks/exit", '"e1"', timeout=5, start=start)
    w.stop()
    topics = [ln.split()[5] for ln in w.lines[start:] if '"e1"' in ln]
    t.is_(topics, ["/tasks/exec-added", "/tasks/exec-started", "/tasks/exit"],
          f"{rt.name}: exec events in order")

    r = s.ctr("task", "exec", "-d", "--exec-id", "e3", cid, "sleep", "100")
    r2 = s.ctr("task", "exec", "--exec-id", "e3", cid, "true")
    t.ok(r.returncode == 0 and r2.returncode != 0 and "already exists" in r2.stderr,
         f"{rt.name}: duplicate exec id is AlreadyExists", diag=(r, r2))
    ps = s.ctr("task", "ps", cid).stdout
    t.ok("ExecID:e3" in ps, f"{rt.name}: task ps names the exec", diag=ps)
    s.ctr("task", "kill", "--exec-id", "e3", cid)
    time.sleep(0.3)
    r = s.ctr("task", "rm", "--exec-id", "e3", cid)
    t.is_(r.returncode, 143, f"{rt.name}: killed exec reports 143 on delete", diag=r.stderr)
    r = s.ctr("task", "rm", "--exec-id", "e3", cid)
    t.ok(r.returncode != 0, f"{rt.name}: second delete of an exec fails", diag=r)
    r = s.ctr("task", "exec", "--exec-id", "e3", cid, "echo", "reused")
    t.ok(r.returncode == 0 and r.stdout == "reused\n", f"{rt.name}: a deleted exec id is free",
         diag=r)
    s.remove(cid)


def scenario_concurrent(s, rt):
    t = s.t
    cid = rt.cid("conc")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000")
    procs = [s.popen("task", "exec", "--exec-id", f"c{i}", cid, "sh", "-c",
                     f"sleep 0.$((RANDOM % 5)); echo out-{i}; exit {i}",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(CONCURRENT)]
    results = []
    for i, p in enumerate(procs):
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        results.append((rc, p.stdout.read().decode()))
    want = [(i, f"out-{i}\n") for i in range(CONCURRENT)]
    t.is_(results, want, f"{rt.name}: {CONCURRENT} concurrent execs, each its output and status")
    s.remove(cid)


def scenario_tty(s, rt):
    t = s.t
    cid = rt.cid("tty")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sleep", "1000")
    rc, out = s.run_pty(["task", "exec", "-t", "--exec-id", "t1", cid, "sh", "-c",
                         "sleep 0.5; stty size; tty; exit 3"], rows=24, cols=77)
    out = strip_ansi(out).replace(b"\r", b"")
    t.ok(rc == 3 and b"24 77\n" in out and b"/dev/pts/" in out,
         f"{rt.name}: exec -t on its own pty", diag=(rc, out))
    s.remove(cid)


def scenario_after_exit(s, rt):
    t = s.t
    cid = rt.cid("after")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "true")
    s.wait_status(cid, "STOPPED")
    r = s.ctr("task", "exec", "--exec-id", "late", cid, "echo", "no")
    t.ok(r.returncode != 0 and r.stdout == "", f"{rt.name}: exec into a stopped task fails",
         diag=r)
    s.remove(cid)


def scenario_exit_order(s, rt):
    """The init exits while an exec runs (own pid namespace: the kernel kills the exec)."""
    t = s.t
    cid = rt.cid("order")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sh", "-c", "sleep 1.5")
    s.ctr("task", "exec", "-d", "--exec-id", "long", cid, "sleep", "100")
    w = s.events()
    start = len(w.lines)
    s.wait_status(cid, "STOPPED", timeout=10)
    w.wait_for("/tasks/exit", f'"id":"{cid}"', timeout=5, start=start)
    time.sleep(0.3)
    w.stop()
    exits = [ln for ln in w.lines[start:] if "/tasks/exit" in ln and cid in ln]
    ids = ["exec" if '"id":"long"' in ln else "init" for ln in exits]
    if rt.name == "mini":
        t.is_(ids, ["exec", "init"], "mini: the exec's exit is published before the init's",
              diag=exits)
    else:
        t.ok(sorted(ids) == ["exec", "init"], "runc: both exits published (1.6.20 does not "
             "order them)", diag=exits)
    s.remove(cid)


def main():
    with Suite("ex") as s:
        s.each_runtime(scenario_basic, scenario_concurrent, scenario_tty, scenario_after_exit,
                       scenario_exit_order)

if __name__ == "__main__":
    main()
