"""Benchmarks of the image commands: `proto diff`, `proto export`, `proto snapshot`.

Run from the repository root, after `pip install .` (a plain, non-editable
install, as users have):  python bench/bench_images.py [--runs N] [--objects N]

Two images of `--objects` objects that differ in exactly 100 data slots are
compared four ways (cold processes): `proto diff`, exporting both and running
`diff -u` (the baseline), `diff -u` alone on the exported texts, and `cmp` of
the image files. Then `proto snapshot` is timed against `cp` of the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402
    make_image,
    proto_command,
    ratio_table,
    summary,
    table,
    time_commands,
)

CHANGED = 100  # data slots that differ between the two images
BASELINE = "export both + `diff -u`"


def make_pair(tmp: str, objects: int) -> tuple[str, str]:
    """Images A and B: B is a copy of A with `x` changed in CHANGED distinct objects."""
    from image_format import layout
    from image_format.codec import decode, encode
    from image_format.store import Image

    if objects < CHANGED:
        sys.exit(f"bench: --objects must be at least {CHANGED}")
    a, b = os.path.join(tmp, "a.image"), os.path.join(tmp, "b.image")
    make_image(a, objects)
    shutil.copy(a, b)
    old = b"d" + encode(3)  # make_image gives every clone x = 3

    def change(txn) -> None:  # one write transaction for all CHANGED slots
        lobby = txn.get_meta(layout.K_ROOTS)["lobby"].oid
        for k in range(CHANGED):
            name = f"p{k * objects // CHANGED}"  # spread over the whole key range
            oid = decode(txn.get(layout.slot_key(lobby, name))[1:]).oid
            key = layout.slot_key(oid, "x")
            assert txn.get(key) == old, (name, txn.get(key))
            txn.put(key, b"d" + encode(1000 + k))

    with Image(b) as image:
        image.transact(change)
    return a, b


def check_pair(a: str, b: str) -> dict:
    """`proto diff --stat --json`: exit 1 and exactly CHANGED changed slots, nothing else."""
    done = subprocess.run([*proto_command(), "diff", "--stat", "--json", a, b],
                          capture_output=True, text=True)
    if done.returncode != 1:
        sys.exit(f"bench: proto diff exited {done.returncode}: {done.stderr}")
    stat = json.loads(done.stdout)["stat"]
    want = {"objects": {"added": 0, "removed": 0, "changed": CHANGED},
            "slots": {"added": 0, "removed": 0, "changed": CHANGED},
            "roots": 0, "parents": 0}
    if stat != want:
        sys.exit(f"bench: expected {CHANGED} changed slots, proto diff says {stat}")
    return stat


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


def differ(script: str) -> list[str]:
    """`script` must exit 1 ("different"): success for time_commands, anything else fails."""
    return sh(f"{script}; test $? -eq 1")


def diff_commands(tmp: str, a: str, b: str) -> dict[str, list[str]]:
    proto = shlex.join(proto_command())
    qa, qb = shlex.quote(a), shlex.quote(b)
    ta, tb = shlex.quote(os.path.join(tmp, "a.txt")), shlex.quote(os.path.join(tmp, "b.txt"))
    pre_a, pre_b = shlex.quote(os.path.join(tmp, "pre-a.txt")), shlex.quote(
        os.path.join(tmp, "pre-b.txt"))
    subprocess.run(sh(f"{proto} export {qa} -o {pre_a} && {proto} export {qb} -o {pre_b}"),
                   check=True, stdout=subprocess.DEVNULL)
    return {
        "`proto diff A B`": differ(f"{proto} diff {qa} {qb} > /dev/null"),
        BASELINE: differ(f"{proto} export {qa} -o {ta} > /dev/null && "
                         f"{proto} export {qb} -o {tb} > /dev/null && "
                         f"diff -u {ta} {tb} > /dev/null"),
        "`diff -u` alone (pre-exported texts)": differ(f"diff -u {pre_a} {pre_b} > /dev/null"),
        "`cmp A B` (image files)": differ(f"cmp {qa} {qb} > /dev/null"),
    }


def snapshot_commands(tmp: str, a: str) -> dict[str, list[str]]:
    """Each run writes a new file: `$$`, the shell's pid, names the snapshot and the copy."""
    proto = shlex.join(proto_command())
    copy = shlex.quote(os.path.join(tmp, "copy-"))
    return {
        "`proto -i A snapshot sN`": sh(f'exec {proto} -i {shlex.quote(a)} snapshot "s$$"'),
        "`cp A copy.image`": sh(f'exec cp {shlex.quote(a)} {copy}"$$.image"'),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--objects", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        a, b = make_pair(tmp, args.objects)
        stat = check_pair(a, b)
        mb = os.path.getsize(a) / 1e6
        print(f"## Image commands: {args.objects:,} objects, {mb:.1f} MB per image, "
              f"{args.runs} runs each\n")
        print(f"`proto diff --stat` of A and B: {stat['slots']['changed']} slot(s) changed in "
              f"{stat['objects']['changed']} object(s), nothing else.\n")

        print("### 1. `proto diff` (target: no slower than exporting both and `diff -u`)\n")
        times = time_commands(diff_commands(tmp, a, b), args.runs)
        print(ratio_table(times, BASELINE,
                          ["cold process (via `sh -c`)", "median ms", "p90 ms",
                           "vs export + diff -u"]), "\n")
        ratio = summary(times["`proto diff A B`"])[0] / summary(times[BASELINE])[0]
        verdict = "met" if ratio <= 1 else "NOT met"
        print("`cmp` stops at the first differing byte, so it reads only part of the files.\n")
        print(f"Verdict: {verdict}: `proto diff` takes {ratio:.2f}x the time of exporting "
              f"both images and running `diff -u`.\n")

        print("### 2. `proto snapshot` throughput (vs `cp` of the same file)\n")
        commands = snapshot_commands(tmp, a)
        times = time_commands(commands, args.runs)
        snap = os.path.join(a + ".snapshots", sorted(
            n for n in os.listdir(a + ".snapshots") if n.endswith(".image"))[0])
        rate = {name: mb / (summary(samples)[0] / 1000) for name, samples in times.items()}
        base = rate["`cp A copy.image`"]
        rows = []
        for name, samples in times.items():
            med, p90 = summary(samples)
            rows.append([name, f"{med:.1f}", f"{p90:.1f}", f"{rate[name]:.0f}",
                         f"{rate[name] / base:.3f}x"])
        print(table(rows, ["cold process (via `sh -c`)", "median ms", "p90 ms",
                           "MB/s (image MB / median)", "throughput vs cp"]), "\n")
        ratio = rate["`proto -i A snapshot sN`"] / base
        print(f"Snapshot file: {os.path.getsize(snap) / 1e6:.1f} MB (compacted copy of "
              f"{mb:.1f} MB, fsynced; the digest is computed at the first `snapshot list`); "
              "`cp` does not fsync, and proto pays its own start-up (~0.2 s) in every run.\n")
        print(f"Verdict: `proto snapshot` runs at {ratio:.3f}x the throughput of `cp` "
              f"({rate['`proto -i A snapshot sN`']:.1f} vs {base:.0f} MB/s: `cp` is "
              f"{1 / ratio:.0f}x faster).")


if __name__ == "__main__":
    main()
