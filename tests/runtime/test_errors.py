#!/usr/bin/env python3
"""Errors name what was wrong: the config field, the id, the path; --log-format json writes
runc's JSON lines."""

import json
import os

from runtime_utils import base_config, expect, expect_eq, expect_in, main


def test_wrong_type_names_field(rt):
    conf = base_config()
    conf["process"]["args"] = "sh"
    r = rt.run(conf)
    expect_eq(r.rc, 1, "exit status")
    expect_in("process.args", r.err, "error names the field")


def test_wrong_type_nested(rt):
    conf = base_config()
    conf["process"]["user"]["uid"] = "root"
    r = rt.run(conf)
    expect(r.rc != 0, "rejected")
    expect_in("uid", r.err.lower(), "error names the field")


def test_unknown_fields_ignored(rt):
    conf = base_config(["true"])
    conf["somethingNew"] = {"x": 1}
    conf["process"]["futureField"] = [1, 2]
    r = rt.run(conf)
    expect_eq(r.rc, 0, f"unknown keys are ignored: {r!r}")


def test_invalid_json(rt):
    b = rt.bundle(base_config())
    with open(os.path.join(b, "config.json"), "w") as f:
        f.write("{not json")
    r = rt.cmd("run", "--bundle", b, rt.new_id())
    expect_eq(r.rc, 1, "exit status")
    expect(r.err.strip() != "", "an error is printed")


def test_missing_rootfs(rt):
    conf = base_config()
    conf["root"]["path"] = "no-such-rootfs"
    r = rt.run(conf)
    expect(r.rc != 0, "rejected")
    expect_in("no-such-rootfs", r.err, "error names the path")


def test_json_log(rt):
    b = rt.bundle(base_config())
    log = os.path.join(b, "log.json")
    r = rt.cmd("--log", log, "--log-format", "json", "state", "no-such-container")
    expect_eq(r.rc, 1, "exit status")
    lines = [json.loads(l) for l in open(log).read().splitlines() if l.strip()]
    errors = [l for l in lines if l.get("level") == "error"]
    expect(errors, f"an error line in the log: {lines}")
    expect_in("does not exist", errors[-1]["msg"], "message")
    expect("time" in errors[-1], "time field")
    if rt.name == "minirun":
        # the shim maps the errno to a gRPC code without parsing the message
        expect_eq(errors[-1].get("errno"), 2, "errno (ENOENT) as a number")


def test_mount_error_names_destination(rt):
    conf = base_config()
    conf["mounts"].append({"destination": "/x", "type": "no-such-fs", "source": "none"})
    r = rt.run(conf)
    expect(r.rc != 0, "rejected")
    expect_in("/x", r.err, "error names the mount")


main(globals())
