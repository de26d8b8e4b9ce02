#!/usr/bin/env bash
# The README's main command: installs what is needed (apt), builds, and shows mini working with a
# real containerd. Idempotent. Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f build/build.ninja ]; then
	meson setup build --wrap-mode=nodownload
fi
ninja -C build
exec python3 scripts/demo.py
