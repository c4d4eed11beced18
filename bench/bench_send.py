"""Benchmarks of issues 2 and 18: start-up of `proto send` and `proto eval`, in-process sends,
lazy loading.

Run from the repository root, after `pip install .` (a plain, non-editable
install, as users have):  python bench/bench_send.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402
    in_fresh_world,
    make_image,
    proto_command,
    ratio_table,
    summary,
    table,
    time_commands,
)

BARE_LMDB = """
import lmdb
env = lmdb.open({path!r}, subdir=False, max_dbs=4)
db = env.open_db(b"slots", create=False)
with env.begin(db=db) as txn:
    txn.get(b"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01p0")
"""


def cold_send(tmp: str, runs: int) -> str:
    path = os.path.join(tmp, "small.image")
    make_image(path, 10)
    bare = os.path.join(tmp, "bare.py")
    with open(bare, "w") as f:
        f.write(BARE_LMDB.format(path=path))
    times = time_commands({
        "python3 -c pass": [sys.executable, "-c", "pass"],
        "bare LMDB script (open, read one key)": [sys.executable, bare],
        "proto send p0 x (data slot read)": [*proto_command(), "-i", path, "send", "p0", "x"],
        "proto send 3 + 4": [*proto_command(), "-i", path, "send", "3", "+", "4"],
        'proto eval "3 + 4"': [*proto_command(), "-i", path, "eval", "3 + 4"],
        'proto eval "p0 x"': [*proto_command(), "-i", path, "eval", "p0 x"],
    }, runs)
    return ratio_table(times, "bare LMDB script (open, read one key)",
                       ["cold process", "median ms", "p90 ms", "vs bare LMDB"])


def warm_send() -> str:
    from proto_cli.world.shell import define, evaluate

    def work(world):
        evaluate(world, "a := genesis clone. b := genesis clone. "
                        "b addSlot: 'up*' value: a. "
                        "c := genesis clone. c addSlot: 'up*' value: b")
        define(world, "a", "answer", "def answer(self):\n    return 42\n")
        c = evaluate(world, "c")
        assert world.send(c, "answer") == 42
        send = world.send
        n = 200_000
        proto_s = min(timeit.repeat(lambda: send(c, "answer"), number=n, repeat=5)) / n

        class A:
            def answer(self):
                return 42

        class B(A):
            pass

        class C(B):
            pass

        obj = C()
        py_s = min(timeit.repeat(lambda: obj.answer(), number=n, repeat=5)) / n
        return proto_s, py_s

    proto_s, py_s = in_fresh_world(work)
    rows = [
        ["Python method call, found two classes up", f"{py_s * 1e9:.0f}", "1.00x"],
        ["proto send, method found two parents up", f"{proto_s * 1e9:.0f}",
         f"{proto_s / py_s:.2f}x"],
    ]
    return table(rows, ["in-process send", "ns per call", "vs Python"])


def lazy_loading(tmp: str, runs: int) -> str:
    small = os.path.join(tmp, "ten.image")
    big = os.path.join(tmp, "hundred-thousand.image")
    make_image(small, 10)
    make_image(big, 100_000)
    times = time_commands({
        "10 objects": [*proto_command(), "-i", small, "send", "p7", "x"],
        "100,000 objects": [*proto_command(), "-i", big, "send", "p77777", "x"],
    }, runs)
    base = summary(times["10 objects"])[0]
    rows = []
    for name, samples in times.items():
        med, p90 = summary(samples)
        size = os.path.getsize(small if name.startswith("10 ") else big) / 1e6
        rows.append([name, f"{size:.1f}", f"{med:.1f}", f"{p90:.1f}", f"{med / base:.2f}x"])
    return table(rows, ["image (open + one send, cold process)", "MB", "median ms", "p90 ms",
                        "vs 10 objects"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("### 1. `proto send` and `proto eval` start-up (target: at most 1.5x the bare "
              "LMDB script)\n")
        print(cold_send(tmp, args.runs), "\n")
        print("### 2. In-process send (target: at most 5x a Python method call)\n")
        print(warm_send(), "\n")
        print("### 3. Lazy loading (target: within 2x of a 10-object image)\n")
        print(lazy_loading(tmp, args.runs))


if __name__ == "__main__":
    main()
