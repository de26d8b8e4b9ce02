"""Minimal TAP producer for the Python test suites (standard library only).

    from tap import Tap, require_root
    require_root()
    t = Tap()
    t.ok(cond, "what was checked", diag="shown when it fails")
    t.is_(got, want, "description")
    t.done()          # prints the plan and exits 0 if everything passed, 1 otherwise

Skips: under meson's 'tap' protocol an exit status of 77 counts as an error, so a whole-file skip
prints the plan "1..0 # SKIP reason" and exits 0 (meson reports SKIP).
"""

import os
import sys
import traceback


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.done_called = False

    def _line(self, text):
        print(text, flush=True)

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            self._line(f"# {line}")

    def ok(self, cond, desc, diag=None):
        self.n += 1
        desc = desc.replace("#", "\\#")
        if cond:
            self._line(f"ok {self.n} - {desc}")
        else:
            self.failed += 1
            self._line(f"not ok {self.n} - {desc}")
            if diag is not None:
                self.diag(diag)
        return bool(cond)

    def is_(self, got, want, desc, diag=None):
        extra = f"got:  {got!r}\nwant: {want!r}"
        if diag:
            extra += "\n" + str(diag)
        return self.ok(got == want, desc, diag=extra)

    def skip(self, desc, reason):
        self.n += 1
        self._line(f"ok {self.n} - {desc} # SKIP {reason}")

    def run(self, desc, fn, *args, **kwargs):
        """Runs fn; an exception is a failed test with its traceback as diagnostics. Returns
        fn's result, or None when it raised."""
        try:
            result = fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - any failure of the step is a test failure
            self.ok(False, desc, diag=traceback.format_exc())
            return None
        self.ok(True, desc)
        return result

    def bail_out(self, reason):
        self._line(f"Bail out! {reason}")
        sys.exit(1)

    def done(self):
        """Prints the plan and exits: 0 when every test passed."""
        self.done_called = True
        self._line(f"1..{self.n}")
        sys.exit(1 if self.failed else 0)


def skip_all(reason):
    print(f"1..0 # SKIP {reason}", flush=True)
    sys.exit(0)


def require_root(what="this test"):
    """Skips the whole file when not root, unless MINI_TESTS_REQUIRE_ROOT=1 (CI), where a
    privileged test that cannot run must fail instead of silently passing."""
    if os.geteuid() == 0:
        return
    if os.environ.get("MINI_TESTS_REQUIRE_ROOT") == "1":
        print(f"Bail out! {what} needs root and MINI_TESTS_REQUIRE_ROOT=1", flush=True)
        sys.exit(1)
    skip_all(f"{what} needs root")
