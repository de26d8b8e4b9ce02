#!/bin/sh
# bench-runtime.sh — `run` of /bin/true, N times (default 100), with minirun, crun and runc side
# by side in one run, for two configs (CONFIGS, default "plain realistic"):
#   plain      the default spec (`runc spec`): three capabilities, no seccomp, no limits
#   realistic  what `ctr run --seccomp` with limits gives: containerd's 14 default capabilities,
#              its default seccomp profile (tests/data/seccomp/containerd_default.json), and
#              memory, swap, cpu shares/quota, pids and device cgroup limits The runtimes take turns (round-robin) so drift on the machine hits them all
# alike. Reports the median, mean and p90 wall time per run, the ratio to crun, and the peak RSS
# of the runtime process (ru_maxrss from wait4(2), which covers the runtime's own children that it
# reaped: runc's `runc init`, minirun's re-exec from its sealed copy).
#
#   sudo bench/bench-runtime.sh                      # minirun from build/, N=100
#   sudo MINIRUN=build-rt/runtime/minirun N=20 bench/bench-runtime.sh
#   sudo RUNTIMES="minirun crun" bench/bench-runtime.sh
#   sudo CONFIGS=realistic bench/bench-runtime.sh
#
# Needs root, /bin/busybox (busybox-static). Nothing is downloaded; everything it makes lives in
# one temporary directory that is removed at the end.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
MINIRUN=${MINIRUN:-$here/build/runtime/minirun}
N=${N:-100}
RUNTIMES=${RUNTIMES:-"minirun crun runc"}
CONFIGS=${CONFIGS:-"plain realistic"}
SECCOMP=$here/tests/data/seccomp/containerd_default.json

if [ "$(id -u)" != 0 ]; then
	echo "bench-runtime: needs root" >&2
	exit 77
fi

work=$(mktemp -d /tmp/bench-runtime.XXXXXX)
# The realistic config's cgroups live under /minirt-bench in each hierarchy; every run removes
# its own, the parents go at the end.
cleanup() {
	rm -rf "$work"
	for d in /sys/fs/cgroup/*/minirt-bench /sys/fs/cgroup/minirt-bench; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null || true
	done
}
trap cleanup EXIT INT TERM

# The bundle: a busybox rootfs and the default spec (minirun spec = runc spec) running
# /bin/true without a terminal.
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/proc" "$work/bundle/rootfs/dev" \
	"$work/bundle/rootfs/sys"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
ln -s busybox "$work/bundle/rootfs/bin/true"
ln -s busybox "$work/bundle/rootfs/bin/sh"

# ru_maxrss counts the memory a process had before execve, so a child forked from Python starts
# at Python's size. A tiny C launcher forks and execs the runtime instead, timing it and taking
# wait4's ru_maxrss; its own pre-exec size is a few hundred KiB.
cat > "$work/launch.c" <<'C'
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%lld %ld %d\n", (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec),
	       ru.ru_maxrss, status);
	return 0;
}
C
cc -O2 -o "$work/launch" "$work/launch.c"

CONFIGS=$CONFIGS SECCOMP=$SECCOMP python3 - "$work" "$N" "$MINIRUN" $RUNTIMES <<'EOF'
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

work, n, minirun = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def private_v1_view():
    """crun 1.8 refuses a hybrid layout whose v2 mount has controllers (this machine: hugetlb
    on /sys/fs/cgroup/unified). In a private mount namespace without that mount, all three
    runtimes see the same pure v1 layout; nothing changes for the host."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    CLONE_NEWNS, MS_REC, MS_PRIVATE, MNT_DETACH = 0x20000, 0x4000, 1 << 18, 2
    if not os.path.ismount("/sys/fs/cgroup/unified"):
        return
    if libc.unshare(CLONE_NEWNS) != 0:
        sys.exit("bench-runtime: unshare(CLONE_NEWNS) failed")
    libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
    if libc.umount2(b"/sys/fs/cgroup/unified", MNT_DETACH) != 0:
        sys.exit("bench-runtime: cannot hide /sys/fs/cgroup/unified")
    print("# private mount namespace without /sys/fs/cgroup/unified (crun refuses hybrid)")


private_v1_view()
names = sys.argv[4:]
bundle = os.path.join(work, "bundle")

paths = {"minirun": minirun, "crun": shutil.which("crun"), "runc": shutil.which("runc")}
runtimes = []
for name in names:
    p = paths.get(name) or shutil.which(name)
    if not p or not os.access(p, os.X_OK):
        print(f"# {name}: not found, skipped")
        continue
    runtimes.append((name, p))
if not runtimes:
    sys.exit("bench-runtime: no runtime to measure")

spec = subprocess.run([minirun if os.access(minirun, os.X_OK) else "runc", "spec", "--bundle",
                       bundle], capture_output=True, text=True)
conf_path = os.path.join(bundle, "config.json")
if spec.returncode != 0 or not os.path.exists(conf_path):
    sys.exit(f"bench-runtime: spec failed: {spec.stderr}")
with open(conf_path) as f:
    conf = json.load(f)
conf["process"]["terminal"] = False
conf["process"]["args"] = ["/bin/true"]
with open(conf_path, "w") as f:
    json.dump(conf, f)

# containerd's defaultUnixCaps, the set its default seccomp profile was generated for
CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def realistic_bundle():
    """The same rootfs with containerd's caps and seccomp profile and cgroup limits."""
    b = os.path.join(work, "bundle-realistic")
    os.makedirs(b)
    c = json.loads(json.dumps(conf))
    c["root"] = {"path": os.path.join(bundle, "rootfs"), "readonly": True}
    c["process"]["capabilities"] = {k: CAPS for k in ("bounding", "effective", "permitted")}
    c["process"]["noNewPrivileges"] = False
    with open(os.environ["SECCOMP"]) as f:
        c["linux"]["seccomp"] = json.load(f)
    c["linux"]["cgroupsPath"] = "/minirt-bench/ctr"
    c["linux"]["resources"] = {
        "devices": [{"allow": False, "access": "rwm"}],
        "memory": {"limit": 256 << 20, "swap": 256 << 20},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000},
        "pids": {"limit": 512}}
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(c, f)
    return b


bundles = {"plain": bundle}
configs = os.environ.get("CONFIGS", "plain").split()
if "realistic" in configs:
    bundles["realistic"] = realistic_bundle()


def run_once(name, path, cfg, i):
    """One `run` through the launcher; returns (seconds, maxrss in KiB)."""
    root = os.path.join(work, "state-" + name)
    argv = [os.path.join(work, "launch"), path, "--root", root, "run", "--bundle", bundles[cfg],
            f"bench-{name}-{cfg}-{i}"]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    parts = p.stdout.split()
    if p.returncode != 0 or len(parts) != 3 or parts[2] != "0":
        sys.exit(f"bench-runtime: {' '.join(argv)} failed: {p.stdout} {p.stderr}")
    return int(parts[0]) / 1e9, int(parts[1])


for cfg in configs:
    if cfg not in bundles:
        sys.exit(f"bench-runtime: unknown config {cfg} (plain, realistic)")
    # One warm-up run each (page cache, first cgroup creation), not counted.
    for name, path in runtimes:
        run_once(name, path, cfg, "warmup")
    times = {name: [] for name, _ in runtimes}
    rss = {name: 0 for name, _ in runtimes}
    for i in range(n):
        for name, path in runtimes:
            dt, maxrss = run_once(name, path, cfg, i)
            times[name].append(dt)
            rss[name] = max(rss[name], maxrss)
    ref = "crun" if "crun" in times else runtimes[0][0]
    ref_median = statistics.median(times[ref])
    print(f"\n[{cfg}] `run` of /bin/true, {n} runs each, round-robin "
          f"(ratio: median / median of {ref})")
    print(f"{'runtime':10} {'median ms':>10} {'mean ms':>10} {'p90 ms':>10} {'ratio':>7} "
          f"{'peak RSS KiB':>13}")
    for name, _ in runtimes:
        t = sorted(times[name])
        med = statistics.median(t)
        p90 = t[int(0.9 * (len(t) - 1))]
        print(f"{name:10} {med * 1000:10.2f} {statistics.mean(t) * 1000:10.2f} "
              f"{p90 * 1000:10.2f} {med / ref_median:7.2f} {rss[name]:13d}")
EOF
