#!/usr/bin/env python3
"""Mounts, rootfs, /dev and the protected paths, checked from /proc/self/mountinfo and from
inside the container."""

import os
import stat

from runtime_utils import Skip, base_config, expect, expect_eq, expect_in, main


def mountinfo(text):
    """mountpoint → (per-mount options, fstype, source, super options, optional fields, root)."""
    out = {}
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        f = left.split()
        r = right.split()
        if len(f) < 6 or len(r) < 3:
            continue
        out[f[4]] = (set(f[5].split(",")), r[0], r[1], set(r[2].split(",")), f[6:], f[3])
    return out


def run_mountinfo(rt, conf):
    conf["process"]["args"] = ["cat", "/proc/self/mountinfo"]
    return mountinfo(rt.run_output(conf))


def test_default_mounts(rt):
    m = run_mountinfo(rt, base_config())
    expect_eq(m["/proc"][1], "proc", "/proc type")
    expect({"rw", "nosuid"} <= m["/dev"][0], f"/dev options {m['/dev'][0]}")
    expect({"mode=755", "size=65536k"} <= m["/dev"][3], f"/dev data {m['/dev'][3]}")
    expect_eq(m["/dev/pts"][1], "devpts", "/dev/pts type")
    expect({"mode=620", "ptmxmode=666", "gid=5"} <= m["/dev/pts"][3], "devpts options")
    expect({"nosuid", "nodev", "noexec"} <= m["/dev/shm"][0], "/dev/shm options")
    expect_eq(m["/dev/mqueue"][1], "mqueue", "mqueue")
    expect({"ro", "nosuid", "nodev", "noexec"} <= m["/sys"][0], "/sys read-only")
    expect("/proc/sys" in m, "/proc/sys is a mount")
    for p in ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"):
        expect(p not in m or "ro" in m[p][0], f"readonly path {p}")
    expect_eq(m["/proc/acpi"][1], "tmpfs", "masked directory is an empty tmpfs")
    expect("ro" in m["/proc/acpi"][0], "masked tmpfs is read-only")
    expect_eq(m["/proc/keys"][1], "tmpfs", "masked file is /dev/null of the /dev tmpfs")
    expect_eq(m["/proc/keys"][5], "/null", "masked file is /dev/null")
    expect("/" in m and "rw" in m["/"][0], "rootfs rw")


def test_root_readonly(rt):
    conf = base_config(["sh", "-c", "touch /x 2>/dev/null && echo writable || echo readonly; "
                        "touch /tmp/y 2>/dev/null && echo tmp-writable || echo tmp-readonly"])
    conf["root"]["readonly"] = True
    expect_eq(rt.run_output(conf), "readonly\ntmp-readonly\n", "read-only rootfs")


def test_bind_mounts(rt):
    host = os.path.join(rt.workdir, f"hostdir-{rt.name}")
    os.makedirs(os.path.join(host, "sub"), exist_ok=True)
    with open(os.path.join(host, "file"), "w") as f:
        f.write("hello\n")
    conf = base_config(["sh", "-c",
                        "cat /data/file; touch /data/new 2>/dev/null && echo rw || echo ro; "
                        "cat /one-file; touch /rw/made && echo rw2"])
    conf["mounts"] += [
        {"destination": "/data", "type": "bind", "source": host, "options": ["rbind", "ro"]},
        {"destination": "/one-file", "type": "bind", "source": os.path.join(host, "file"),
         "options": ["bind"]},
        {"destination": "/rw", "type": "none", "source": os.path.join(host, "sub"),
         "options": ["bind", "rw"]},
    ]
    expect_eq(rt.run_output(conf), "hello\nro\nhello\nrw2\n", "bind mounts")
    expect(os.path.exists(os.path.join(host, "sub", "made")), "rw bind writes through")


def test_mount_flags(rt):
    host = os.path.join(rt.workdir, f"flags-{rt.name}")
    os.makedirs(host, exist_ok=True)
    conf = base_config()
    conf["mounts"] += [
        {"destination": "/m1", "type": "bind", "source": host,
         "options": ["bind", "nosuid", "nodev", "noexec", "ro"]},
        {"destination": "/m2", "type": "tmpfs", "source": "tmpfs",
         "options": ["nodev", "noatime", "mode=700", "size=1m"]},
    ]
    m = run_mountinfo(rt, conf)
    expect({"ro", "nosuid", "nodev", "noexec"} <= m["/m1"][0], f"/m1 {m['/m1'][0]}")
    expect({"nodev", "noatime"} <= m["/m2"][0], f"/m2 {m['/m2'][0]}")
    expect({"mode=700", "size=1024k"} <= m["/m2"][3], f"/m2 data {m['/m2'][3]}")


def test_propagation(rt):
    host = os.path.join(rt.workdir, f"prop-{rt.name}")
    os.makedirs(host, exist_ok=True)
    conf = base_config()
    conf["mounts"] += [
        {"destination": "/shared", "type": "bind", "source": host, "options": ["rbind", "rshared"]},
        {"destination": "/private", "type": "bind", "source": host,
         "options": ["rbind", "rprivate"]},
    ]
    m = run_mountinfo(rt, conf)
    expect(any(x.startswith("shared:") for x in m["/shared"][4]), f"shared {m['/shared'][4]}")
    expect(not any(x.startswith("shared:") for x in m["/private"][4]), "private")


def test_rootfs_propagation(rt):
    conf = base_config()
    conf["linux"]["rootfsPropagation"] = "private"
    m = run_mountinfo(rt, conf)
    expect(not any(x.startswith(("shared:", "master:")) for x in m["/"][4]),
           f"rootfs private: {m['/'][4]}")


def test_recursive_readonly(rt):
    if rt.name == "runc":
        raise Skip("runc 1.1.5 does not implement rro")
    host = os.path.join(rt.workdir, f"rro-{rt.name}")
    os.makedirs(os.path.join(host, "inner"), exist_ok=True)
    conf = base_config()
    conf["mounts"] += [
        {"destination": "/r", "type": "bind", "source": host, "options": ["rbind", "rro"]},
        {"destination": "/r/inner", "type": "tmpfs", "source": "tmpfs", "options": []},
    ]
    conf["process"]["args"] = ["sh", "-c", "touch /r/x 2>/dev/null || echo ro"]
    expect_eq(rt.run_output(conf), "ro\n", "rro")


def test_symlink_does_not_escape(rt):
    """A destination that goes through a symlink pointing outside must stay in the rootfs."""
    victim = os.path.join(rt.workdir, f"victim-{rt.name}")
    os.makedirs(victim, exist_ok=True)
    conf = base_config(["sh", "-c", "grep -c ' /evil/m ' /proc/self/mountinfo || true"])
    conf["mounts"].append({"destination": "/evil/m", "type": "tmpfs", "source": "tmpfs"})
    b = rt.bundle(conf)
    os.symlink("/../../../../../../../../" + victim.lstrip("/"), os.path.join(b, "rootfs", "evil"))
    cid = rt.new_id()
    r = rt.cmd("run", "--bundle", b, cid)
    rt.cleanup(cid)
    expect(not os.path.exists(os.path.join(victim, "m")), "nothing created on the host")
    inside = os.path.join(b, "rootfs", victim.lstrip("/"), "m")
    expect(r.rc != 0 or os.path.isdir(inside), f"destination created inside the rootfs: {r!r}")


def run_bundle(rt, b):
    """`run` on a bundle prepared by the test; returns the output."""
    cid = rt.new_id()
    r = rt.cmd("run", "--bundle", b, cid)
    rt.cleanup(cid)
    if r.rc != 0:
        raise AssertionError(f"container failed: {r!r}")
    return r.out


def test_tmpcopyup(rt):
    """A tmpfs on /etc with tmpcopyup starts with the rootfs's /etc: contents, owners, modes,
    symlinks, sub-directories; writes stay in the tmpfs."""
    conf = base_config(["sh", "-c",
                        "cat /etc/passwd | head -1; stat -c '%u:%g %a %F' /etc/secret; "
                        "readlink /etc/link; cat /etc/link | head -1; "
                        "stat -c '%u:%g %a %F' /etc/sub; cat /etc/sub/deep; "
                        "stat -c '%Y' /etc/sub/deep; "
                        "echo changed > /etc/passwd; echo new > /etc/made; cat /etc/passwd; "
                        "grep ' /etc ' /proc/self/mountinfo | cut -d' ' -f9; "
                        "readlink /etc/escape; "
                        "stat -c '%a %u:%g' /etc"])
    conf["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs",
                           "options": ["tmpcopyup", "nosuid", "size=1m"]})
    b = rt.bundle(conf)
    etc = os.path.join(b, "rootfs", "etc")
    with open(os.path.join(etc, "passwd")) as f:
        passwd = f.read()
    secret = os.path.join(etc, "secret")
    with open(secret, "w") as f:
        f.write("s\n")
    os.chown(secret, 123, 456)
    os.chmod(secret, 0o640)
    os.symlink("passwd", os.path.join(etc, "link"))
    os.makedirs(os.path.join(etc, "sub"))
    with open(os.path.join(etc, "sub", "deep"), "w") as f:
        f.write("deep\n")
    os.utime(os.path.join(etc, "sub", "deep"), (1000000000, 1000000000))
    os.chown(os.path.join(etc, "sub"), 7, 8)
    os.chmod(os.path.join(etc, "sub"), 0o751)
    # Copied as a link: the host directory it names is never read or written.
    victim = os.path.join(rt.workdir, f"copyup-victim-{rt.name}")
    os.makedirs(victim, exist_ok=True)
    os.symlink(victim, os.path.join(etc, "escape"))
    os.chmod(etc, 0o751)
    os.chown(etc, 5, 6)
    out = run_bundle(rt, b).splitlines()
    first = passwd.splitlines()[0]
    expect_eq(out[0], first, "/etc/passwd copied from the rootfs")
    expect_eq(out[1], "123:456 640 regular file", "owner and mode of a copied file")
    expect_eq(out[2], "passwd", "symlink copied as a symlink")
    expect_eq(out[3], first, "copied symlink resolves inside the tmpfs")
    expect_eq(out[4], "7:8 751 directory", "owner and mode of a copied directory")
    expect_eq(out[5], "deep", "sub-directory contents copied")
    if rt.name != "runc":  # runc 1.1.5 gives the copies the time of the copy
        expect_eq(out[6], "1000000000", "mtime preserved")
    expect_eq(out[7], "changed", "write inside the container")
    expect_eq(out[8], "tmpfs", "/etc is a tmpfs")
    expect_eq(out[9], victim, "absolute symlink copied as it is")
    root_mode, root_owner = out[10].split()
    expect_eq(root_mode, "751", "the tmpfs root has the destination's mode")
    if rt.name != "runc":  # runc 1.1.5 copies the mode only
        expect_eq(root_owner, "5:6", "the tmpfs root has the destination's owner")
    expect_eq(os.listdir(victim), [], "nothing written through the symlink")
    with open(os.path.join(etc, "passwd")) as f:
        expect_eq(f.read(), passwd, "the bundle's /etc/passwd is unchanged")
    expect(not os.path.exists(os.path.join(etc, "made")), "new file stayed in the tmpfs")


def test_tmpcopyup_special_files(rt):
    """Device nodes and fifos are recreated with their numbers, owner and mode."""
    if rt.name == "runc":
        raise Skip("runc 1.1.5 fails on character devices and fifos (lchown: no such file)")
    conf = base_config(["sh", "-c", "stat -c '%t,%T %u:%g %a %F' /etc/nulldev /etc/fifo"])
    conf["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs",
                           "options": ["tmpcopyup"]})
    b = rt.bundle(conf)
    etc = os.path.join(b, "rootfs", "etc")
    os.mknod(os.path.join(etc, "nulldev"), stat.S_IFCHR | 0o600, os.makedev(1, 3))
    os.chmod(os.path.join(etc, "nulldev"), 0o620)
    os.mkfifo(os.path.join(etc, "fifo"))
    os.chown(os.path.join(etc, "fifo"), 9, 10)
    os.chmod(os.path.join(etc, "fifo"), 0o604)
    expect_eq(run_bundle(rt, b).splitlines(),
              ["1,3 0:0 620 character special file", "0,0 9:10 604 fifo"], "special files")


def test_tmpcopyup_error(rt):
    """A copy that does not fit fails the container, and the error names the file."""
    conf = base_config()
    conf["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs",
                           "options": ["tmpcopyup", "size=64k"]})
    b = rt.bundle(conf)
    with open(os.path.join(b, "rootfs", "etc", "big"), "wb") as f:
        f.write(b"x" * (1 << 20))
    cid = rt.new_id()
    r = rt.cmd("run", "--bundle", b, cid)
    rt.cleanup(cid)
    expect(r.rc != 0, f"run fails: {r!r}")
    expect_in("big", r.err, "error message")


def test_tmpfs_without_copyup_is_empty(rt):
    conf = base_config(["sh", "-c", "ls -A /etc | wc -l"])
    conf["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs",
                           "options": ["nosuid"]})
    expect_eq(rt.run_output(conf).strip(), "0", "plain tmpfs on /etc is empty")


def test_tmpfs_mode(rt):
    """A tmpfs over an existing directory takes its mode; over a new one, tmpfs's 1777;
    mode= wins over a new directory (runc 1.1.5 also overrides mode= with an existing
    directory's mode; minirun keeps mode=, as runc 1.2 and crun)."""
    conf = base_config(["stat", "-c", "%a", "/etc", "/newdir", "/made"])
    for dest, opts in (("/etc", ["nosuid"]), ("/newdir", ["nosuid"]),
                       ("/made", ["nosuid", "mode=700"])):
        conf["mounts"].append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                               "options": opts})
    expect_eq(rt.run_output(conf).split(), ["755", "1777", "700"], "tmpfs root modes")


def test_tmpcopyup_new_destination(rt):
    """A destination missing from the rootfs is created and gets an empty, writable tmpfs."""
    conf = base_config(["sh", "-c", "ls -A /fresh/dir | wc -l; touch /fresh/dir/x && echo w; "
                        "grep -c ' /fresh/dir ' /proc/self/mountinfo"])
    conf["mounts"].append({"destination": "/fresh/dir", "type": "tmpfs", "source": "tmpfs",
                           "options": ["tmpcopyup"]})
    expect_eq(rt.run_output(conf).split(), ["0", "w", "1"], "tmpcopyup on a new directory")


def test_tmpcopyup_readonly(rt):
    """"ro" applies after the copy: the contents are there and the mount is read-only."""
    conf = base_config(["sh", "-c", "head -1 /etc/group; touch /etc/x 2>/dev/null && echo w "
                        "|| echo ro"])
    conf["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs",
                           "options": ["tmpcopyup", "ro"]})
    out = rt.run_output(conf).splitlines()
    expect_eq(out[0].split(":")[0], "root", "/etc/group copied")
    expect_eq(out[1], "ro", "read-only after the copy")


def test_dev(rt):
    conf = base_config(["ls", "-ln", "/dev"])
    conf["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229},
        {"path": "/dev/sub/loop9", "type": "b", "major": 7, "minor": 9, "fileMode": 0o600,
         "uid": 5, "gid": 6},
    ]
    rows = {}
    for line in rt.run_output(conf).splitlines()[1:]:
        p = line.split()
        rows[p[-1] if "->" not in line else p[-3]] = p
    for name, mm in (("null", "1,3"), ("zero", "1,5"), ("full", "1,7"), ("random", "1,8"),
                     ("urandom", "1,9"), ("tty", "5,0"), ("fuse", "10,229")):
        expect(name in rows, f"/dev/{name} exists")
        expect_eq(rows[name][0], "crw-rw-rw-", f"/dev/{name} mode")
        expect_eq(rows[name][4] + rows[name][5], mm, f"/dev/{name} numbers")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("ptmx", "pts/ptmx")):
        expect(name in rows and rows[name][-1] == target, f"/dev/{name} -> {target}")
    conf = base_config(["ls", "-ln", "/dev/sub/loop9"])
    conf["linux"]["devices"] = [{"path": "/dev/sub/loop9", "type": "b", "major": 7, "minor": 9,
                                 "fileMode": 0o600, "uid": 5, "gid": 6}]
    p = rt.run_output(conf).split()
    expect_eq((p[0], p[2], p[3], p[4] + p[5]), ("brw-------", "5", "6", "7,9"), "loop9")


def test_masked_and_readonly_paths(rt):
    conf = base_config(["sh", "-c",
                        "cat /proc/keys | wc -c; ls /sys/firmware | wc -l; "
                        "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo w || echo ro"])
    expect_eq(rt.run_output(conf).split(), ["0", "0", "ro"], "masked and read-only paths")


def test_sysctl(rt):
    conf = base_config(["cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/msgmax"])
    conf["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "12345"}
    expect_eq(rt.run_output(conf).split(), ["1", "12345"], "sysctl")


def test_cgroup_mount(rt):
    conf = base_config()
    conf["linux"]["cgroupsPath"] = "/minirt-test/" + rt.new_id("cgm")
    conf["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                           "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
    m = run_mountinfo(rt, conf)
    expect_eq(m["/sys/fs/cgroup"][1], "tmpfs", "v1 layout: a tmpfs")
    expect("/sys/fs/cgroup/memory" in m, "memory hierarchy mounted")
    expect("ro" in m["/sys/fs/cgroup/memory"][0], "hierarchy read-only")
    expect_in(conf["linux"]["cgroupsPath"], m["/sys/fs/cgroup/memory"][5],
              "the container's own cgroup")


def test_no_pivot(rt):
    conf = base_config(["sh", "-c", "cat /proc/self/mountinfo | grep -c ' / ' ; ls /"])
    r = rt.run(conf, extra=("--no-pivot",))
    expect_eq(r.rc, 0, f"run --no-pivot: {r!r}")
    expect_in("bin", r.out, "rootfs visible")


main(globals())
