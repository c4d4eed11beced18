"""Helpers shared by the benchmarks: timing child processes, tables, making images."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time

from image_format.store import Image
from proto_cli.world import session
from proto_cli.world.world import World


def proto_command() -> list[str]:
    """The installed `proto` launcher next to this interpreter (as a user runs it)."""
    here = os.path.join(os.path.dirname(sys.executable), "proto")
    found = here if os.path.exists(here) else shutil.which("proto")
    if not found:
        sys.exit("bench: install the project first (pip install .)")
    return [found]


def time_commands(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Run each command `runs` times, interleaved, and return wall times in ms."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm the page cache once
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            times[name].append((time.perf_counter() - start) * 1000)
    return times


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.9) - 1]


def ratio_table(times: dict[str, list[float]], baseline: str, header: list[str]) -> str:
    """Median, p90 and the ratio of medians to `baseline`, one row per command."""
    base = summary(times[baseline])[0]
    rows = []
    for name, samples in times.items():
        med, p90 = summary(samples)
        rows.append([name, f"{med:.1f}", f"{p90:.1f}", f"{med / base:.2f}x"])
    return table(rows, header)


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def make_image(path: str, objects: int) -> None:
    """An image whose lobby names `objects` clones of a point with x and y slots."""
    if os.path.exists(path):
        os.unlink(path)
    session.create(path)
    with Image(path) as image:

        def fill(txn) -> None:
            world = World(txn)
            point = world.clone(world.root("genesis"))
            world.put_slot(point, "x", 3)
            world.put_slot(point, "y", 4)
            lobby = world.lobby
            for i in range(objects):
                obj = world.clone(point)
                world.put_slot(lobby, f"p{i}", obj)

        image.transact(fill)


def in_fresh_world(work):
    """`work(world)` in one write transaction of a new image in a temporary folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.image")
        session.create(path)
        with Image(path) as image:
            return image.transact(lambda txn: work(World(txn)))
