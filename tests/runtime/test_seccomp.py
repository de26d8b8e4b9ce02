#!/usr/bin/env python3
"""linux.seccomp end to end: a busybox shell under containerd's default profile, errnoRet values
and argument conditions seen by the container, and SCMP_ACT_NOTIFY with a seccomp agent (a tiny
listener here) that receives the notify fd and answers the container's syscalls. Each test also
runs against runc."""

import json
import os
import select
import socket
import struct
import tempfile
import threading

from runtime_utils import Skip, base_config, expect, expect_eq, expect_in, main

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "seccomp")
# containerd's defaultUnixCaps, the set `ctr run` gives (and its profile was generated for)
CONTAINERD_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                   "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                   "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def test_containerd_default_profile(rt):
    conf = base_config(["sh", "-c", " ; ".join([
        "echo hello", "ls / | grep -c bin", "grep Seccomp: /proc/self/status",
        "mkdir /tmp/d && echo mkdir-ok",
        # user namespaces and mounts are what the profile and the caps take away
        "unshare -U true 2>/dev/null || echo unshare-denied",
        "mount -t tmpfs none /mnt 2>/dev/null || echo mount-denied"])])
    conf["process"]["capabilities"] = {k: CONTAINERD_CAPS for k in
                                       ("bounding", "effective", "permitted")}
    with open(os.path.join(DATA, "containerd_default.json")) as f:
        conf["linux"]["seccomp"] = json.load(f)
    expect_eq(rt.run_output(conf).splitlines(),
              ["hello", "1", "Seccomp:\t2", "mkdir-ok", "unshare-denied", "mount-denied"],
              "a busybox shell works under containerd's default profile")


def test_errno_values_and_args(rt):
    conf = base_config(["sh", "-c", " ; ".join([
        "mkdir /tmp/a 2>&1", "rmdir /tmp 2>&1",
        "kill -USR1 $$ 2>&1; echo usr1=$?", "kill -0 $$; echo zero=$?"])])
    conf["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ARCHES,
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28},
            {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 30},
            # kill(pid, SIGUSR1) only: signal 0 stays allowed
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]},
        ]}
    out = rt.run_output(conf)
    expect_in("No space left on device", out, "mkdir gets errnoRet 28 (ENOSPC)")
    expect_in("Read-only file system", out, "rmdir gets errnoRet 30 (EROFS)")
    expect_in("usr1=1", out, "kill -USR1 denied by the argument condition")
    expect_in("zero=0", out, "kill -0 allowed")


def test_kill_and_default_errno_ret(rt):
    conf = base_config(["mkdir", "/tmp/a"])
    conf["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}
    r = rt.run(conf)
    expect_eq(r.rc, 159, f"SCMP_ACT_KILL_PROCESS: killed by SIGSYS (128+31): {r!r}")
    # defaultErrnoRet: what the default action returns; containerd's profile denies unshare
    conf["process"]["args"] = ["sh", "-c", "unshare -U true 2>&1"]
    with open(os.path.join(DATA, "containerd_default.json")) as f:
        conf["linux"]["seccomp"] = json.load(f)
    conf["linux"]["seccomp"]["defaultErrnoRet"] = 38
    r = rt.run(conf)
    expect_in("Function not implemented", r.out, f"denied with defaultErrnoRet 38: {r!r}")


def test_errno_ret_needs_errno_action(rt):
    if rt.name == "runc":
        raise Skip("runc 1.1.5 ignores errnoRet on an action without one; the runtime-spec "
                   "says the runtime MUST fail")
    conf = base_config()
    conf["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 5}
    r = rt.run(conf)
    expect(r.rc != 0 and "linux.seccomp.defaultErrnoRet" in r.err, f"refused: {r!r}")


# struct seccomp_notif (80 bytes) and seccomp_notif_resp (24), and their ioctls (x86_64)
NOTIF = struct.Struct("<QIIiIQ6Q")
RESP = struct.Struct("<QqiI")
NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101


class Agent(threading.Thread):
    """A seccomp agent: takes the connection the runtime makes to listenerPath, reads the state
    and the notify fd, and answers every notification with ENOSPC."""

    def __init__(self, workdir):
        super().__init__(daemon=True)
        self.path = os.path.join(tempfile.mkdtemp(dir=workdir), "agent.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.state = None
        self.syscalls = []
        self.error = None

    def run(self):
        import fcntl
        try:
            conn, _ = self.sock.accept()
            with conn:
                msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            self.state = json.loads(msg)
            fd = fds[0]
            while True:
                r, _, _ = select.select([fd], [], [], 20)
                if not r:
                    break
                buf = bytearray(NOTIF.size)
                try:
                    fcntl.ioctl(fd, NOTIF_RECV, buf, True)
                except OSError:
                    break  # the filter's last process is gone
                fields = NOTIF.unpack(buf)
                self.syscalls.append(fields[3])
                try:
                    fcntl.ioctl(fd, NOTIF_SEND, bytearray(RESP.pack(fields[0], 0, -28, 0)),
                                True)
                except OSError:
                    pass
            os.close(fd)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


def test_notify_agent(rt):
    agent = Agent(rt.workdir)
    agent.start()
    conf = base_config(["sh", "-c", "mkdir /tmp/n 2>&1; echo after"])
    conf["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ARCHES,
        "listenerPath": agent.path,
        "listenerMetadata": "hello-agent",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
    out = rt.run_output(conf)
    agent.join(25)
    expect(agent.error is None, f"agent: {agent.error!r}")
    expect_in("No space left on device", out, "the agent's answer reached the container")
    expect_in("after", out, "the container went on")
    st = agent.state or {}
    expect_eq((st.get("fds"), st.get("metadata")), (["seccompFd"], "hello-agent"),
              "container process state: fds and metadata")
    expect(st.get("pid", 0) > 0 and st.get("state", {}).get("id"), f"pid and state: {st!r}")
    expect(set(agent.syscalls) <= {83, 258} and agent.syscalls, f"mkdir(at) notified: "
           f"{agent.syscalls}")


main(globals())
