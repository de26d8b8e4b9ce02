#!/usr/bin/env python3
"""Id-mapped bind mounts (mounts[].uidMappings / gidMappings, options idmap and ridmap). The
expectations are proved with crun 1.8.1 (runc 1.1.5 has no idmapped mounts): a mapping
{containerID: C, hostID: H, size: N} makes the id C+k of the source filesystem appear as H+k in
the mount, and ids outside every range appear as 65534."""

import os
import tempfile

from runtime_utils import (Skip, base_config, crun_runtime, expect, expect_eq, expect_in, main)

RUNC_SKIP = "runc 1.1.5 has no idmapped mounts"


def one_to_one(container_id, host_id, size=1):
    return [{"containerID": container_id, "hostID": host_id, "size": size}]


def host_dir(rt, name, uid=1000, gid=1000):
    """A host directory owned by uid:gid holding file "f" owned the same way."""
    d = os.path.join(rt.workdir, f"{name}-{rt.name}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f"), "w") as f:
        f.write("data\n")
    os.chown(d, uid, gid)
    os.chown(os.path.join(d, "f"), uid, gid)
    return d


def host_mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [l for l in f.read().splitlines() if path in l]


def test_idmapped_volume(rt):
    """A volume owned by 1000 appears as root's in a container without a user namespace; what
    root creates through it belongs to 1000 on the host."""
    if rt.name == "runc":
        raise Skip(RUNC_SKIP)
    host = host_dir(rt, "idmap-vol")
    conf = base_config(["sh", "-c", "stat -c %u:%g /data/f; touch /data/new; "
                        "stat -c %u:%g /data/new; grep ' /data ' /proc/self/mountinfo"])
    conf["mounts"].append({"destination": "/data", "type": "bind", "source": host,
                           "options": ["rbind"], "uidMappings": one_to_one(1000, 0),
                           "gidMappings": one_to_one(1000, 0)})
    out = rt.run_output(conf).splitlines()
    expect_eq(out[:2], ["0:0", "0:0"], "owners seen in the container")
    expect("idmapped" in out[2].split()[5].split(","), f"an idmapped mount: {out[2]}")
    st = os.stat(os.path.join(host, "new"))
    expect_eq((st.st_uid, st.st_gid), (1000, 1000), "owner on the host of the new file")


def test_idmap_option_range_readonly_file(rt):
    """The idmap option on a single-file bind, read-only, with a range: 1005 appears as 2005;
    root (0, outside every range) appears as 65534."""
    if rt.name == "runc":
        raise Skip(RUNC_SKIP)
    host = host_dir(rt, "idmap-file", 1005, 1006)
    with open(os.path.join(host, "root-owned"), "w") as f:
        f.write("x\n")
    conf = base_config(["sh", "-c", "stat -c %u:%g /f /r; echo y >> /f 2>/dev/null && echo rw "
                        "|| echo ro"])
    maps = one_to_one(1000, 2000, 10)
    conf["mounts"] += [
        {"destination": "/f", "type": "bind", "source": os.path.join(host, "f"),
         "options": ["bind", "idmap", "ro"], "uidMappings": maps, "gidMappings": maps},
        {"destination": "/r", "type": "bind", "source": os.path.join(host, "root-owned"),
         "options": ["bind", "idmap"], "uidMappings": maps, "gidMappings": maps},
    ]
    expect_eq(rt.run_output(conf), "2005:2006\n65534:65534\nro\n", "mapped owners, read-only")


def test_ridmap_submounts(rt):
    """On an rbind tree, idmap maps only its top mount, ridmap every mount (runc 1.2's
    semantics)."""
    if rt.name == "runc":
        raise Skip(RUNC_SKIP)
    if rt.name == "crun":
        raise Skip("crun 1.8.1 clones only the top mount of an idmapped rbind, and has no "
                   "ridmap")
    tree = host_dir(rt, "ridmap-tree")
    sub = host_dir(rt, "ridmap-sub")
    os.makedirs(os.path.join(tree, "sub"), exist_ok=True)
    expect_eq(os.system(f"mount --bind {sub} {tree}/sub"), 0, "host submount")
    try:
        conf = base_config(["sh", "-c", "stat -c %u /a/f /a/sub/f /b/f /b/sub/f"])
        for dest, opt in (("/a", "idmap"), ("/b", "ridmap")):
            conf["mounts"].append({"destination": dest, "type": "bind", "source": tree,
                                   "options": ["rbind", opt],
                                   "uidMappings": one_to_one(1000, 0),
                                   "gidMappings": one_to_one(1000, 0)})
        out = rt.run_output(conf)
    finally:
        os.system(f"umount {tree}/sub")
    expect_eq(out, "0\n1000\n0\n0\n", "idmap: the top mount only; ridmap: the whole tree")


def test_idmap_bad_fields_name_the_path(rt):
    if rt.name == "runc":
        raise Skip(RUNC_SKIP)
    n = len(base_config()["mounts"])
    # (the field, the path its error names, whether crun 1.8.1 rejects it too)
    cases = [
        ({"uidMappings": one_to_one(0, 1000, 0)}, f"mounts[{n}].uidMappings[0].size", True),
        ({"gidMappings": [{"containerID": "x", "hostID": 0, "size": 1}]},
         f"mounts[{n}].gidMappings[0].containerID", True),
        ({"uidMappings": {"containerID": 0}}, f"mounts[{n}].uidMappings", False),
        ({"uidMappings": [{"containerID": 0, "hostID": -1, "size": 1}]},
         f"mounts[{n}].uidMappings[0].hostID", True),
        ({"uidMappings": one_to_one(0, 4294967295)}, f"mounts[{n}].uidMappings[0].size", True),
    ]
    for extra, path, crun_rejects in cases:
        if rt.name == "crun" and not crun_rejects:
            continue
        conf = base_config()
        m = {"destination": "/data", "type": "bind", "source": "/tmp", "options": ["rbind"]}
        m.update(extra)
        conf["mounts"].append(m)
        r = rt.run(conf)
        expect(r.rc != 0, f"{extra} is rejected: {r!r}")
        if rt.name == "minirun":
            expect_in(path, r.err, "error names the field")
        expect_eq(host_mounts_under(rt.bundles[-1][0]), [], "nothing left mounted")


def test_idmap_missing_source(rt):
    if rt.name == "runc":
        raise Skip(RUNC_SKIP)
    missing = os.path.join(rt.workdir, f"no-such-dir-{rt.name}")
    conf = base_config()
    conf["mounts"].append({"destination": "/data", "type": "bind", "source": missing,
                           "options": ["rbind"], "uidMappings": one_to_one(1000, 0),
                           "gidMappings": one_to_one(1000, 0)})
    cid = rt.new_id()
    r = rt.run(conf, cid=cid)
    expect(r.rc != 0, f"rejected: {r!r}")
    expect_in(missing, r.err, "error names the source")
    expect_eq(host_mounts_under(rt.bundles[-1][0]), [], "nothing left mounted")
    expect(rt.cmd("state", cid).rc != 0, "no container left")


def test_idmap_option_without_mappings(rt):
    """Without a user namespace the idmap option has no mapping to use: refused (crun fails in
    mount_setattr with EPERM)."""
    if rt.name == "runc":
        raise Skip(RUNC_SKIP)
    host = host_dir(rt, "idmap-nomap")
    conf = base_config()
    conf["mounts"].append({"destination": "/data", "type": "bind", "source": host,
                           "options": ["rbind", "idmap"]})
    r = rt.run(conf)
    expect(r.rc != 0, f"rejected: {r!r}")
    if rt.name == "minirun":
        expect_in("/data: the idmap option needs uidMappings and gidMappings", r.err,
                  "message")
    expect_eq(host_mounts_under(rt.bundles[-1][0]), [], "nothing left mounted")


def test_idmap_with_userns(rt):
    """With a user namespace (container root = host 100000) the runtime maps the mount before
    the init enters it. Explicit mappings: a volume owned by 1000 shown as 100000, that is as
    the container's root; the option idmap alone takes the container's own mappings (a
    root-owned volume appears root-owned). Files created through the mounts land with the
    source's ids on the host."""
    if rt.name == "runc":
        raise Skip(RUNC_SKIP)
    owned = host_dir(rt, "idmap-userns")
    rooted = host_dir(rt, "idmap-userns-root", uid=0, gid=0)
    conf = base_config(["sh", "-c", "stat -c %u:%g /mnt/f /home/user/f; "
                        "touch /mnt/new /home/user/new"])
    conf["linux"]["namespaces"].append({"type": "user"})
    conf["linux"]["uidMappings"] = one_to_one(0, 100000, 65536)
    conf["linux"]["gidMappings"] = one_to_one(0, 100000, 65536)
    conf["mounts"].append({"destination": "/mnt", "type": "bind", "source": owned,
                           "options": ["rbind"], "uidMappings": one_to_one(1000, 100000),
                           "gidMappings": one_to_one(1000, 100000)})
    conf["mounts"].append({"destination": "/home/user", "type": "bind", "source": rooted,
                           "options": ["rbind", "idmap"]})
    b = rt.bundle(conf)
    # the mapped root must be able to reach the rootfs (mkdtemp makes 0700 directories)
    os.chmod(rt.workdir, 0o755)
    os.chmod(b, 0o755)
    # Not the host's /dev/null as stdin: crun hands stdio to the container's root, and would
    # chown the host's device.
    with tempfile.TemporaryFile() as stdin:
        r = rt.cmd("run", "--bundle", b, rt.new_id(), stdin=stdin)
    expect_eq(r.rc, 0, f"run: {r!r}")
    expect_eq(r.out.split(), ["0:0", "0:0"], "both volumes appear as the container root's")
    for d, want in ((owned, (1000, 1000)), (rooted, (0, 0))):
        st = os.stat(os.path.join(d, "new"))
        expect_eq((st.st_uid, st.st_gid), want, f"owner on the host of {d}/new")
    expect_eq(host_mounts_under(b), [], "nothing left mounted")


def test_idmap_joined_userns_needs_mappings(rt):
    """The option idmap alone takes the container's mappings, which a joined user namespace
    does not give: refused before anything is made."""
    if rt.name != "minirun":
        raise Skip("minirun's own check")
    conf = base_config()
    conf["linux"]["namespaces"].append({"type": "user", "path": "/proc/1/ns/user"})
    conf["mounts"].append({"destination": "/mnt", "type": "bind",
                           "source": host_dir(rt, "idmap-joined"), "options": ["rbind", "idmap"]})
    r = rt.run(conf)
    expect(r.rc != 0, f"rejected: {r!r}")
    expect_in(f"mounts[{len(conf['mounts']) - 1}]: mount /mnt: an idmap option in a joined user "
              "namespace needs the mount's own uidMappings and gidMappings", r.err, "message")


def test_features_idmap(rt):
    if rt.name != "minirun":
        raise Skip("runc 1.1.5 and crun 1.8.1 have no mountExtensions in features")
    import json
    r = rt.cmd("features")
    expect_eq(r.rc, 0, f"features: {r!r}")
    f = json.loads(r.out)
    expect_eq(f["linux"]["mountExtensions"]["idmap"]["enabled"], True, "idmap enabled")
    expect("idmap" in f["mountOptions"] and "ridmap" in f["mountOptions"], "options listed")


main(globals(), extra=crun_runtime)
