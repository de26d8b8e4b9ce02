#!/usr/bin/env bash
# The README's test command: installs what is needed (apt), builds, and runs every suite, then the
# suites again under ASan/UBSan, the fuzz target for a while, and the format check.
# Idempotent. Run as root on Debian 12. Ends with one line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

bash scripts/setup.sh

: "${FUZZ_SECONDS:=60}"
export MINI_BUILD_DIR="$top/build"

status=0
meson_dirs=()

build() { # dir, extra meson args...
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" --wrap-mode=nodownload "$@"
	else
		meson setup --reconfigure "$dir" --wrap-mode=nodownload "$@" >/dev/null
	fi
	ninja -C "$dir"
}

build build
meson_dirs+=(build)
meson test -C build --print-errorlogs --num-processes 2 || status=1

# Sanitizers: every suite again under ASan/UBSan (the shim and minirun too, as containerd runs them).
build build-asan -Db_sanitize=address,undefined -Db_lundef=false
meson_dirs+=(build-asan)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	MINI_BUILD_DIR="$top/build-asan" \
	meson test -C build-asan --print-errorlogs --num-processes 2 || status=1

fuzz_result=""
if [ "$FUZZ_SECONDS" -gt 0 ] && [ -x tests/fuzz/run.sh ]; then
	if bash tests/fuzz/run.sh "$FUZZ_SECONDS"; then fuzz_result=pass; else fuzz_result=fail; status=1; fi
fi

fmt_result=pass
if ! bash scripts/check-format.sh; then fmt_result=fail; status=1; fi

python3 scripts/test-summary.py "${meson_dirs[@]}" ${fuzz_result:+--extra fuzz=$fuzz_result} \
	--extra "format=$fmt_result"
exit $status
