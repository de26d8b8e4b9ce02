#!/usr/bin/env python3
"""The container's cgroup from linux.cgroupsPath (v1 hierarchies on this machine), joined and
removed on delete; ps, pause/resume and update basics. Every resource field is in
test_resources.py."""

import json
import os

from runtime_utils import Skip, base_config, expect, expect_eq, expect_in, main, wait_status


def v1():
    return os.path.isdir("/sys/fs/cgroup/memory") and os.path.isdir("/sys/fs/cgroup/pids")


def cg_conf(rt, args, resources=None):
    conf = base_config(args)
    conf["linux"]["cgroupsPath"] = "/minirt-test/" + rt.new_id("cg")
    if resources:
        conf["linux"]["resources"] = resources
    return conf


def test_limits_applied(rt):
    if not v1():
        raise Skip("needs the cgroup v1 memory and pids hierarchies")
    conf = cg_conf(rt, ["sleep", "60"],
                   {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 42}})
    path = conf["linux"]["cgroupsPath"]
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        mem = f"/sys/fs/cgroup/memory{path}"
        pids = f"/sys/fs/cgroup/pids{path}"
        expect_eq(open(f"{mem}/memory.limit_in_bytes").read().strip(), str(64 * 1024 * 1024),
                  "memory limit")
        expect_eq(open(f"{pids}/pids.max").read().strip(), "42", "pids limit")
        pid = rt.state(cid)["pid"]
        expect_in(str(pid), open(f"{mem}/cgroup.procs").read().split(), "init in the cgroup")
        for line in open(f"/proc/{pid}/cgroup").read().splitlines():
            ctl = line.split(":")[1]
            if ctl in ("memory", "pids", "cpu", "freezer"):
                expect_eq(line.split(":")[2], path, f"{ctl} cgroup of the init")
        rt.cmd("delete", "--force", cid)
        expect(not os.path.exists(mem) and not os.path.exists(pids), "cgroups removed")
    finally:
        rt.cleanup(cid)


def test_pause_resume(rt):
    conf = cg_conf(rt, ["sh", "-c", "while true; do sleep 0.05; done"])
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_status(rt, cid, "running")
        expect_eq(rt.cmd("pause", cid).rc, 0, "pause")
        expect_eq(rt.state(cid)["status"], "paused", "status after pause")
        pid = rt.state(cid)["pid"]
        st = open(f"/proc/{pid}/stat").read().split(")")[1].split()[0]
        expect(st in ("D", "S", "T"), f"init is frozen ({st})")
        expect(rt.cmd("pause", cid).rc != 0, "pause of a paused container fails")
        expect_eq(rt.cmd("resume", cid).rc, 0, "resume")
        expect_eq(rt.state(cid)["status"], "running", "status after resume")
    finally:
        rt.cleanup(cid)


def test_update(rt):
    if not v1():
        raise Skip("needs the cgroup v1 pids hierarchy")
    conf = cg_conf(rt, ["sleep", "60"], {"pids": {"limit": 10}})
    path = conf["linux"]["cgroupsPath"]
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        r = rt.cmd("update", "--resources", "-", cid, input=json.dumps({"pids": {"limit": 77}}))
        expect_eq(r.rc, 0, f"update --resources -: {r!r}")
        expect_eq(open(f"/sys/fs/cgroup/pids{path}/pids.max").read().strip(), "77",
                  "pids.max after update")
        r = rt.cmd("update", "--pids-limit", "88", cid)
        expect_eq(r.rc, 0, f"update --pids-limit: {r!r}")
        expect_eq(open(f"/sys/fs/cgroup/pids{path}/pids.max").read().strip(), "88",
                  "pids.max after --pids-limit")
    finally:
        rt.cleanup(cid)


def test_ps(rt):
    conf = cg_conf(rt, ["sh", "-c", "sleep 60 & wait"])
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        from runtime_utils import wait_for
        wait_for(lambda: len(json.loads(rt.cmd("ps", "--format", "json", cid).out)) == 2,
                 what="two processes")
        r = rt.cmd("ps", cid)
        expect_eq(r.rc, 0, f"ps: {r!r}")
        lines = r.out.strip().splitlines()
        expect_in("PID", lines[0], "ps header")
        expect_eq(len(lines), 3, "header and two processes")
        expect_in("sleep 60", r.out, "ps table lists the sleep")
    finally:
        rt.cleanup(cid)


main(globals())
