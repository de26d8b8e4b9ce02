#!/usr/bin/env python3
"""process.*: hostname, env, cwd, user and groups, umask, rlimits, noNewPrivileges, oomScoreAdj,
and the executable lookup."""

from runtime_utils import Skip, base_config, expect, expect_eq, expect_in, main


def test_hostname(rt):
    conf = base_config(["hostname"])
    conf["hostname"] = "box1"
    expect_eq(rt.run_output(conf), "box1\n", "hostname")


def test_domainname(rt):
    if rt.name == "runc":
        raise Skip("runc 1.1.5 does not implement domainname (runtime-spec 1.1)")
    conf = base_config(["cat", "/proc/sys/kernel/domainname"])
    conf["domainname"] = "example.org"
    expect_eq(rt.run_output(conf), "example.org\n", "domainname")


def test_time_namespace_offsets(rt):
    if rt.name == "runc":
        raise Skip("runc 1.1.5 does not implement the time namespace (runtime-spec 1.1)")
    conf = base_config(["cat", "/proc/self/timens_offsets"])
    conf["linux"]["namespaces"].append({"type": "time"})
    conf["linux"]["timeOffsets"] = {"monotonic": {"secs": 3600, "nanosecs": 5},
                                    "boottime": {"secs": 86400}}
    lines = sorted(" ".join(l.split()) for l in rt.run_output(conf).splitlines())
    expect_eq(lines, ["boottime 86400 0", "monotonic 3600 5"], "time namespace offsets")


def test_env(rt):
    conf = base_config(["env"])
    conf["process"]["env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY="]
    lines = sorted(rt.run_output(conf).splitlines())
    # HOME is added from /etc/passwd of the container when the config lacks it
    expect_eq(lines, ["EMPTY=", "FOO=bar baz", "HOME=/root", "PATH=/bin"], "environment")


def test_env_home_kept(rt):
    conf = base_config(["sh", "-c", "echo $HOME"])
    conf["process"]["env"].append("HOME=/custom")
    expect_eq(rt.run_output(conf), "/custom\n", "HOME from the config")


def test_cwd(rt):
    conf = base_config(["pwd"])
    conf["process"]["cwd"] = "/tmp"
    expect_eq(rt.run_output(conf), "/tmp\n", "cwd")


def test_cwd_created(rt):
    conf = base_config(["pwd"])
    conf["process"]["cwd"] = "/does/not/exist"
    r = rt.run(conf)
    # runc creates a missing cwd; so must we — or fail clearly. Both runtimes must agree.
    if r.rc == 0:
        expect_eq(r.out, "/does/not/exist\n", "cwd")
    else:
        expect_in("does/not/exist", r.err, "error names the cwd")


def test_user_ids(rt):
    conf = base_config(["sh", "-c", "id -u; id -g; id -G"])
    conf["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [20, 30]}
    out = rt.run_output(conf).split("\n")
    expect_eq(out[0], "1000", "uid")
    expect_eq(out[1], "1000", "gid")
    # exactly the additional gids: /etc/group (staff:50 lists user) is not consulted
    expect_eq(sorted(out[2].split()), sorted(["1000", "20", "30"]), "groups")


def test_stdio_owner(rt):
    """Stdio made outside (a file here) is given to the process's uid, its gid kept."""
    conf = base_config(["stat", "-L", "-c", "%u:%g", "/proc/self/fd/1"])
    conf["process"]["user"] = {"uid": 1000, "gid": 1000}
    expect_eq(rt.run_output(conf).strip(), "1000:0", "owner of stdout")


def test_root_groups(rt):
    conf = base_config(["id", "-G"])
    expect_eq(rt.run_output(conf).split(), ["0"], "no supplementary groups by default")


def test_status_ids(rt):
    conf = base_config(["grep", "-E", "^(Uid|Gid):", "/proc/self/status"])
    conf["process"]["user"] = {"uid": 123, "gid": 456}
    out = rt.run_output(conf).split("\n")
    expect_eq(out[0].split()[1:], ["123"] * 4, "real, effective, saved, fs uid")
    expect_eq(out[1].split()[1:], ["456"] * 4, "gids")


def test_umask(rt):
    conf = base_config(["sh", "-c", "umask"])
    expect_eq(rt.run_output(conf).strip(), "0022", "default umask")
    conf = base_config(["sh", "-c", "umask"])
    conf["process"]["user"]["umask"] = 0o077
    expect_eq(rt.run_output(conf).strip(), "0077", "user.umask")


def test_rlimits(rt):
    conf = base_config(["cat", "/proc/self/limits"])
    conf["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
    ]
    out = rt.run_output(conf)
    rows = {}
    for line in out.splitlines()[1:]:
        # fixed columns: name (26), soft (21), hard (21), units
        rows[line[:26].strip()] = [line[26:47].strip(), line[47:68].strip()]
    expect_eq(rows.get("Max open files"), ["1024", "2048"], "nofile")
    expect_eq(rows.get("Max core file size"), ["0", "0"], "core")
    expect_eq(rows.get("Max processes"), ["500", "600"], "nproc")


def test_no_new_privileges(rt):
    conf = base_config(["grep", "NoNewPrivs", "/proc/self/status"])
    conf["process"]["noNewPrivileges"] = True
    expect_eq(rt.run_output(conf).split(), ["NoNewPrivs:", "1"], "NoNewPrivs on")
    conf["process"]["noNewPrivileges"] = False
    expect_eq(rt.run_output(conf).split(), ["NoNewPrivs:", "0"], "NoNewPrivs off")


def test_oom_score_adj(rt):
    conf = base_config(["cat", "/proc/self/oom_score_adj"])
    conf["process"]["oomScoreAdj"] = 512
    expect_eq(rt.run_output(conf).strip(), "512", "oom_score_adj")


def test_path_lookup(rt):
    conf = base_config(["busybox", "echo", "found"])
    conf["process"]["env"] = ["PATH=/nowhere:/bin"]
    expect_eq(rt.run_output(conf), "found\n", "args[0] found through PATH")


def test_missing_executable(rt):
    conf = base_config(["no-such-binary"])
    r = rt.run(conf)
    expect(r.rc != 0, "a missing executable fails")
    expect_in("no-such-binary", r.err, "error names the executable")


def test_pid_namespace(rt):
    conf = base_config(["sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"])
    out = rt.run_output(conf).split()
    expect_eq(out[0], "1", "init is pid 1")


def test_namespaces_differ(rt):
    import os
    conf = base_config(["sh", "-c", "for n in ipc mnt net pid uts; do readlink /proc/1/ns/$n; done"])
    out = rt.run_output(conf).split()
    ours = [os.readlink(f"/proc/self/ns/{n}") for n in ("ipc", "mnt", "net", "pid", "uts")]
    for a, b in zip(out, ours):
        expect(a != b, f"namespace {a} is new")


def test_join_namespace_by_path(rt):
    import os
    import subprocess
    import time
    helper = subprocess.Popen(["unshare", "--net", "--uts", "sleep", "30"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.2)
        conf = base_config(["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/uts"])
        conf["linux"]["namespaces"] = [
            {"type": "pid"}, {"type": "ipc"}, {"type": "mount"},
            {"type": "network", "path": f"/proc/{helper.pid}/ns/net"},
            {"type": "uts", "path": f"/proc/{helper.pid}/ns/uts"},
        ]
        del conf["hostname"]
        out = rt.run_output(conf).split()
        expect_eq(out, [os.readlink(f"/proc/{helper.pid}/ns/net"),
                        os.readlink(f"/proc/{helper.pid}/ns/uts")],
                  "joined network and uts namespaces")
    finally:
        helper.kill()
        helper.wait()


def test_join_pid_namespace(rt):
    import os
    import subprocess
    import time
    # A helper process in a new pid namespace to join.
    helper = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sleep",
                               "30"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        kids = open(f"/proc/{helper.pid}/task/{helper.pid}/children").read().split()
        target = kids[0]
        conf = base_config(["sh", "-c", "readlink /proc/self/ns/pid; echo $$"])
        conf["linux"]["namespaces"] = [n for n in conf["linux"]["namespaces"]
                                       if n["type"] != "pid"]
        conf["linux"]["namespaces"].append({"type": "pid", "path": f"/proc/{target}/ns/pid"})
        out = rt.run_output(conf).split()
        expect_eq(out[0], os.readlink(f"/proc/{target}/ns/pid"), "joined pid namespace")
        expect(out[1] != "1", "not the namespace's init")
    finally:
        helper.kill()
        helper.wait()


def test_user_namespace(rt):
    import os
    conf = base_config(["sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map; "
                        "ls -ln /dev/null"])
    conf["linux"]["namespaces"].append({"type": "user"})
    conf["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    conf["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    b = rt.bundle(conf)
    # the mapped root must be able to reach the rootfs (mkdtemp makes 0700 directories)
    os.chmod(rt.workdir, 0o755)
    os.chmod(b, 0o755)
    cid = rt.new_id()
    r = rt.cmd("run", "--bundle", b, cid)
    expect_eq(r.rc, 0, f"run: {r!r}")
    out = r.out.splitlines()
    expect_eq(out[0], "0", "root in the user namespace")
    expect_eq(out[1].split(), ["0", "100000", "65536"], "uid_map")
    expect_eq(out[2].split(), ["0", "200000", "65536"], "gid_map")
    # no mknod in a user namespace: the host's node is bind-mounted (owned by the host's root,
    # which is unmapped: the overflow id)
    p = out[3].split()
    expect_eq((p[0][0], p[2], p[4] + p[5]), ("c", "65534", "1,3"), "/dev/null bind-mounted")


main(globals())
