#!/usr/bin/env python3
"""Shim benchmark: containerd-shim-mini-v2 (io.containerd.mini.v2) side by side with containerd's
runc shim (io.containerd.runc.v2), in one private containerd (tests/lib/containerd.py).

Measures per runtime: shim memory (idle with one container, and with N containers running:
VmRSS, Pss, threads; smaps by mapping for one shim), `ctr run --rm … true` and `ctr task exec`
latency, and stdout throughput (the container writes --bytes to stdout, `ctr run` forwards it
to a pipe read here). Prints a table and optionally writes every figure as JSON.

It reports; it never asserts timings. Exit 0 unless something functionally failed (a container
that would not start, a wrong byte count, shims left behind), 2 on bad usage. See README.md."""

import argparse
import fcntl
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "lib"))

from containerd import (IMAGE, STD_PATH, V2_TASK_DIR, Containerd, CtrError,  # noqa: E402
                        build_dir)
import shimproc  # noqa: E402
from shimproc import MIB  # noqa: E402
from stats import fmt, ratio, summary, table  # noqa: E402

F_SETPIPE_SZ = 1031
READ_CHUNK = 1 << 20

# Goals of the mini shim and figures measured earlier on this kind of machine (MiB, threads).
TARGETS = {"idle_rss_mib": 1.5, "pss_per_shim_mib": 0.25, "pss_at_n": 100, "threads": 1}
REFERENCES = {
    "runc shim (earlier)": {"rss_mib": 13.2, "pss_mib": 2.6, "threads": 12},
    "conmon (earlier)": {"rss_mib": 2.07, "pss_mib": 0.35, "threads": 1},
}


class BenchError(Exception):
    """A functional failure: the figure could not be measured."""


class Runtime:
    def __init__(self, key, name, shim, ctr_args):
        self.key = key          # short name: runc, mini
        self.name = name        # containerd runtime name
        self.shim = shim        # the shim binary containerd runs
        self.ctr_args = ctr_args
        self.skipped = None     # why it is not measured, or None


def runtimes_wanted(keys):
    """The Runtime objects for the --runtimes keys (runc's ctr arguments come with the
    harness)."""
    out = []
    for key in keys:
        if key == "runc":
            # The harness gives containerd PATH = our shim dirs + STD_PATH: look where it does.
            shim = shutil.which("containerd-shim-runc-v2", path=STD_PATH) or \
                "/usr/bin/containerd-shim-runc-v2"
            rt = Runtime("runc", "io.containerd.runc.v2", shim, [])
        else:
            shim = os.path.join(build_dir(), "shim", "containerd-shim-mini-v2")
            rt = Runtime("mini", "io.containerd.mini.v2", shim,
                         ["--runtime", "io.containerd.mini.v2"])
        if not os.access(rt.shim, os.X_OK):
            rt.skipped = f"{rt.shim} not built (set MINI_BUILD_DIR or build it first)"
        out.append(rt)
    return out


class Bench:
    def __init__(self, args, runtimes):
        self.args = args
        self.runtimes = runtimes
        self.c = None
        self.fifo_dir = None
        self.task_dir = None
        self.errors = []
        self.results = {rt.key: {"runtime": rt.name, "shim": rt.shim} for rt in runtimes}
        for rt in runtimes:
            if rt.skipped:
                self.results[rt.key]["skipped"] = rt.skipped

    def active(self):
        return [rt for rt in self.runtimes if not rt.skipped]

    def log(self, msg):
        if not self.args.quiet:
            print(f"[{time.strftime('%T')}] {msg}", file=sys.stderr, flush=True)

    def fail(self, rt, phase, e):
        msg = str(e).strip()
        self.errors.append({"runtime": rt.key, "phase": phase, "error": msg})
        self.results[rt.key].setdefault("errors", []).append({"phase": phase, "error": msg})
        self.log(f"ERROR {rt.key} {phase}: {msg.splitlines()[0] if msg else type(e).__name__}")

    # -- ctr helpers --

    def ctr(self, *args, timeout=60):
        try:
            return self.c.ctr(*args, timeout=timeout)
        except CtrError as e:
            raise BenchError(f"{' '.join(e.cmd[3:])}: exit {e.returncode}: "
                             f"{(e.stderr or '').strip()[-500:]}") from None
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"{' '.join(str(a) for a in e.cmd[3:])}: timed out") from None

    def run_detached(self, rt, cid):
        self.ctr("run", "-d", "--fifo-dir", self.fifo_dir, *rt.ctr_args, IMAGE, cid,
                 "sleep", "100000")

    def remove(self, cids):
        """Kills and deletes tasks and containers, four at a time; returns the errors."""
        def one(cid):
            try:
                self.ctr("task", "rm", "-f", cid, timeout=30)
            except BenchError as e:
                if "not found" not in str(e):
                    return str(e)
            try:
                self.ctr("containers", "rm", cid, timeout=30)
            except BenchError as e:
                return str(e)
            return None
        with ThreadPoolExecutor(max_workers=4) as pool:
            return [e for e in pool.map(one, cids) if e]

    def shims(self, rt):
        """{pid: container id} of the live shim daemons of this runtime."""
        found = shimproc.shim_daemons(rt.shim, self.task_dir, exclude_ppids={self.c.proc.pid})
        return {pid: os.path.basename(bundle) for pid, bundle in found.items()}

    def wait_no_shims(self, rt, timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            left = self.shims(rt)
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.1)

    # -- phases --

    def smoke(self, rt):
        cid = f"smoke-{rt.key}"
        p = self.ctr("run", "--rm", "--fifo-dir", self.fifo_dir, *rt.ctr_args, IMAGE, cid,
                     "echo", "bench-ok")
        if p.stdout != "bench-ok\n":
            raise BenchError(f"ctr run --rm … echo bench-ok printed {p.stdout!r}")

    def memory(self, rt):
        n = self.args.n
        res = self.results[rt.key].setdefault("memory", {})
        cids, start_s = [], []
        primary = None
        try:
            for i in range(n):
                cid = f"mem-{rt.key}-{i}"
                t0 = time.monotonic()
                self.run_detached(rt, cid)
                start_s.append(time.monotonic() - t0)
                cids.append(cid)
                if i == 0:
                    time.sleep(self.args.settle)
                    res["idle"] = self.idle_shim(rt, cid)
                if (i + 1) % 25 == 0:
                    self.log(f"{rt.key}: {i + 1}/{n} containers running")
            res["start_detached_s"] = {**summary(start_s), "samples": start_s}
            time.sleep(self.args.settle)
            self.check_running(cids)
            res["loaded"] = self.loaded_shims(rt, cids)
        except BenchError as e:
            primary = e
        self.log(f"{rt.key}: removing {len(cids)} containers")
        errs = self.remove(cids)
        left = self.wait_no_shims(rt)
        if primary:
            raise primary
        if errs:
            raise BenchError(f"{len(errs)} containers not removed; first: {errs[0]}")
        if left:
            raise BenchError(f"{len(left)} shim(s) still running after their containers "
                             f"were deleted: pids {sorted(left)[:10]}")

    def idle_shim(self, rt, cid):
        shims = self.shims(rt)
        pids = [p for p, c in shims.items() if c == cid]
        if len(pids) != 1:
            raise BenchError(f"expected one shim daemon for {cid}, found {shims}")
        mem = shimproc.memory(pids[0])
        if mem is None:
            raise BenchError(f"shim {pids[0]} of {cid} vanished")
        return {"pid": pids[0], **mem, "smaps": shimproc.smaps_breakdown(pids[0])}

    def check_running(self, cids):
        out = self.ctr("task", "ls").stdout.splitlines()[1:]
        status = {f[0]: f[2] for f in (line.split() for line in out) if len(f) >= 3}
        bad = {c: status.get(c, "missing") for c in cids if status.get(c) != "RUNNING"}
        if bad:
            raise BenchError(f"{len(bad)} of {len(cids)} tasks not RUNNING: "
                             f"{dict(list(bad.items())[:5])}")

    def loaded_shims(self, rt, cids):
        shims = self.shims(rt)
        served = set(shims.values())
        missing = [c for c in cids if c not in served]
        if missing:
            raise BenchError(f"no shim daemon found for {len(missing)} containers "
                             f"(e.g. {missing[:3]}); shims seen: {len(shims)}")
        per = []
        for pid, cid in sorted(shims.items()):
            mem = shimproc.memory(pid)
            if mem is not None:
                per.append({"pid": pid, "container": cid, **mem})
        first = [p for p, c in shims.items() if c == cids[0]]
        out = {
            "containers": len(cids),
            "shims": len(per),
            "rss": summary([p["rss"] for p in per]),
            "pss": summary([p["pss"] for p in per]),
            "threads": summary([p["threads"] for p in per]),
            "rss_total": sum(p["rss"] for p in per),
            "pss_total": sum(p["pss"] for p in per),
            "per_shim": per,
            "smaps": shimproc.smaps_breakdown(first[0]) if first else None,
        }
        return out

    def alternate(self, phase, iterations, fn, warmup=True, runtimes=None):
        """Runs fn(rt, i) for i in range(iterations), the runtimes taking turns so that drift
        in machine load hits them alike; one untimed warm-up round first. Returns
        {key: [samples]}; a runtime that fails drops out of the phase, keeping the samples it
        has (fewer than iterations: the report marks them partial)."""
        live = list(self.active() if runtimes is None else runtimes)
        samples = {rt.key: [] for rt in live}
        rounds = (["warm"] if warmup else []) + list(range(iterations))
        for i in rounds:
            for rt in list(live):
                try:
                    v = fn(rt, i)
                except BenchError as e:
                    self.fail(rt, phase, e)
                    live.remove(rt)
                    continue
                if i != "warm":
                    samples[rt.key].append(v)
            if isinstance(i, int) and (i + 1) % 25 == 0:
                self.log(f"{phase}: {i + 1}/{iterations}")
        return {k: v for k, v in samples.items() if v}

    def run_rm_once(self, rt, i):
        cid = f"lat-{rt.key}-{i}"
        t0 = time.monotonic()
        self.ctr("run", "--rm", "--fifo-dir", self.fifo_dir, *rt.ctr_args, IMAGE, cid, "true")
        return time.monotonic() - t0

    def exec_latency(self):
        started = []
        for rt in self.active():
            try:
                self.run_detached(rt, f"exec-{rt.key}")
                started.append(rt)
            except BenchError as e:
                self.fail(rt, "exec", e)

        def once(rt, i):
            t0 = time.monotonic()
            self.ctr("task", "exec", "--fifo-dir", self.fifo_dir, "--exec-id", f"e{i}",
                     f"exec-{rt.key}", "true")
            return time.monotonic() - t0

        try:
            return self.alternate("exec", self.args.iterations, once, runtimes=started)
        finally:
            for rt in started:
                errs = self.remove([f"exec-{rt.key}"])
                if errs:
                    self.fail(rt, "exec cleanup", BenchError(errs[0]))

    def throughput_once(self, rt, i):
        nbytes = self.args.bytes
        cid = f"tp-{rt.key}-{i}"
        if nbytes % MIB == 0:
            cmd = ["dd", "if=/dev/zero", "bs=1M", f"count={nbytes // MIB}"]
        else:
            cmd = ["head", "-c", str(nbytes), "/dev/zero"]
        with tempfile.TemporaryFile() as errf:
            t0 = time.monotonic()
            p = self.c.ctr_popen("run", "--rm", "--fifo-dir", self.fifo_dir, *rt.ctr_args, IMAGE,
                                 cid, *cmd, stdout=subprocess.PIPE, stderr=errf, bufsize=0)
            fd = p.stdout.fileno()
            try:
                fcntl.fcntl(fd, F_SETPIPE_SZ, READ_CHUNK)
            except OSError:
                pass  # a smaller pipe only means more reads
            total, first, shim_pid, shim_cpu = 0, None, None, None
            next_sample = t0
            while True:
                chunk = os.read(fd, READ_CHUNK)
                now = time.monotonic()
                if not chunk:
                    break
                if first is None:
                    first = (now, len(chunk))
                total += len(chunk)
                # Sample the shim's CPU time now and then; the last sample, taken once every
                # byte went through, is the figure (the shim exits soon after).
                if now >= next_sample or total >= nbytes:
                    if shim_pid is None:
                        shim_pid = next((p_ for p_, c_ in self.shims(rt).items() if c_ == cid),
                                        None)
                    if shim_pid is not None:
                        shim_cpu = shimproc.cpu_seconds(shim_pid) or shim_cpu
                    next_sample = now + 0.1
            t_end = time.monotonic()
            p.stdout.close()
            try:
                _, wstatus, rusage = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(wstatus)
            except ChildProcessError:
                p.wait()
                rusage = None
            errf.seek(0)
            err = errf.read().decode(errors="replace")
        if p.returncode != 0 or total != nbytes:
            raise BenchError(f"ctr run --rm … {' '.join(cmd)}: exit {p.returncode}, "
                             f"{total} of {nbytes} bytes; stderr: {err.strip()[-300:]}")
        steady = None
        if first and t_end > first[0]:
            steady = (total - first[1]) / (t_end - first[0]) / 1e6
        return {
            "bytes": total,
            "mb_s": steady,
            "mb_s_incl_start": total / (t_end - t0) / 1e6,
            "wall_s": t_end - t0,
            "shim_cpu_s": shim_cpu,
            "ctr_cpu_s": rusage.ru_utime + rusage.ru_stime if rusage else None,
        }

    # -- driver --

    def run(self):
        shim_dirs = sorted({os.path.dirname(rt.shim) for rt in self.active()
                            if rt.key != "runc"})
        with Containerd(shim_dir=shim_dirs, log_level="info") as c:
            self.c = c
            self.fifo_dir = os.path.join(c.tmpdir, "fifo")
            os.makedirs(self.fifo_dir, mode=0o700)
            self.task_dir = os.path.join(c.state, V2_TASK_DIR)
            for rt in self.runtimes:
                if rt.key == "runc":
                    rt.ctr_args = c.runc_args()
            self.log(f"private containerd in {c.tmpdir}; importing {IMAGE}")
            c.import_image()
            for rt in self.active():
                try:
                    self.smoke(rt)
                except BenchError as e:
                    self.fail(rt, "smoke", e)
                    rt.skipped = "failed the smoke test (ctr run --rm … echo)"
                    self.results[rt.key]["skipped"] = rt.skipped
            for rt in self.active():
                self.log(f"{rt.key}: memory with {self.args.n} containers")
                try:
                    self.memory(rt)
                except BenchError as e:
                    self.fail(rt, "memory", e)
            self.log(f"run --rm latency, {self.args.iterations} iterations")
            for key, s in self.alternate("run", self.args.iterations, self.run_rm_once).items():
                self.results[key]["run_rm_s"] = {**summary(s), "samples": s}
            self.log(f"exec latency, {self.args.iterations} iterations")
            for key, s in self.exec_latency().items():
                self.results[key]["exec_s"] = {**summary(s), "samples": s}
            self.log(f"throughput, {self.args.bytes} bytes x {self.args.tp_runs}")
            tp = self.alternate("throughput", self.args.tp_runs, self.throughput_once,
                                warmup=False)
            for key, runs in tp.items():
                self.results[key]["throughput"] = {
                    "n": len(runs),
                    "mb_s": summary([r["mb_s"] for r in runs if r["mb_s"]]),
                    "mb_s_incl_start": summary([r["mb_s_incl_start"] for r in runs]),
                    "shim_cpu_s": summary([r["shim_cpu_s"] for r in runs
                                           if r["shim_cpu_s"] is not None]),
                    "ctr_cpu_s": summary([r["ctr_cpu_s"] for r in runs
                                          if r["ctr_cpu_s"] is not None]),
                    "runs": runs,
                }
        problems = c.check_clean()
        if problems:
            self.errors.append({"runtime": "-", "phase": "cleanup", "error": "; ".join(problems)})


# ---- report ----------------------------------------------------------------------------------

def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _mib(v):
    return None if v is None else v / MIB


def report(bench, meta):
    res = bench.results
    keys = [rt.key for rt in bench.runtimes if not rt.skipped and rt.key in res]
    both = "runc" in keys and "mini" in keys
    header = ["", *keys] + (["mini/runc"] if both else []) + ["target (mini)"]

    def partial(k, path):
        # Latency and throughput keep the samples of a runtime that failed midway.
        got = _get(res[k], path[0], "n")
        want = bench.args.tp_runs if path[0] == "throughput" else bench.args.iterations
        return path[0] in ("run_rm_s", "exec_s", "throughput") and got is not None \
            and got < want

    def row(label, path, conv=lambda v: v, digits=2, target=""):
        vals = [conv(_get(res[k], *path)) for k in keys]
        r = [label] + [fmt(v, digits) + ("*" if partial(k, path) else "")
                       for k, v in zip(keys, vals)]
        if both:
            r.append(fmt(ratio(conv(_get(res["mini"], *path)), conv(_get(res["runc"], *path)))))
        return r + [target]

    n = bench.args.n
    pss_target = f"<= {TARGETS['pss_per_shim_mib']} @{TARGETS['pss_at_n']}"
    rows = [
        row("idle shim (1 container): RSS MiB", ["memory", "idle", "rss"], _mib,
            target=f"<= {TARGETS['idle_rss_mib']}"),
        row("idle shim: Pss MiB", ["memory", "idle", "pss"], _mib),
        row("idle shim: threads", ["memory", "idle", "threads"], digits=0,
            target=str(TARGETS["threads"])),
        row(f"{n} running: shims", ["memory", "loaded", "shims"], digits=0),
        row(f"{n} running: RSS MiB median", ["memory", "loaded", "rss", "median"], _mib),
        row(f"{n} running: RSS MiB mean", ["memory", "loaded", "rss", "mean"], _mib),
        row(f"{n} running: RSS MiB total", ["memory", "loaded", "rss_total"], _mib, 1),
        row(f"{n} running: Pss MiB median", ["memory", "loaded", "pss", "median"], _mib,
            target=pss_target),
        row(f"{n} running: Pss MiB mean", ["memory", "loaded", "pss", "mean"], _mib),
        row(f"{n} running: Pss MiB total", ["memory", "loaded", "pss_total"], _mib, 1),
        row(f"{n} running: threads median", ["memory", "loaded", "threads", "median"],
            digits=0, target=str(TARGETS["threads"])),
        row("ctr run -d: median ms", ["memory", "start_detached_s", "median"],
            lambda v: None if v is None else v * 1e3, 1),
        row("ctr run --rm true: median ms", ["run_rm_s", "median"],
            lambda v: None if v is None else v * 1e3, 1),
        row("ctr run --rm true: p90 ms", ["run_rm_s", "p90"],
            lambda v: None if v is None else v * 1e3, 1),
        row("ctr task exec true: median ms", ["exec_s", "median"],
            lambda v: None if v is None else v * 1e3, 1),
        row("ctr task exec true: p90 ms", ["exec_s", "p90"],
            lambda v: None if v is None else v * 1e3, 1),
        row(f"stdout {bench.args.bytes / MIB:.4g} MiB: MB/s median", ["throughput", "mb_s",
                                                                   "median"], digits=0),
        row("stdout: MB/s incl. start, median", ["throughput", "mb_s_incl_start", "median"],
            digits=0),
        row("stdout: shim CPU s median", ["throughput", "shim_cpu_s", "median"]),
        row("stdout: ctr CPU s median", ["throughput", "ctr_cpu_s", "median"]),
    ]
    out = [f"shim benchmark — {meta['date']}, {meta['cpus']} CPUs, kernel {meta['kernel']}, "
           f"load {meta['loadavg_start']} → {meta['loadavg_end']}",
           f"n={n} iterations={bench.args.iterations} bytes={bench.args.bytes} "
           f"throughput runs={bench.args.tp_runs}", ""]
    out.append(table(header, rows) if keys else "(no runtime measured)")
    out.append("")
    out += [f"{k}: {res[k]['runtime']}, shim {res[k]['shim']}" for k in keys]
    out.append("reference (earlier): " + "; ".join(
        f"{name} {r['rss_mib']} MiB RSS / {r['pss_mib']} MiB Pss / {r['threads']} thr"
        for name, r in REFERENCES.items()))
    for k in keys:
        for where, label in ((["memory", "loaded", "smaps"], f"{n} running"),
                             (["memory", "idle", "smaps"], "idle")):
            sm = _get(res[k], *where)
            if sm:
                out += ["", f"where the memory goes: one {k} shim, {label} (KiB)",
                        smaps_table(sm)]
                libs = sorted(((f["rss"], os.path.basename(name))
                               for name, f in sm["files"].items()
                               if f["category"] == "other libs"), reverse=True)
                if libs:
                    out.append("other libs (Rss KiB): " + ", ".join(
                        f"{name} {rss // 1024}" for rss, name in libs))
                break
    for rt in bench.runtimes:
        if rt.skipped:
            out.append(f"\nSKIPPED {rt.key} ({rt.name}): {rt.skipped}")
    if any(partial(k, p) for k in keys for p in (["run_rm_s"], ["exec_s"], ["throughput"])):
        out.append("\n* partial: fewer samples than asked for (see the failures below)")
    if bench.errors:
        out.append("\nFUNCTIONAL FAILURES:")
        out += [f"  {e['runtime']} {e['phase']}: {e['error']}" for e in bench.errors]
    return "\n".join(out)


def smaps_table(sm):
    rows = []
    for cat in shimproc.CATEGORIES:
        c = sm["categories"][cat]
        if c["mappings"] == 0:
            continue
        rows.append([cat, str(c["mappings"]), str(c["size"] // 1024), str(c["rss"] // 1024),
                     str(c["pss"] // 1024), str(c["private"] // 1024)])
    t = sm["total"]
    rows.append(["total", str(t["mappings"]), str(t["size"] // 1024), str(t["rss"] // 1024),
                 str(t["pss"] // 1024), str(t["private"] // 1024)])
    return table(["mapping", "maps", "Size", "Rss", "Pss", "Private"], rows)


def _version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None


def _loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runtimes", default="runc,mini",
                    help="comma-separated: runc, mini (default both; mini is skipped with a "
                    "note when its binary is not built)")
    ap.add_argument("-n", type=int, default=None, help="containers for the memory test (100)")
    ap.add_argument("--iterations", type=int, default=None,
                    help="ctr run --rm and ctr task exec iterations (100)")
    ap.add_argument("--bytes", type=int, default=None,
                    help="bytes the container writes to stdout (1 GiB)")
    ap.add_argument("--tp-runs", type=int, default=None, help="throughput runs per runtime (3)")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds to wait before reading shim memory (2)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: n=10, iterations=10, bytes=64 MiB, 1 throughput run")
    ap.add_argument("--json", metavar="FILE", help="write every figure as JSON to FILE")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)
    quick = {"n": 10, "iterations": 10, "bytes": 64 * MIB, "tp_runs": 1}
    full = {"n": 100, "iterations": 100, "bytes": 1024 * MIB, "tp_runs": 3}
    for k, v in (quick if args.quick else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    keys = [k.strip() for k in args.runtimes.split(",") if k.strip()]
    bad = [k for k in keys if k not in ("runc", "mini")]
    if bad or not keys or len(set(keys)) != len(keys):
        ap.error(f"--runtimes: expected a list of runc, mini; got {args.runtimes!r}")
    if args.n < 1 or args.iterations < 1 or args.bytes < 1 or args.tp_runs < 1:
        ap.error("-n, --iterations, --bytes and --tp-runs must be positive")
    args.runtime_keys = keys
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        print("bench-shim: needs root (it runs a private containerd)", file=sys.stderr)
        return 2
    runtimes = runtimes_wanted(args.runtime_keys)
    for rt in runtimes:
        if rt.skipped:
            print(f"bench-shim: skipping {rt.key}: {rt.skipped}", file=sys.stderr)
    if not any(not rt.skipped for rt in runtimes):
        print("bench-shim: nothing to measure", file=sys.stderr)
        return 2
    meta = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "loadavg_start": _loadavg(),
        "containerd": _version(["containerd", "--version"]),
        "runc": _version(["runc", "--version"]),
        "python": platform.python_version(),
    }
    bench = Bench(args, runtimes)
    t0 = time.monotonic()
    try:
        bench.run()
    except (BenchError, RuntimeError, OSError, subprocess.SubprocessError) as e:
        bench.errors.append({"runtime": "-", "phase": "harness", "error": str(e)})
    meta["loadavg_end"] = _loadavg()
    meta["duration_s"] = time.monotonic() - t0
    for rt in runtimes:
        try:
            meta.setdefault("shim_binaries", {})[rt.key] = {
                "path": rt.shim, "size": os.path.getsize(rt.shim)}
        except OSError:
            pass
    print(report(bench, meta))
    if args.json:
        doc = {
            "meta": meta,
            "config": {k: getattr(args, k) for k in ("n", "iterations", "bytes", "tp_runs",
                                                     "settle", "quick", "runtime_keys")},
            "units": "memory in bytes, latency in seconds, throughput in MB/s (1e6 bytes/s)",
            "targets": TARGETS,
            "references": REFERENCES,
            "runtimes": bench.results,
            "ratios_mini_over_runc": ratios(bench.results),
            "errors": bench.errors,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=False)
            f.write("\n")
    return 1 if bench.errors else 0


def ratios(res):
    if "mini" not in res or "runc" not in res:
        return {}
    paths = {
        "idle_rss": ["memory", "idle", "rss"],
        "idle_pss": ["memory", "idle", "pss"],
        "idle_threads": ["memory", "idle", "threads"],
        "loaded_rss_median": ["memory", "loaded", "rss", "median"],
        "loaded_pss_median": ["memory", "loaded", "pss", "median"],
        "loaded_pss_total": ["memory", "loaded", "pss_total"],
        "start_detached_median": ["memory", "start_detached_s", "median"],
        "run_rm_median": ["run_rm_s", "median"],
        "run_rm_p90": ["run_rm_s", "p90"],
        "exec_median": ["exec_s", "median"],
        "exec_p90": ["exec_s", "p90"],
        "throughput_mb_s_median": ["throughput", "mb_s", "median"],
        "throughput_shim_cpu_s_median": ["throughput", "shim_cpu_s", "median"],
    }
    return {k: ratio(_get(res["mini"], *p), _get(res["runc"], *p)) for k, p in paths.items()}


if __name__ == "__main__":
    sys.exit(main())
