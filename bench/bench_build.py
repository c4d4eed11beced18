"""Build benchmark (issue 6): `Squeakerfile.example`, cold vs fully cached.

    python bench/bench_build.py [--runs N]

Cold: an empty build cache every run (the lock replays LEARN, so no model loads).
Cached: every step found in the cache. `--no-cache`: every step run, cache kept warm
(what a build costs without replaying). Target: the cached rebuild under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import proto_command, summary, table, time_commands  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    proto = " ".join(shlex.quote(p) for p in proto_command())
    with tempfile.TemporaryDirectory() as tmp:
        warm = os.path.join(tmp, "warm-cache")
        cold = os.path.join(tmp, "cold-cache")
        out = os.path.join(tmp, "demo.image")
        build = f"cd {shlex.quote(ROOT)} && {proto} build -f Squeakerfile.example -o {out}"
        commands = {
            "cold build (empty cache)":
                ["sh", "-c", f"rm -rf {cold} && export XDG_CACHE_HOME={cold} && {build}"],
            "rebuild, every step CACHED":
                ["sh", "-c", f"export XDG_CACHE_HOME={warm} && {build}"],
            "build --no-cache":
                ["sh", "-c", f"export XDG_CACHE_HOME={warm} && {build} --no-cache"],
        }
        times = time_commands(commands, args.runs)
    rows = [[name, f"{summary(t)[0]:.0f}", f"{summary(t)[1]:.0f}"] for name, t in times.items()]
    print(f"### Building Squeakerfile.example ({args.runs} runs, cold processes)\n")
    print(table(rows, ["command", "median ms", "p90 ms"]))
    cached = summary(times["rebuild, every step CACHED"])[0]
    verdict = "met" if cached < 500 else "MISSED"
    print(f"\nTarget (cached rebuild under 0.5 s): {verdict}, {cached / 1000:.2f} s; "
          f"{summary(times['cold build (empty cache)'])[0] / cached:.1f}x faster than cold.")


if __name__ == "__main__":
    main()
