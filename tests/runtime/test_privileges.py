#!/usr/bin/env python3
"""process privileges read back from inside: each capability set on its own, AppArmor and
SELinux on a host without them (refused, as runc refuses), and the fields runc 1.1.5 predates
(scheduler, ioPriority, personality), checked against minirun only."""

import os

from runtime_utils import (Skip, base_config, expect, expect_eq, expect_in, main,
                           wait_status)

BITS = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_NET_BIND_SERVICE": 10, "CAP_SYS_ADMIN": 21,
        "CAP_AUDIT_WRITE": 29}


def mask(*names):
    return "%016x" % sum(1 << BITS[n] for n in names)


def status(rt, conf):
    conf["process"]["args"] = ["grep", "-E", "^(Cap|NoNewPrivs|Seccomp:)", "/proc/self/status"]
    return dict((k, v.strip()) for k, v in
                (line.split(":", 1) for line in rt.run_output(conf).splitlines()))


def test_each_capability_set(rt):
    conf = base_config()
    conf["process"]["user"] = {"uid": 1000, "gid": 1000}
    conf["process"]["noNewPrivileges"] = True
    conf["process"]["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_NET_BIND_SERVICE"],
    }
    st = status(rt, conf)
    # uid 1000's execve keeps only the ambient set in permitted and effective
    expect_eq({k: st[k] for k in ("CapBnd", "CapInh", "CapPrm", "CapEff", "CapAmb",
                                  "NoNewPrivs")},
              {"CapBnd": mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"),
               "CapInh": mask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
               "CapPrm": mask("CAP_NET_BIND_SERVICE"), "CapEff": mask("CAP_NET_BIND_SERVICE"),
               "CapAmb": mask("CAP_NET_BIND_SERVICE"), "NoNewPrivs": "1"},
              "/proc/self/status")


def test_root_capabilities(rt):
    conf = base_config()
    conf["process"]["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"],
        "permitted": ["CAP_KILL"], "effective": ["CAP_KILL"]}
    st = status(rt, conf)
    # root's execve recomputes permitted and effective from the bounding set
    expect_eq((st["CapBnd"], st["CapEff"], st["NoNewPrivs"]),
              (mask("CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"),
               mask("CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"), "0"), "root")


def test_lsm_labels_refused(rt):
    if os.path.exists("/sys/kernel/security/apparmor") or os.path.exists("/sys/fs/selinux"):
        raise Skip("this host runs AppArmor or SELinux")
    conf = base_config()
    conf["process"]["apparmorProfile"] = "mini-profile"
    r = rt.run(conf)
    expect(r.rc != 0 and "apparmor" in r.err.lower(), f"AppArmor profile refused: {r!r}")
    del conf["process"]["apparmorProfile"]
    conf["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"
    r = rt.run(conf)
    expect(r.rc != 0 and "selinux" in r.err.lower(), f"SELinux label refused: {r!r}")


def minirun_only(rt, what):
    if rt.name == "runc":
        raise Skip(f"runc 1.1.5 predates {what} (it ignores the field)")


# /proc/self/stat: field 19 is nice, 40 rt_priority, 41 policy
STAT = "awk '{print \"nice=\" $19, \"rtprio=\" $40, \"policy=\" $41}' /proc/self/stat"


def test_scheduler_and_io_priority(rt):
    minirun_only(rt, "process.scheduler and process.ioPriority")
    conf = base_config(["sleep", "60"])
    conf["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    conf["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_status(rt, cid, "running")
        pid = rt.state(cid)["pid"]
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        expect_eq((f[16], f[38]), ("7", "3"), "the init: nice 7, SCHED_BATCH (3)")
        r = rt.cmd("exec", cid, "sh", "-c", STAT + "; ionice -p $$")
        expect_eq(r.out.split("\n")[:2], ["nice=7 rtprio=0 policy=3", "best-effort: prio 6"],
                  f"an exec'd process gets them too: {r!r}")
    finally:
        rt.cleanup(cid)


def test_realtime_scheduler(rt):
    minirun_only(rt, "process.scheduler")
    conf = base_config(["sh", "-c", STAT])
    conf["process"]["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10,
                                    "flags": ["SCHED_FLAG_RESET_ON_FORK"]}
    r = rt.run(conf)
    # a real-time task needs real-time bandwidth in its cgroup
    expect(r.rc != 0 and "sched_setattr SCHED_FIFO" in r.err, f"no rt bandwidth: {r!r}")
    if not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        return
    conf["linux"]["cgroupsPath"] = "/minirt-rt-" + rt.new_id("sched")
    conf["linux"]["resources"] = {"cpu": {"realtimeRuntime": 10000}}
    # reset-on-fork: the awk child is back to SCHED_OTHER (not the last command: sh would
    # exec it in place)
    conf["process"]["args"] = ["sh", "-c", "read l < /proc/self/stat; set -- ${l##*)}; "
                               "echo policy=${39} rtprio=${38}; " + STAT + "; true"]
    expect_eq(rt.run_output(conf).splitlines(),
              ["policy=1 rtprio=10", "nice=0 rtprio=0 policy=0"],
              "SCHED_FIFO 10 for the shell, reset for its children")


def test_scheduler_errors(rt):
    minirun_only(rt, "process.scheduler")
    for sched, field in (({"policy": "SCHED_FOO"}, "process.scheduler.policy"),
                         ({"policy": "SCHED_RR"}, "process.scheduler.priority"),
                         ({"policy": "SCHED_OTHER", "nice": 40}, "process.scheduler.nice"),
                         ({"policy": "SCHED_OTHER", "flags": ["X"]},
                          "process.scheduler.flags[0]")):
        conf = base_config()
        conf["process"]["scheduler"] = sched
        r = rt.run(conf)
        expect(r.rc != 0, f"{sched} refused")
        expect_in(field, r.err, "the error names the field")


def test_personality(rt):
    minirun_only(rt, "linux.personality")
    conf = base_config(["sh", "-c", "uname -m; cat /proc/self/personality"])
    conf["linux"]["personality"] = {"domain": "LINUX32"}
    expect_eq(rt.run_output(conf).split(), ["i686", "00000008"], "LINUX32")


main(globals())
