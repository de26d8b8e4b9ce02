#!/usr/bin/env python3
"""process.capabilities and linux.seccomp, read back from /proc/self/status and by calling a
denied syscall; exec'd processes get the same treatment."""

from runtime_utils import Skip, base_config, expect, expect_eq, expect_in, main, wait_status

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
CAP_BITS = {"CAP_KILL": 5, "CAP_NET_BIND_SERVICE": 10, "CAP_AUDIT_WRITE": 29, "CAP_CHOWN": 0,
            "CAP_SYS_ADMIN": 21}


def mask(names):
    return "%016x" % sum(1 << CAP_BITS[n] for n in names)


def status(rt, conf):
    conf["process"]["args"] = ["grep", "-E", "^(Cap|NoNewPrivs|Seccomp:)", "/proc/self/status"]
    out = {}
    for line in rt.run_output(conf).splitlines():
        k, v = line.split(":", 1)
        out[k] = v.strip()
    return out


def test_no_capabilities_object(rt):
    st = status(rt, base_config())
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        expect_eq(st[k], "0" * 16, f"{k} without process.capabilities (runc: empty sets)")


def test_default_caps(rt):
    conf = base_config()
    conf["process"]["capabilities"] = {k: DEFAULT_CAPS for k in
                                       ("bounding", "effective", "permitted", "ambient")}
    st = status(rt, conf)
    for k in ("CapPrm", "CapEff", "CapBnd"):
        expect_eq(st[k], mask(DEFAULT_CAPS), k)
    expect_eq(st["CapInh"], "0" * 16, "CapInh")
    # ambient without inheritable cannot be raised; runc skips it silently
    expect_eq(st["CapAmb"], "0" * 16, "CapAmb")


def test_caps_non_root_ambient(rt):
    conf = base_config()
    caps = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
    conf["process"]["user"] = {"uid": 1000, "gid": 1000}
    conf["process"]["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted",
                                                         "inheritable", "ambient")}
    st = status(rt, conf)
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        expect_eq(st[k], mask(caps), f"{k} of uid 1000 with ambient caps")


def test_unknown_capability(rt):
    if rt.name == "runc":
        raise Skip("runc 1.1.5 ignores unknown capability names (with a warning)")
    conf = base_config()
    conf["process"]["capabilities"] = {"bounding": ["CAP_NOT_A_CAP"]}
    r = rt.run(conf)
    expect(r.rc != 0, "an unknown capability is rejected")
    expect_in("CAP_NOT_A_CAP", r.err, "error names it")


def test_seccomp_errno(rt):
    conf = base_config(["sh", "-c", "mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status"])
    conf["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 13}],
    }
    out = rt.run_output(conf)
    expect_in("Permission denied", out, "mkdir denied with errnoRet 13 (EACCES)")
    expect_in("Seccomp:\t2", out, "filter mode")


def test_seccomp_with_nnp(rt):
    conf = base_config(["sh", "-c", "mkdir /tmp/x 2>&1; grep -E 'Seccomp:|NoNewPrivs' "
                        "/proc/self/status"])
    conf["process"]["noNewPrivileges"] = True
    conf["process"]["user"] = {"uid": 1000, "gid": 1000}
    conf["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }
    out = rt.run_output(conf)
    expect_in("Operation not permitted", out, "mkdir denied with the default EPERM")
    expect_in("NoNewPrivs:\t1", out, "no_new_privs")


def test_exec_gets_caps_and_seccomp(rt):
    conf = base_config(["sleep", "60"])
    conf["process"]["capabilities"] = {k: DEFAULT_CAPS for k in
                                       ("bounding", "effective", "permitted")}
    conf["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }
    b = rt.bundle(conf)
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_status(rt, cid, "running")
        r = rt.cmd("exec", cid, "sh", "-c", "grep CapEff /proc/self/status; mkdir /tmp/y 2>&1")
        expect_eq(r.rc, 1, f"exec: {r!r}")
        expect_in(mask(DEFAULT_CAPS), r.out, "exec'd process has the container's caps")
        expect_in("Operation not permitted", r.out, "and its seccomp filter")
    finally:
        rt.cleanup(cid)


main(globals())
