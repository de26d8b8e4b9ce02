#!/usr/bin/env python3
"""No runtime file descriptor reaches the container beyond stdio and --preserve-fds
(CVE-2024-21626), and a cwd can only be inside the rootfs."""

import os

from runtime_utils import base_config, expect, expect_eq, main


def test_only_stdio(rt):
    # A non-CLOEXEC directory fd in the caller must not leak either.
    leak = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    os.set_inheritable(leak, True)
    try:
        r = rt.run(base_config(["ls", "/proc/self/fd"]), pass_fds=(leak,))
        # ls itself opens one fd (3) to read the directory
        expect_eq(r.rc, 0, f"run: {r!r}")
        expect_eq(sorted(r.out.split()), ["0", "1", "2", "3"], "fds in the container")
    finally:
        os.close(leak)


def test_preserve_fds(rt):
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    # make them fds 3 and 4 in the runtime: pass through a small shell redirection
    conf = base_config(["sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; echo via-fd4 >&4"])
    b = rt.bundle(conf)
    cid = rt.new_id()
    import subprocess
    argv = [rt.path, "--root", rt.root, "run", "--preserve-fds", "2", "--bundle", b, cid]
    p = subprocess.run(["sh", "-c", f'exec 3<&{r1} 4>&{w2}; exec "$@"', "sh"] + argv,
                       pass_fds=(r1, w2), capture_output=True, text=True, timeout=30)
    os.close(w2)
    got = os.read(r2, 100).decode()
    for fd in (r1, w1, r2):
        os.close(fd)
    expect_eq(p.returncode, 0, f"run --preserve-fds: {p.stderr}")
    expect_eq(sorted(p.stdout.split()), ["0", "1", "2", "3", "4", "5"], "fds 3 and 4 passed")
    expect_eq(got, "via-fd4\n", "fd 4 is the caller's pipe")


def test_cwd_via_proc_fd(rt):
    # CVE-2024-21626: a cwd reached through a runtime fd would be a host directory. It must
    # fail, never give a cwd outside the container's root.
    for fd in range(3, 10):
        conf = base_config(["pwd"])
        conf["process"]["cwd"] = f"/proc/self/fd/{fd}"
        r = rt.run(conf)
        expect(r.rc != 0 or not r.out.startswith("(unreachable)"),
               f"cwd /proc/self/fd/{fd} escaped: {r!r}")


def test_runtime_binary_not_reachable(rt):
    """CVE-2019-5736: the init (a runtime process until start) must not expose the runtime's
    binary on the host through /proc/<pid>/exe, and writing through it must fail."""
    b = rt.bundle(base_config(["sleep", "60"]))
    cid = rt.new_id()
    try:
        expect_eq(rt.cmd("create", "--bundle", b, cid).rc, 0, "create")
        pid = rt.state(cid)["pid"]
        exe = os.readlink(f"/proc/{pid}/exe")
        expect(exe != os.path.realpath(rt.path), f"init runs the host binary: {exe}")
        try:
            fd = os.open(f"/proc/{pid}/exe", os.O_WRONLY)
            try:
                os.write(fd, b"x")
                wrote = True
            except OSError:
                wrote = False
            finally:
                os.close(fd)
        except OSError:
            wrote = False
        expect(not wrote, "the init's executable is writable")
        expect(os.path.getsize(rt.path) > 1000, "runtime binary intact")
    finally:
        rt.cleanup(cid)


main(globals())
