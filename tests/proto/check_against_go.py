#!/usr/bin/env python3
"""Compares our .proto declarations with the ones shipped in the containerd Go source tree.

Usage: check_against_go.py OUR_PROTO_DIR GO_CONTAINERD_DIR

GO_CONTAINERD_DIR is the directory that holds the containerd and cgroups repositories (Debian:
/usr/share/gocode/src/github.com/containerd). For every pair of files below, every message,
enum and service must agree: package, message names, field numbers, field names, repeated/map
labels and (fully-qualified) types, enum values, rpc names and their types. Options (gogoproto,
fieldpath) are ignored, since we declare none. Output is TAP; when the Go tree is missing the
whole test is skipped.
"""
import os
import re
import sys

# (ours, relative to OUR_PROTO_DIR; theirs, relative to GO_CONTAINERD_DIR)
PAIRS = [
    ("containerd/types/mount.proto", "containerd/api/types/mount.proto"),
    # containerd 1.7 and later; Debian 12's 1.6 tree has no such file (then skipped).
    ("containerd/types/introspection.proto", "containerd/api/types/introspection.proto"),
    ("containerd/types/task/task.proto", "containerd/api/types/task/task.proto"),
    ("containerd/task/v2/shim.proto", "containerd/runtime/v2/task/shim.proto"),
    ("containerd/events/task.proto", "containerd/api/events/task.proto"),
    ("containerd/services/ttrpc/events/v1/events.proto",
     "containerd/api/services/ttrpc/events/v1/events.proto"),
    ("containerd/runc/options.proto", "containerd/runtime/v2/runc/options/oci.proto"),
    ("containerd/linux/runctypes.proto", "containerd/runtime/linux/runctypes/runc.proto"),
    ("containerd/runtimeoptions/v1/api.proto", "containerd/pkg/runtimeoptions/v1/api.proto"),
    ("containerd/cgroups/v1/metrics.proto", "cgroups/stats/v1/metrics.proto"),
    ("containerd/cgroups/v2/metrics.proto", "cgroups/v2/stats/metrics.proto"),
]

# Deliberate differences from the 1.6-era Go files.
OURS_ONLY_FIELDS = {
    # Added by containerd 2.x (api/types/runc/options/oci.proto).
    ("containerd.runc.v1.Options", 12),
    ("containerd.runc.v1.Options", 13),
}
THEIRS_ONLY_MESSAGES = {
    # A containerd client type; no shim RPC or event carries it.
    "containerd.v1.types.Process",
}

SCALARS = {
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
    "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
}
WELL_KNOWN = {"google.protobuf.Any", "google.protobuf.Timestamp", "google.protobuf.Empty"}

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*|\.[A-Za-z_][\w.]*|-?\d+|\S')


def tokenize(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return TOKEN.findall(text)


class Parser:
    """Just enough of the proto3 grammar for these files."""

    def __init__(self, text):
        self.toks = tokenize(text)
        self.pos = 0
        self.package = ""
        self.messages = {}   # full name -> {number: (name, label, raw type, scope)}
        self.enums = {}      # full name -> {value name: number}
        self.services = {}   # full name -> {rpc: (raw in, raw out, scope)}

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def next(self):
        tok = self.peek()
        if tok is None:
            raise ValueError("unexpected end of file")
        self.pos += 1
        return tok

    def expect(self, want):
        tok = self.next()
        if tok != want:
            raise ValueError(f"expected {want!r}, got {tok!r} at token {self.pos}")

    def skip_statement(self):
        depth = 0
        while True:
            tok = self.next()
            if tok in "{[(":
                depth += 1
            elif tok in "}])":
                depth -= 1
            elif tok == ";" and depth == 0:
                return

    def skip_brackets(self):
        if self.peek() != "[":
            return
        depth = 0
        while True:
            tok = self.next()
            depth += tok == "["
            depth -= tok == "]"
            if depth == 0:
                return

    def parse(self):
        while self.peek() is not None:
            tok = self.next()
            if tok == "package":
                self.package = self.next()
                self.expect(";")
            elif tok == "message":
                self.message(self.package)
            elif tok == "enum":
                self.enum(self.package)
            elif tok == "service":
                self.service()
            elif tok in ("syntax", "import", "option"):
                self.pos -= 1
                self.skip_statement()
            elif tok != ";":
                raise ValueError(f"unexpected {tok!r} at file level")
        return self

    def full(self, scope, name):
        return f"{scope}.{name}" if scope else name

    def message(self, scope):
        name = self.full(scope, self.next())
        fields = self.messages.setdefault(name, {})
        self.expect("{")
        self.body(name, fields)

    def body(self, name, fields):
        while True:
            tok = self.next()
            if tok == "}":
                return
            if tok == "message":
                self.message(name)
            elif tok == "enum":
                self.enum(name)
            elif tok == "oneof":
                self.next()
                self.expect("{")
                self.body(name, fields)
            elif tok in ("option", "reserved", "extensions"):
                self.skip_statement()
            elif tok == ";":
                continue
            else:
                self.field(tok, name, fields)

    def field(self, tok, scope, fields):
        label = ""
        if tok in ("repeated", "optional"):
            label, tok = tok, self.next()
        if tok == "map":
            self.expect("<")
            key = self.next()
            self.expect(",")
            val = self.next()
            self.expect(">")
            label, ftype = "map", f"map<{key},{val}>"
        else:
            ftype = tok
        fname = self.next()
        self.expect("=")
        number = int(self.next())
        self.skip_brackets()
        self.expect(";")
        if number in fields:
            raise ValueError(f"{scope}: field number {number} used twice")
        fields[number] = (fname, label, ftype, scope)

    def enum(self, scope):
        name = self.full(scope, self.next())
        values = self.enums.setdefault(name, {})
        self.expect("{")
        while True:
            tok = self.next()
            if tok == "}":
                return
            if tok in ("option", "reserved"):
                self.skip_statement()
                continue
            if tok == ";":
                continue
            self.expect("=")
            values[tok] = int(self.next())
            self.skip_brackets()
            self.expect(";")

    def service(self):
        name = self.full(self.package, self.next())
        rpcs = self.services.setdefault(name, {})
        self.expect("{")
        while True:
            tok = self.next()
            if tok == "}":
                return
            if tok == "option":
                self.skip_statement()
                continue
            if tok != "rpc":
                continue
            rpc = self.next()
            self.expect("(")
            req = self.next()
            self.expect(")")
            self.expect("returns")
            self.expect("(")
            resp = self.next()
            self.expect(")")
            if self.peek() == "{":
                while self.next() != "}":
                    pass
            else:
                self.expect(";")
            rpcs[rpc] = (req, resp, self.package)


def resolve(raw, scope, known):
    """Fully-qualifies a type name the way protoc does (innermost scope first)."""
    if raw in SCALARS or raw.startswith("map<"):
        if raw.startswith("map<"):
            key, val = raw[4:-1].split(",")
            return f"map<{key},{resolve(val, scope, known)}>"
        return raw
    if raw.startswith("."):
        return raw[1:]
    parts = scope.split(".") if scope else []
    for i in range(len(parts), -1, -1):
        cand = ".".join(parts[:i] + [raw])
        if cand in known:
            return cand
    return raw


def normalise(p):
    known = set(p.messages) | set(p.enums) | WELL_KNOWN
    msgs = {}
    for name, fields in p.messages.items():
        msgs[name] = {n: (f[0], f[1], resolve(f[2], f[3], known)) for n, f in fields.items()}
    svcs = {}
    for name, rpcs in p.services.items():
        svcs[name] = {r: (resolve(v[0], v[2], known), resolve(v[1], v[2], known))
                      for r, v in rpcs.items()}
    return p.package, msgs, p.enums, svcs


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=()):
        self.n += 1
        print(f"{'' if cond else 'not '}ok {self.n} - {desc}")
        if not cond:
            self.failed += 1
            for line in diag:
                print(f"#   {line}")

    def skip(self, desc, why):
        self.n += 1
        print(f"ok {self.n} - {desc} # SKIP {why}")


def compare_message(name, ours, theirs):
    diag = []
    for num in sorted(set(ours) | set(theirs)):
        if num not in theirs:
            if (name, num) not in OURS_ONLY_FIELDS:
                diag.append(f"field {num} {ours[num]} is not in the Go declaration")
        elif num not in ours:
            diag.append(f"field {num} {theirs[num]} is missing from ours")
        elif ours[num] != theirs[num]:
            diag.append(f"field {num}: ours {ours[num]}, Go {theirs[num]}")
    return diag


def compare_pair(tap, rel, ours_path, theirs_path):
    with open(ours_path, encoding="utf-8") as f:
        o_pkg, o_msgs, o_enums, o_svcs = normalise(Parser(f.read()).parse())
    with open(theirs_path, encoding="utf-8") as f:
        t_pkg, t_msgs, t_enums, t_svcs = normalise(Parser(f.read()).parse())

    tap.ok(o_pkg == t_pkg, f"{rel}: package {t_pkg}", [f"ours {o_pkg}, Go {t_pkg}"])
    for name in sorted(set(o_msgs) | set(t_msgs)):
        if name not in o_msgs:
            if name in THEIRS_ONLY_MESSAGES:
                tap.skip(f"message {name}", "deliberately not declared (unused by a shim)")
            else:
                tap.ok(False, f"message {name}", ["declared by containerd, missing from ours"])
            continue
        if name not in t_msgs:
            tap.ok(False, f"message {name}", ["not declared by containerd"])
            continue
        diag = compare_message(name, o_msgs[name], t_msgs[name])
        tap.ok(not diag, f"message {name}: {len(t_msgs[name])} fields agree", diag)
    for name in sorted(set(o_enums) | set(t_enums)):
        same = o_enums.get(name) == t_enums.get(name)
        tap.ok(same, f"enum {name}", [f"ours {o_enums.get(name)}", f"Go {t_enums.get(name)}"])
    for name in sorted(set(o_svcs) | set(t_svcs)):
        o_rpcs, t_rpcs = o_svcs.get(name, {}), t_svcs.get(name, {})
        diag = [f"rpc {r}: ours {o_rpcs.get(r)}, Go {t_rpcs.get(r)}"
                for r in sorted(set(o_rpcs) | set(t_rpcs)) if o_rpcs.get(r) != t_rpcs.get(r)]
        tap.ok(not diag, f"service {name}: {len(t_rpcs)} rpcs agree", diag)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ours_dir, go_dir = sys.argv[1], sys.argv[2]
    if not os.path.isdir(os.path.join(go_dir, "containerd")):
        print(f"1..0 # SKIP containerd Go source not installed at {go_dir}")
        return 0
    tap = Tap()
    for ours, theirs in PAIRS:
        theirs_path = os.path.join(go_dir, theirs)
        if not os.path.exists(theirs_path):
            tap.skip(ours, f"{theirs_path} not installed")
            continue
        try:
            compare_pair(tap, ours, os.path.join(ours_dir, ours), theirs_path)
        except (OSError, ValueError) as e:
            tap.ok(False, f"{ours}: parse", [str(e)])
    print(f"1..{tap.n}")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
