#!/usr/bin/env python3
"""process.terminal: the pty master arrives on --console-socket; the container's stdio and
/dev/console are the slave."""

import os

from runtime_utils import (ConsoleReceiver, base_config, expect, expect_eq, expect_in, main,
                           read_all_fd, wait_status)


def test_console_socket_create(rt):
    conf = base_config(["sh", "-c", "tty; ls -l /dev/console | cut -c1; "
                        "stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty"])
    conf["process"]["terminal"] = True
    conf["process"]["consoleSize"] = {"height": 30, "width": 100}
    b = rt.bundle(conf)
    cid = rt.new_id()
    recv = ConsoleReceiver(rt.workdir)
    try:
        import threading
        got = {}
        th = threading.Thread(target=lambda: got.setdefault("fd", recv.receive()))
        th.start()
        r = rt.cmd("create", "--bundle", b, "--console-socket", recv.path, cid)
        th.join(10)
        expect_eq(r.rc, 0, f"create: {r!r}")
        expect("fd" in got, "pty master received")
        expect_eq(rt.cmd("start", cid).rc, 0, "start")
        out = read_all_fd(got["fd"], timeout=10).replace("\r", "").split("\n")
        expect_eq(out[0], "/dev/pts/0", "stdin is the pty")
        expect_eq(out[1], "c", "/dev/console is a character device")
        expect_eq(out[2], "30 100", "console size")
        expect_eq(out[3], "all-tty", "stdio on the pty")
        wait_status(rt, cid, "stopped")
        os.close(got["fd"])
    finally:
        recv.close()
        rt.cleanup(cid)


def test_terminal_requires_socket(rt):
    conf = base_config(["true"])
    conf["process"]["terminal"] = True
    b = rt.bundle(conf)
    cid = rt.new_id()
    r = rt.cmd("create", "--bundle", b, cid)
    rt.cleanup(cid)
    expect(r.rc != 0, "create with terminal and no console socket fails")


def test_exec_tty(rt):
    b = rt.bundle(base_config(["sleep", "60"]))
    cid = rt.new_id()
    recv = ConsoleReceiver(rt.workdir)
    try:
        expect_eq(rt.cmd("run", "-d", "--bundle", b, cid).rc, 0, "run -d")
        wait_status(rt, cid, "running")
        import threading
        got = {}
        th = threading.Thread(target=lambda: got.setdefault("fd", recv.receive()))
        th.start()
        r = rt.cmd("exec", "-t", "-d", "--console-socket", recv.path, cid, "sh", "-c",
                   "tty; sleep 0.2")
        th.join(10)
        expect_eq(r.rc, 0, f"exec -t: {r!r}")
        out = read_all_fd(got["fd"], timeout=5).replace("\r", "")
        expect_in("/dev/pts/", out, "exec'd process on a pty")
        os.close(got["fd"])
    finally:
        recv.close()
        rt.cleanup(cid)


main(globals())
