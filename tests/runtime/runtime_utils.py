"""Helpers for the runtime suite: busybox bundles, a runc-compatible CLI driver, and a TAP runner
that runs every test against both minirun and runc (runc proves the expectation itself).

    from runtime_utils import base_config, Bundle, main
    def test_hostname(rt):
        conf = base_config(["hostname"]); conf["hostname"] = "box"
        out = rt.run_output(conf)
        expect_eq(out.strip(), "box")
    main(globals())

A test raises AssertionError (or anything) to fail, raises Skip to skip. Failures print the
command, the bundle path and the config. Standard library only.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap, skip_all  # noqa: E402

BUSYBOX = "/bin/busybox"
TIMEOUT = 30

PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
GROUP = "root:x:0:\nwheel:x:10:root\nuser:x:1000:\nstaff:x:50:user\n"


class Skip(Exception):
    pass


def expect(cond, msg="expectation failed"):
    if not cond:
        raise AssertionError(msg)


def expect_eq(got, want, what="value"):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def expect_in(needle, hay, what="output"):
    if needle not in hay:
        raise AssertionError(f"{what}: {needle!r} not found in {hay!r}")


def make_rootfs(path):
    """A self-contained busybox rootfs: the static binary, applet links, passwd and group."""
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root", "home/user", "mnt"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    os.chmod(os.path.join(path, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(path, "bin", a))
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write(PASSWD)
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write(GROUP)


def base_config(args=None):
    """What `runc spec` gives, minus terminal and capability sets (capabilities are applied by
    part 2 of minirun; without the key both runtimes keep root's full set)."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args or ["true"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/",
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "mini",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                         "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/timer_list",
                            "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


class Result:
    def __init__(self, argv, proc):
        self.argv = argv
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"rc={self.rc} argv={self.argv}\nstdout={self.out!r}\nstderr={self.err!r}"


class Runtime:
    """One OCI runtime binary with a private --root; every call is recorded for diagnostics."""

    def __init__(self, name, path, workdir):
        self.name = name
        self.path = path
        self.workdir = workdir
        self.root = os.path.join(workdir, "state-" + name)
        self.calls = []
        self.bundles = []
        self.counter = 0

    def new_id(self, prefix="t"):
        self.counter += 1
        return f"{prefix}{os.getpid()}-{self.counter}"

    def bundle(self, conf):
        """A fresh bundle directory with its own rootfs and conf as config.json."""
        b = tempfile.mkdtemp(prefix=f"bundle-{self.name}-", dir=self.workdir)
        make_rootfs(os.path.join(b, "rootfs"))
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(conf, f, indent=1)
        self.bundles.append((b, conf))
        return b

    def cmd(self, *args, input=None, timeout=TIMEOUT, pass_fds=(), stdin=None, env=None):
        """Runs the runtime. Output goes to files, not pipes: a container started by create or
        run -d inherits them, and a pipe would keep us waiting for its EOF."""
        argv = [self.path, "--root", self.root] + list(args)
        self.calls.append(argv)
        with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err:
            if input is not None:
                stdin = tempfile.TemporaryFile(mode="w+")
                stdin.write(input)
                stdin.seek(0)
            proc = subprocess.run(argv, stdin=stdin if stdin is not None else
                                  subprocess.DEVNULL, stdout=out, stderr=err,
                                  timeout=timeout, pass_fds=pass_fds, env=env)
            out.seek(0)
            err.seek(0)
            proc.stdout = out.read()
            proc.stderr = err.read()
        return Result(argv, proc)

    def run(self, conf, cid=None, extra=(), **kw):
        """`run` in the foreground; returns the Result (rc is the container's exit code)."""
        b = self.bundle(conf)
        cid = cid or self.new_id()
        kw.setdefault("stdin", subprocess.DEVNULL)
        return self.cmd("run", "--bundle", b, *extra, cid, **kw)

    def run_output(self, conf, **kw):
        r = self.run(conf, **kw)
        if r.rc != 0:
            raise AssertionError(f"container failed: {r!r}")
        return r.out

    def state(self, cid):
        r = self.cmd("state", cid)
        if r.rc != 0:
            raise AssertionError(f"state failed: {r!r}")
        return json.loads(r.out)

    def cleanup(self, cid):
        self.cmd("delete", "--force", cid)

    def diag(self):
        lines = []
        for argv in self.calls[-6:]:
            lines.append("command: " + " ".join(argv))
        for b, conf in self.bundles[-2:]:
            lines.append(f"bundle: {b}")
            lines.append("config: " + json.dumps(conf))
        return "\n".join(lines)


def wait_for(pred, timeout=5.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_status(rt, cid, status, timeout=5.0):
    wait_for(lambda: rt.state(cid)["status"] == status, timeout, f"{cid} to be {status}")


class ConsoleReceiver:
    """The --console-socket end: a unix socket that receives the pty master (SCM_RIGHTS)."""

    def __init__(self, workdir):
        self.path = os.path.join(tempfile.mkdtemp(dir=workdir), "console.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)

    def receive(self):
        conn, _ = self.sock.accept()
        with conn:
            msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        if not fds:
            raise AssertionError("no fd received on the console socket")
        return fds[0]

    def close(self):
        self.sock.close()


def read_all_fd(fd, timeout=TIMEOUT):
    """Reads a pty master until EIO (the slave side closed) or the timeout."""
    import select
    data = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def runtimes(workdir):
    out = []
    minirun = os.environ.get("MINIRUN") or shutil.which("minirun")
    if minirun:
        out.append(Runtime("minirun", minirun, workdir))
    runc = os.environ.get("RUNC", shutil.which("runc") or "")
    if runc and os.environ.get("MINI_TESTS_NO_RUNC") != "1":
        out.append(Runtime("runc", runc, workdir))
    return out


CRUN = "/usr/bin/crun"

HOST_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")

# crun 1.8 refuses this machine's hybrid cgroup layout (controllers on /sys/fs/cgroup/unified).
# Each crun call runs in a private mount namespace without that mount (as bench-runtime.sh
# does), and crun manages no cgroup, so nothing changes for the host.
CRUN_WRAPPER = """#!/bin/sh
exec unshare --mount --propagation private /bin/sh -c \
    'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' \
    {crun} --cgroup-manager=disabled "$@"
"""


def crun_runtime(workdir):
    """A Runtime for crun (it has what runc 1.1.5 lacks, such as idmapped mounts), or None when
    /usr/bin/crun is missing or MINI_TESTS_NO_CRUN=1. Pass as main(globals(), extra=...)."""
    crun = os.environ.get("CRUN", CRUN)
    if not os.access(crun, os.X_OK) or os.environ.get("MINI_TESTS_NO_CRUN") == "1":
        return None
    wrapper = os.path.join(workdir, "crun-wrapper.sh")
    with open(wrapper, "w") as f:
        f.write(CRUN_WRAPPER.format(crun=crun))
    os.chmod(wrapper, 0o755)
    return Runtime("crun", wrapper, workdir)


def require_root():
    if os.geteuid() == 0:
        return
    if os.environ.get("MINI_TESTS_REQUIRE_ROOT") == "1":
        print("1..1\nnot ok 1 - runtime tests need root (MINI_TESTS_REQUIRE_ROOT=1)")
        sys.exit(1)
    skip_all("runtime tests need root")


def main(namespace, extra=None):
    """Runs every test_* function of the calling module against each runtime, as TAP. extra,
    if given, is called with the work directory and returns one more Runtime (or None), such
    as crun_runtime."""
    require_root()
    if not os.path.exists(BUSYBOX):
        skip_all("no /bin/busybox (Debian busybox-static)")
    workdir = tempfile.mkdtemp(prefix="minirt-tests-")
    rts = runtimes(workdir)
    more = extra(workdir) if extra is not None else None
    if more is not None:
        rts.append(more)
    t = Tap()
    if not rts or rts[0].name != "minirun":
        t.bail_out("MINIRUN is not set and minirun is not in PATH")
    devices = {d: os.stat(d) for d in HOST_DEVICES}
    only = os.environ.get("MINI_TEST_ONLY")
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    failed = False
    for name, fn in tests:
        if only and only not in name:
            continue
        for rt in rts:
            desc = f"{name[5:]} [{rt.name}]"
            rt.calls.clear()
            try:
                fn(rt)
            except Skip as e:
                t.skip(desc, str(e))
                continue
            except Exception:  # noqa: BLE001 - every failure is reported the same way
                failed = True
                t.ok(False, desc, diag=traceback.format_exc() + rt.diag())
                continue
            t.ok(True, desc)
    for rt in rts:
        if os.path.isdir(rt.root):
            for cid in os.listdir(rt.root):
                rt.cmd("delete", "--force", cid)
    # A runtime that hands stdio to a container user could chown the host's devices that
    # served as stdio or were bind-mounted (crun does, in a user namespace): never allowed.
    changed = [(d, (st.st_uid, st.st_gid, oct(st.st_mode)))
               for d, st in ((d, os.stat(d)) for d in HOST_DEVICES)
               if (st.st_uid, st.st_gid, st.st_mode) !=
               (devices[d].st_uid, devices[d].st_gid, devices[d].st_mode)]
    t.ok(not changed, "the host's devices keep their owner and mode", diag=str(changed))
    failed = failed or bool(changed)
    if not failed and os.environ.get("MINI_TESTS_KEEP") != "1":
        shutil.rmtree(workdir, ignore_errors=True)
    t.done()
