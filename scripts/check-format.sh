#!/usr/bin/env bash
# Fails when a C file does not match the committed .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
if ! clang-format --dry-run -Werror $files; then
	echo "check-format: run 'clang-format -i' on the files above" >&2
	exit 1
fi
