#!/usr/bin/env python3
"""linux.resources on the cgroup v1 hierarchies of this machine, read back by the container from
its own /sys/fs/cgroup (and from the host where the container cannot see it): memory, cpu,
cpuset, pids, blkio, devices; an OOM kill; events --stats; update of a running container; the
errors runc gives for what this host cannot do. Each test also runs against runc."""

import json
import os

from runtime_utils import (Skip, base_config, expect, expect_eq, expect_in, main, wait_for,
                           wait_status)

CG = {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}


def v1():
    return all(os.path.isdir(f"/sys/fs/cgroup/{c}")
               for c in ("memory", "pids", "cpu", "cpuset", "blkio", "devices", "freezer"))


def block_device():
    """MAJ:MIN of a real disk (for blkio throttles), or None."""
    for name in sorted(os.listdir("/sys/block")):
        if name.startswith(("loop", "ram", "zram")):
            continue
        try:
            return open(f"/sys/block/{name}/dev").read().strip()
        except OSError:
            continue
    return None


def conf_with(rt, args, resources, top_level=False):
    if not v1():
        raise Skip("needs the cgroup v1 hierarchies")
    conf = base_config(args)
    # real-time runtime needs a path whose parent has some: the hierarchy root
    prefix = "/minirt-rt-" if top_level else "/minirt-test/"
    conf["linux"]["cgroupsPath"] = prefix + rt.new_id("res")
    conf["linux"]["resources"] = resources
    conf["mounts"].append(CG)
    return conf


def read_back(rt, conf, files):
    """Runs the container, which prints each of its cgroup files as "file=value"."""
    script = "; ".join(f"echo {f}=$(cat /sys/fs/cgroup/{f} | tr '\\n' ' ')" for f in files)
    conf["process"]["args"] = ["sh", "-c", script]
    out = {}
    for line in rt.run_output(conf).splitlines():
        k, v = line.split("=", 1)
        out[k] = v.strip()
    return out


def test_memory_cpu_pids(rt):
    mib = 1024 * 1024
    conf = conf_with(rt, [], {
        "memory": {"limit": 64 * mib, "reservation": 32 * mib, "swap": 96 * mib,
                   "swappiness": 20, "disableOOMKiller": False},
        "cpu": {"shares": 512, "quota": 25000, "period": 50000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 57},
    })
    got = read_back(rt, conf, [
        "memory/memory.limit_in_bytes", "memory/memory.soft_limit_in_bytes",
        "memory/memory.memsw.limit_in_bytes", "memory/memory.swappiness",
        "cpu/cpu.shares", "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us",
        "cpuset/cpuset.cpus", "cpuset/cpuset.mems", "pids/pids.max"])
    expect_eq(got, {
        "memory/memory.limit_in_bytes": str(64 * mib),
        "memory/memory.soft_limit_in_bytes": str(32 * mib),
        "memory/memory.memsw.limit_in_bytes": str(96 * mib),
        "memory/memory.swappiness": "20",
        "cpu/cpu.shares": "512", "cpu/cpu.cfs_quota_us": "25000",
        "cpu/cpu.cfs_period_us": "50000", "cpuset/cpuset.cpus": "0", "cpuset/cpuset.mems": "0",
        "pids/pids.max": "57"}, "the container's cgroup files")


def test_blkio(rt):
    dev = block_device()
    if dev is None:
        raise Skip("no block device")
    major, minor = (int(x) for x in dev.split(":"))
    conf = conf_with(rt, [], {"blockIO": {
        "weight": 300,
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1048576}],
        "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 150}]}})
    weight = "blkio/blkio.weight"
    if not os.path.exists("/sys/fs/cgroup/blkio/blkio.weight"):
        weight = "blkio/blkio.bfq.weight"  # CFQ is gone; BFQ's file (only in child cgroups)
    got = read_back(rt, conf, [weight, "blkio/blkio.throttle.read_bps_device",
                               "blkio/blkio.throttle.write_iops_device"])
    expect_in(got[weight], ("300", "default 300"), "blkio weight")
    expect_eq(got["blkio/blkio.throttle.read_bps_device"], f"{dev} 1048576", "read bps")
    expect_eq(got["blkio/blkio.throttle.write_iops_device"], f"{dev} 150", "write iops")


def test_devices(rt):
    conf = conf_with(rt, [], {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "r"}]})
    conf["linux"]["devices"] = [
        {"path": "/dev/zero", "type": "c", "major": 1, "minor": 5},
        {"path": "/dev/loop-control", "type": "c", "major": 10, "minor": 237}]
    conf["process"]["args"] = ["sh", "-c", " ; ".join([
        "echo null:$(cat /dev/null && echo ok)",
        "echo zero-r:$(head -c1 /dev/zero | wc -c)",
        "echo zero-w:$( (echo x > /dev/zero) 2>&1 | grep -c 'not permitted')",
        "echo loopctl:$( (cat /dev/loop-control) 2>&1 | grep -c 'not permitted')",
        "tr '\\n' , < /sys/fs/cgroup/devices/devices.list"])]
    out = rt.run_output(conf).splitlines()
    expect_eq(out[:4], ["null:ok", "zero-r:1", "zero-w:1", "loopctl:1"],
              "what the devices cgroup lets through")
    # /dev/zero is redefined by linux.devices: its default rwm rule goes (runc's dedup)
    expect_eq(sorted(out[4].strip(",").split(",")),
              sorted(["b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 r", "c 1:7 rwm", "c 1:8 rwm",
                      "c 1:9 rwm", "c 10:200 rwm", "c 136:* rwm", "c 5:0 rwm", "c 5:2 rwm"]),
              "devices.list")


def test_oom_kill(rt):
    mib = 1024 * 1024
    # no swap on this machine: memsw = limit keeps it that way anywhere
    conf = conf_with(rt, ["sh", "-c", "echo start; exec tail /dev/zero"],
                     {"memory": {"limit": 24 * mib, "swap": 24 * mib}})
    r = rt.run(conf)
    expect_eq(r.rc, 137, f"OOM-killed: exit 128+9 ({r!r})")
    expect_in("start", r.out, "the container ran")


def test_pids_limit_refuses_fork(rt):
    # builtins only after the forks: read, echo, kill
    conf = conf_with(rt, ["sh", "-c", "read m < /sys/fs/cgroup/pids/pids.max; echo max=$m; "
                          "(for i in 1 2 3 4 5 6; do sleep 5 & done) 2>&1; "
                          "read n < /sys/fs/cgroup/pids/pids.current; echo current=$n; "
                          "kill -9 -1"],
                     {"pids": {"limit": 4}})
    r = rt.run(conf)
    lines = r.out.splitlines()
    expect_eq(lines[0], "max=4", f"pids.max inside: {r!r}")
    expect_in("can't fork", r.out, "forks beyond pids.max fail")
    expect(lines[-1].startswith("current=") and int(lines[-1][8:]) <= 4,
           f"never more than 4 tasks: {r!r}")


def test_pause_freezes_counter(rt):
    conf = conf_with(rt, ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; "
                          "sleep 0.02; done"], {})
    b = rt.bundle(conf)
    counter = os.path.join(b, "rootfs", "tmp", "n")
    cid = rt.new_id()

    def value():
        try:
            return int(open(counter).read() or "0")
        except (OSError, ValueError):
            return 0
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_for(lambda: value() > 2, what="the counter to run")
        expect_eq(rt.cmd("pause", cid).rc, 0, "pause")
        frozen = open(f"/sys/fs/cgroup/freezer{conf['linux']['cgroupsPath']}/freezer.state")
        expect_eq(frozen.read().strip(), "FROZEN", "freezer.state")
        v = value()
        import time
        time.sleep(0.3)
        expect_eq(value(), v, "the counter does not move while paused")
        expect_eq(rt.cmd("resume", cid).rc, 0, "resume")
        wait_for(lambda: value() > v + 2, what="the counter to move again")
    finally:
        rt.cleanup(cid)


def test_update_live(rt):
    mib = 1024 * 1024
    conf = conf_with(rt, ["sleep", "60"], {"memory": {"limit": 32 * mib, "swap": 32 * mib},
                                           "pids": {"limit": 10}, "cpu": {"shares": 256}})
    b = rt.bundle(conf)
    cid = rt.new_id()

    def inside(*files):
        r = rt.cmd("exec", cid, "cat", *(f"/sys/fs/cgroup/{f}" for f in files))
        expect_eq(r.rc, 0, f"exec cat: {r!r}")
        return r.out.split()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_status(rt, cid, "running")
        # raising memory and memsw together: memsw must go first (runc's order)
        r = rt.cmd("update", "--memory", "64m", "--memory-swap", "96m", "--pids-limit", "20",
                   "--cpu-share", "768", "--cpu-quota", "30000", "--cpu-period", "60000", cid)
        expect_eq(r.rc, 0, f"update with flags: {r!r}")
        expect_eq(inside("memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes",
                         "pids/pids.max", "cpu/cpu.shares", "cpu/cpu.cfs_quota_us",
                         "cpu/cpu.cfs_period_us"),
                  [str(64 * mib), str(96 * mib), "20", "768", "30000", "60000"],
                  "limits after update --memory/--pids-limit/--cpu-*")
        r = rt.cmd("update", "-r", "-", cid, input=json.dumps(
            {"memory": {"limit": 16 * mib, "swap": 16 * mib}, "blockIO": {"weight": 500}}))
        expect_eq(r.rc, 0, f"update -r -: {r!r}")
        expect_eq(inside("memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes",
                         "pids/pids.max"), [str(16 * mib), str(16 * mib), "20"],
                  "lowered memory; what the document does not name stays")
    finally:
        rt.cleanup(cid)


def test_events_stats(rt):
    mib = 1024 * 1024
    conf = conf_with(rt, ["sh", "-c", "sleep 60 & wait"],
                     {"memory": {"limit": 48 * mib}, "pids": {"limit": 33}})
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_for(lambda: len(json.loads(rt.cmd("ps", "--format", "json", cid).out)) == 2,
                 what="two processes")
        r = rt.cmd("events", "--stats", cid)
        expect_eq(r.rc, 0, f"events --stats: {r!r}")
        ev = json.loads(r.out)
        expect_eq((ev["type"], ev["id"]), ("stats", cid), "event header")
        d = ev["data"]
        expect_eq(sorted(d), ["blkio", "cpu", "cpuset", "hugetlb", "intel_rdt", "memory",
                              "network_interfaces", "pids"], "data members")
        expect_eq(d["pids"], {"current": 2, "limit": 33}, "pids")
        expect_eq(d["memory"]["usage"]["limit"], 48 * mib, "memory limit")
        expect(d["memory"]["usage"]["usage"] > 0, "memory usage")
        expect(d["memory"]["raw"]["hierarchical_memory_limit"] == 48 * mib, "memory.stat raw")
        expect(d["cpu"]["usage"]["total"] > 0 and len(d["cpu"]["usage"]["percpu"]) >= 1,
               "cpu usage")
        expect_eq(set(d["cpuset"]) >= {"cpu_exclusive", "sched_load_balance"}, True, "cpuset")
        expect(d["network_interfaces"] is None, "network_interfaces is null")
        expect(rt.cmd("events", "--stats", "nosuch").rc != 0, "unknown container")
    finally:
        rt.cleanup(cid)


def test_events_oom(rt):
    import select
    import subprocess
    import time
    mib = 1024 * 1024
    conf = conf_with(rt, ["sleep", "60"], {"memory": {"limit": 24 * mib, "swap": 24 * mib}})
    b = rt.bundle(conf)
    cid = rt.new_id()
    ev = None
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        ev = subprocess.Popen([rt.path, "--root", rt.root, "events", "--interval", "60s", cid],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(0.3)  # the OOM watch is registered
        r = rt.cmd("exec", cid, "tail", "/dev/zero")
        expect_eq(r.rc, 137, f"the exec'd hog is OOM-killed: {r!r}")
        ready, _, _ = select.select([ev.stdout], [], [], 5)
        expect(ready, "events printed something")
        expect_eq(json.loads(ev.stdout.readline()), {"type": "oom", "id": cid}, "the OOM event")
    finally:
        if ev:
            ev.kill()
            ev.wait()
        rt.cleanup(cid)


def test_realtime_runtime(rt):
    conf = conf_with(rt, [], {"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}},
                     top_level=True)
    got = read_back(rt, conf, ["cpu/cpu.rt_runtime_us", "cpu/cpu.rt_period_us"])
    expect_eq(got, {"cpu/cpu.rt_runtime_us": "10000", "cpu/cpu.rt_period_us": "1000000"},
              "real-time bandwidth")


def test_errors_like_runc(rt):
    conf = conf_with(rt, ["true"], {"unified": {"memory.high": "1000000"}})
    r = rt.run(conf)
    expect(r.rc != 0 and "cannot use unified on cgroup v1" in r.err,
           f"unified refused on v1: {r!r}")
    if os.path.isdir("/sys/fs/cgroup/hugetlb"):
        return
    conf = conf_with(rt, ["true"], {"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]})
    r = rt.run(conf)
    expect(r.rc != 0 and "cannot set hugetlb limit" in r.err,
           f"a limit of an unmounted controller fails: {r!r}")
    conf = conf_with(rt, ["true"], {"memory": {"kernel": 1 << 30, "kernelTCP": 1 << 30}})
    r = rt.run(conf)
    expect(r.rc == 0 and "Kernel memory settings are ignored" in r.err,
           f"kernel memory ignored with a warning: {r!r}")


main(globals())
