#!/usr/bin/env python3
"""Writes containerd's default seccomp profile as OCI JSON, flattened for one machine.

containerd builds the profile in Go (contrib/seccomp/seccomp_default.go, DefaultProfile): a base
list plus rules chosen by kernel version, by GOARCH and by the names in the spec's bounding
capability set. There is no command that prints it, so this script reads that Go source, parses
its specs.LinuxSyscall literals and resolves the choices the way DefaultProfile would on:

  * kernel >= 4.8 (the ptrace rule is added),
  * GOARCH amd64 (architectures x86_64, x86, x32; arch_prctl and modify_ldt),
  * a bounding set given with --caps: "all" (root's full set, CAP_CHOWN..CAP_CHECKPOINT_RESTORE
    in numeric order) or "default" (containerd's defaultUnixCaps, what `ctr run --seccomp` uses
    for an ordinary container). Each capability's rules are appended in bounding-set order, as
    the Go loop does; without CAP_SYS_ADMIN the masked clone rule and clone3 → ENOSYS follow.

Usage: gen_containerd_default.py [--caps all|default] [--src seccomp_default.go] > out.json
"""
import argparse
import json
import re
import sys

SRC = ('/usr/share/gocode/src/github.com/containerd/containerd/contrib/seccomp/'
       'seccomp_default.go')

ALL_CAPS = [
    'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID',
    'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE',
    'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
    'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
    'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE',
    'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
    'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN',
    'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON',
    'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]
# containerd 1.6 oci/spec.go defaultUnixCaps(), in its order.
DEFAULT_CAPS = [
    'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
    'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
    'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
]

# Go identifiers the literals use, as their JSON values.
CONSTS = {
    'specs.ActAllow': 'SCMP_ACT_ALLOW', 'specs.ActErrno': 'SCMP_ACT_ERRNO',
    'specs.OpEqualTo': 'SCMP_CMP_EQ', 'specs.OpMaskedEqual': 'SCMP_CMP_MASKED_EQ',
    'unix.CLONE_NEWNS': 0x00020000, 'unix.CLONE_NEWUTS': 0x04000000,
    'unix.CLONE_NEWIPC': 0x08000000, 'unix.CLONE_NEWUSER': 0x10000000,
    'unix.CLONE_NEWPID': 0x20000000, 'unix.CLONE_NEWNET': 0x40000000,
    'unix.CLONE_NEWCGROUP': 0x02000000,
    'nosys': 38,  # nosys := uint(unix.ENOSYS)
}

TOKEN = re.compile(r'\s*(?:(//[^\n]*)|("(?:[^"\\]|\\.)*")|(0x[0-9a-fA-F]+|\d+)'
                   r'|([A-Za-z_][\w.]*)|(\[\])|([{}:,&|]))')


def tokenize(text):
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == '':
                break
            raise SystemExit('cannot tokenize at: %r' % text[pos:pos + 40])
        pos = m.end()
        comment, string, number, ident, brackets, punct = m.groups()
        if comment:
            continue
        if string:
            out.append(('str', json.loads(string)))
        elif number:
            out.append(('num', int(number, 0)))
        elif ident:
            out.append(('id', ident))
        elif brackets:
            out.append(('[]', '[]'))
        else:
            out.append(('p', punct))
    return out


class Parser:
    def __init__(self, toks):
        self.t, self.i = toks, 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self, kind=None, val=None):
        k, v = self.peek()
        if (kind and k != kind) or (val is not None and v != val):
            raise SystemExit('parse error at token %d: %r, want %r %r' % (self.i, (k, v), kind, val))
        self.i += 1
        return v

    def value(self):
        """A Go expression: composite literal, string, number, constant, &x, a | b."""
        k, v = self.peek()
        if k == '[]':
            self.take('[]')
            self.take('id')  # element type
            return self.elements()
        if k == 'p' and v == '&':
            self.take('p', '&')
            return self.value()
        if k == 'p' and v == '{':
            return self.elements_or_struct()
        if k == 'str':
            return self.take()
        if k == 'num':
            acc = self.take()
        elif k == 'id':
            name = self.take()
            if self.peek() == ('p', '{'):  # Type{...}
                return self.elements_or_struct()
            acc = CONSTS[name]
        else:
            raise SystemExit('unexpected %r' % ((k, v),))
        while self.peek() == ('p', '|'):
            self.take('p', '|')
            acc |= self.value()
        return acc

    def elements(self):
        self.take('p', '{')
        items = []
        while self.peek() != ('p', '}'):
            items.append(self.value())
            if self.peek() == ('p', ','):
                self.take('p', ',')
        self.take('p', '}')
        return items

    def elements_or_struct(self):
        # {Key: value, ...} is a struct; {a, b} a list.
        if self.t[self.i + 1][0] == 'id' and self.t[self.i + 2] == ('p', ':'):
            self.take('p', '{')
            obj = {}
            while self.peek() != ('p', '}'):
                key = self.take('id')
                self.take('p', ':')
                obj[key] = self.value()
                if self.peek() == ('p', ','):
                    self.take('p', ',')
            self.take('p', '}')
            return obj
        return self.elements()


def block(text, start):
    """The text of the {...} block opening at or after start."""
    i = text.index('{', start)
    depth = 0
    for j in range(i, len(text)):
        depth += {'{': 1, '}': -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j + 1]
    raise SystemExit('unbalanced braces')


def literal_after(text, marker, start=0):
    """Parses the specs.LinuxSyscall literal following marker."""
    i = text.index(marker, start)
    j = text.index('specs.LinuxSyscall{', i)
    return Parser(tokenize(block(text, j))).value()


def to_oci(go):
    rule = {'names': go['Names'], 'action': go['Action']}
    if 'ErrnoRet' in go:
        rule['errnoRet'] = go['ErrnoRet']
    args = []
    for a in go.get('Args', []):
        arg = {'index': a.get('Index', 0), 'value': a.get('Value', 0)}
        if a.get('ValueTwo', 0):  # Go's omitempty
            arg['valueTwo'] = a['ValueTwo']
        arg['op'] = a['Op']
        args.append(arg)
    if args:
        rule['args'] = args
    return rule


def case_body(text, switch_at, label):
    """The source between `case label:` and the next case/default/closing of that switch."""
    sw = block(text, switch_at)
    if label == 'default':
        m = re.search(r'\n\t*default:', sw)
    else:
        m = re.search(r'\n\t*case [^\n]*%s[^\n]*:' % re.escape(label), sw)
    if not m:
        raise SystemExit('no case %s' % label)
    end = re.search(r'\n\t*(case |default:)', sw[m.end():])
    return sw[m.end():m.end() + end.start()] if end else sw[m.end():]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--caps', choices=['all', 'default'], default='all')
    ap.add_argument('--src', default=SRC)
    opts = ap.parse_args()
    text = open(opts.src).read()

    base = text.index('syscalls := []specs.LinuxSyscall{')
    syscalls = Parser(tokenize(block(text, base))).elements()
    rules = [to_oci(s) for s in syscalls]

    # Kernel >= 4.8: ptrace.
    rules.append(to_oci(literal_after(text, 'kernelversion.GreaterEqualThan')))

    # GOARCH amd64.
    arch_switch = text.index('switch runtime.GOARCH', text.index('// include by arch'))
    body = case_body(text, arch_switch, '"amd64"')
    rules.append(to_oci(Parser(tokenize(block(body, body.index('specs.LinuxSyscall{')))).value()))

    # Capabilities, in bounding-set order.
    caps = ALL_CAPS if opts.caps == 'all' else DEFAULT_CAPS
    cap_switch = text.index('switch c {')
    known = set(re.findall(r'case "(CAP_\w+)":', block(text, cap_switch)))
    for cap in caps:
        if cap not in known:
            continue
        body = case_body(text, cap_switch, '"%s"' % cap)
        rules.append(to_oci(Parser(tokenize(block(body, body.index('specs.LinuxSyscall{'))))
                            .value()))

    if 'CAP_SYS_ADMIN' not in caps:
        not_admin = block(text, text.index('if !admin {'))
        sw = not_admin.index('switch runtime.GOARCH')
        body = case_body(not_admin, sw, 'default')
        rules.append(to_oci(Parser(tokenize(block(body, body.index('specs.LinuxSyscall{'))))
                            .value()))
        rules.append(to_oci(literal_after(not_admin, 'clone3 is explicitly requested')))

    profile = {
        'defaultAction': 'SCMP_ACT_ERRNO',
        'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        'syscalls': rules,
    }
    json.dump(profile, sys.stdout, indent='\t')
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
