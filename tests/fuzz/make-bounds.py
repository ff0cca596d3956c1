#!/usr/bin/env python3
"""Writes the large inputs on which tests/fuzz/run.sh checks each target's work
and memory per input byte (tests/fuzz/bounds.h): the shapes that made gctk's
parsers quadratic or amplify what they copy, a few megabytes each, built here
at run time rather than kept in the tree.

    python3 tests/fuzz/make-bounds.py DIR     # DIR/<target>/<case>

Each input has the layout its target reads (a leading flag byte where the
target takes one). The inputs are built from the formats alone (glibc's
ld.so.cache layout, JSON, YAML, the NVIDIA_* variables), not from gctk's code.
"""
import json
import os
import struct
import sys

X86_64 = 0x0303


def new_cache(entries, table):
    """entries: (key offset, value offset) into table, offsets from the table."""
    n = len(entries)
    end = 48 + 24 * n
    head = b"glibc-ld.so.cache1.1" + struct.pack("<IIB3xI12x", n, len(table), 2, 0)
    body = b"".join(struct.pack("<iIIIQ", X86_64, end + k, end + v, 0, 0) for k, v in entries)
    return head + body + table


def ldcache():
    out = {}
    # every entry names one long string (the review's 484 KB cache)
    long = b"a" * 400000 + b"\0"
    out["one-long-string"] = new_cache([(0, 0)] * 3500, long)
    # every entry names a suffix of one string: distinct, mostly long
    out["suffixes"] = new_cache([(i % 4000, i % 4000) for i in range(40000)], b"b" * 4000 + b"\0")
    # 100,000 names sharing one path
    table = b"/usr/lib/x86_64-linux-gnu/libshared.so.1\0"
    entries = []
    for i in range(100000):
        entries.append((len(table), 0))
        table += b"libname%d.so.1\0" % i
    out["shared-path"] = new_cache(entries, table)
    # 200,000 distinct libraries, names as their paths' tails
    table, entries = b"", []
    for i in range(200000):
        path = b"/usr/lib/x86_64-linux-gnu/libimage%d.so.1" % i
        entries.append((len(table) + path.rindex(b"/") + 1, len(table)))
        table += path + b"\0"
    out["distinct"] = new_cache(entries, table)
    return out


def env(flags, lines):
    return bytes([flags]) + "\n".join(lines).encode()


def nvenv():
    # flags: 1 allow unprivileged env, 2 disable require, 4 swarm, 8 privileged
    return {
        "caps-after-blanks": env(9, ["NVIDIA_VISIBLE_DEVICES=0",
                                     "NVIDIA_DRIVER_CAPABILITIES=" + " " * 4000000 + "utility"]),
        "600k-ids": env(9, ["NVIDIA_VISIBLE_DEVICES=" + ",".join(str(i % 4) for i in range(600000))]),
        "200k-alternatives": env(9, ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_X=" +
                                     " ".join("driver>=9%d.%d" % (i % 50, i) for i in range(200000))]),
        "100k-requires": env(9, ["NVIDIA_VISIBLE_DEVICES=0"] +
                             ["NVIDIA_REQUIRE_%d=driver>=1.%d" % (i, i) for i in range(100000)]),
        "swarm-many": env(13, ["DOCKER_RESOURCE_NVIDIA-GPU=" + ",".join("GPU-%08x" % i for i in range(300000))]),
    }


def oci():
    config = {"root": {"path": "rootfs"}, "process": {"env": []}}
    names = ",".join("nvidia.com/gpu=d%d" % (i % 300000) for i in range(600000))
    with_names = dict(config, annotations={"cdi.k8s.io/x": names},
                      process={"env": ["NVIDIA_VISIBLE_DEVICES=" + names]})
    with_requires = dict(config, process={"env": ["NVIDIA_VISIBLE_DEVICES=0"] +
                                          ["NVIDIA_REQUIRE_%d=cuda>=1.%d" % (i, i) for i in range(100000)]})
    return {
        "600k-cdi-names": b"\0" + json.dumps(with_names).encode(),
        "100k-requires": b"\0" + json.dumps(with_requires).encode(),
    }


def require():
    return {
        "200k-alternatives": " ".join("driver>=9%d.%d" % (i % 50, i) for i in range(200000)).encode(),
        "100k-conditions": ",".join("cuda>=1.%d" % i for i in range(100000)).encode(),
    }


def cdi():
    devices = [{"name": "d%d" % i, "containerEdits": {"env": ["A=1"]}} for i in range(200000)]
    devices.append({"name": "d7", "containerEdits": {"env": ["A=1"]}})
    spec = {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "devices": devices}
    yaml = "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n" + "".join(
        "- name: d%d\n  containerEdits:\n    env: [A=1]\n" % i for i in range(60000))
    return {"200k-devices.json": b"\0" + json.dumps(spec).encode(),
            "60k-devices.yaml": b"\1" + yaml.encode()}


def gpusflag():
    return {"device-list": ('"device=' + ",".join(str(i % 8) for i in range(500000)) + '"').encode(),
            "quoted-quotes": ('"options=' + 'a""' * 300000 + '"').encode()}


def daemonjson():
    cfg = {"k%d" % i: i for i in range(200000)}
    cfg["runtimes"] = {"r%d" % i: {"path": "/usr/bin/r"} for i in range(50000)}
    return {"many-keys": json.dumps(cfg).encode()}


def compose():
    text = "services:\n" + "".join(
        "  s%d:\n    image: x\n    deploy:\n      resources:\n        reservations:\n"
        "          devices:\n            - capabilities: [gpu]\n              device_ids: ['0', '1']\n" % i
        for i in range(20000))
    return {"20k-services": text.encode()}


def config():
    return {"long-root": json.dumps({"root": "/" + "r" * 4000000}).encode()}


TARGETS = {"ldcache": ldcache, "nvenv": nvenv, "oci": oci, "require": require, "cdi": cdi,
           "gpusflag": gpusflag, "daemonjson": daemonjson, "compose": compose, "config": config}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-bounds.py DIR")
    for target, make in TARGETS.items():
        d = os.path.join(sys.argv[1], target)
        os.makedirs(d, exist_ok=True)
        for name, data in make().items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
