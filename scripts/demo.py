#!/usr/bin/env python3
"""The demo behind scripts/demo.sh. Installs containerd-shim-mini-v2 into /usr/local/bin (where
containerd finds it), then uses the machine's containerd if one is serving
/run/containerd/containerd.sock (in a namespace of its own, "mini-demo", removing only what it
made), else a private containerd that it starts and stops (tests/lib/containerd.py).

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
    show(c.ctr_cmd("shim", "--id", "demo-sleep", "state"))
    show(c.ctr_cmd("task", "kill", "-s", "SIGKILL", "demo-sleep"))
    time.sleep(0.5)
    show(c.ctr_cmd("task", "rm", "demo-sleep"))
    show(c.ctr_cmd("container", "rm", "demo-sleep"))


class SystemContainerd:
    """The machine's own containerd, driven like the harness's private one."""
    address = "/run/containerd/containerd.sock"
    ttrpc_address = address + ".ttrpc"
    state = "/run/containerd"
    namespace = "mini-demo"

    def ctr_cmd(self, *args, namespace=None):
        return ["ctr", "--address", self.address, "--namespace", namespace or self.namespace] + \
            [str(a) for a in args]

    def ctr(self, *args, check=True, timeout=60, **_):
        return subprocess.run(self.ctr_cmd(*args), check=check, capture_output=True, text=True,
                              timeout=timeout)

    def ctr_popen(self, *args, **kwargs):
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.Popen(self.ctr_cmd(*args), **kwargs)

    def events(self):
        from containerd import EventWatcher
        w = EventWatcher(self)
        w.sync()
        return w

    def import_image(self):
        from containerd import IMAGE, build_image
        tar, _ = build_image()
        self.ctr("image", "import", tar)
        return IMAGE

    def cleanup(self):
        for cid in ("demo-hello", "demo-sleep"):
            subprocess.run(self.ctr_cmd("task", "rm", "-f", cid), capture_output=True)
            subprocess.run(self.ctr_cmd("container", "rm", cid), capture_output=True)


def system_containerd_serving():
    if not os.path.exists(SystemContainerd.address):
        return False
    p = subprocess.run(["ctr", "--address", SystemContainerd.address, "version"],
                       capture_output=True, timeout=10)
    return p.returncode == 0


def install_shim():
    say("install containerd-shim-mini-v2 into /usr/local/bin")
    show(["install", "-m", "0755", SHIM, "/usr/local/bin/containerd-shim-mini-v2"])


def main():
    if os.geteuid() != 0:
        raise SystemExit("demo: run as root")
    install_shim()
    if system_containerd_serving():
        c = SystemContainerd()
        print(f"using the running containerd at {c.address}, namespace {c.namespace}")
        try:
            c.cleanup()
            events_demo(c)
            shim_demo(c)
        finally:
            c.cleanup()
        print("\ndemo: done")
        return
    with Containerd(shim_dir="/usr/local/bin") as c:
        print(f"no containerd running: a private one at {c.address} (state under {c.tmpdir})")
        events_demo(c)
        shim_demo(c)
    print("\ndemo: done, private containerd stopped and cleaned up")


if __name__ == "__main__":
    main()
