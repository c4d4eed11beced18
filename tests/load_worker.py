"""One load-test process: many whole `proto` commands, run in-process one after another.

    python -m tests.load_worker write IMAGE INDEX COUNT   # COUNT x `send acct tick: INDEX`
    python -m tests.load_worker read IMAGE STOPFILE       # `inspect acct --json` until STOPFILE

Each command is `proto_cli.main.main(argv)`: it opens the image, runs one
transaction and closes it, as a separate `proto` process would, without paying
interpreter start-up 1600 times. Prints one JSON line of what it saw.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time

from proto_cli.main import main

COUNTERS = 8


def command(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def write(image: str, index: int, count: int) -> dict:
    errors, worst, answers = [], 0.0, []
    for _ in range(count):
        start = time.monotonic()
        code, out, err = command(["-i", image, "send", "acct", "tick:", str(index)])
        worst = max(worst, time.monotonic() - start)
        if code != 0:
            errors.append(err.strip())
        else:
            answers.append(int(out))
    return {"sent": count, "errors": errors, "worst_s": worst, "answers": answers}


def read(image: str, stop: str) -> dict:
    reads, torn, errors = 0, [], []
    while not os.path.exists(stop):
        code, out, err = command(["-i", image, "inspect", "acct", "--json"])
        if code != 0:
            errors.append(err.strip())
            continue
        slots = {s["name"]: s.get("value") for s in json.loads(out)["slots"]}
        parts = [slots[f"c{i}"] for i in range(COUNTERS)]
        if slots["total"] != sum(parts):
            torn.append((slots["total"], parts))
        reads += 1
    return {"reads": reads, "torn": torn[:5], "errors": errors[:5]}


if __name__ == "__main__":
    mode, image, *rest = sys.argv[1:]
    result = write(image, int(rest[0]), int(rest[1])) if mode == "write" else read(image, rest[0])
    print(json.dumps(result))
