"""Confined learned calls (issue 13): what running each call in a guarded child costs.

Two measurements, each against its baseline in the same run:

- **per call, in one process**: a learned crc32 method sent through `World.send`,
  confined (the default for learned methods) and trusted (in-process), against the
  bare cffi call it makes;
- **a cold `proto send`** of the same method (what a shell user pays), confined and
  trusted, against a bare Python script that makes the same cffi call.

    python bench/bench_confine.py [--calls 300] [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import proto_command, ratio_table, table, time_commands  # noqa: E402

DECL = "unsigned long crc32(unsigned long c, const unsigned char *b, unsigned int n);"
SOURCE = (
    "def crc32Of_(self, a1):\n"
    "    from proto_cli.learn.runtime import bind, cbuf, data\n"
    f"    ffi, lib = bind('libz.so.1', {DECL!r})\n"
    "    return int(lib.crc32(0, cbuf(ffi, 'unsigned char', a1), len(data(a1))))\n")
BARE = (f"import cffi\nffi = cffi.FFI()\nffi.cdef({DECL!r})\nlib = ffi.dlopen('libz.so.1')\n"
        "print(lib.crc32(0, b'hello', 5))\n")


def make(path: str) -> None:
    from image_format.codec import MappingProxyType
    from image_format.store import Image
    from proto_cli.world import session
    from proto_cli.world.objects import METHOD
    from proto_cli.world.shell import evaluate
    from proto_cli.world.world import World

    session.create(path)
    learned = MappingProxyType({"learned": True})
    trusted = MappingProxyType({"learned": True, "trusted": True})

    def setup(txn):
        w = World(txn)
        for name, meta in (("confined", learned), ("trusted", trusted)):
            obj = evaluate(w, f"{name} := lobby clone")
            w.put_slot(obj, "crc32Of:", SOURCE, METHOD, meta)
    with Image(path) as image:
        image.transact(setup)


def per_call(path: str, calls: int) -> list[list[str]]:
    """Median microseconds per call: bare cffi, trusted send, confined send."""
    import cffi

    from image_format.store import Image
    from proto_cli.world.world import World

    ffi = cffi.FFI()
    ffi.cdef(DECL)
    lib = ffi.dlopen("libz.so.1")
    out: dict[str, list[float]] = {"bare cffi call": [], "trusted (in-process)": [],
                                   "confined (forked child)": []}
    with Image(path, readonly=True) as image, image.read() as txn:
        w = World(txn)
        targets = {"trusted (in-process)": w.slot(w.lobby, "trusted").value,
                   "confined (forked child)": w.slot(w.lobby, "confined").value}
        for obj in targets.values():
            w.send(obj, "crc32Of:", ("hello",))  # compiled and bound once
        for _ in range(calls):
            start = time.perf_counter()
            lib.crc32(0, b"hello", 5)
            out["bare cffi call"].append(time.perf_counter() - start)
            for name, obj in targets.items():
                start = time.perf_counter()
                w.send(obj, "crc32Of:", ("hello",))
                out[name].append(time.perf_counter() - start)
    base = statistics.median(out["bare cffi call"])
    rows = []
    for name, samples in out.items():
        med, p90 = statistics.median(samples), sorted(samples)[int(len(samples) * .9)]
        rows.append([name, f"{med * 1e6:.1f}", f"{p90 * 1e6:.1f}",
                     f"{med / base:.0f}x" if name != "bare cffi call" else "1x"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "c.image")
        make(path)
        print("### Per call, in one process\n")
        print(table(per_call(path, args.calls), ["call", "median us", "p90 us", "vs bare"]))
        script = os.path.join(tmp, "bare.py")
        with open(script, "w") as f:
            f.write(BARE)
        proto = proto_command()
        times = time_commands({
            "bare cffi script": [sys.executable, script],
            "proto send trusted crc32Of: 'hello'": [*proto, "-i", path, "send", "trusted",
                                                    "crc32Of:", "'hello'"],
            "proto send confined crc32Of: 'hello'": [*proto, "-i", path, "send", "confined",
                                                     "crc32Of:", "'hello'"],
        }, args.runs)
        print("\n### A cold `proto send`\n")
        print(ratio_table(times, "bare cffi script", ["command", "median ms", "p90 ms",
                                                      "vs bare cffi"]))


if __name__ == "__main__":
    main()
