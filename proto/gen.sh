#!/bin/sh
# Runs protoc-c for one .proto and copies the outputs to the names meson expects.
# The generated tree keeps the proto's directory under the build dir, so generated files
# include each other as "dir/name.pb-c.h".
set -eu
protoc_c=$1 src=$2 wkt=$3 out=$4 proto=$5 out_c=$6 out_h=$7
"$protoc_c" -I"$src" -I"$wkt" --c_out="$out" "$proto"
base=${proto%.proto}
cp "$out/$base.pb-c.c" "$out_c"
cp "$out/$base.pb-c.h" "$out_h"
