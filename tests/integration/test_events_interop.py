#!/usr/bin/env python3
"""Interop of our ttrpc client with containerd: shimctl publishes a TaskOOM event on containerd's
ttrpc socket (Events/Forward, as a shim does) and `ctr events` must show it. A bad topic must
come back as InvalidArgument carrying containerd's own message."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

from containerd import REPO, Containerd  # noqa: E402
from tap import Tap, require_root  # noqa: E402


def shimctl_path():
    build = os.environ.get("MINI_BUILD_DIR") or os.path.join(REPO, "build")
    return os.path.join(build, "shim", "shimctl", "shimctl")


def publish(shimctl, c, topic, payload):
    cmd = [shimctl, "events", "publish", "--address", c.ttrpc_address, "--namespace", "default",
           "--topic", topic, "--type", "containerd.events.TaskOOM"]
    p = subprocess.run(cmd, input=payload, capture_output=True, text=True, timeout=15)
    return p, f"$ {' '.join(cmd)} <<< {payload}\nrc={p.returncode}\nstdout: {p.stdout}\n" \
              f"stderr: {p.stderr}"


def main():
    require_root("the containerd integration suite")
    t = Tap()
    shimctl = shimctl_path()
    have_shimctl = os.access(shimctl, os.X_OK)
    t.ok(have_shimctl, "shimctl is built", diag=f"{shimctl} missing (set MINI_BUILD_DIR)")

    with Containerd() as c:
        t.ok(c.running(), f"private containerd running under {c.tmpdir}")
        watcher = c.events()  # returns once its subscription is known to be live
        t.ok(True, "ctr events subscribed")

        if have_shimctl:
            mark = len(watcher.lines)
            p, diag = publish(shimctl, c, "/tasks/oom", '{"container_id":"interop-1"}')
            t.is_(p.returncode, 0, "shimctl events publish /tasks/oom exits 0", diag=diag)
            line = watcher.wait_for("/tasks/oom", "interop-1", timeout=5, start=mark)
            t.ok(line is not None, "ctr events shows /tasks/oom for interop-1",
                 diag=diag + "\nctr events printed:\n" + "\n".join(watcher.lines))
            if line is not None:
                t.ok(" default " in f" {line} ", "the event is in namespace default",
                     diag=line)
                t.ok("cannot unmarshal" not in "\n".join(watcher.lines),
                     "containerd decoded the payload (type URL accepted)",
                     diag="\n".join(watcher.lines))

            p, diag = publish(shimctl, c, "no-slash", '{"container_id":"interop-2"}')
            out = p.stdout + p.stderr
            t.ok(p.returncode != 0, "bad topic: shimctl exits non-zero", diag=diag)
            t.ok("InvalidArgument" in out, "bad topic: status code name InvalidArgument shown",
                 diag=diag)
            t.ok("must start with '/'" in out, "bad topic: containerd's message shown",
                 diag=diag)
            t.ok(watcher.wait_for("interop-2", timeout=0.5, start=mark) is None,
                 "bad topic: no event delivered", diag="\n".join(watcher.lines))
        else:
            for what in ("publish", "event seen", "bad topic rejected"):
                t.ok(False, f"{what} (needs shimctl)")
        watcher.stop()
        if t.failed:
            c.failed = True
    t.ok(not c.check_clean(), "harness cleaned up", diag="\n".join(c.check_clean()))
    t.done()


if __name__ == "__main__":
    main()
