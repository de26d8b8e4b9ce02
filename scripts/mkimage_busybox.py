#!/usr/bin/env python3
"""Build the test image: a busybox-static rootfs and an OCI image layout tarball of it.

Usage: mkimage_busybox.py OUT_DIR   (normally through scripts/mkimage-busybox.sh)

Writes
  OUT_DIR/rootfs/           the plain root filesystem, for `ctr run --rootfs`
  OUT_DIR/busybox-oci.tar   OCI image layout; `ctr image import` names it
                            docker.io/library/busybox:latest
  OUT_DIR/stamp             cache key: hash of this script, the wrapper and the busybox binary

The tarball is reproducible: entries are sorted, owners are 0:0, every mtime is MTIME and the
gzip header carries no time or name, so repeated builds give the same digests. Nothing is
downloaded; the only input is the host's static /bin/busybox (Debian's busybox-static).
"""

import fcntl
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile

IMAGE_NAME = "docker.io/library/busybox:latest"
TARBALL = "busybox-oci.tar"
MTIME = 946684800  # 2000-01-01T00:00:00Z: fixed so digests never depend on build time
CREATED = "2000-01-01T00:00:00Z"
ENV_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""

GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
mail:x:8:
wheel:x:10:root
www-data:x:33:
operator:x:37:
users:x:100:
nobody:x:65534:
"""

HOSTS = """\
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
"""

# Directory modes; parents are listed before children so creation order is natural.
DIRS = {
    "bin": 0o755,
    "dev": 0o755,
    "etc": 0o755,
    "home": 0o755,
    "proc": 0o755,
    "root": 0o700,
    "sbin": 0o755,
    "sys": 0o755,
    "tmp": 0o1777,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "var": 0o755,
}

# Where busybox --install -s puts links; applets listed elsewhere (linuxrc) are left out.
APPLET_DIRS = ("bin", "sbin", "usr/bin", "usr/sbin")


def die(msg):
    print(f"mkimage-busybox: {msg}", file=sys.stderr)
    sys.exit(1)


def is_static_elf(data):
    """True when the ELF image has no PT_INTERP, i.e. runs without a loader in the rootfs."""
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit only; every supported host is
        return False
    order = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[0x20:0x28], order)
    phentsize = int.from_bytes(data[0x36:0x38], order)
    phnum = int.from_bytes(data[0x38:0x3A], order)
    for i in range(phnum):
        off = phoff + i * phentsize
        if int.from_bytes(data[off:off + 4], order) == 3:  # PT_INTERP
            return False
    return True


def oci_arch():
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(machine, machine)


def rootfs_entries(busybox_path, busybox_data):
    """Every path of the rootfs as (path, kind, mode, payload): payload is file bytes or the
    symlink target. Kinds: 'dir', 'file', 'link'."""
    out = subprocess.run([busybox_path, "--list-full"], check=True, capture_output=True,
                         text=True).stdout.split()
    entries = {p: ("dir", m, None) for p, m in DIRS.items()}
    entries["bin/busybox"] = ("file", 0o755, busybox_data)
    for applet in out:
        applet = applet.strip("/")
        if os.path.dirname(applet) not in APPLET_DIRS or applet == "bin/busybox":
            continue
        entries[applet] = ("link", 0o777, "/bin/busybox")
    entries["etc/passwd"] = ("file", 0o644, PASSWD.encode())
    entries["etc/group"] = ("file", 0o644, GROUP.encode())
    entries["etc/hostname"] = ("file", 0o644, b"busybox\n")
    entries["etc/hosts"] = ("file", 0o644, HOSTS.encode())
    return [(p,) + entries[p] for p in sorted(entries)]


def write_rootfs(entries, root):
    os.mkdir(root, 0o755)
    for path, kind, mode, payload in entries:
        full = os.path.join(root, path)
        if kind == "dir":
            os.mkdir(full)
        elif kind == "file":
            with open(full, "wb") as f:
                f.write(payload)
        else:
            os.symlink(payload, full)
        if kind != "link":
            os.chmod(full, mode)  # after creation: the umask must not change 1777 on /tmp
        os.utime(full, (MTIME, MTIME), follow_symlinks=False)
    # Creating children changed the directories' mtimes: reset them deepest first.
    for path, kind, _, _ in reversed(entries):
        if kind == "dir":
            os.utime(os.path.join(root, path), (MTIME, MTIME))
    os.utime(root, (MTIME, MTIME))


def tar_info(name, kind, mode, size=0, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "link": tarfile.SYMTYPE}[kind]
    ti.mode = mode
    ti.size = size
    ti.linkname = linkname
    ti.mtime = MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def build_layer(entries):
    """The uncompressed layer tar, in sorted order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, kind, mode, payload in entries:
            if kind == "file":
                tar.addfile(tar_info(path, kind, mode, len(payload)), io.BytesIO(payload))
            elif kind == "link":
                tar.addfile(tar_info(path, kind, mode, linkname=payload))
            else:
                tar.addfile(tar_info(path, kind, mode))
    return buf.getvalue()


def gzip_bytes(data):
    buf = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header identical between runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_layout(entries):
    """Returns the OCI layout as {path in tarball: bytes}."""
    layer_tar = build_layer(entries)
    layer = gzip_bytes(layer_tar)
    arch = oci_arch()
    config = canonical_json({
        "architecture": arch,
        "os": "linux",
        "created": CREATED,
        "config": {"Env": [ENV_PATH], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer_tar)]},
        "history": [{"created": CREATED, "created_by": "scripts/mkimage-busybox.sh"}],
    })
    manifest = canonical_json({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha256(layer), "size": len(layer)}],
    })
    index = canonical_json({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sha256(manifest),
            "size": len(manifest),
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {
                "io.containerd.image.name": IMAGE_NAME,
                "org.opencontainers.image.ref.name": "latest",
            },
        }],
    })
    files = {"oci-layout": canonical_json({"imageLayoutVersion": "1.0.0"}),
             "index.json": index}
    for blob in (layer, config, manifest):
        files["blobs/sha256/" + sha256(blob)[len("sha256:"):]] = blob
    return files


def write_layout_tar(files, dest):
    with tarfile.open(dest, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for d in ("blobs", "blobs/sha256"):
            tar.addfile(tar_info(d, "dir", 0o755))
        for name in sorted(files):
            data = files[name]
            tar.addfile(tar_info(name, "file", 0o644, len(data)), io.BytesIO(data))


def cache_key(busybox_data):
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("mkimage_busybox.py", "mkimage-busybox.sh"):
        path = os.path.join(here, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                h.update(f.read())
    h.update(busybox_data)  # the binary itself: any package version change alters it
    return h.hexdigest() + "\n"


def rmtree(path):
    if os.path.lexists(path):
        shutil.rmtree(path)


def main(argv):
    if len(argv) != 2:
        die("usage: mkimage-busybox.sh OUT_DIR")
    out = os.path.abspath(argv[1])
    busybox_path = os.environ.get("MINI_BUSYBOX", "/bin/busybox")
    try:
        with open(busybox_path, "rb") as f:
            busybox_data = f.read()
    except OSError as e:
        die(f"{busybox_path}: {e.strerror} (install busybox-static)")
    if not is_static_elf(busybox_data):
        die(f"{busybox_path} is not a static binary (install busybox-static)")

    os.makedirs(out, exist_ok=True)
    # Test files may build the image concurrently; the lock makes the second one wait and
    # then find the cache valid.
    with open(os.path.join(out, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        key = cache_key(busybox_data)
        stamp = os.path.join(out, "stamp")
        tarball = os.path.join(out, TARBALL)
        rootfs = os.path.join(out, "rootfs")
        try:
            with open(stamp) as f:
                cached = f.read() == key
        except FileNotFoundError:
            cached = False
        if cached and os.path.isfile(tarball) and os.path.isdir(os.path.join(rootfs, "bin")):
            print(tarball)
            return 0

        # Invalidate first so an interrupted build is never mistaken for a valid cache.
        if os.path.exists(stamp):
            os.unlink(stamp)
        entries = rootfs_entries(busybox_path, busybox_data)
        files = build_layout(entries)

        tmp_tar = tarball + ".tmp"
        write_layout_tar(files, tmp_tar)
        os.replace(tmp_tar, tarball)

        tmp_root = rootfs + ".tmp"
        rmtree(tmp_root)
        write_rootfs(entries, tmp_root)
        rmtree(rootfs)
        os.rename(tmp_root, rootfs)

        with open(stamp + ".tmp", "w") as f:
            f.write(key)
        os.replace(stamp + ".tmp", stamp)
        print(f"mkimage-busybox: built {tarball} ({sum(1 for e in entries if e[1] == 'link')} "
              f"applet links)", file=sys.stderr)
        print(tarball)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
