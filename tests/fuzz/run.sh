#!/bin/sh
# Builds the ttrpc frame fuzzer with clang (libFuzzer + ASan + UBSan) and runs it.
#
#   tests/fuzz/run.sh [SECONDS] [WORKDIR]
#
# SECONDS defaults to 60. WORKDIR (default: a new /tmp/mini-fuzz-XXXXXX) receives the generated
# protobuf code, the binary, the seed corpus (seeds/), the corpus it grows (corpus/) and any
# crash-* reproducer. Exits non-zero if the fuzzer finds a crash, leak or UB.
set -eu

secs=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${2:-$(mktemp -d /tmp/mini-fuzz-XXXXXX)}
gen=$work/gen
mkdir -p "$gen" "$work/seeds" "$work/corpus"

# 1. The envelope messages, generated the way proto/meson.build does.
protoc-c -I"$root/proto" -I/usr/include --c_out="$gen" ttrpc/ttrpc.proto google/rpc/status.proto
protoc-c -I/usr/include --c_out="$gen" google/protobuf/any.proto

# 2. The target: only the code under test is instrumented for coverage.
clang -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Wall -Wextra -Werror -Wno-unused-parameter \
	-I"$root/shim/ttrpc" -I"$root/common" -I"$gen" \
	"$root/tests/fuzz/fuzz_frame.c" "$root/shim/ttrpc/frame.c" "$root/common/xalloc.c" \
	"$gen/ttrpc/ttrpc.pb-c.c" "$gen/google/rpc/status.pb-c.c" \
	"$gen/google/protobuf/any.pb-c.c" \
	-lprotobuf-c -o "$work/fuzz_frame"

# 3. Seeds: byte 0 of each input is the read size the target feeds the decoder with.
python3 - "$work/seeds" <<'PY'
import os, struct, sys

out = sys.argv[1]

def varint(n):
    b = bytearray()
    while True:
        if n < 0x80:
            b.append(n)
            return bytes(b)
        b.append((n & 0x7f) | 0x80)
        n >>= 7

def field(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data

def request(service, method, payload=b"", timeout=0, md=()):
    m = field(1, service.encode()) + field(2, method.encode()) + field(3, payload)
    if timeout:
        m += varint(4 << 3) + varint(timeout)
    for k, v in md:
        m += field(5, field(1, k.encode()) + field(2, v.encode()))
    return m

def frame(stream, typ, payload, flags=0, length=None):
    n = len(payload) if length is None else length
    return struct.pack(">IIBB", n, stream, typ, flags) + payload

create = request("containerd.task.v2.Task", "Create", b"\n\x03abc", 5000000000,
                 [("containerd-namespace-ttrpc", "default")])
status = field(1, b"\x08\x05" + field(2, b"not found"))
seeds = {
    "request": b"\x00" + frame(1, 1, create),
    "request-bytewise": b"\x01" + frame(3, 1, create),
    "three-frames": b"\x07" + frame(1, 1, create) + frame(3, 1, request("a", "b")) + frame(5, 1, b""),
    "response": b"\x00" + frame(1, 2, status + field(2, b"\x01\x02")),
    "even-stream": b"\x00" + frame(2, 1, create),
    "oversize": b"\x05" + frame(7, 1, b"\xab" * 64, length=(4 << 20) + 1) + frame(9, 1, create),
    "stop-flag": b"\x00" + frame(1, 1, create, flags=0xff) + frame(3, 1, create),
    "truncated": b"\x00" + frame(1, 1, create)[:-3],
    "garbage": b"\x03GET / HTTP/1.1\r\nHost: shim\r\n\r\n",
    "data-frame": b"\x00" + frame(1, 3, b"stream data", flags=4),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
PY

# 4. Run. -max_len lets a few frames of realistic size fit in one input. libFuzzer's progress
# lines go to fuzz.log: only its final stats are shown, or the log's tail if it found something.
echo "fuzzing for ${secs}s in $work" >&2
cd "$work"
if ./fuzz_frame -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 corpus seeds >fuzz.log 2>&1; then
	grep -E '^(Done|stat::)' fuzz.log >&2 || true
else
	rc=$?
	tail -n 60 fuzz.log >&2
	echo "fuzz: failed (exit $rc); reproducers: $(ls "$work" | grep -E '^(crash|leak|timeout|oom)-' || echo none)" >&2
	exit 1
fi
