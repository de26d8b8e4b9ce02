#!/bin/sh
# Build the busybox test image from Debian's busybox-static: OUT_DIR/rootfs (a plain rootfs for
# `ctr run --rootfs`) and OUT_DIR/busybox-oci.tar (an OCI image layout that `ctr image import`
# names docker.io/library/busybox:latest). Reproducible and cached; prints the tarball path.
# The work is done by mkimage_busybox.py next to this file (Python standard library only).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUT_DIR" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/mkimage_busybox.py" "$1"
