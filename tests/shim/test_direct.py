#!/usr/bin/env python3
"""The shim driven by hand, without containerd in between, for what ctr cannot send: the
`start` action in a bundle made here, then the Task RPCs over ttrpc. Runtime options
(containerd.runc.v1.Options: ShimCgroup, IoUid/IoGid) on `start`'s stdin and in Create, a
rootfs mount with the "loop" option, and a task deleted before it ever started. The scenarios
that can also run with containerd's runc shim do, to prove the expectation."""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from shimtest import Suite, pb_bytes, pb_parse, pb_uint, ttrpc_call

TASK = "containerd.task.v2.Task"

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


class Fifos:
    """stdout, stderr and log FIFOs in a bundle, as containerd makes them (the runc shim needs
    the log one), open for reading."""

    def __init__(self, bundle):
        self.paths = [os.path.join(bundle, n) for n in ("stdout", "stderr", "log")]
        for p in self.paths:
            os.mkfifo(p)
        self.fds = [os.open(p, os.O_RDONLY | os.O_NONBLOCK) for p in self.paths]

    def fields(self):
        """CreateTaskRequest's stdout (6) and stderr (7)."""
        return pb_bytes(6, self.paths[0]) + pb_bytes(7, self.paths[1])

    def read_line(self, timeout=10.0):
        """The first line on stdout."""
        out, deadline = b"", time.monotonic() + timeout
        while b"\n" not in out and time.monotonic() < deadline:
            try:
                chunk = os.read(self.fds[0], 4096)
            except BlockingIOError:
                time.sleep(0.05)
                continue
            if not chunk and out:
                break
            out += chunk
        return out.decode(errors="replace")

    def close(self):
        for fd in self.fds:
            os.close(fd)


def shutdown(addr, cid, shim_pid):
    """Shutdown, and wait for the shim to be gone (it may exit before it answers)."""
    try:
        ttrpc_call(addr, TASK, "Shutdown", pb_bytes(1, cid))
    except (ConnectionError, OSError):
        pass
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{shim_pid}") and time.monotonic() < deadline:
        time.sleep(0.05)


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
    fifos = Fifos(bundle)
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
                                  pb_bytes(1, cid) + pb_bytes(2, bundle) + fifos.fields() +
                                  pb_bytes(10, options(shimcg)))
        t.is_((code, msg), (0, ""), f"{name}: Create with options")
        ttrpc_call(addr, TASK, "Start", pb_bytes(1, cid))
        # IoUid/IoGid own the pipes; then the runtime gives stdio to the process's user (root
        # here) and keeps the group, as runc does (fixStdioPermissions).
        t.is_(fifos.read_line().strip(), "0:1235",
              f"{name}: IoGid owns the container's stdout pipe, the uid is the process's")
        code, _, pl = ttrpc_call(addr, TASK, "Wait", pb_bytes(1, cid), timeout=20)
        t.is_((code, pb_parse(pl).get(1, [0])[0]), (0, 0), f"{name}: exit status 0")
        ttrpc_call(addr, TASK, "Delete", pb_bytes(1, cid))
        shutdown(addr, cid, shim_pid)
    finally:
        fifos.close()
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
    shim_pid = pb_parse(ttrpc_call(addr, TASK, "Connect", pb_bytes(1, "d1"))[2]).get(1, [0])[0]
    with open(os.path.join(d, "shim.pid")) as f:
        t.is_(f.read().strip(), str(shim_pid), "mini: start writes the daemon's pid to shim.pid")
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


def rootfs_bundle(s, ns, cid, args):
    """A bundle whose root is bundle/rootfs, for Create to mount the rootfs entries on."""
    bundle = direct_bundle(s, ns, cid, args)
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    spec["root"] = {"path": "rootfs", "readonly": True}
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    rootfs = os.path.join(bundle, "rootfs")
    os.mkdir(rootfs)
    return bundle, rootfs


def mount_msg(typ, source, options, target=""):
    """containerd.types.Mount."""
    m = pb_bytes(1, typ) + pb_bytes(2, source)
    if target:
        m += pb_bytes(3, target)
    return m + b"".join(pb_bytes(4, o) for o in options)


def mounted_below(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f
                if line.split()[4] == path or line.split()[4].startswith(path + "/")]


def run_with_mounts(s, shim, ns, cid, args, mounts, bad_mounts=None, probe=None):
    """start; a Create with bad_mounts (that should fail); Create with mounts; probe(rootfs);
    Start, Wait, Delete; Shutdown. Returns what was seen: "bad" (code, message, mount points
    left), "create" (code, message), "during" (mount points), "probe", "line" (the first line
    the container printed), "exit", "delete" (code, message), "after" (mount points left)."""
    bundle, rootfs = rootfs_bundle(s, ns, cid, args)
    fifos = Fifos(bundle)
    shim_pid, addr, res = 0, "", {}
    try:
        addr = direct_start(s, shim, ns, cid, bundle).stdout.decode()
        shim_pid = pb_parse(ttrpc_call(addr, TASK, "Connect", pb_bytes(1, cid))[2]).get(1, [0])[0]
        create = pb_bytes(1, cid) + pb_bytes(2, bundle) + fifos.fields()
        if bad_mounts:
            code, msg, _ = ttrpc_call(addr, TASK, "Create",
                                      create + b"".join(pb_bytes(3, m) for m in bad_mounts),
                                      timeout=60)
            res["bad"] = (code, msg, mounted_below(rootfs))
        code, msg, _ = ttrpc_call(addr, TASK, "Create",
                                  create + b"".join(pb_bytes(3, m) for m in mounts), timeout=60)
        res["create"] = (code, msg)
        res["during"] = mounted_below(rootfs)
        if probe:
            res["probe"] = probe(rootfs)
        if code == 0:
            ttrpc_call(addr, TASK, "Start", pb_bytes(1, cid))
            res["line"] = fifos.read_line()
            code, _, pl = ttrpc_call(addr, TASK, "Wait", pb_bytes(1, cid), timeout=20)
            res["exit"] = pb_parse(pl).get(1, [0])[0] if code == 0 else -code
            res["delete"] = ttrpc_call(addr, TASK, "Delete", pb_bytes(1, cid), timeout=60)[:2]
        res["after"] = mounted_below(rootfs)
    finally:
        if shim_pid:
            shutdown(addr, cid, shim_pid)
        fifos.close()
        for m in reversed(mounted_below(rootfs)):
            subprocess.run(["umount", "-l", m], capture_output=True)
        direct_cleanup(ns, [cid])
    return res


def loop_devices(img):
    r = subprocess.run(["losetup", "-j", img], capture_output=True, text=True)
    return r.stdout.strip()


def mounted_source(path):
    """The source of the (top) mount at path, or ""."""
    src = ""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == path:
                src = fields[fields.index("-") + 2]
    return src


def scenario_loop_rootfs(s, name, shim):
    """A rootfs mount with containerd's "loop" option (an ext4 image file): mounted at
    bundle/rootfs through a loop device, the container runs from it, and after Delete neither
    the mount nor the loop device is left. A missing image fails Create with its name."""
    t = s.t
    if not os.path.exists("/dev/loop-control"):
        t.skip(f"{name}: loop rootfs", "no /dev/loop-control here")
        return
    img = os.path.join(s.c.tmpdir, f"rootfs-{name}.img")
    missing = os.path.join(s.c.tmpdir, "missing.img")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", s.c.rootfs_dir, img, "32M"], check=True,
                   capture_output=True)
    try:
        res = run_with_mounts(s, shim, f"{s.c.namespace}-loop{name}", "l1",
                              ["sh", "-c", "grep ' / ' /proc/mounts"],
                              [mount_msg("ext4", img, ["loop", "ro"])],
                              bad_mounts=[mount_msg("ext4", missing, ["loop"])],
                              probe=lambda rootfs: (mounted_source(rootfs), loop_devices(img)))
        deadline = time.monotonic() + 5  # the kernel detaches an autoclear device lazily
        while loop_devices(img) and time.monotonic() < deadline:
            time.sleep(0.05)
        bad = res.get("bad", (0, "", []))
        t.ok(bad[0] != 0 and missing in bad[1] and not bad[2],
             f"{name}: a missing image fails Create, naming it, nothing mounted", diag=bad)
        t.is_(res.get("create"), (0, ""), f"{name}: Create with a loop rootfs mount")
        src, dev = res.get("probe", ("", ""))
        t.ok(src.startswith("/dev/loop") and dev.startswith(src + ":"),
             f"{name}: the image is mounted at rootfs through a loop device", diag=(src, dev))
        t.ok(" / ext4 ro," in res.get("line", ""), f"{name}: the container's / is the image",
             diag=res.get("line"))
        t.is_(res.get("exit"), 0, f"{name}: exit status 0")
        t.ok(res.get("delete", (1,))[0] == 0 and res.get("after") == [] and
             not loop_devices(img), f"{name}: Delete leaves no mount and no loop device",
             diag=(res, loop_devices(img)))
    finally:
        for dev in loop_devices(img).splitlines():
            subprocess.run(["losetup", "-d", dev.split(":")[0]], capture_output=True)


def scenario_mount_target(s):
    """containerd 2.x: a rootfs entry with a target is mounted below the rootfs (here a tmpfs
    on /tmp over a bind-mounted rootfs); Delete unmounts both. A target that does not exist
    below the rootfs fails Create with its name, leaving nothing mounted. containerd 1.6's runc
    shim does not know targets, so this runs for mini only."""
    t = s.t
    base = mount_msg("bind", s.c.rootfs_dir, ["rbind", "ro"])
    res = run_with_mounts(s, s.shim, f"{s.c.namespace}-target", "t1",
                          ["sh", "-c", "grep ' /tmp ' /proc/mounts"],
                          [base, mount_msg("tmpfs", "tmpfs", ["size=1m"], target="tmp")],
                          bad_mounts=[base, mount_msg("tmpfs", "tmpfs", [], target="../nowhere")])
    bad = res.get("bad", (0, "", []))
    t.ok(bad[0] != 0 and "nowhere" in bad[1] and not bad[2],
         "mini: a missing target fails Create, naming it, nothing left mounted", diag=bad)
    t.is_(res.get("create"), (0, ""), "mini: Create with a target below the rootfs")
    t.ok(len(res.get("during", [])) == 2 and res["during"][1].endswith("/rootfs/tmp"),
         "mini: the entry is mounted at rootfs/tmp", diag=res.get("during"))
    t.ok(res.get("line", "").startswith("tmpfs /tmp tmpfs"),
         "mini: the container sees the tmpfs on /tmp", diag=res.get("line"))
    t.ok(res.get("delete", (1,))[0] == 0 and res.get("after") == [],
         "mini: Delete unmounts the entry and the rootfs", diag=res)


def scenario_fuse_rootfs(s, name, shim):
    """A "fuse3.fuse-overlayfs" rootfs entry goes through the mount.fuse3 helper (as with
    containerd's fuse-overlayfs snapshotter); a failing helper fails Create with its output;
    Delete unmounts it (fusermount3)."""
    t = s.t
    if not (shutil.which("fuse-overlayfs") and shutil.which("mount.fuse3") and
            os.path.exists("/dev/fuse")):
        t.skip(f"{name}: fuse rootfs", "no fuse-overlayfs, mount.fuse3 or /dev/fuse here")
        return
    missing = os.path.join(s.c.tmpdir, "no-such-lower")
    res = run_with_mounts(s, shim, f"{s.c.namespace}-fuse{name}", "f1",
                          ["sh", "-c", "grep ' / ' /proc/mounts"],
                          [mount_msg("fuse3.fuse-overlayfs", "overlay",
                                     [f"lowerdir={s.c.rootfs_dir}"])],
                          bad_mounts=[mount_msg("fuse3.fuse-overlayfs", "overlay",
                                                [f"lowerdir={missing}"])])
    bad = res.get("bad", (0, "", []))
    t.ok(bad[0] != 0 and "mount helper" in bad[1] and not bad[2],
         f"{name}: a failing mount helper fails Create, nothing left mounted", diag=bad)
    t.is_(res.get("create"), (0, ""), f"{name}: Create with a FUSE rootfs")
    t.ok(" / fuse.fuse-overlayfs " in res.get("line", ""),
         f"{name}: the container's / is the FUSE mount", diag=res.get("line"))
    t.ok(res.get("delete", (1,))[0] == 0 and res.get("after") == [],
         f"{name}: Delete unmounts it", diag=res)


def scenario_info(s):
    """-info (containerd 2.x introspection; containerd 1.6's runc shim has none): a protobuf
    RuntimeInfo with our name and version, the options read on stdin, and the features JSON of
    the runtime they select (the embedded one, or BinaryName's); bad options fail clearly."""
    t = s.t

    def info(stdin):
        r = subprocess.run([s.shim, "-info"], input=stdin, capture_output=True, timeout=30)
        return r, (pb_parse(r.stdout) if r.returncode == 0 else {})

    def features(msg):
        any_ = pb_parse(msg.get(4, [b""])[0])
        return any_.get(1, [b""])[0].decode(), json.loads(any_.get(2, [b"null"])[0])

    r, msg = info(b"")
    url, feat = features(msg)
    own = json.loads(subprocess.run(["minirun", "features"], executable=s.shim,
                                    capture_output=True, check=True).stdout)
    t.ok(r.returncode == 0 and msg.get(1) == [b"io.containerd.mini.v2"] and
         pb_parse(msg[2][0]).get(1, [b""])[0] and 3 not in msg,
         "mini: -info names the runtime and its version, no options given", diag=(r, msg))
    t.ok(url == "types.containerd.io/opencontainers/runtime-spec/1/features/Features" and
         feat == own, "mini: -info carries the embedded runtime's features", diag=(url, feat))
    opts = pb_bytes(1, "containerd.runc.v1.Options") + pb_bytes(2, pb_bytes(6, "runc"))
    r, msg = info(opts)
    runc = json.loads(subprocess.run(["runc", "features"], capture_output=True,
                                     check=True).stdout)
    t.ok(r.returncode == 0 and msg.get(3) == [opts] and features(msg)[1] == runc,
         "mini: -info with BinaryName=runc: those options, runc's features", diag=(r, msg))
    r, _ = info(b"garbage")
    t.ok(r.returncode == 1 and b"not a protobuf Any" in r.stderr and not r.stdout,
         "mini: -info with bad options fails, saying why", diag=r)


def main():
    with Suite("direct") as s:
        s.t.run("mini: scenario_direct ran", scenario_direct, s)
        for name, shim in (("mini", s.shim), ("runc", shutil.which("containerd-shim-runc-v2"))):
            for fn in (scenario_options, scenario_loop_rootfs, scenario_fuse_rootfs):
                s.t.run(f"{name}: {fn.__name__} ran", fn, s, name, shim)
        s.t.run("mini: scenario_mount_target ran", scenario_mount_target, s)
        s.t.run("mini: scenario_info ran", scenario_info, s)

if __name__ == "__main__":
    main()
