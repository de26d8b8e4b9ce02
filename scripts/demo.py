#!/usr/bin/env python3
"""The demo behind scripts/demo.sh. Uses a private containerd (tests/lib/containerd.py), so it
never disturbs a containerd already running on the machine.

1. Events interop: our ttrpc client publishes a /tasks/oom event to containerd's ttrpc socket
   (Events/Forward, the path every shim publishes on) and `ctr events` shows it arriving.
2. The shim, once built: a container run through containerd with --runtime io.containerd.mini.v2
   (output, an exec, `ctr task ls`, `shimctl state`)."""
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
from containerd import Containerd  # noqa: E402

BUILD = os.environ.get("MINI_BUILD_DIR", os.path.join(REPO, "build"))
SHIMCTL = os.path.join(BUILD, "shim", "shimctl", "shimctl")
SHIM_DIR = os.path.join(BUILD, "shim")
SHIM = os.path.join(SHIM_DIR, "containerd-shim-mini-v2")


def say(msg):
    print(f"\n=== {msg}", flush=True)


def show(cmd, **kw):
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, text=True, capture_output=True, **kw)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        raise SystemExit(f"demo: command failed with status {p.returncode}")
    return p


def events_demo(c):
    say("events interop: shimctl -> containerd Events/Forward -> ctr events")
    watcher = c.events()
    show([SHIMCTL, "events", "publish", "--address", c.ttrpc_address, "--namespace", "default",
          "--topic", "/tasks/oom", "--type", "containerd.events.TaskOOM"],
         input='{"container_id":"demo-1"}')
    line = watcher.wait_for("/tasks/oom", "demo-1", timeout=5)
    watcher.stop()
    if line is None:
        raise SystemExit("demo: the event did not arrive in ctr events")
    print("ctr events: " + line)


def shim_demo(c):
    rt = ["--runtime", "io.containerd.mini.v2"]
    image = c.import_image()
    say("a container through containerd with --runtime io.containerd.mini.v2")
    show(c.ctr_cmd("run", "--rm", *rt, image, "demo-hello", "echo", "hello from mini"))
    show(c.ctr_cmd("run", "-d", *rt, image, "demo-sleep", "sleep", "1000"))
    show(c.ctr_cmd("task", "exec", "--exec-id", "e1", "demo-sleep", "sh", "-c",
                   "echo exec in $(hostname): pid $$"))
    show(c.ctr_cmd("task", "ls"))
    say("shimctl state, straight from the shim")
    show([SHIMCTL, "--namespace", c.namespace, "--id", "demo-sleep",
          "--state-dir", os.path.join(c.state, "io.containerd.runtime.v2.task"), "state"])
    show(c.ctr_cmd("task", "kill", "-s", "SIGKILL", "demo-sleep"))
    time.sleep(0.5)
    show(c.ctr_cmd("task", "rm", "demo-sleep"))
    show(c.ctr_cmd("container", "rm", "demo-sleep"))


def main():
    if os.geteuid() != 0:
        raise SystemExit("demo: run as root (it starts a private containerd)")
    with Containerd(shim_dir=SHIM_DIR) as c:
        print(f"private containerd: {c.address} (state under {c.tmpdir})")
        events_demo(c)
        if os.access(SHIM, os.X_OK):
            shim_demo(c)
        else:
            say("the shim is not built yet: only the interop part ran")
    print("\ndemo: done, private containerd stopped and cleaned up")


if __name__ == "__main__":
    main()
