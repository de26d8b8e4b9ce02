#!/usr/bin/env python3
"""Standard I/O through a real containerd: stdout and stderr kept apart and byte-exact, 256 MiB
of output byte-exact, stdin byte-exact with EOF (CloseIO), output flushed before the exit is
reported, a terminal (-t) with its window size, file:// and binary:// log URIs, --null-io, and
attaching to a running task. Every scenario runs with io.containerd.mini.v2 and
io.containerd.runc.v2."""

import hashlib
import os
import subprocess
import time

from shimtest import IMAGE, Suite, md5, strip_ansi

LARGE = 256 << 20
PATTERN = b"abcdefghijklmnopqrstuvwxyz0123456789\n"


def expected_large_md5():
    h = hashlib.md5()
    block = PATTERN * (1 << 16)
    left = LARGE
    while left:
        n = min(left, len(block))
        h.update(block[:n])
        left -= n
    return h.hexdigest()


def scenario_split(s, rt):
    """1 MB of random bytes on stdout; their md5 (computed inside) on stderr."""
    t = s.t
    r = subprocess.run(s.c.ctr_cmd("run", "--rm", *rt.args, IMAGE, rt.cid("split"), "sh", "-c",
                                   "head -c 1000000 /dev/urandom > /tmp/d; md5sum < /tmp/d >&2;"
                                   " cat /tmp/d"),
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                       env=s.c.client_env())
    inside = r.stderr.split(b" ")[0].decode(errors="replace")
    t.ok(r.returncode == 0 and len(r.stdout) == 1000000 and md5(r.stdout) == inside,
         f"{rt.name}: binary stdout byte-exact, stderr separate",
         diag=(r.returncode, len(r.stdout), r.stderr[:200]))


def scenario_large(s, rt, want):
    t = s.t
    start = time.monotonic()
    p = s.popen("run", "--rm", *rt.args, IMAGE, rt.cid("large"), "sh", "-c",
                f"yes {PATTERN.decode().strip()} | head -c {LARGE}",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    h, n = hashlib.md5(), 0
    while True:
        chunk = p.stdout.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    rc = p.wait(120)
    secs = time.monotonic() - start
    t.ok(rc == 0 and n == LARGE and h.hexdigest() == want,
         f"{rt.name}: 256 MiB of stdout byte-exact", diag=(rc, n, p.stderr.read()[:300]))
    t.diag(f"{rt.name}: 256 MiB through ctr in {secs:.2f}s ({LARGE / secs / 1e6:.0f} MB/s,"
           " ctr included)")


def scenario_stdin(s, rt):
    """Random bytes into the container's stdin; EOF must arrive (CloseIO). ctr only sends
    CloseIO once its task is set up, so the input is written after a pause."""
    t = s.t
    data = os.urandom(1 << 20)
    p = s.popen("run", "--rm", *rt.args, IMAGE, rt.cid("stdin"), "md5sum",
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    try:
        p.stdin.write(data)
        p.stdin.close()
        p.wait(30)
    except (subprocess.TimeoutExpired, BrokenPipeError) as e:
        p.kill()
        p.wait()
        t.diag(f"{rt.name}: {e}")
    out, err = p.stdout.read(), p.stderr.read()
    t.ok(p.returncode == 0 and out.split(b" ")[0].decode() == md5(data),
         f"{rt.name}: 1 MiB of stdin byte-exact, then EOF", diag=(p.returncode, out, err[:300]))


def scenario_flushed(s, rt):
    """Output written just before exiting is all there when ctr run returns."""
    t = s.t
    sizes = []
    for i in range(3):
        r = s.ctr("run", "--rm", *rt.args, IMAGE, rt.cid(f"flush{i}"), "sh", "-c",
                  "head -c 200000 /dev/zero | tr '\\0' x; exit 0")
        sizes.append(len(r.stdout) if r.returncode == 0 else r.returncode)
    t.is_(sizes, [200000] * 3, f"{rt.name}: output complete when the exit is reported")


def scenario_tty(s, rt):
    t = s.t
    rc, out = s.run_pty(["run", "--rm", "-t", *rt.args, IMAGE, rt.cid("tty"), "sh", "-c",
                         "sleep 0.5; stty size; tty; echo done"])
    out = strip_ansi(out).replace(b"\r", b"")
    t.ok(rc == 0 and b"30 100\n" in out and b"/dev/pts/0\n" in out and b"done" in out,
         f"{rt.name}: -t gives a pty of the client's size", diag=(rc, out))
    rc, out = s.run_pty(["run", "--rm", "-t", *rt.args, IMAGE, rt.cid("sh"), "sh"],
                        send=b"echo hello-$((40+2))\nexit 4\n")
    t.ok(rc == 4 and b"hello-42" in out, f"{rt.name}: interactive shell on a pty",
         diag=(rc, out))


def scenario_log_file(s, rt):
    t = s.t
    path = os.path.join(s.c.tmpdir, f"{rt.name}-log", "out.log")
    r = s.ctr("run", "--rm", *rt.args, "--log-uri", f"file://{path}", IMAGE, rt.cid("logf"),
              "sh", "-c", "echo out; echo err >&2")
    # The runc shim may still be writing the file when ctr returns: wait for both lines.
    deadline = time.monotonic() + 10
    while True:
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            text = str(e)
        if text.count("\n") >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    t.ok(r.returncode == 0 and sorted(text.splitlines()) == ["err", "out"],
         f"{rt.name}: file:// log URI gets stdout and stderr", diag=(r, text))


def scenario_log_binary(s, rt):
    """A binary:// logger: fds 3 and 4 carry stdout and stderr, closing fd 5 says ready."""
    t = s.t
    d = os.path.join(s.c.tmpdir, f"{rt.name}-logger")
    os.makedirs(d, exist_ok=True)
    logger = os.path.join(d, "logger")
    with open(logger, "w") as f:
        f.write("#!/bin/sh\n"
                "# args: dir DIR\n"
                'exec 5>&-\n'
                'cat <&3 > "$2/stdout" &\n'
                'cat <&4 > "$2/stderr" &\n'
                'echo "$CONTAINER_NAMESPACE $CONTAINER_ID" > "$2/env"\n'
                "wait\n")
    os.chmod(logger, 0o755)
    cid = rt.cid("logb")
    r = s.ctr("run", "--rm", *rt.args, "--log-uri", f"binary://{logger}?dir={d}", IMAGE, cid,
              "sh", "-c", "echo to-out; echo to-err >&2")
    deadline = time.monotonic() + 10
    got = {}
    while time.monotonic() < deadline:
        got = {}
        for name in ("stdout", "stderr", "env"):
            try:
                with open(os.path.join(d, name)) as f:
                    got[name] = f.read()
            except OSError:
                pass
        if got.get("stdout") and got.get("stderr") and got.get("env"):
            break
        time.sleep(0.1)
    t.ok(r.returncode == 0 and got.get("stdout") == "to-out\n" and
         got.get("stderr") == "to-err\n" and got.get("env") == f"{s.c.namespace} {cid}\n",
         f"{rt.name}: binary:// logger gets stdout, stderr and its environment",
         diag=(r, got))


def scenario_null(s, rt):
    t = s.t
    r = s.ctr("run", "--rm", *rt.args, "--null-io", IMAGE, rt.cid("null"), "echo", "x")
    t.ok(r.returncode == 0 and r.stdout == "", f"{rt.name}: --null-io", diag=r)


def scenario_attach(s, rt):
    t = s.t
    cid = rt.cid("attach")
    s.ctr("run", "-d", *rt.args, IMAGE, cid, "sh", "-c",
          "while true; do echo tick; sleep 0.2; done")
    p = s.popen("task", "attach", cid, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    p.kill()
    out = p.stdout.read()
    p.wait()
    t.ok(b"tick\n" in out, f"{rt.name}: task attach reopens the FIFOs", diag=out[:200])
    s.remove(cid)


def main():
    want = expected_large_md5()
    with Suite("io") as s:
        s.each_runtime(scenario_split, scenario_stdin, scenario_flushed, scenario_tty,
                       scenario_log_file, scenario_log_binary, scenario_null, scenario_attach)
        s.each_runtime(scenario_large, args=(want,))

if __name__ == "__main__":
    main()
