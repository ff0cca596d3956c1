#!/usr/bin/env python3
"""Writes the small seed inputs of the fuzz targets into tests/fuzz/corpus/.

Seeds are built here by hand, independently of the C code, from the format
facts (glibc's ld.so.cache layouts, the ELF headers). When run as root with
ldconfig on PATH it also adds the three formats as glibc's own ldconfig
writes them for a root holding one library (each a few hundred bytes).
Run it again after a format change: python3 tests/fuzz/make-seeds.py
"""
import os
import shutil
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
X86_64, I386 = 0x0303, 0x0003


def strings(pairs, base):
    """Lays out name/path strings from offset base; returns bytes and offsets."""
    blob, offs = b"", []
    for name, path in pairs:
        k = base + len(blob)
        blob += name.encode() + b"\0"
        v = base + len(blob)
        blob += path.encode() + b"\0"
        offs.append((k, v))
    return blob, offs


def old_cache(entries):
    head = b"ld.so-1.7.0\0" + struct.pack("<I", len(entries))
    blob, offs = strings([(n, p) for n, p, _ in entries], 0)
    table = b"".join(struct.pack("<iII", f, k, v) for (_, _, f), (k, v) in zip(entries, offs))
    return head + table + blob


def new_cache(entries):
    """entries: (name, path, flags, hwcap); sorted by the caller."""
    start = 48 + 24 * len(entries)
    blob, offs = strings([(n, p) for n, p, _, _ in entries], start)
    head = b"glibc-ld.so.cache1.1" + struct.pack("<IIB3xI12x", len(entries), len(blob), 2, 0)
    table = b"".join(struct.pack("<iIIIQ", f, k, v, 0, h)
                     for (_, _, f, h), (k, v) in zip(entries, offs))
    return head + table + blob


def combined(old_entries, new_entries):
    old = old_cache(old_entries)
    table_end = 16 + 12 * len(old_entries)
    at = (table_end + 7) & ~7
    return old[:table_end] + b"\0" * (at - table_end) + new_cache(new_entries)


def elf64(soname):
    strtab = b"\0" + soname.encode() + b"\0"
    ph_off, dyn_off = 64, 64 + 2 * 56
    str_off = dyn_off + 4 * 16
    size = str_off + len(strtab)
    base = 0x10000
    eh = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + b"\0" * 9, 3, 62, 1, 0,
                     ph_off, 0, 0, 64, 56, 2, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    ph += struct.pack("<IIQQQQQQ", 2, 6, dyn_off, base + dyn_off, base + dyn_off, 64, 64, 8)
    dyn = struct.pack("<qQqQqQqQ", 5, base + str_off, 10, len(strtab), 14, 1, 0, 0)
    return eh + ph + dyn + strtab


def elf32(soname):
    strtab = b"\0" + soname.encode() + b"\0"
    ph_off, dyn_off = 52, 52 + 2 * 32
    str_off = dyn_off + 4 * 8
    size = str_off + len(strtab)
    base = 0x10000
    eh = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + b"\0" * 9, 3, 3, 1, 0,
                     ph_off, 0, 0, 52, 32, 2, 40, 0, 0)
    ph = struct.pack("<IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)
    ph += struct.pack("<IIIIIIII", 2, dyn_off, base + dyn_off, base + dyn_off, 32, 32, 6, 4)
    dyn = struct.pack("<iIiIiIiI", 5, base + str_off, 10, len(strtab), 14, 1, 0, 0)
    return eh + ph + dyn + strtab


def write(sub, name, data):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def glibc_written():
    if os.geteuid() != 0 or shutil.which("ldconfig") is None:
        return
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "lib/x86_64-linux-gnu"))
        os.makedirs(os.path.join(root, "etc"))
        open(os.path.join(root, "etc/ld.so.conf"), "w").close()
        shutil.copy("/lib/x86_64-linux-gnu/libz.so.1", os.path.join(root, "lib/x86_64-linux-gnu"))
        for fmt in ("old", "compat", "new"):
            subprocess.run(["ldconfig", "-X", "-r", root, "-c", fmt, "-C", "/etc/c"], check=True)
            with open(os.path.join(root, "etc/c"), "rb") as f:
                write("ldcache", "glibc-" + fmt, f.read())


def main():
    lib = "/usr/lib/x86_64-linux-gnu/"
    new_entries = [  # descending glibc order
        ("libz.so.1", lib + "libz.so.1", X86_64, 0),
        ("libnvidia-ml.so.1", lib + "libnvidia-ml.so.580.159.04", X86_64, 0),
        ("libcuda.so.1", lib + "libcuda.so.580.159.04", X86_64, 0),
        ("libcuda.so.1", "/usr/lib/i386-linux-gnu/libcuda.so.580.159.04", I386, 0),
        ("libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", X86_64, 0),
    ]
    old_entries = [(n, p, f) for n, p, f, _ in new_entries[:2]]
    write("ldcache", "new", new_cache(new_entries))
    write("ldcache", "new-empty", new_cache([]))
    write("ldcache", "new-hwcap", new_cache(
        [("libm.so.6", "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libm.so.6", X86_64,
          (1 << 62) | 0), ("libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6", X86_64, 0)]))
    write("ldcache", "old", old_cache(old_entries))
    write("ldcache", "combined", combined(old_entries[:1], new_entries))
    write("elf", "synth64", elf64("libsynth.so.1"))
    write("elf", "synth32", elf32("libsynth32.so.1"))
    glibc_written()


if __name__ == "__main__":
    main()
