#!/usr/bin/env python3
"""exec into a running container: args, --process, env/cwd/user, -d with --pid-file, exit codes,
namespaces and cgroup of the new process."""

import json
import os

from runtime_utils import base_config, expect, expect_eq, expect_in, main, wait_status


def with_running(rt, fn, conf=None):
    conf = conf or base_config(["sleep", "60"])
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        r = rt.cmd("run", "-d", "--bundle", b, cid)
        expect_eq(r.rc, 0, f"run -d: {r!r}")
        wait_status(rt, cid, "running")
        fn(cid, b)
    finally:
        rt.cleanup(cid)


def test_exec_args(rt):
    def check(cid, b):
        r = rt.cmd("exec", cid, "sh", "-c", "echo hi; hostname; exit 7")
        expect_eq((r.rc, r.out), (7, "hi\nmini\n"), f"exec: {r!r}")
    with_running(rt, check)


def test_exec_env_cwd_user(rt):
    def check(cid, b):
        r = rt.cmd("exec", "--env", "A=1", "--env", "B=2", "--cwd", "/tmp", "--user", "1000:1000",
                   cid, "sh", "-c", "echo $A$B; pwd; id -u; id -g; echo $TERM")
        expect_eq(r.out.split(), ["12", "/tmp", "1000", "1000", "xterm"], f"exec: {r!r}")
    with_running(rt, check)


def test_exec_process_json(rt):
    def check(cid, b):
        proc = {"terminal": False, "user": {"uid": 0, "gid": 0},
                "args": ["sh", "-c", "echo $X; pwd"], "env": ["X=from-json", "PATH=/bin"],
                "cwd": "/proc"}
        path = os.path.join(b, "process.json")
        with open(path, "w") as f:
            json.dump(proc, f)
        r = rt.cmd("exec", "--process", path, cid)
        expect_eq((r.rc, r.out), (0, "from-json\n/proc\n"), f"exec --process: {r!r}")
    with_running(rt, check)


def test_exec_detach_pid_file(rt):
    def check(cid, b):
        pidfile = os.path.join(b, "exec.pid")
        r = rt.cmd("exec", "-d", "--pid-file", pidfile, cid, "sleep", "30")
        expect_eq(r.rc, 0, f"exec -d: {r!r}")
        pid = int(open(pidfile).read())
        expect(os.path.exists(f"/proc/{pid}"), "the exec'd process runs")
        init = rt.state(cid)["pid"]
        for ns in ("pid", "mnt", "net", "ipc", "uts"):
            expect_eq(os.readlink(f"/proc/{pid}/ns/{ns}"), os.readlink(f"/proc/{init}/ns/{ns}"),
                      f"{ns} namespace of the exec'd process")
        expect_eq(open(f"/proc/{pid}/cgroup").read(), open(f"/proc/{init}/cgroup").read(),
                  "cgroups of the exec'd process")
        pids = json.loads(rt.cmd("ps", "--format", "json", cid).out)
        expect_in(pid, pids, "ps lists the exec'd process")
    with_running(rt, check)


def test_exec_missing_binary(rt):
    def check(cid, b):
        r = rt.cmd("exec", cid, "no-such-binary")
        expect(r.rc != 0, "exec of a missing binary fails")
        expect_in("no-such-binary", r.err, "error names the binary")
    with_running(rt, check)


def test_exec_stopped(rt):
    b = rt.bundle(base_config(["true"]))
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_status(rt, cid, "stopped")
        r = rt.cmd("exec", cid, "true")
        expect(r.rc != 0, "exec in a stopped container fails")
    finally:
        rt.cleanup(cid)


def test_exec_fds(rt):
    def check(cid, b):
        r = rt.cmd("exec", cid, "ls", "/proc/self/fd")
        expect_eq(sorted(r.out.split()), ["0", "1", "2", "3"], f"fds of exec'd ls: {r!r}")
    with_running(rt, check)


main(globals())
