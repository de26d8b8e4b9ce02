"""A private containerd for integration tests (Python 3 standard library only).

    sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
    from containerd import Containerd, IMAGE, build_dir

    with Containerd(shim_dir=os.path.join(build_dir(), "shim")) as c:  # first in its PATH
        c.import_image()                         # docker.io/library/busybox:latest
        p = c.ctr("run", "--rm", *c.runc_args(), IMAGE, "t1", "echo", "hello")
        p.stdout == "hello\n"                    # ctr() raises CtrError unless check=False
        c.restart(kill=True)                     # SIGKILL containerd, start it again
        w = c.events()                           # `ctr events`, subscribed; w.wait_for(...)

Containers started with `ctr run --rootfs` get no PATH from ctr: use absolute paths, and
c.copy_rootfs() when the container writes to its rootfs.

Everything lives in one temporary directory (/tmp/mini-ctrd-XXXXXXXX): config.toml, root, state,
the gRPC and ttrpc sockets, containerd's TMPDIR and its log. The system containerd
(/run/containerd/containerd.sock, /var/lib/containerd) is never used. Shims of containerd 1.6
put their sockets in /run/containerd/s/<sha256(address/ns/id)>; since the hash covers our private
address, the harness can tell its own sockets apart and removes only those.

Cleanup always runs (context manager, atexit, SIGTERM/SIGINT handlers) and is also applied to
directories left by harnesses that were SIGKILLed: each live harness holds an flock on
<tmpdir>/owner, so an unlocked owner file marks a stale directory, cleaned at the next start().
"""

import atexit
import ctypes
import errno
import fcntl
import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTAINERD = os.environ.get("MINI_CONTAINERD", "/usr/bin/containerd")
CTR = os.environ.get("MINI_CTR", "/usr/bin/ctr")
IMAGE = "docker.io/library/busybox:latest"
TMP_PREFIX = "mini-ctrd-"
SHIM_SOCKET_DIR = "/run/containerd/s"  # fixed by containerd 1.6's shim library
V2_TASK_DIR = "io.containerd.runtime.v2.task"
STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Plugins that are slow to start, need configuration we do not have, or write outside the
# temporary directory (the opt plugin creates /opt/containerd).
DISABLED_PLUGINS = [
    "io.containerd.grpc.v1.cri",
    "io.containerd.internal.v1.opt",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.tracing.processor.v1.otlp",
]

MNT_DETACH = 2


class CtrError(Exception):
    def __init__(self, cmd, proc):
        self.cmd = cmd
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        super().__init__(f"{' '.join(cmd)} exited {proc.returncode}\nstdout: {proc.stdout}"
                         f"\nstderr: {proc.stderr}")


def build_dir():
    """The meson build directory under test: MINI_BUILD_DIR (set by meson), else <repo>/build."""
    return os.environ.get("MINI_BUILD_DIR") or os.path.join(REPO, "build")


def image_dir():
    """Where the busybox test image is cached: MINI_IMAGE_DIR, else <build dir>/test-image."""
    return os.environ.get("MINI_IMAGE_DIR") or os.path.join(build_dir(), "test-image")


def build_image():
    """Builds (or reuses) the busybox image; returns (oci tarball path, rootfs dir)."""
    out = image_dir()
    script = os.path.join(REPO, "scripts", "mkimage-busybox.sh")
    p = subprocess.run([script, out], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"{script} {out} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return os.path.join(out, "busybox-oci.tar"), os.path.join(out, "rootfs")


# ---- /proc helpers ---------------------------------------------------------------------------

def _read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return None


def _pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def _cmdline(pid):
    raw = _read(f"/proc/{pid}/cmdline", "rb")
    return [a.decode(errors="replace") for a in raw.split(b"\0")[:-1]] if raw else []


def _environ(pid):
    raw = _read(f"/proc/{pid}/environ", "rb")
    return [a.decode(errors="replace") for a in raw.split(b"\0")] if raw else []


def _proc_root(pid):
    try:
        return os.readlink(f"/proc/{pid}/root")
    except OSError:
        return None


def _alive(pid):
    stat_line = _read(f"/proc/{pid}/stat")
    # A zombie is dead for our purposes: it holds no sockets or mounts.
    return stat_line is not None and stat_line.rsplit(")", 1)[1].split()[0] != "Z"


def _unescape_mountinfo(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def _mountinfo():
    """(mount point, fs type) for every mount in our mount namespace, in mount order."""
    out = []
    for line in (_read("/proc/self/mountinfo") or "").splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        out.append((_unescape_mountinfo(fields[4]), right.split()[0]))
    return out


def _under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for p in pids if _alive(p)]
        if not pids:
            return []
        time.sleep(0.02)
    return [p for p in pids if _alive(p)]


_libc = None


def _umount(path):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    for flags in (0, MNT_DETACH):
        if _libc.umount2(path.encode(), flags) == 0:
            return True
        if ctypes.get_errno() == errno.EINVAL:  # no longer a mount point
            return True
    return False


# ---- the harness ----------------------------------------------------------------------------

_live = []          # started harnesses, for atexit and signal cleanup
_handlers_installed = False
_stopping = 0       # stop() calls in progress
_pending_signal = None


def _cleanup_all():
    for c in list(_live):
        try:
            c.stop()
        except Exception as e:  # noqa: BLE001 - cleanup must go on for the others
            print(f"containerd harness: cleanup of {c.tmpdir} failed: {e}", file=sys.stderr)


def _die_by(signum):
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _on_signal(signum, frame):
    global _pending_signal
    if _stopping:
        # The signal interrupted a stop(): let it finish, it re-raises the signal at its end.
        _pending_signal = signum
        return
    _cleanup_all()
    _die_by(signum)


def _install_handlers():
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_cleanup_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _on_signal)


class Containerd:
    def __init__(self, shim_dir=None, namespace="default", log_level="debug", base_dir="/tmp",
                 extra_env=None, start_timeout=20.0, tmpdir=None):
        self.shim_dirs = [shim_dir] if isinstance(shim_dir, str) else list(shim_dir or [])
        self.namespace = namespace
        self.log_level = log_level
        self.base_dir = base_dir
        self.extra_env = dict(extra_env or {})
        self.start_timeout = start_timeout
        self.proc = None
        self.rootfs_dir = None      # the cached busybox rootfs, set by import_image()
        self.failed = False
        self._lock_file = None
        self._popens = []
        self._stopped = False
        self._seen = set()          # (namespace, id) of every bundle seen, for socket cleanup
        self._sockets = set()       # shim sockets named in bundles' address files
        self.on_stop = []           # callables run after containerd stopped, before the reaper
        self._init_pids = set()     # container init pids from the bundles' init.pid
        self.tmpdir = None
        if tmpdir:                  # adopt an existing (stale) directory for cleanup only
            self._set_paths(tmpdir)

    def _set_paths(self, tmpdir):
        self.tmpdir = tmpdir
        self.root = os.path.join(tmpdir, "root")
        self.state = os.path.join(tmpdir, "state")
        self.address = os.path.join(tmpdir, "containerd.sock")
        self.ttrpc_address = self.address + ".ttrpc"
        self.config_path = os.path.join(tmpdir, "config.toml")
        self.log_path = os.path.join(tmpdir, "containerd.log")
        self.runc_root = os.path.join(tmpdir, "runc")
        self.containerd_tmp = os.path.join(tmpdir, "tmp")

    # -- lifecycle --

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.failed = True
        self.stop()
        return False

    def start(self):
        _install_handlers()
        clean_stale(self.base_dir)
        self._set_paths(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=self.base_dir))
        # The shim socket hash covers the address; keep it well below sun_path's 108 bytes.
        assert len(self.ttrpc_address) < 100, self.ttrpc_address
        # Lock, then rename into place: clean_stale() must never see an unlocked owner file
        # of a live harness.
        self._lock_file = open(os.path.join(self.tmpdir, ".owner"), "w")
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        self._lock_file.write(f"{os.getpid()}\n")
        self._lock_file.flush()
        os.rename(os.path.join(self.tmpdir, ".owner"), os.path.join(self.tmpdir, "owner"))
        for d in (self.root, self.state, self.runc_root, self.containerd_tmp):
            os.makedirs(d, mode=0o711)
        with open(self.config_path, "w") as f:
            f.write(self.config_toml())
        _live.append(self)
        self._spawn()

    def config_toml(self):
        disabled = ", ".join(f'"{p}"' for p in DISABLED_PLUGINS)
        return f"""version = 2
root = "{self.root}"
state = "{self.state}"
plugin_dir = "{os.path.join(self.tmpdir, "plugins")}"
disabled_plugins = [{disabled}]
oom_score = 0

[grpc]
  address = "{self.address}"

[ttrpc]
  address = "{self.ttrpc_address}"

[debug]
  address = ""
  level = "{self.log_level}"

[metrics]
  address = ""

[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "{self.runc_root}"
"""

    def env(self):
        """containerd's environment: PATH starts with the shim directories."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CONTAINERD_", "NOTIFY_SOCKET", "TTRPC_", "GRPC_ADDRESS"))}
        env["PATH"] = ":".join(self.shim_dirs + [STD_PATH])
        env["TMPDIR"] = self.containerd_tmp  # temporary mounts for unpacking land in our dir
        env.update(self.extra_env)
        return env

    def _spawn(self):
        log = open(self.log_path, "ab")
        log.write(f"=== harness: starting {CONTAINERD} at {time.strftime('%T')}\n".encode())
        log.flush()
        cmd = [CONTAINERD, "--config", self.config_path]
        # PDEATHSIG: if the test process is SIGKILLed (meson's timeout), containerd goes too.
        setpriv = shutil.which("setpriv")
        if setpriv:
            cmd = [setpriv, "--pdeathsig", "KILL", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     env=self.env(), cwd=self.tmpdir, start_new_session=True)
        log.close()
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.failed = True
                raise RuntimeError(f"containerd exited with {self.proc.returncode} during start"
                                   f"\n{self.log_tail()}")
            if os.path.exists(self.address) and os.path.exists(self.ttrpc_address):
                last = self.ctr("--connect-timeout", "1s", "version", check=False, timeout=5)
                if last.returncode == 0:
                    return
            time.sleep(0.05)
        self.failed = True
        raise RuntimeError(f"containerd did not answer within {self.start_timeout}s: "
                           f"{last.stderr if last else 'no socket'}\n{self.log_tail()}")

    def restart(self, kill=True):
        """Stops containerd (SIGKILL, or SIGTERM when kill=False) and starts it again on the
        same root, state and sockets. Shims and containers keep running."""
        self._stop_daemon(signal.SIGKILL if kill else signal.SIGTERM)
        self._record_bundles()
        self._spawn()

    def _stop_daemon(self, sig=signal.SIGTERM, timeout=5.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, dump_log=None):
        """Kills every task, stops containerd, kills leftover shims and container processes,
        unmounts, removes our shim sockets and the temporary directory. Idempotent."""
        global _stopping
        if self._stopped or self.tmpdir is None:
            return
        self._stopped = True
        _stopping += 1
        try:
            if (dump_log if dump_log is not None else self.failed) and self.proc is not None:
                self.dump_log()
            if self.running():
                self._remove_all_tasks()
            for p in self._popens:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self._stop_daemon()
            for fn in self.on_stop:
                try:
                    fn(self)
                except Exception as e:  # noqa: BLE001 - the reaper must still run
                    print(f"containerd harness: on_stop {fn}: {e}", file=sys.stderr)
            self.reap()
        finally:
            _stopping -= 1
            if self in _live:
                _live.remove(self)
            if self._lock_file:
                self._lock_file.close()
            if _pending_signal is not None and not _stopping:
                _cleanup_all()
                _die_by(_pending_signal)

    def _remove_all_tasks(self):
        try:
            namespaces = self.ctr("namespaces", "ls", "-q", timeout=10).stdout.split()
            for ns in namespaces:
                for tid in self.ctr("task", "ls", "-q", namespace=ns, timeout=10).stdout.split():
                    self.ctr("task", "kill", "-a", "-s", "SIGKILL", tid, namespace=ns,
                             check=False, timeout=10)
                    self.ctr("task", "rm", "-f", tid, namespace=ns, check=False, timeout=15)
                for cid in self.ctr("containers", "ls", "-q", namespace=ns,
                                    timeout=10).stdout.split():
                    self.ctr("containers", "rm", cid, namespace=ns, check=False, timeout=15)
        except (CtrError, subprocess.TimeoutExpired) as e:
            # A hung shim or daemon must not stop the cleanup: the reaper kills by force.
            print(f"containerd harness: task cleanup: {e}", file=sys.stderr)

    # -- forced cleanup (also for stale directories) --

    def _record_bundles(self):
        """Remembers every task bundle: its (namespace, id) gives the shim socket name, its
        init.pid the container's init (killing it kills its whole PID namespace)."""
        top = os.path.join(self.state, V2_TASK_DIR)
        for ns in _listdir(top):
            for cid in _listdir(os.path.join(top, ns)):
                self._seen.add((ns, cid))
                pid = (_read(os.path.join(top, ns, cid, "init.pid")) or "").strip()
                if pid.isdigit():
                    self._init_pids.add(int(pid))
                addr = (_read(os.path.join(top, ns, cid, "address")) or "").strip()
                addr = addr[len("unix://"):] if addr.startswith("unix://") else addr
                if _under(addr, SHIM_SOCKET_DIR) and addr != SHIM_SOCKET_DIR:
                    self._sockets.add(os.path.normpath(addr))
        for line in (_read(self.log_path) or "").splitlines():
            for ns, cid in re.findall(V2_TASK_DIR + r"/([^/\s\"]+)/([^/\s\"]+)", line):
                self._seen.add((ns, cid))

    def _ours(self, pid):
        """True for processes started for this containerd: shims (by their -address argument or
        TTRPC_ADDRESS), anything mentioning our directory, and container processes (rootfs
        inside our directory, or a recorded init pid that is chrooted: a reused pid is not)."""
        if pid == os.getpid():
            return False
        if any(self.tmpdir in a for a in _cmdline(pid)):
            return True
        if f"TTRPC_ADDRESS={self.ttrpc_address}" in _environ(pid):
            return True
        root = _proc_root(pid)
        if root is None or root == "/":
            return False
        return _under(root, self.tmpdir) or pid in self._init_pids

    def leftover_processes(self):
        return [p for p in _pids() if _alive(p) and self._ours(p)]

    def leftover_mounts(self):
        return [m for m, _ in _mountinfo() if _under(m, self.tmpdir)]

    def shim_sockets(self):
        """Sockets our shims create: containerd 1.6 names them sha256(<grpc address>/ns/id),
        so they cannot belong to another containerd; plus those named in address files."""
        out = set(self._sockets)
        for ns, cid in self._seen:
            h = hashlib.sha256(os.path.join(self.address, ns, cid).encode()).hexdigest()
            out.add(os.path.join(SHIM_SOCKET_DIR, h))
        return sorted(out)

    def reap(self):
        """Forced cleanup; safe to call on a directory whose owner died."""
        self._record_bundles()
        # Container processes first (their shims would otherwise report exits nobody reads),
        # then shims, then anything else that refers to us (ctr clients, containerd).
        for _ in range(3):
            pids = self.leftover_processes()
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _wait_gone(pids, 3.0)
        self._delete_runc_state()
        for path in self.shim_sockets():
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    os.unlink(path)
            except FileNotFoundError:
                pass
        for mnt in reversed(self.leftover_mounts()):
            if not _umount(mnt):
                print(f"containerd harness: cannot unmount {mnt}", file=sys.stderr)
        self._remove_cgroups()
        left = self.leftover_mounts()
        if left:
            # Never rmtree through a mount: it would delete the mounted files.
            raise RuntimeError(f"mounts left under {self.tmpdir}: {left}")
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def _delete_runc_state(self):
        """Containers killed behind runc's back leave state and cgroups; `runc delete -f`
        removes both. Only the private runc root (ctr --runc-root) is touched."""
        runc = shutil.which("runc")
        for ns in _listdir(self.runc_root):
            for cid in _listdir(os.path.join(self.runc_root, ns)):
                if runc:
                    subprocess.run([runc, "--root", os.path.join(self.runc_root, ns), "delete",
                                    "-f", cid], capture_output=True, timeout=10)

    def _remove_cgroups(self):
        """ctr puts containers in <ns>/<id> under every hierarchy; after a forced kill the
        (now empty) cgroups stay. rmdir only succeeds on empty cgroups, so busy ones are safe."""
        for mnt, fstype in _mountinfo():
            if fstype not in ("cgroup", "cgroup2") or not mnt.startswith("/sys/fs/cgroup"):
                continue
            for ns, cid in self._seen:
                try:
                    os.rmdir(os.path.join(mnt, ns, cid))
                except OSError:
                    pass

    def check_clean(self):
        """After stop(): a list of what is left behind (empty when clean)."""
        problems = []
        procs = self.leftover_processes()
        if procs:
            problems.append("processes: " + ", ".join(
                f"{p} {' '.join(_cmdline(p))[:120]}" for p in procs))
        mounts = self.leftover_mounts()
        if mounts:
            problems.append(f"mounts: {mounts}")
        if os.path.exists(self.tmpdir):
            problems.append(f"directory exists: {self.tmpdir}")
        socks = [s for s in self.shim_sockets() if os.path.lexists(s)]
        if socks:
            problems.append(f"shim sockets: {socks}")
        if self.proc is not None and self.proc.poll() is None:
            problems.append(f"containerd still running: pid {self.proc.pid}")
        return problems

    # -- clients --

    def ctr_cmd(self, *args, namespace=None):
        """The ctr argv for args; global flags (--connect-timeout …) may lead args."""
        base = [CTR, "--address", self.address, "--namespace", namespace or self.namespace]
        return base + [str(a) for a in args]

    def ctr(self, *args, namespace=None, check=True, input=None, timeout=60):
        """Runs ctr against the private containerd; returns the CompletedProcess (text).
        check=True raises CtrError on a non-zero exit."""
        cmd = self.ctr_cmd(*args, namespace=namespace)
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                           env=self.client_env(), stdin=None if input is not None
                           else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise CtrError(cmd, p)
        return p

    def ctr_popen(self, *args, namespace=None, **kwargs):
        """Starts ctr in the background (killed at stop()). kwargs go to subprocess.Popen."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("env", self.client_env())
        p = subprocess.Popen(self.ctr_cmd(*args, namespace=namespace), **kwargs)
        self._popens.append(p)
        return p

    def client_env(self):
        return {k: v for k, v in os.environ.items() if not k.startswith("CONTAINERD_")}

    def runc_args(self):
        """ctr run flags for the reference runtime with its state inside our directory."""
        return ["--runtime", "io.containerd.runc.v2", "--runc-root", self.runc_root]

    def import_image(self, namespace=None):
        """Imports the busybox OCI tarball (built on demand); returns the image name."""
        tarball, self.rootfs_dir = build_image()
        self.ctr("images", "import", tarball, namespace=namespace, timeout=120)
        names = self.ctr("images", "ls", "-q", namespace=namespace).stdout.split()
        if IMAGE not in names:
            raise RuntimeError(f"{IMAGE} missing after import; images: {names}")
        return IMAGE

    def copy_rootfs(self, name="rootfs"):
        """A private copy of the busybox rootfs inside our directory, for `ctr run --rootfs`
        containers that write (the cached rootfs is shared by every test)."""
        if self.rootfs_dir is None:
            _, self.rootfs_dir = build_image()
        dest = os.path.join(self.tmpdir, name)
        shutil.copytree(self.rootfs_dir, dest, symlinks=True)
        os.chmod(os.path.join(dest, "tmp"), 0o1777)  # copytree keeps modes; be explicit
        return dest

    def events(self, *filters):
        """Starts `ctr events [filters]` and returns an EventWatcher already subscribed.
        Filters are ORed by containerd; one for /namespaces/create is added so that the
        subscription check in sync() passes through."""
        if filters:
            filters = filters + ('topic=="/namespaces/create"',)
        w = EventWatcher(self, filters)
        w.sync()
        return w

    # -- logs --

    def log_tail(self, lines=200):
        text = _read(self.log_path) or ""
        return "\n".join(text.splitlines()[-lines:])

    def dump_log(self, lines=200, stream=None):
        stream = stream or sys.stderr
        print(f"----- containerd log ({self.log_path}), last {lines} lines -----", file=stream)
        print(self.log_tail(lines), file=stream)
        print("----- end of containerd log -----", file=stream, flush=True)


class EventWatcher:
    """`ctr events` in the background; lines are collected by a thread."""

    def __init__(self, ctrd, filters=()):
        self.ctrd = ctrd
        self.lines = []
        self._cond = threading.Condition()
        self.proc = ctrd.ctr_popen("events", *filters, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, bufsize=1)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, *needles, timeout=5.0, start=0):
        """The first line (from index start) containing every needle, or None on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[start:]:
                    if all(n in line for n in needles):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._thread.is_alive()):
                    return None
                self._cond.wait(left)

    def sync(self, timeout=10.0):
        """Returns once the subscription is live: ctr events prints nothing at start, so
        create a namespace (which publishes /namespaces/create) until it shows up."""
        deadline = time.monotonic() + timeout
        name = f"sync-{os.getpid()}-{int(time.monotonic() * 1000)}"
        while time.monotonic() < deadline:
            self.ctrd.ctr("namespaces", "create", name, check=False, timeout=10)
            if self.wait_for("/namespaces/create", name, timeout=0.5):
                self.ctrd.ctr("namespaces", "rm", name, check=False, timeout=10)
                return
            self.ctrd.ctr("namespaces", "rm", name, check=False, timeout=10)
        raise RuntimeError(f"ctr events never saw /namespaces/create: {self.lines}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._thread.join(timeout=2)
        return self.lines


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def clean_stale(base_dir="/tmp"):
    """Cleans directories of harnesses that died without cleaning up (SIGKILL, OOM): their
    owner file is no longer locked."""
    for name in _listdir(base_dir):
        path = os.path.join(base_dir, name)
        if not name.startswith(TMP_PREFIX) or not os.path.isdir(path):
            continue
        try:
            fd = os.open(os.path.join(path, "owner"), os.O_RDONLY)
        except FileNotFoundError:
            # Created but not yet locked by a starting harness, or half removed: only take
            # it when clearly old.
            try:
                if time.time() - os.stat(path).st_mtime < 60:
                    continue
            except FileNotFoundError:
                continue
            fd = None
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live harness owns it
            print(f"containerd harness: cleaning stale {path}", file=sys.stderr)
            try:
                Containerd(tmpdir=path).reap()
            except Exception as e:  # noqa: BLE001 - one bad directory must not block tests
                print(f"containerd harness: stale {path}: {e}", file=sys.stderr)
        finally:
            if fd is not None:
                os.close(fd)

