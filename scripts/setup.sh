#!/bin/sh
# Install everything mini needs to build and test on a fresh Debian 12 machine.
# Run as root. Idempotent: when every package is already installed it does not touch apt, so
# CI can call it on every run. Works without a terminal or stdin (CI=true, DEBIAN_FRONTEND).
set -eu

PACKAGES="
	meson ninja-build pkg-config gcc libc6-dev clang libclang-rt-14-dev clang-format
	libuv1-dev libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev libyajl-dev libseccomp-dev
	containerd runc crun busybox-static
	python3 iproute2 util-linux e2fsprogs fuse3 fuse-overlayfs procps psmisc git
"

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: must run as root" >&2
	exit 1
fi

# A package counts as installed only in state "install ok installed"; half-configured or
# removed-with-config packages must go through apt again.
missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "setup.sh: all packages already installed"
	exit 0
fi

echo "setup.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# No stdin: apt and debconf must never wait for an answer.
apt-get update </dev/null
# Only the missing packages: naming installed ones would upgrade them as a side effect.
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	$missing </dev/null

# The Debian containerd package enables and starts a system daemon. Tests never use it (they
# start a private one), so it is left as the distribution configured it.
echo "setup.sh: done"
