"""Run several candidate bindings on the same inputs in the sandbox: a table of answers.

verify.py is the gate a binding must pass (its stages classified, its failures sent
back to the model). This is the evidence: the proposal and its look-alikes (siblings.py)
each answer every probe (probes.py), so evidence.py can see which of them an oracle
or a stated value tells apart. Nothing is judged here; only computed.

Each binding runs in its own child of the harness, under the seccomp guard, with its
output thrown away and a deadline of its own: a sibling that crashes, spins, prints
without end or reaches for the host loses only its own row. A crash on one input
costs that input: the child is started again at the next one. The rows come back on
a pipe with the run's nonce, as in verify.py.
"""

from __future__ import annotations

import json
import os
import secrets

from .oracle import decode
from .sandboxed.stages import SURVEY_MARK

SECONDS_EACH = 2.0  # one binding's wall clock over all inputs



class Row:
    """One binding's answers: a value per probe (an Error where it raised), or why it
    could not run at all."""

    __slots__ = ("results", "failure")

    def __init__(self, results: list | None, failure: str = "") -> None:
        self.results = results
        self.failure = failure

    @property
    def ok(self) -> bool:
        return self.results is not None


class Error:
    """The binding raised (or crashed) for this input."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Error)

    def __hash__(self) -> int:
        return 0


def survey(bindings: list[dict], probes: list[tuple], wall_s: float = 20.0) -> list[Row]:
    """Each binding ({cdef, library, function, source}) run on every probe, in one
    sandbox; a Row per binding, in order."""
    from sandbox import Limits, SandboxUnavailable, library_binds, run

    from ..world.host_api import FOREIGN
    from .verify import _jsonable, launcher, sandbox_files

    if not bindings:
        return []
    nonce = secrets.token_hex(16)
    # The whole survey ends within wall_s however many siblings spin: each gets a share.
    each = max(min(SECONDS_EACH, (wall_s - 3.0) / len(bindings)), 0.05)
    spec = {"nonce": nonce, "bindings": bindings, "seconds_each": each,
            "probes": [_jsonable(list(p)) for p in probes], "foreign": list(FOREIGN)}
    files = {**sandbox_files(), "survey.json": json.dumps(spec).encode()}
    binds = sorted({b for x in bindings if os.path.sep in x["library"]
                    for b in library_binds(x["library"])})
    total = max(wall_s, each * len(bindings) + 3.0)
    try:
        verdict = run(python_source=launcher("survey_run"), files=files, binds=binds,
                      limits=Limits(wall_s=total, cpu_s=int(total) + 1, memory_mb=1024,
                                    processes=4, output_kb=4096))
    except SandboxUnavailable as exc:
        return [Row(None, f"sandbox: {exc}") for _ in bindings]
    rows: list[Row] = [Row(None, f"no answer ({verdict.kind})") for _ in bindings]
    marker = f"{SURVEY_MARK} {nonce} "
    for line in verdict.stdout.splitlines():
        if not line.startswith(marker):
            continue
        index, _, body = line[len(marker):].partition(" ")
        try:
            i, data = int(index), json.loads(body)
        except (ValueError, RecursionError):
            continue
        if not 0 <= i < len(rows) or not isinstance(data, dict):
            continue
        if data.get("fail") or not isinstance(data.get("results"), list):
            rows[i] = Row(None, str(data.get("fail") or "no results"))
            continue
        if len(data["results"]) != len(probes):
            rows[i] = Row(None, "a row of the wrong length")
            continue
        rows[i] = Row([_value(r) for r in data["results"]])
    return rows


def _value(cell: object) -> object:
    if isinstance(cell, dict) and "v" in cell:
        return decode(cell["v"])
    if isinstance(cell, dict) and "e" in cell:
        return Error(str(cell["e"])[:80])
    return Error("no answer")
