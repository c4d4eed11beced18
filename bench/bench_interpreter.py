"""The interpreter against CPython (issue 18): the same small programs, in one run.

Each program runs in proto's evaluator inside one write transaction of a fresh image
(the way `proto eval` runs it, without the process start), and its equivalent runs as
plain Python in this process. Both are timed with timeit (best of --repeat); the
table gives each ratio and their geometric mean. The target is at most 10x.

    python bench/bench_interpreter.py [--repeat 5] [--scale 1.0]
    python bench/bench_interpreter.py --large     # compile cost, after `pip install .`

--large times whole cold `proto eval -i IMAGE -` commands on four very large programs
(the installed `proto`: install another commit to compare it on the same programs).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import in_fresh_world, proto_command, table  # noqa: E402

N = 100_000  # iterations of the counting loops at --scale 1


def programs(n: int) -> list[tuple[str, str, object, object]]:
    """(name, proto source, a Python function doing the same, the answer both give)."""

    def to_do():
        s = 0
        for i in range(1, n + 1):
            s = s + i
        return s

    def times_repeat():
        s = 0
        for _ in range(n):
            s = s + 1
        return s

    def while_true():
        i = 0
        while i < n:
            i = i + 1
        return i

    def block_calls():
        def b(x):
            return x + 1
        s = 0
        for _ in range(n // 2):
            s = b(s)
        return s

    class A:
        def answer(self):
            return 1

    class B(A):
        pass

    class C(B):
        pass

    def two_parents_up():
        c, s = C(), 0
        for _ in range(n // 2):
            s = s + c.answer()
        return s

    def inject_into():
        return sum(x for x in list(range(1, n // 2 + 1)))

    def collect():
        return len([x * 2 for x in list(range(n // 2))])

    half = n // 2
    return [
        ("to:do: counting loop", f"| s | s := 0. 1 to: {n} do: [:i | s := s + i]. s",
         to_do, n * (n + 1) // 2),
        ("timesRepeat:", f"| s | s := 0. {n} timesRepeat: [s := s + 1]. s", times_repeat, n),
        ("whileTrue:", f"| i | i := 0. [i < {n}] whileTrue: [i := i + 1]. i", while_true, n),
        ("block calls (value:)", f"| b s | b := [:x | x + 1]. s := 0. "
         f"{half} timesRepeat: [s := b value: s]. s", block_calls, half),
        ("sends to a method two parents up", f"| s | s := 0. {half} timesRepeat: "
         "[s := s + bench3 answer]. s", two_parents_up, half),
        ("inject:into:", f"((1 to: {half}) asArray) inject: 0 into: [:a :x | a + x]",
         inject_into, half * (half + 1) // 2),
        ("collect:", f"(((1 to: {half}) asArray) collect: [:x | x * 2]) size", collect, half),
    ]


SETUP = ("bench1 := genesis clone. bench2 := genesis clone. bench2 addSlot: 'up*' value: "
         "bench1. bench3 := genesis clone. bench3 addSlot: 'up*' value: bench2. "
         "bench1 define: 'answer' as: [1]")


def large_programs() -> list[tuple[str, str, object]]:
    """(name, source, its answer): programs whose compiling is most of their cost."""

    def nested(depth: int) -> str:
        if depth == 0:
            return "x := x + 1"
        inner = nested(depth - 1)
        return (f"(x > -1) ifTrue: [1 to: 1 do: [:i{depth} | {inner}]. [:k | {inner}] "
                f"value: {depth}] ifFalse: [{inner}]")

    return [
        ("20,000 statements `true ifTrue: [x := x + 1].`",
         "| x | x := 0. " + "true ifTrue: [x := x + 1]. " * 20000 + "x", 20000),
        ("12,000 statements `1 to: 2 do: [:i | x := x + i].`",
         "| x | x := 0. " + "1 to: 2 do: [:i | x := x + i]. " * 12000 + "x", 36000),
        ("100,000 statements `x := x + 1.`",
         "| x | x := 0. " + "x := x + 1. " * 100000 + "x", 100000),
        ("conditionals, loops and blocks nested 8 deep (290 KB)",
         f"| x | x := 0. {nested(8)}. x", 256),
    ]


def large(repeat: int) -> None:
    """Whole cold commands: parse, compile and run, as a user's `proto eval -` does."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "large.image")
        subprocess.run([*proto_command(), "init", image], check=True,
                       stdout=subprocess.DEVNULL)
        for name, source, answer in large_programs():
            best = None
            for _ in range(repeat):
                started = time.perf_counter()
                done = subprocess.run([*proto_command(), "eval", "-i", image, "--no-learn",
                                       "-"], input=source, capture_output=True, text=True)
                took = time.perf_counter() - started
                if done.returncode != 0 or done.stdout.strip() != str(answer):
                    sys.exit(f"bench: {name}: {done.stderr.strip() or done.stdout.strip()}")
                best = took if best is None else min(best, took)
            rows.append([name, f"{best:.2f}"])
    print(f"best of {repeat}; a cold `proto eval -i IMAGE -` each\n")
    print(table(rows, ["program", "seconds"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--large", action="store_true",
                        help="compile cost: cold commands on four very large programs")
    opts = parser.parse_args()
    if opts.large:
        large(opts.repeat)
        return
    n = max(int(N * opts.scale), 10)

    from proto_cli.world.shell import evaluate

    def work(world):
        evaluate(world, SETUP)
        out = []
        for name, source, python, answer in programs(n):
            got = evaluate(world, source)
            assert got == answer == python(), (name, got, answer)
            proto_s = min(timeit.repeat(lambda s=source: evaluate(world, s), number=1,
                                        repeat=opts.repeat))
            py_s = min(timeit.repeat(python, number=1, repeat=opts.repeat))
            out.append((name, proto_s, py_s))
        return out

    rows, ratios = [], []
    for name, proto_s, py_s in in_fresh_world(work):
        ratios.append(proto_s / py_s)
        rows.append([name, f"{py_s * 1000:.1f}", f"{proto_s * 1000:.1f}",
                     f"{proto_s / py_s:.1f}x"])
    mean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    rows.append(["geometric mean", "", "", f"**{mean:.1f}x**"])
    print(f"n = {n}; best of {opts.repeat}; proto in one transaction, no process start\n")
    print(table(rows, ["program", "CPython ms", "proto ms", "proto / CPython"]))


if __name__ == "__main__":
    main()
