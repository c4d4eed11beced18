"""Sandbox overhead: `python -c pass` through sandbox.run() vs a bare subprocess.

Usage: python bench/bench_sandbox.py [RUNS]   (default 30; target: overhead <= 30 ms)

Both sides run the same interpreter (sys.executable), interleaved in the same
process, after one warm-up run each. `true` rows split the cost: what is left of
the overhead once the program itself costs nothing is bubblewrap's setup."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sandbox  # noqa: E402

TARGET_MS = 30.0
PY = [sys.executable, "-c", "pass"]
TRUE = ["/bin/true"]


def bare(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def sandboxed(argv: list[str]) -> None:
    verdict = sandbox.run(argv)
    if not verdict.ok:
        sys.exit(f"bench: sandboxed run failed: {verdict.to_json()}")


def sandboxed_source() -> None:
    verdict = sandbox.run(python_source="pass")
    if not verdict.ok:
        sys.exit(f"bench: sandboxed run failed: {verdict.to_json()}")


CASES = {
    "bare `python -c pass`": lambda: bare(PY),
    "sandbox `python -c pass`": lambda: sandboxed(PY),
    "sandbox python_source=\"pass\"": sandboxed_source,
    "bare `true`": lambda: bare(TRUE),
    "sandbox `true`": lambda: sandboxed(TRUE),
}


def measure(runs: int) -> dict[str, list[float]]:
    for case in CASES.values():  # warm caches, the policy argv and the page cache
        case()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, case in CASES.items():
            start = time.perf_counter()
            case()
            times[name].append((time.perf_counter() - start) * 1000)
    return times


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10, method="inclusive")[8]


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    report = sandbox.check()
    if not report["usable"]:
        print(f"bench: sandbox unusable: {report['error']}", file=sys.stderr)
        return 2
    times = measure(runs)
    print(f"{report['bwrap']['version']}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, {runs} runs each, interleaved\n")
    print("| case | median ms | p90 ms |")
    print("| --- | ---: | ---: |")
    for name, samples in times.items():
        print(f"| {name} | {statistics.median(samples):.1f} | {p90(samples):.1f} |")
    print()
    print("| overhead (sandbox - bare) | median ms | p90 ms | ratio (median) |")
    print("| --- | ---: | ---: | ---: |")
    worst = 0.0
    for label, sb, b in (("`python -c pass`", "sandbox `python -c pass`", "bare `python -c pass`"),
                         ("`true`", "sandbox `true`", "bare `true`")):
        med = statistics.median(times[sb]) - statistics.median(times[b])
        tail = p90(times[sb]) - p90(times[b])
        ratio = statistics.median(times[sb]) / statistics.median(times[b])
        print(f"| {label} | {med:.1f} | {tail:.1f} | {ratio:.2f}x |")
        if label == "`python -c pass`":
            worst = med
    verdict = "within" if worst <= TARGET_MS else "OVER"
    print(f"\noverhead {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
