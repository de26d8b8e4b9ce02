#!/usr/bin/env python3
"""Proves the private-containerd harness and the busybox test image with the reference runtime
(runc): image runs, directory rootfs runs, exit codes, users, a containerd restart with a live
container, and that nothing is left behind afterwards."""

import hashlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

from containerd import IMAGE, REPO, Containerd, image_dir  # noqa: E402
from tap import Tap, require_root  # noqa: E402


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_reproducible(t, tarball):
    """A second build into a fresh directory must give a byte-identical tarball."""
    with tempfile.TemporaryDirectory(prefix="mini-img-") as d:
        p = subprocess.run([os.path.join(REPO, "scripts", "mkimage-busybox.sh"), d],
                           capture_output=True, text=True, timeout=120)
        again = os.path.join(d, "busybox-oci.tar")
        t.ok(p.returncode == 0 and sha256_file(again) == sha256_file(tarball),
             "image build is reproducible (same tarball digest)",
             diag=f"rc={p.returncode} {p.stderr}")


def overlay_mounts(c, cid):
    rootfs = os.path.join(c.state, "io.containerd.runtime.v2.task", c.namespace, cid, "rootfs")
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if f" {rootfs} " in line and " - overlay " in line]


def main():
    require_root("the containerd integration suite")
    t = Tap()
    runc = None
    var_lib_existed = os.path.exists("/var/lib/containerd")
    sys_sock_existed = os.path.exists("/run/containerd/containerd.sock")

    c = Containerd()
    try:
        c.start()
    except Exception as e:  # noqa: BLE001
        t.bail_out(f"private containerd did not start: {e}")
    t.ok(c.running(), f"private containerd running under {c.tmpdir}")
    v = c.ctr("version")
    t.ok("1.6." in v.stdout.split("Server:", 1)[-1], "ctr version reaches containerd 1.6",
         diag=v.stdout)

    try:
        c.import_image()
        imported = True
    except Exception as e:  # noqa: BLE001
        imported = False
        t.ok(False, "busybox OCI tarball imports", diag=str(e))
    if imported:
        t.ok(True, f"busybox OCI tarball imports as {IMAGE}")
        check_reproducible(t, os.path.join(image_dir(), "busybox-oci.tar"))
        runc = c.runc_args()

    if runc:
        p = c.ctr("run", "--rm", *runc, IMAGE, "t1", "echo", "hello", check=False)
        t.is_((p.returncode, p.stdout), (0, "hello\n"), "image: echo hello", diag=p.stderr)

        p = c.ctr("run", "--rm", *runc, IMAGE, "t2", "sh", "-c", "exit 3", check=False)
        t.is_(p.returncode, 3, "image: exit code of sh -c 'exit 3' is 3", diag=p.stderr)

        p = c.ctr("run", "--rm", *runc, IMAGE, "t3", "id", check=False)
        t.ok(p.returncode == 0 and p.stdout.startswith("uid=0(root) gid=0(root)"),
             "image: id shows root", diag=f"{p.stdout} {p.stderr}")

        p = c.ctr("run", "--rm", *runc, IMAGE, "t4", "cat", "/etc/passwd", check=False)
        t.ok("nobody:x:65534:65534:" in p.stdout, "image: /etc/passwd has nobody (65534)",
             diag=f"{p.stdout} {p.stderr}")

        p = c.ctr("run", "--rm", *runc, IMAGE, "t5", "sh", "-c",
                  "ls /bin/ls /sbin/ifconfig /usr/bin/awk /usr/sbin/chroot && "
                  "stat -c %a /tmp && cat /etc/hostname", check=False)
        t.ok(p.returncode == 0 and "1777\nbusybox\n" in p.stdout,
             "image: applet links in all four dirs, /tmp 1777, /etc/hostname",
             diag=f"{p.stdout} {p.stderr}")

        # --rootfs: ctr sets no PATH without an image config, so use absolute paths.
        p = c.ctr("run", "--rm", *runc, "--rootfs", c.rootfs_dir, "r1", "/bin/echo", "hi",
                  check=False)
        t.is_((p.returncode, p.stdout), (0, "hi\n"), "rootfs dir: /bin/echo hi", diag=p.stderr)

        p = c.ctr("run", "--rm", *runc, "--rootfs", c.rootfs_dir, "r2", "/bin/sh", "-c",
                  "exit 5", check=False)
        t.is_(p.returncode, 5, "rootfs dir: exit code 5", diag=p.stderr)

        # A running container survives a SIGKILL of containerd; the restarted daemon still
        # manages it (exec works), and the image rootfs is an overlay mount in our state dir.
        p = c.ctr("run", "-d", *runc, IMAGE, "d1", "sleep", "1000", check=False)
        t.ok(p.returncode == 0 and overlay_mounts(c, "d1"),
             "detached container with an overlay rootfs under the private state dir",
             diag=p.stderr)
        try:
            c.restart(kill=True)
            restarted = True
        except Exception as e:  # noqa: BLE001
            restarted = False
            t.ok(False, "restart(kill=True)", diag=str(e))
        if restarted:
            ls = c.ctr("task", "ls", check=False).stdout
            t.ok(any(line.split()[:1] == ["d1"] and "RUNNING" in line
                     for line in ls.splitlines()),
                 "restart(kill=True): task still RUNNING after containerd restart", diag=ls)
            p = c.ctr("task", "exec", "--exec-id", "e1", "d1", "echo", "after-restart",
                      check=False)
            t.is_(p.stdout, "after-restart\n", "exec into the container after the restart",
                  diag=p.stderr)
        # d1 is deliberately left running: stop() must clean it up.

    if t.failed:
        c.failed = True  # print containerd's log with the results
    c.stop()
    left = c.check_clean()
    t.ok(not left, "after stop: no containerd, shim, container, mount, socket or temp dir",
         diag="\n".join(left))
    t.ok(not os.path.exists(c.tmpdir), "temporary directory removed")
    t.is_(os.path.exists("/var/lib/containerd"), var_lib_existed,
          "system /var/lib/containerd untouched")
    t.is_(os.path.exists("/run/containerd/containerd.sock"), sys_sock_existed,
          "system containerd socket untouched")
    t.done()


if __name__ == "__main__":
    main()
