"""/proc readers for the shim benchmark: finding shim daemons, their memory and CPU figures, and
where their memory goes (smaps by mapping). Python 3 standard library only."""

import os
import re

KIB = 1024
MIB = 1024 * 1024

# A mapping header in /proc/PID/smaps: "start-end perms offset dev inode [path]".
_SMAPS_HEADER = re.compile(r"^[0-9a-f]+-[0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\d+\s*(.*)$")
_SMAPS_FIELDS = ("Size", "Rss", "Pss", "Private_Clean", "Private_Dirty", "Swap")

# Categories of the smaps summary, in print order.
CATEGORIES = ("binary", "libc", "libuv", "ld.so", "other libs", "heap", "stack", "anon",
              "kernel", "other files")


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _readlink(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def _strip_deleted(path):
    # A binary replaced while running (a rebuild) reads "<path> (deleted)".
    return path[: -len(" (deleted)")] if path and path.endswith(" (deleted)") else path


def _under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def status(pid):
    """The fields of /proc/PID/status as a dict of strings; None once the process is gone."""
    text = _read(f"/proc/{pid}/status")
    if text is None:
        return None
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def _kib_field(value):
    # "13372 kB" -> bytes
    return int(value.split()[0]) * KIB if value else 0


def shim_daemons(exe_path, task_dir, exclude_ppids=()):
    """Shim daemons serving bundles under task_dir (<state>/io.containerd.runtime.v2.task):
    processes whose executable is exe_path (by base name, so that a re-exec through
    /proc/self/exe or a rebuilt binary still matches) and whose cwd is a bundle. The short-lived
    `start` invocation (a child of containerd, pids in exclude_ppids) is not a daemon.
    Returns {pid: bundle dir}."""
    want = os.path.basename(exe_path)
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        exe = _strip_deleted(_readlink(f"/proc/{pid}/exe"))
        if not exe or os.path.basename(exe) != want:
            continue
        cwd = _readlink(f"/proc/{pid}/cwd")
        if not cwd or not _under(cwd, task_dir) or cwd == task_dir:
            continue
        st = status(pid)
        if st is None or st.get("State", "").startswith("Z"):
            continue
        if int(st.get("PPid", "0")) in exclude_ppids:
            continue
        out[pid] = cwd
    return out


def memory(pid):
    """RSS, Pss (bytes) and thread count of a process, or None once it is gone."""
    st = status(pid)
    rollup = _read(f"/proc/{pid}/smaps_rollup")
    if st is None or rollup is None:
        return None
    pss = 0
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            pss = _kib_field(line.split(":", 1)[1])
    return {"rss": _kib_field(st.get("VmRSS")), "pss": pss, "threads": int(st.get("Threads", 0))}


def cpu_seconds(pid):
    """utime + stime of a process in seconds, or None once it is gone."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text.rsplit(")", 1)[1].split()
    # After the ")": state is field 3 of the man page, utime 14 and stime 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _category(path, exe):
    if not path:
        return "anon"
    if path == "[heap]":
        return "heap"
    if path.startswith("[stack"):
        return "stack"
    if path.startswith("[anon"):
        return "anon"
    if path in ("[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]", "[uprobes]"):
        return "kernel"
    if path.startswith("["):
        return "other files"
    path = _strip_deleted(path)
    base = os.path.basename(path)
    if exe and path == exe:
        return "binary"
    if base.startswith(("libc.so", "libc-")):
        return "libc"
    if base.startswith("libuv"):
        return "libuv"
    if base.startswith("ld-linux") or base.startswith("ld-"):
        return "ld.so"
    if ".so" in base:
        return "other libs"
    return "other files"


def smaps_breakdown(pid):
    """Where a process's memory goes: /proc/PID/smaps summed by category (CATEGORIES) and by
    mapped file. Values in bytes: size (virtual), rss, pss, private (clean + dirty), swap.
    None once the process is gone."""
    text = _read(f"/proc/{pid}/smaps")
    exe = _strip_deleted(_readlink(f"/proc/{pid}/exe"))
    if text is None:
        return None
    zero = {"size": 0, "rss": 0, "pss": 0, "private": 0, "swap": 0, "mappings": 0}
    cats = {c: dict(zero) for c in CATEGORIES}
    files = {}
    cur = None
    for line in text.splitlines():
        m = _SMAPS_HEADER.match(line)
        if m:
            path = m.group(1).strip()
            cat = _category(path, exe)
            key = _strip_deleted(path) if path and not path.startswith("[") else (path or "[anon]")
            cur = (cats[cat], files.setdefault(key, dict(zero, category=cat)))
            for d in cur:
                d["mappings"] += 1
            continue
        if cur is None:
            continue
        name, _, value = line.partition(":")
        if name not in _SMAPS_FIELDS:
            continue
        nbytes = _kib_field(value.strip())
        field = {"Size": "size", "Rss": "rss", "Pss": "pss", "Swap": "swap"}.get(name, "private")
        for d in cur:
            d[field] += nbytes
    total = dict(zero)
    for c in cats.values():
        for k in total:
            total[k] += c[k]
    return {"exe": exe, "categories": cats, "total": total, "files": files}
