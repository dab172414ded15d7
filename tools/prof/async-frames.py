#!/usr/bin/env python3
"""Async frame sizes of a Swift binary: the context size each async function
asks the task allocator for (read from its async function pointer, the `Tu`
symbol). Exact and independent of load, unlike a heap profile: a task keeps
the slabs of its deepest frames until it ends, so a big frame on a
long-lived task (a streamed request's) is memory per open stream.

  tools/prof/async-frames.py BINARY [SUBSTRING] [COUNT] | swift demangle --simplified
"""
import re
import struct
import subprocess
import sys


def sections(binary):
    found = []
    out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if m and m.group(1) != ".bss":
            found.append((int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16)))
    return found


def main():
    binary = sys.argv[1]
    pattern = sys.argv[2] if len(sys.argv) > 2 else ""
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    data = open(binary, "rb").read()
    spans = sections(binary)
    sizes = []
    for line in subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[2].endswith("Tu") or pattern not in parts[2]:
            continue
        address = int(parts[0], 16)
        for start, offset, size in spans:
            if start <= address < start + size:
                # AsyncFunctionPointer: int32 relative function offset, uint32 expected context size.
                sizes.append((struct.unpack_from("<I", data, offset + address - start + 4)[0], parts[2]))
                break
    for size, name in sorted(sizes, reverse=True)[:count]:
        print(size, name)


main()
