"""Helpers for the shim tests: a private containerd (tests/lib/containerd.py) with our shim first
in its PATH, every scenario run with io.containerd.mini.v2 and with io.containerd.runc.v2 (the
reference that proves the expectation), a pty runner for -t, a tiny ttrpc client for the RPCs
ctr has no command for (Update), and a cleanliness check at the end.

    from shimtest import Suite
    with Suite("lifecycle") as s:
        for rt in s.runtimes():      # rt.name is "mini" or "runc", rt.args the ctr flags
            res = s.ctr("run", "--rm", *rt.args, IMAGE, rt.cid("echo"), "echo", "hi")
            s.t.is_(res.stdout, "hi\\n", f"{rt.name}: echo")
"""

import hashlib
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import fcntl
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

from containerd import IMAGE, Containerd, build_dir  # noqa: E402,F401
from tap import Tap, require_root  # noqa: E402

MINI = "io.containerd.mini.v2"
TASK_DIR = "io.containerd.runtime.v2.task"


class Runtime:
    def __init__(self, name, args, prefix):
        self.name = name
        self.args = args
        self.prefix = prefix

    def cid(self, what):
        """A container id unique to this runtime and scenario."""
        return f"{self.prefix}-{self.name}-{what}"


class Suite:
    def __init__(self, prefix, env=None):
        require_root("the shim tests")
        self.t = Tap()
        self.prefix = prefix
        self.shim_dir = os.path.join(build_dir(), "shim")
        self.shim = os.path.join(self.shim_dir, "containerd-shim-mini-v2")
        if not os.access(self.shim, os.X_OK):
            self.t.bail_out(f"{self.shim} is not built")
        # A namespace of our own: cgroups (/<ns>/<id>) and the mini runtime's state root
        # (/run/containerd/mini/<ns>) are shared by every containerd on the machine, so runs
        # of these tests side by side must not meet there.
        self.c = Containerd(shim_dir=self.shim_dir, extra_env=env,
                            namespace=f"shimtest-{prefix}-{os.getpid()}")
        try:
            self.c.start()
            self.c.import_image()
        except Exception as e:  # noqa: BLE001
            self.c.failed = True
            self.c.stop()
            self.t.bail_out(f"private containerd did not start: {e}")

    def runtimes(self):
        return [Runtime("mini", ["--runtime", MINI], self.prefix),
                Runtime("runc", self.c.runc_args(), self.prefix)]

    # -- clients --

    def ctr(self, *args, timeout=60, **kw):
        """ctr against the private containerd, never raising on a non-zero exit."""
        kw.setdefault("check", False)
        try:
            return self.c.ctr(*args, timeout=timeout, **kw)
        except subprocess.TimeoutExpired as e:
            return subprocess.CompletedProcess(e.cmd, -1, e.stdout or "", f"timeout: {e}")

    def popen(self, *args, **kw):
        return self.c.ctr_popen(*args, **kw)

    def run_pty(self, args, send=b"", rows=30, cols=100, timeout=20):
        """Runs ctr on a pty of rows x cols; types `send` after a second. Returns (exit code,
        output bytes)."""
        cmd = self.c.ctr_cmd(*args)
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execve(cmd[0], cmd, self.c.client_env())
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        out, start, sent = b"", time.monotonic(), not send
        while time.monotonic() - start < timeout:
            if not sent and time.monotonic() - start > 1.0:
                os.write(fd, send)
                sent = True
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                out += data
        else:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), out

    def events(self):
        return self.c.events()

    # -- what a task looks like from outside --

    def bundle(self, cid):
        return os.path.join(self.c.state, TASK_DIR, self.c.namespace, cid)

    def task_status(self, cid):
        """STATUS column of `ctr task ls` for cid, or None."""
        for line in self.ctr("task", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if f and f[0] == cid:
                return f[2] if len(f) > 2 else None
        return None

    def wait_status(self, cid, want, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.task_status(cid)
            if st == want:
                return st
            time.sleep(0.05)
        return self.task_status(cid)

    def shim_pids(self, cid):
        """Shim processes serving cid (by the -id argument)."""
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and b"containerd-shim" in argv[0] and b"-id" in argv:
                i = argv.index(b"-id")
                if i + 1 < len(argv) and argv[i + 1] == cid.encode() and \
                        self.c.address.encode() in b" ".join(argv):
                    out.append(int(d))
        return out

    def wait_gone(self, cid, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.shim_pids(cid):
                return True
            time.sleep(0.05)
        return False

    def cgroup_dir(self, controller, cid):
        return os.path.join("/sys/fs/cgroup", controller, self.c.namespace, cid)

    def remove(self, cid):
        """Best-effort removal of a task and its container."""
        self.ctr("task", "kill", "-a", "-s", "SIGKILL", cid, timeout=15)
        self.ctr("task", "rm", "-f", cid, timeout=15)
        self.ctr("containers", "rm", cid, timeout=15)

    # -- the end --

    def done(self):
        """Removes what is left, stops containerd and checks that nothing is left behind:
        no process, mount, socket or runtime state of ours (the mini runtime root lives in
        /run/containerd/mini/<ns>, runc's in /run/containerd/runc/<ns>)."""
        t = self.t
        mini_root = os.path.join("/run/containerd/mini", self.c.namespace)
        try:
            left = self.ctr("task", "ls", "-q").stdout.split()
            t.ok(not left, "every scenario removed its tasks", diag=f"left: {left}")
        except Exception as e:  # noqa: BLE001
            t.ok(False, "task listing at the end", diag=str(e))
        self.c.stop()
        problems = self.c.check_clean()
        t.ok(not problems, "nothing left behind (processes, mounts, sockets, directory)",
             diag="\n".join(problems))
        # The runtime roots the shims default to (mini's, and runc's when BinaryName is runc):
        # no container state of ours, and the namespace directories go too.
        stale = []
        for root in (mini_root, os.path.join("/run/containerd/runc", self.c.namespace)):
            left = os.listdir(root) if os.path.isdir(root) else []
            stale += [os.path.join(root, i) for i in left]
            for i in left:
                subprocess.run(["runc", "--root", root, "delete", "-f", i], capture_output=True)
            try:
                os.rmdir(root)
            except OSError:
                pass
        t.ok(not stale, "no runtime state left in the runtime roots", diag=str(stale))
        t.done()

    def fail_dump(self):
        self.c.dump_log(120)

    # `with Suite(...) as s:` ends the suite however the body ends: containerd's log when
    # anything failed, then done().
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if self.t.failed or exc[0] is not None:
                self.fail_dump()
        finally:
            self.done()
        return False

    def each_runtime(self, *fns, args=()):
        """Runs every scenario fn(self, rt, *args) with mini, then with runc."""
        for rt in self.runtimes():
            for fn in fns:
                self.t.run(f"{rt.name}: {fn.__name__} ran", fn, self, rt, *args)


def md5(data):
    return hashlib.md5(data).hexdigest()


# ---- a minimal ttrpc client (protobuf encoded by hand) ------------------------------------------

def _varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_bytes(num, value):
    if isinstance(value, str):
        value = value.encode()
    return _varint((num << 3) | 2) + _varint(len(value)) + value


def pb_uint(num, value):
    return _varint(num << 3) + _varint(value)


def _read_varint(data, i):
    """The varint at data[i:]: (value, index after it)."""
    v, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def pb_parse(data):
    """{field number: [values]} with ints for varints and bytes for length-delimited."""
    out, i = {}, 0
    while i < len(data):
        key, i = _read_varint(data, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_varint(data, i)
        elif wt == 2:
            ln, i = _read_varint(data, i)
            v = data[i:i + ln]
            i += ln
        elif wt == 1:
            v = data[i:i + 8]
            i += 8
        elif wt == 5:
            v = data[i:i + 4]
            i += 4
        else:
            raise ValueError(f"wire type {wt}")
        out.setdefault(num, []).append(v)
    return out


def ttrpc_call(address, service, method, payload, timeout=10.0):
    """One unary call; returns (status code, message, response payload)."""
    path = address[len("unix://"):] if address.startswith("unix://") else address
    req = pb_bytes(1, service) + pb_bytes(2, method) + pb_bytes(3, payload)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(struct.pack(">IIBB", len(req), 1, 1, 0) + req)
        hdr = b""
        while len(hdr) < 10:
            chunk = s.recv(10 - len(hdr))
            if not chunk:
                raise ConnectionError("closed before the reply")
            hdr += chunk
        length, _, _, _ = struct.unpack(">IIBB", hdr)
        body = b""
        while len(body) < length:
            chunk = s.recv(length - len(body))
            if not chunk:
                raise ConnectionError("closed in the reply")
            body += chunk
    resp = pb_parse(body)
    code, msg = 0, ""
    if 1 in resp:
        st = pb_parse(resp[1][0])
        code = st.get(1, [0])[0]
        msg = st.get(2, [b""])[0].decode()
    return code, msg, resp.get(2, [b""])[0]


def shim_address(suite, cid):
    with open(os.path.join(suite.bundle(cid), "address")) as f:
        return f.read().strip()


def strip_ansi(b):
    return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", b)
