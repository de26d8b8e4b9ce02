#!/usr/bin/env python3
"""shimctl against fake_shim (a scripted Task service): every command's request on the wire, its
output in both forms, error codes and exit statuses, exec's stdio through FIFOs, and events
publish's envelope. Needs neither root nor containerd.

Environment: SHIMCTL and FAKE_SHIM are the built binaries (meson sets them)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

from tap import Tap  # noqa: E402

SHIMCTL = os.environ.get("SHIMCTL", os.path.join(REPO, "build", "shim", "shimctl", "shimctl"))
FAKE = os.environ.get("FAKE_SHIM", os.path.join(REPO, "build", "shim", "shimctl", "fake_shim"))

BASE_PROCESS = {
    "args": ["init"],
    "env": ["PATH=/bin", "HOME=/root"],
    "cwd": "/",
    "user": {"uid": 0, "gid": 0},
    "noNewPrivileges": True,
    "terminal": False,
}


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="shimctl-test-")
        self.sock = os.path.join(self.dir, "sock")
        self.log = os.path.join(self.dir, "log")
        self.bundle = os.path.join(self.dir, "bundle")
        self.tmp = os.path.join(self.dir, "tmp")
        os.makedirs(self.bundle)
        os.makedirs(self.tmp)
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump({"ociVersion": "1.0.2", "process": BASE_PROCESS}, f)
        self.fake = subprocess.Popen([FAKE, self.sock, self.log, self.bundle])
        for _ in range(100):
            if os.path.exists(self.sock):
                break
            time.sleep(0.02)

    def run(self, *args, stdin="", address=True, cid="c1", timeout=20):
        cmd = [SHIMCTL]
        if address:
            cmd += ["--address", "unix://" + self.sock]
        if cid:
            cmd += ["--id", cid]
        cmd += list(args)
        env = dict(os.environ, TMPDIR=self.tmp)
        env.pop("CONTAINERD_NAMESPACE", None)
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout,
                           env=env)
        p.diag = f"$ {' '.join(cmd)}\nrc={p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
        return p

    def log_lines(self):
        with open(self.log) as f:
            return f.read().splitlines()

    def last_request(self, method):
        """The last logged request of method: (namespace, request as a dict)."""
        for line in reversed(self.log_lines()):
            name, ns, body = line.split(" ", 2)
            if name == method:
                return ns[len("ns="):], json.loads(body)
        return None, None

    def close(self):
        if self.fake.poll() is None:
            self.fake.kill()
        self.fake.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_call(t, e):
    p = e.run("call", "task", "State", stdin='{"id":"c1"}')
    t.is_(p.returncode, 0, "call task State exits 0", diag=p.diag)
    try:
        r = json.loads(p.stdout)
    except ValueError:
        r = {}
    t.is_(r.get("status"), "RUNNING", "call prints the reply as JSON, enums by name", diag=p.diag)
    t.is_(r.get("pid"), 4242, "uint32 as a number", diag=p.diag)
    t.is_(r.get("exited_at"), "0001-01-01T00:00:00Z", "Go zero time as RFC 3339", diag=p.diag)
    t.is_(r.get("exec_id"), "", "fields with default values are printed", diag=p.diag)
    t.ok(p.stdout.startswith("{\n  \""), "JSON is indented", diag=p.diag)
    ns, req = e.last_request("State")
    t.is_(req, {"id": "c1"}, "the request went out as given")
    t.is_(ns, "default", "metadata containerd-namespace-ttrpc defaults to \"default\"")

    p = e.run("--namespace", "k8s.io", "call", "containerd.task.v2.Task/connect", cid=None)
    t.is_(p.returncode, 0, "SERVICE/METHOD form, method case-insensitive, empty stdin = {}",
          diag=p.diag)
    t.ok('"version": "fake"' in p.stdout, "Connect reply printed", diag=p.diag)
    t.is_(e.last_request("Connect")[0], "k8s.io", "--namespace sent as metadata")

    p = e.run("call", "task", "Kill", "--data", '{"id":"c1","execId":"dup","signal":"15"}')
    t.is_(p.returncode, 0, "--data and lowerCamelCase names accepted", diag=p.diag)
    t.is_(e.last_request("Kill")[1], {"id": "c1", "exec_id": "dup", "signal": 15},
          "Kill request built from JSON")

    p = e.run("call", "task", "State", stdin='{"id":"nope"}')
    t.is_(p.returncode, 1, "server error: exit 1", diag=p.diag)
    t.is_(p.stderr, "shimctl: NotFound: container not created\n",
          "server error printed as 'shimctl: <Code>: <message>'", diag=p.diag)
    t.is_(p.stdout, "", "nothing on stdout after an error", diag=p.diag)

    n = len(e.log_lines())
    p = e.run("call", "task", "State", stdin='{"id":"c1","bogus":1}')
    t.is_(p.returncode, 1, "unknown JSON field: exit 1", diag=p.diag)
    t.ok('InvalidArgument: ' in p.stderr and
         'unknown field "bogus" in containerd.task.v2.StateRequest' in p.stderr,
         "unknown field named with its message", diag=p.diag)
    t.is_(len(e.log_lines()), n, "nothing sent after a bad request")

    p = e.run("call", "task", "Nope")
    t.is_(p.returncode, 2, "unknown method: usage error (exit 2)", diag=p.diag)
    t.ok("State" in p.stderr, "unknown method lists the known ones", diag=p.diag)

    p = e.run("call", "task", "Update",
              stdin='{"id":"c1","annotations":{"a":"b"},'
                    '"resources":{"type_url":"types.containerd.io/opencontainers/runtime-spec/1/'
                    'LinuxResources","value":{"pids":{"limit":5}}}}')
    t.is_(p.returncode, 0, "Update with a map and a runtime-spec Any", diag=p.diag)
    req = e.last_request("Update")[1] or {}
    t.is_(req.get("annotations"), {"a": "b"}, "map sent")
    t.is_((req.get("resources") or {}).get("value"), {"pids": {"limit": 5}},
          "runtime-spec Any carried as JSON")


def test_address_lookup(t, e):
    state = os.path.join(e.dir, "state")
    os.makedirs(os.path.join(state, "ns1", "c1"))
    with open(os.path.join(state, "ns1", "c1", "address"), "w") as f:
        f.write("unix://" + e.sock + "\n")
    p = e.run("--namespace", "ns1", "--state-dir", state, "state", address=False)
    t.is_(p.returncode, 0, "--namespace/--id find the socket in STATE_DIR/NS/ID/address",
          diag=p.diag)
    t.ok("status: RUNNING" in p.stdout, "state: human form", diag=p.diag)
    t.ok("stdin:" not in p.stdout, "human form leaves out empty values", diag=p.diag)
    t.is_(e.last_request("State")[0], "ns1", "the namespace goes along as metadata")
    p = e.run("state", "--namespace", "ns2", "--state-dir", state, address=False)
    t.is_(p.returncode, 1, "no address file: exit 1", diag=p.diag)
    t.ok(p.stderr.startswith("shimctl: NotFound: find the shim of ns2/c1: open ") and
         "ns2/c1/address" in p.stderr, "the missing address file is named", diag=p.diag)
    p = e.run("state", address=False, cid=None)
    t.is_(p.returncode, 2, "state without --id: usage error", diag=p.diag)


def test_shortcuts(t, e):
    p = e.run("state", "--json", "--exec-id", "sleeper")
    r = json.loads(p.stdout) if p.returncode == 0 else {}
    t.is_((r.get("exec_id"), r.get("pid")), ("sleeper", 4999), "state --exec-id --json",
          diag=p.diag)
    p = e.run("state", "--exec-id", "nope")
    t.is_((p.returncode, p.stderr), (1, "shimctl: NotFound: process nope does not exist\n"),
          "state of an unknown exec: NotFound", diag=p.diag)

    p = e.run("pids")
    rows = [line.split() for line in p.stdout.splitlines()]
    t.is_(rows, [["PID", "EXEC", "ID"], ["4242"], ["4243", "e1"]],
          "pids: table with exec ids from ProcessDetails", diag=p.diag)
    p = e.run("pids", "--json")
    r = json.loads(p.stdout) if p.returncode == 0 else {}
    t.is_(r.get("processes", [{}, {}])[1].get("info", {}).get("value"), {"exec_id": "e1"},
          "pids --json decodes the info Any", diag=p.diag)

    p = e.run("kill", "--signal", "KILL", "--all")
    t.is_((p.returncode, p.stdout), (0, ""), "kill: exit 0, no output", diag=p.diag)
    t.is_(e.last_request("Kill")[1], {"id": "c1", "signal": 9, "all": True},
          "kill --signal KILL --all")
    e.run("kill", "-s", "sighup")
    t.is_(e.last_request("Kill")[1], {"id": "c1", "signal": 1}, "signal names: SIGHUP, any case")
    e.run("kill")
    t.is_(e.last_request("Kill")[1], {"id": "c1", "signal": 15}, "default signal TERM")
    p = e.run("kill", "--signal", "NOPE")
    t.is_(p.returncode, 2, "bad signal: usage error", diag=p.diag)
    p = e.run("kill", "--exec-id", "gone")
    t.is_((p.returncode, p.stderr), (1, "shimctl: NotFound: process already finished\n"),
          "kill of a finished exec: NotFound", diag=p.diag)
    p = e.run("kill", "--now")
    t.is_(p.returncode, 2, "an option of another command is refused", diag=p.diag)

    p = e.run("wait")
    t.is_(p.stdout, "exit_status: 7\nexited_at: 2024-05-01T10:00:00Z\n", "wait: human form",
          diag=p.diag)
    p = e.run("stats")
    t.ok("type_url: io.containerd.cgroups.v1.Metrics" in p.stdout and "current: 3" in p.stdout,
         "stats: metrics decoded", diag=p.diag)
    p = e.run("stats", "--json")
    r = json.loads(p.stdout) if p.returncode == 0 else {}
    t.is_(r.get("stats", {}).get("value", {}).get("pids"), {"current": 3, "limit": 10},
          "stats --json", diag=p.diag)
    for cmd in ("pause", "resume"):
        p = e.run(cmd)
        t.is_((p.returncode, p.stdout), (0, ""), f"{cmd}: exit 0, no output", diag=p.diag)
        t.is_(e.last_request(cmd.capitalize())[1], {"id": "c1"}, f"{cmd} request")
    p = e.run("pause", "--json")
    t.is_(p.stdout, "{}\n", "an empty reply with --json is {}", diag=p.diag)
    p = e.run("delete")
    t.ok(p.returncode == 0 and "pid: 4242" in p.stdout and "exit_status: 7" in p.stdout,
         "delete prints pid and exit status", diag=p.diag)
    p = e.run("connect")
    t.ok(p.returncode == 0 and "version: fake" in p.stdout and "task_pid: 4242" in p.stdout,
         "connect", diag=p.diag)
    p = e.run("--timeout", "300ms", "wait", "--exec-id", "sleeper")
    t.is_(p.returncode, 1, "--timeout bounds wait", diag=p.diag)
    t.ok(p.stderr.startswith("shimctl: DeadlineExceeded: "), "timeout: DeadlineExceeded",
         diag=p.diag)
    p = e.run("--timeout", "soon", "state")
    t.is_(p.returncode, 2, "bad --timeout: usage error", diag=p.diag)


def test_create_start(t, e):
    p = e.run("create", "--bundle", "/b", "--stdout", "/f/out", "-t",
              "--rootfs", '[{"type":"bind","source":"/r","options":["rbind","ro"]}]',
              "--options", '{"type_url":"containerd.runc.v1.Options",'
                           '"value":{"binary_name":"crun"}}')
    t.is_((p.returncode, p.stdout), (0, "pid: 4242\n"), "create prints the pid", diag=p.diag)
    req = e.last_request("Create")[1] or {}
    t.is_(req, {"id": "c1", "bundle": "/b", "rootfs": [{"type": "bind", "source": "/r",
                                                         "options": ["rbind", "ro"]}],
                "terminal": True, "stdout": "/f/out",
                "options": {"type_url": "containerd.runc.v1.Options",
                            "value": {"binary_name": "crun"}}},
          "CreateTaskRequest built from the flags")
    p = e.run("create", "--bundle", "/b", "--rootfs", "[{]")
    t.ok(p.returncode == 1 and "--rootfs: invalid JSON" in p.stderr, "create: bad --rootfs",
         diag=p.diag)
    p = e.run("create", "--bundle", "/b", "--rootfs", '[{"typ":"x"}]')
    t.ok(p.returncode == 1 and 'unknown field "typ" in containerd.types.Mount' in p.stderr,
         "create: unknown Mount field", diag=p.diag)
    p = e.run("create")
    t.is_(p.returncode, 2, "create without --bundle: usage error", diag=p.diag)
    p = e.run("start", "--json")
    t.is_((p.returncode, json.loads(p.stdout or "{}")), (0, {"pid": 4242}), "start --json",
          diag=p.diag)
    t.is_(e.last_request("Start")[1], {"id": "c1"}, "Start of the init")


def test_exec(t, e):
    p = e.run("exec", "--exec-id", "x1", "--", "echo", "hello", "world")
    t.is_((p.returncode, p.stdout), (0, "hello world\n"), "exec: stdout copied", diag=p.diag)
    methods = [line.split(" ", 1)[0] for line in e.log_lines()]
    methods = [m for m in methods[len(methods) - 1 - methods[::-1].index("Exec"):]
               if m != "CloseIO"]
    t.is_(methods, ["Exec", "Start", "Wait", "Delete"], "exec: Exec, Start, Wait, Delete")
    req = e.last_request("Exec")[1] or {}
    spec = (req.get("spec") or {}).get("value") or {}
    t.is_(req.get("spec", {}).get("type_url"),
          "types.containerd.io/opencontainers/runtime-spec/1/Process", "spec type URL")
    t.is_(spec.get("args"), ["echo", "hello", "world"], "spec args")
    t.ok(req.get("stdin", "").endswith("/stdin") and req.get("stderr", "").endswith("/stderr"),
         "FIFO paths sent", diag=str(req))
    t.is_(os.listdir(e.tmp), [], "FIFO directory removed")

    p = e.run("exec", "-e", "x2", "fail")
    t.is_((p.returncode, p.stderr), (3, "oops\n"), "exec: stderr copied, exit status passed on",
          diag=p.diag)

    p = e.run("exec", "-e", "x3", "--", "cat", stdin="line 1\nline 2\n")
    t.is_((p.returncode, p.stdout), (0, "line 1\nline 2\n"),
          "exec: stdin copied, EOF closes it (CloseIO)", diag=p.diag)
    t.is_(e.last_request("CloseIO")[1], {"id": "c1", "exec_id": "x3", "stdin": True},
          "CloseIO{stdin} at EOF")

    p = e.run("exec", "-e", "x4", "--env", "FOO=bar", "--env", "HOME=/x", "--cwd", "/tmp",
              "--user", "5:6", "--", "spec")
    try:
        spec = json.loads(p.stdout)
    except ValueError:
        spec = {}
    t.is_(spec.get("env"), ["PATH=/bin", "FOO=bar", "HOME=/x"],
          "env: the init's, overridden and extended", diag=p.diag)
    t.is_((spec.get("cwd"), spec.get("user")), ("/tmp", {"uid": 5, "gid": 6}),
          "--cwd and --user", diag=p.diag)
    t.is_(spec.get("noNewPrivileges"), True, "other fields of the init's process kept",
          diag=p.diag)

    p = e.run("exec", "-e", "x5", "-t", "--", "tty")
    t.is_(p.stdout, "terminal=true stderr=\n", "-t: terminal set, no stderr FIFO", diag=p.diag)
    spec = (e.last_request("Exec")[1] or {}).get("spec", {}).get("value", {})
    t.is_((spec.get("terminal"), spec.get("env")),
          (True, ["PATH=/bin", "HOME=/root", "TERM=xterm"]),
          "-t: spec terminal and TERM=xterm", diag=str(spec))

    p = e.run("exec", "-e", "dup", "--", "echo")
    t.is_((p.returncode, p.stderr), (1, "shimctl: AlreadyExists: id dup: already exists\n"),
          "exec with a taken id: AlreadyExists", diag=p.diag)
    t.is_(os.listdir(e.tmp), [], "FIFO directory removed after a failure")

    p = e.run("exec", "--", "echo")
    t.is_(p.returncode, 2, "exec without --exec-id: usage error", diag=p.diag)
    p = e.run("exec", "-e", "x6", "-t", "--", "echo", "-t", "--help")
    t.is_(p.stdout, "-t --help\n", "options after the command belong to it", diag=p.diag)


def test_events(t, e):
    before = time.time()
    p = e.run("events", "publish", "--address", e.sock, "--namespace", "n1", "--type",
              "TaskOOM", stdin='{"container_id":"c9"}', address=False, cid=None)
    t.is_((p.returncode, p.stdout), (0, ""), "events publish exits 0, no output", diag=p.diag)
    ns, req = e.last_request("Forward")
    env = (req or {}).get("envelope", {})
    t.is_(ns, "n1", "publish sends the namespace metadata")
    t.is_((env.get("namespace"), env.get("topic")), ("n1", "/tasks/oom"),
          "envelope namespace, default topic of TaskOOM", diag=str(req))
    t.is_(env.get("event"), {"type_url": "containerd.events.TaskOOM",
                             "value": {"container_id": "c9"}},
          "event wrapped in an Any with the bare type URL", diag=str(req))
    ts = env.get("timestamp", "")
    t.ok(ts.startswith(time.strftime("%Y-", time.gmtime(before))) and ts.endswith("Z"),
         "envelope timestamp is now", diag=ts)
    p = e.run("events", "publish", "--address", e.sock, "--type", "containerd.events.Nope",
              "--topic", "/x", address=False, cid=None)
    t.is_(p.returncode, 2, "unknown event type: usage error", diag=p.diag)
    p = e.run("events", "publish", "--address", e.sock, "--type", "TaskExit", "--topic", "/t",
              stdin='{"pid":"x"}', address=False, cid=None)
    t.ok(p.returncode == 1 and "pid" in p.stderr and "InvalidArgument" in p.stderr,
         "bad event JSON: InvalidArgument naming the field", diag=p.diag)


def test_help(t, e):
    cmds = ["call", "create", "start", "state", "pids", "kill", "wait", "stats", "pause",
            "resume", "delete", "connect", "shutdown", "exec"]
    for c in cmds:
        p = e.run(c, "--help", address=False, cid=None)
        t.ok(p.returncode == 0 and "Usage: shimctl" in p.stdout and "Examples:" in p.stdout,
             f"{c} --help", diag=p.diag)
    p = e.run("events", "publish", "--help", address=False, cid=None)
    t.ok(p.returncode == 0 and "Examples:" in p.stdout, "events publish --help", diag=p.diag)
    p = e.run("--help", address=False, cid=None)
    t.ok(p.returncode == 0 and "Examples:" in p.stdout, "shimctl --help", diag=p.diag)
    p = e.run("frobnicate", address=False, cid=None)
    t.is_(p.returncode, 2, "unknown command: usage error", diag=p.diag)


def test_shutdown(t, e):
    p = e.run("shutdown")
    t.is_((p.returncode, p.stdout, p.stderr), (0, "", ""), "shutdown: exit 0", diag=p.diag)
    try:
        e.fake.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    t.ok(e.fake.poll() is not None, "the shim exited")
    p = e.run("connect")
    t.is_(p.returncode, 1, "no shim: exit 1", diag=p.diag)
    t.ok(p.stderr.startswith("shimctl: Unavailable: ") and e.sock in p.stderr,
         "transport error: Unavailable, naming the address", diag=p.diag)


def main():
    t = Tap()
    e = Env()
    try:
        for fn in (test_call, test_address_lookup, test_shortcuts, test_create_start, test_exec,
                   test_events, test_help, test_shutdown):
            try:
                fn(t, e)
            except Exception as ex:  # a crash in one group must not hide the others
                t.ok(False, f"{fn.__name__} raised {ex!r}")
    finally:
        e.close()
    t.done()


if __name__ == "__main__":
    main()
