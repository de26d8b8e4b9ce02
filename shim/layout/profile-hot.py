#!/usr/bin/env python3
"""Regenerates shim/layout/daemon-hot.ld: which object files the shim daemon runs code from.

    sudo python3 shim/layout/profile-hot.py [--build build] [--keep-trace FILE]

Why: the static shim has 1.1 MiB of code, and the kernel maps file pages into a process in
blocks of 64 KiB around each page it touches (fault-around). When the daemon's code is spread
over all of it, nearly all of it counts in every shim's RSS. daemon-hot.ld puts the code (and
read-only data) the daemon uses together, so a shim maps about 0.5 MiB of code instead of 1.1.

How: every function of a private copy of the (static) shim binary gets a uprobe (tracefs, group
"minihot"); a private containerd (tests/lib/containerd.py) drives that copy through a
representative life: run -d, exec, ps, metrics, pause/resume, kill, delete, run --rm, 8 MiB of
stdout. Hits of the daemon processes (those that ran shim_serve) give the functions, the link
map gives their object files. The probes touch only the copy's inode and are removed at the end.
Functions that begin with an AVX/EVEX instruction are not probed (uprobes mis-step them); their
objects, and the other AVX2/EVEX/AVX-512 siblings of the libc string functions seen, are listed
anyway so that the layout holds on CPUs that pick another variant.

The daemon's own archives are listed whole, every other archive by member.
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
from containerd import Containerd, IMAGE  # noqa: E402

TRACEFS = "/sys/kernel/tracing"
GROUP = "minihot"
SHIM = "containerd-shim-mini-v2"
OUT = os.path.join(HERE, "daemon-hot.ld")
# Our archives that are the daemon's own: listed whole. Other archives (the runtime's, libc,
# libuv …) are listed by member.
OURS = {"libmini_shim.a", "libmini_ttrpc.a", "libmini_common.a", "libmini_proto.a"}
VARIANTS = re.compile(r"^(.*?)-(avx2|evex|avx512)(.*)\.o$")


def tracefs_write(name, text):
    fd = os.open(os.path.join(TRACEFS, name), os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def functions(binary):
    """{address: (name, file offset)} of the text symbols with a size, and the addresses skipped
    (functions that start with a vector instruction)."""
    out = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True,
                         check=True).stdout
    segs = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True,
                          check=True).stdout
    # The executable LOAD segments: (vaddr, file offset, size).
    code = [(int(v, 16), int(o, 16), int(n, 16)) for o, v, n in re.findall(
        r"LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+\S+\s+0x([0-9a-f]+)\s+\S+\s+R E", segs)]
    raw = open(binary, "rb").read()
    funcs, skipped = {}, []
    for f in (ln.split() for ln in out.splitlines()):
        if len(f) != 4 or f[2] not in "tTwWi" or int(f[1], 16) == 0:
            continue
        a = int(f[0], 16)
        seg = [(v, o) for v, o, n in code if v <= a < v + n]
        if not seg or a in funcs:
            continue
        off = a - seg[0][0] + seg[0][1]
        if raw[off] in (0x62, 0xC4, 0xC5):  # EVEX / VEX prefix
            skipped.append(a)
            continue
        funcs[a] = (f[3], off)
    return funcs, skipped


def link_with_map(build, out_bin, map_path):
    cmd = subprocess.run(["ninja", "-C", build, "-t", "commands", f"shim/{SHIM}"],
                         capture_output=True, text=True, check=True).stdout.splitlines()[-1]
    argv = shlex.split(cmd)
    argv[argv.index("-o") + 1] = out_bin
    subprocess.run(argv + [f"-Wl,-Map={map_path}"], cwd=build, check=True)


def text_sections(map_path):
    """[(address, size, input file)] of the input sections of the text output sections."""
    txt = open(map_path).read()
    txt = txt[txt.index("Linker script and memory map"):]
    head = re.compile(r"^ (\.[^\s]+)\s*$")
    row = re.compile(r"^ (\.[^\s]+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
    cur, out = None, []
    for ln in txt.splitlines():
        m = head.match(ln)
        if m:
            cur = m.group(1)
            continue
        m = row.match(ln)
        if m:
            name, cur = m.group(1) or cur, None
            if name and name.startswith(".text") and int(m.group(3), 16):
                out.append((int(m.group(2), 16), int(m.group(3), 16), m.group(4)))
    return sorted(out)


def owner(sections, addr):
    lo, hi = 0, len(sections)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sections[mid][0] <= addr:
            lo = mid
        else:
            hi = mid
    a, size, f = sections[lo]
    return f if a <= addr < a + size else None


def workload(shim_dir):
    with Containerd(shim_dir=[shim_dir], log_level="info") as c:
        fifo = os.path.join(c.tmpdir, "fifo")
        os.makedirs(fifo)
        c.import_image()
        rt = ["--fifo-dir", fifo, "--runtime", "io.containerd.mini.v2"]
        c.ctr("run", "-d", *rt, IMAGE, "hot0", "sleep", "100000")
        time.sleep(2)
        for i in range(3):
            c.ctr("task", "exec", "--exec-id", f"e{i}", "hot0", "true")
        c.ctr("task", "ls")
        c.ctr("task", "ps", "hot0")
        c.ctr("task", "metrics", "hot0")
        c.ctr("task", "pause", "hot0")
        c.ctr("task", "resume", "hot0")
        c.ctr("task", "kill", "-s", "KILL", "hot0")
        time.sleep(1)
        c.ctr("task", "delete", "hot0")
        c.ctr("container", "delete", "hot0")
        c.ctr("run", "--rm", *rt, IMAGE, "hot1", "true")
        c.ctr("run", "--rm", *rt, IMAGE, "hot2", "dd", "if=/dev/zero", "bs=1M", "count=8")
        time.sleep(1)


def profile(binary, trace):
    """The addresses of the functions the daemon processes ran, and those not probed."""
    funcs, skipped = functions(binary)
    if not funcs:
        sys.exit(f"no functions found in {binary}")
    names = {}
    try:
        for i, a in enumerate(sorted(funcs)):
            tracefs_write("uprobe_events", f"p:{GROUP}/f{i} {binary}:0x{funcs[a][1]:x}\n")
            names[f"f{i}"] = a
        with open(trace, "w") as out:
            reader = subprocess.Popen(["cat", os.path.join(TRACEFS, "trace_pipe")], stdout=out,
                                      stderr=subprocess.DEVNULL)
        try:
            tracefs_write(f"events/{GROUP}/enable", "1\n")
            workload(os.path.dirname(binary))
        finally:
            tracefs_write(f"events/{GROUP}/enable", "0\n")
            time.sleep(1)
            reader.send_signal(signal.SIGTERM)
            reader.wait()
    finally:
        for n in names:
            tracefs_write("uprobe_events", f"-:{GROUP}/{n}\n")
    hit = re.compile(r"^\s*.+?-(\d+)\s+\[\d+\].*?:\s+(f\d+):")
    per_pid = {}
    for ln in open(trace):
        m = hit.match(ln)
        if m:
            per_pid.setdefault(int(m.group(1)), set()).add(names[m.group(2)])
    serve = [a for a, (n, _) in funcs.items() if n == "shim_serve"]
    daemon = set()
    for addrs in per_pid.values():
        if serve and serve[0] in addrs:
            daemon |= addrs
    if not daemon:
        sys.exit("no daemon process hit shim_serve: is the build static (-Dstatic_shim)?")
    return daemon, skipped


def libc_symbols():
    """{member: (defined code symbols, defined data symbols, undefined symbols)} of libc.a."""
    libc = subprocess.run(["cc", "-print-file-name=libc.a"], capture_output=True, text=True,
                          check=True).stdout.strip()
    out = subprocess.run(["nm", "-A", libc], capture_output=True, text=True).stdout
    members = {}
    for ln in out.splitlines():
        m = re.match(r"^[^:]+:([^:]+):\s*(?:[0-9a-f]+\s+)?(\S)\s+(\S+)$", ln)
        if not m:
            continue
        code, data, undef = members.setdefault(m.group(1), (set(), set(), set()))
        kind, sym = m.group(2), m.group(3)
        if kind == "U":
            undef.add(sym)
        elif kind in "TtWiI":
            code.add(sym)
        elif kind in "RrDdBbVv":
            data.add(sym)
    return members


def render(files):
    """The linker script for the hot input files."""
    ours, members = set(), set()
    for f in files:
        thin = re.search(r"(lib[^/]+\.a)\.p/([^/]+)$", f)  # our (thin) archives, by path
        m = re.search(r"([^/()]+\.a)\((.+)\)$", f)
        if thin and thin.group(1) in OURS:
            ours.add(f"*{thin.group(1)}:*")
        elif thin:  # the runtime's libraries: only what the daemon calls
            ours.add(f"*{thin.group(1)}:*/{thin.group(2)}")
        elif f"{SHIM}.p/" in f:
            ours.add(f"*{SHIM}.p/*.o")
        elif m:
            members.add((m.group(1), m.group(2)))
    libc = libc_symbols()
    # Siblings of the vectorised libc string functions, for CPUs that choose another variant.
    families = {VARIANTS.match(n).group(1) for a, n in members if a == "libc.a"
                and VARIANTS.match(n)}
    members |= {("libc.a", n) for n in libc
                if VARIANTS.match(n) and VARIANTS.match(n).group(1) in families}
    # The C runtime's start files (_start, frame_dummy …) run in every process; crtstuff's
    # functions have no symbol size, so they are not probed.
    ours.add("*/crt*.o")
    patterns = sorted(ours) + [f"*{a}:{n}" for a, n in sorted(members)]
    # Tables without code that the daemon's libc code reads (ctype, strerror, strtod's powers of
    # ten …): profiling sees no hit in them, their users tell.
    wanted = set().union(*(libc[n][2] for a, n in members if a == "libc.a" and n in libc))
    tables, grown = set(), True
    while grown:  # tables that point to tables (the C locale)
        more = {n for n, (code, data, _) in libc.items() if not code and data & wanted} - tables
        grown = bool(more)
        tables |= more
        wanted |= set().union(set(), *(libc[n][2] for n in more))
    data_only = [f"*libc.a:{n}" for n in sorted(tables)]

    # Aligned to the kernel's fault-around block (64 KiB by default), so that the blocks mapped
    # around hot pages hold no cold ones. Not at the end of the read-only data: .eh_frame
    # follows, whose first word is read at startup (__register_frame_info).
    def block(out_name, where, kinds, pats, align_end):
        body = "\n".join(f"\t\t{p}({kinds})" for p in pats)
        end = "\t\t. = ALIGN(0x10000);\n" if align_end else ""
        return (f"SECTIONS\n{{\n\t{out_name} ALIGN(0x10000) :\n\t{{\n{body}\n{end}"
                f"\t}}\n}}\nINSERT {where};\n")

    head = ("/* Generated by shim/layout/profile-hot.py: the object files the shim daemon runs "
            "code from, placed\n * together: first in the text, and after the other read-only "
            "data (so that it stays out of\n * the executable segment). See that script for why. "
            "A pattern that matches nothing is\n * harmless. */\n")
    return (head + block(".text.daemon", "BEFORE .text", ".text .text.*", patterns, True)
            + block(".rodata.daemon", "AFTER .rodata", ".rodata .rodata.*", patterns + data_only,
                    False))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="meson build directory")
    ap.add_argument("--keep-trace", metavar="FILE", help="keep the raw uprobe trace in FILE")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (tracefs uprobes, containerd)")
    work = tempfile.mkdtemp(prefix="minihot-")
    try:
        binary = os.path.join(work, SHIM)
        link_with_map(os.path.abspath(args.build), binary, os.path.join(work, "shim.map"))
        sections = text_sections(os.path.join(work, "shim.map"))
        daemon, skipped = profile(binary, args.keep_trace or os.path.join(work, "trace"))
        files = {owner(sections, a) for a in daemon | set(skipped)} - {None}
        text = render(files)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(OUT, "w") as f:
        f.write(text)
    print(f"{OUT}: {len(files)} hot input files")


if __name__ == "__main__":
    main()
