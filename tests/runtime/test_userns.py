#!/usr/bin/env python3
"""User namespaces: id maps as the container sees them, a rootfs owned by the mapped root (what
runc expects: the runtime does not chown it), devices bind-mounted and usable, and rootless
containers (the runtime run by an unprivileged user, here nobody, on a rootfs that user owns).
Each test also runs against runc."""

import json
import os
import pwd
import subprocess
import tempfile

from runtime_utils import Skip, base_config, expect, expect_eq, main, make_rootfs, TIMEOUT

HOST_UID, HOST_GID = 100000, 200000


def userns_conf(args):
    conf = base_config(args)
    conf["linux"]["namespaces"].append({"type": "user"})
    conf["linux"]["uidMappings"] = [{"containerID": 0, "hostID": HOST_UID, "size": 1000},
                                    {"containerID": 1000, "hostID": HOST_UID + 5000,
                                     "size": 10}]
    conf["linux"]["gidMappings"] = [{"containerID": 0, "hostID": HOST_GID, "size": 65536}]
    return conf


def chown_tree(path, uid, gid):
    for d, dirs, files in os.walk(path):
        os.lchown(d, uid, gid)
        for n in dirs + files:
            os.lchown(os.path.join(d, n), uid, gid)


def test_maps_and_owned_rootfs(rt):
    conf = userns_conf(["sh", "-c", " ; ".join([
        "cat /proc/self/uid_map /proc/self/gid_map | tr -s ' ' | sed 's/^ //'",
        "stat -c 'root=%u:%g' / /bin/busybox",
        "echo x > /tmp/made-inside && echo write-ok",
        "echo x > /dev/null && echo devnull-ok",
        "ls -ln /dev/null | awk '{print \"null-owner=\" $3}'"])])
    b = rt.bundle(conf)
    os.chmod(rt.workdir, 0o755)
    os.chmod(b, 0o755)
    # the runtime does not chown the rootfs: it belongs to the mapped root already
    chown_tree(os.path.join(b, "rootfs"), HOST_UID, HOST_GID)
    r = rt.cmd("run", "--bundle", b, rt.new_id())
    expect_eq(r.rc, 0, f"run: {r!r}")
    expect_eq(r.out.splitlines(), [
        "0 100000 1000", "1000 105000 10", "0 200000 65536",
        "root=0:0", "root=0:0", "write-ok", "devnull-ok",
        # the host's node, bind-mounted: its owner (host root) is unmapped
        "null-owner=65534"], "what the container sees")
    st = os.stat(os.path.join(b, "rootfs", "tmp", "made-inside"))
    expect_eq((st.st_uid, st.st_gid), (HOST_UID, HOST_GID), "a file made inside, from the host")


def test_unmapped_rootfs_is_not_root(rt):
    conf = userns_conf(["sh", "-c", "stat -c '%u:%g' /; touch /x 2>&1 || true"])
    b = rt.bundle(conf)
    os.chmod(rt.workdir, 0o755)
    os.chmod(b, 0o755)
    r = rt.cmd("run", "--bundle", b, rt.new_id())
    expect_eq(r.rc, 0, f"run: {r!r}")
    lines = r.out.splitlines()
    expect_eq(lines[0], "65534:65534", "a host-root rootfs shows as the overflow ids")
    expect("Permission denied" in r.out or "Read-only" in r.out,
           f"and the mapped root cannot write it: {r!r}")


def test_rootless(rt):
    """minirun (and runc) run as nobody: `spec --rootless`'s config, a rootfs nobody owns, no
    cgroup (nobody may not create one), state under a directory nobody owns."""
    nobody = pwd.getpwnam("nobody")
    work = tempfile.mkdtemp(prefix="rootless-", dir=rt.workdir)
    os.chmod(rt.workdir, 0o755)
    bundle = os.path.join(work, "bundle")
    os.makedirs(bundle)
    make_rootfs(os.path.join(bundle, "rootfs"))
    chown_tree(work, nobody.pw_uid, nobody.pw_gid)

    def as_nobody(*args, cwd=bundle):
        return subprocess.run([rt.path, "--root", os.path.join(work, "state")] + list(args),
                              cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                              user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[],
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    r = as_nobody("spec", "--rootless")
    expect_eq(r.returncode, 0, f"spec --rootless as nobody: {r}")
    conf_path = os.path.join(bundle, "config.json")
    with open(conf_path) as f:
        conf = json.load(f)
    expect_eq(conf["linux"]["uidMappings"],
              [{"containerID": 0, "hostID": nobody.pw_uid, "size": 1}], "the spec maps nobody")
    conf["process"]["terminal"] = False
    conf["root"]["readonly"] = False
    conf["process"]["args"] = ["sh", "-c", "id -u; cat /proc/self/uid_map | tr -s ' '; "
                               "echo x > /tmp/f && echo write-ok; grep CapEff /proc/self/status"]
    with open(conf_path, "w") as f:
        json.dump(conf, f)
    r = as_nobody("run", "rootless-" + rt.name)
    if r.returncode != 0 and "Operation not permitted" in r.stderr and "user" in r.stderr:
        raise Skip(f"the kernel refuses unprivileged user namespaces: {r.stderr.strip()}")
    expect_eq(r.returncode, 0, f"rootless run: {r}")
    expect_eq(r.stdout.splitlines(), ["0", " 0 65534 1", "write-ok", "CapEff:\t0000000020000420"],
              "root inside, nobody outside, the spec's three capabilities")
    st = os.stat(os.path.join(bundle, "rootfs", "tmp", "f"))
    expect_eq(st.st_uid, nobody.pw_uid, "a file made inside belongs to nobody")


main(globals())
