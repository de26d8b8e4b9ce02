#!/usr/bin/env python3
"""create / start / state / kill / delete, exit codes and signals."""

import json
import os
import signal

from runtime_utils import (base_config, expect, expect_eq, expect_in, main, wait_for,
                           wait_status)


def test_exit_code(rt):
    r = rt.run(base_config(["sh", "-c", "exit 42"]))
    expect_eq(r.rc, 42, "exit code")


def test_exit_by_signal(rt):
    # Without a pid namespace: pid 1 of a namespace ignores signals it has no handler for.
    conf = base_config(["sh", "-c", "kill -TERM $$; sleep 5"])
    conf["linux"]["namespaces"] = [n for n in conf["linux"]["namespaces"] if n["type"] != "pid"]
    r = rt.run(conf)
    expect_eq(r.rc, 128 + signal.SIGTERM, "exit code of a killed init")


def test_stdout_stderr(rt):
    r = rt.run(base_config(["sh", "-c", "echo out; echo err >&2"]))
    expect_eq((r.rc, r.out, r.err.strip().splitlines()[-1]), (0, "out\n", "err"))


def test_create_start_delete(rt):
    b = rt.bundle(base_config(["sleep", "60"]))
    cid = rt.new_id()
    pidfile = os.path.join(b, "init.pid")
    r = rt.cmd("create", "--bundle", b, "--pid-file", pidfile, cid)
    expect_eq(r.rc, 0, f"create: {r!r}")
    try:
        st = rt.state(cid)
        expect_eq(st["status"], "created", "status after create")
        expect_eq(st["id"], cid, "id")
        expect_eq(st["bundle"], b, "bundle")
        with open(pidfile) as f:
            pid = int(f.read())
        expect_eq(st["pid"], pid, "pid file matches state")
        expect(os.path.exists(f"/proc/{pid}"), "init exists after create")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            expect("sleep" not in f.read().decode(errors="replace"),
                   "the user process must not run before start")
        expect_eq(rt.cmd("start", cid).rc, 0, "start")
        wait_status(rt, cid, "running")
        r = rt.cmd("start", cid)
        expect(r.rc != 0, "a second start fails")
        r = rt.cmd("delete", cid)
        expect(r.rc != 0, "delete of a running container fails without --force")
        expect_eq(rt.cmd("kill", cid, "KILL").rc, 0, "kill")
        wait_status(rt, cid, "stopped")
        st = rt.state(cid)
        expect_eq(st["pid"], 0, "pid of a stopped container")
        expect_eq(rt.cmd("delete", cid).rc, 0, "delete")
        expect(rt.cmd("state", cid).rc != 0, "state after delete fails")
    finally:
        rt.cleanup(cid)


def test_delete_created(rt):
    b = rt.bundle(base_config(["sleep", "60"]))
    cid = rt.new_id()
    expect_eq(rt.cmd("create", "--bundle", b, cid).rc, 0, "create")
    pid = rt.state(cid)["pid"]
    r = rt.cmd("delete", cid)
    expect_eq(r.rc, 0, f"delete of a created container: {r!r}")
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
             open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] == "Z",
             what="the init to die")


def test_delete_force_running(rt):
    b = rt.bundle(base_config(["sleep", "60"]))
    cid = rt.new_id()
    expect_eq(rt.cmd("run", "--detach", "--bundle", b, cid).rc, 0, "run --detach")
    wait_status(rt, cid, "running")
    r = rt.cmd("delete", "--force", cid)
    expect_eq(r.rc, 0, f"delete --force: {r!r}")
    expect(rt.cmd("state", cid).rc != 0, "gone after delete --force")


def test_delete_force_missing(rt):
    expect_eq(rt.cmd("delete", "--force", "does-not-exist").rc, 0, "delete --force of nothing")
    expect(rt.cmd("delete", "does-not-exist").rc != 0, "delete of nothing fails")


def test_kill_signals(rt):
    # The init traps USR1 and TERM and reports what it got through a file in the rootfs.
    script = ("trap 'echo usr1 >> /tmp/got' USR1; trap 'echo term >> /tmp/got; exit 0' TERM; "
              "while true; do sleep 0.05; done")
    b = rt.bundle(base_config(["sh", "-c", script]))
    cid = rt.new_id()
    got = os.path.join(b, "rootfs", "tmp", "got")
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_status(rt, cid, "running")
        import time
        time.sleep(0.3)  # let the shell install its traps
        expect_eq(rt.cmd("kill", cid, "USR1").rc, 0, "kill USR1 (name without SIG)")
        wait_for(lambda: os.path.exists(got) and "usr1" in open(got).read(), what="usr1")
        expect_eq(rt.cmd("kill", cid, str(int(signal.SIGTERM))).rc, 0, "kill 15 (number)")
        wait_status(rt, cid, "stopped")
        expect_eq(open(got).read(), "usr1\nterm\n", "signals seen by the init")
        expect(rt.cmd("kill", cid, "SIGKILL").rc != 0, "kill of a stopped container fails")
    finally:
        rt.cleanup(cid)


def test_kill_all(rt):
    conf = base_config(["sh", "-c", "sleep 60 & sleep 60 & wait"])
    conf["linux"]["cgroupsPath"] = "/minirt-test/" + rt.new_id("kall")
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_for(lambda: len(json.loads(rt.cmd("ps", "--format", "json", cid).out)) == 3,
                 what="three processes")
        expect_eq(rt.cmd("kill", "--all", cid, "KILL").rc, 0, "kill --all")
        wait_status(rt, cid, "stopped")
    finally:
        rt.cleanup(cid)


def test_state_and_list(rt):
    conf = base_config(["sleep", "60"])
    conf["annotations"] = {"org.example.key": "value"}
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("create", "--bundle", b, cid).rc, 0, "create")
        st = rt.state(cid)
        for key in ("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"):
            expect(key in st, f"state has {key}")
        expect_eq(st["rootfs"], os.path.join(b, "rootfs"), "rootfs")
        expect_eq(st["annotations"], {"org.example.key": "value"}, "annotations")
        r = rt.cmd("list", "--format", "json")
        rows = [c for c in json.loads(r.out) if c["id"] == cid]
        expect_eq(len(rows), 1, "list has the container")
        expect_eq(rows[0]["status"], "created", "list status")
        r = rt.cmd("list", "-q")
        expect_in(cid, r.out.split(), "list -q")
    finally:
        rt.cleanup(cid)


def test_exec_fifo_blocks_until_start(rt):
    b = rt.bundle(base_config(["sh", "-c", "echo started > /tmp/started"]))
    cid = rt.new_id()
    marker = os.path.join(b, "rootfs", "tmp", "started")
    try:
        expect_eq(rt.cmd("create", "--bundle", b, cid).rc, 0, "create")
        import time
        time.sleep(0.3)
        expect(not os.path.exists(marker), "nothing ran before start")
        expect_eq(rt.cmd("start", cid).rc, 0, "start")
        wait_for(lambda: os.path.exists(marker), what="the process to run after start")
    finally:
        rt.cleanup(cid)


def test_duplicate_id(rt):
    b = rt.bundle(base_config(["sleep", "60"]))
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("create", "--bundle", b, cid).rc, 0, "create")
        r = rt.cmd("create", "--bundle", b, cid)
        expect(r.rc != 0, "second create with the same id fails")
        expect_in("exists", r.err, "error")
    finally:
        rt.cleanup(cid)


def test_run_forwards_signals(rt):
    import subprocess
    import time
    conf = base_config(["sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.05; done"])
    b = rt.bundle(conf)
    cid = rt.new_id()
    p = subprocess.Popen([rt.path, "--root", rt.root, "run", "--bundle", b, cid],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: rt.cmd("state", cid).rc == 0 and rt.state(cid)["status"] == "running",
                 what="running")
        time.sleep(0.3)  # the trap is set
        p.send_signal(signal.SIGTERM)
        expect_eq(p.wait(timeout=10), 7, "exit code after the forwarded SIGTERM")
        wait_for(lambda: rt.cmd("state", cid).rc != 0, what="run to delete the container")
    finally:
        if p.poll() is None:
            p.kill()
        rt.cleanup(cid)


def test_bad_id(rt):
    b = rt.bundle(base_config())
    r = rt.cmd("create", "--bundle", b, "../escape")
    expect(r.rc != 0, "an id with / and .. is refused")
    expect(not os.path.exists(os.path.join(rt.root, "..", "escape")), "nothing made outside")


main(globals())
