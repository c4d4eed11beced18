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
from .verify import PRELUDE

SECONDS_EACH = 2.0  # one binding's wall clock over all inputs

HARNESS = PRELUDE + r'''
import cffi

spec = read_spec("survey.json")
NONCE = spec["nonce"]
PROBES = spec["probes"]

def prepare(bindings):
    """One FFI per library with every binding's declarations, parsed once here and
    handed to the runtime's cache: a child then only compiles its method."""
    import proto_cli.learn.runtime as runtime
    groups = {}
    for b in bindings:
        groups.setdefault(b["library"], []).append(b)
    for library, group in groups.items():
        lines = []
        for b in group:
            lines += [x for x in b["cdef"].splitlines() if x not in lines]
        try:
            ffi = cffi.FFI()
            ffi.cdef("\n".join(lines))
            lib = ffi.dlopen(library)
        except Exception:
            continue  # each child parses its own, and says what fails
        for b in group:
            runtime._LIBS[(library, b["cdef"])] = (ffi, lib)

def child(binding, start, w):
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    resource.setrlimit(resource.RLIMIT_CPU, (int(spec["seconds_each"]) + 1,) * 2)
    try:
        import proto_cli.learn.runtime as runtime
        ffi, lib = runtime.bind(binding["library"], binding["cdef"])
        getattr(lib, binding["function"])
        ns = {name: getattr(runtime, name) for name in spec["foreign"]}
        given = dict(ns)
        exec(compile(binding["source"], "<binding>", "exec"), ns)
        fn = [v for k, v in ns.items()
              if callable(v) and not k.startswith("__") and given.get(k) is not v][0]
    except BaseException as exc:
        os.write(w, (json.dumps({"fail": f"{type(exc).__name__}: {exc}"[:300]}) + "\n").encode())
        return
    guard.install((w,))
    for j in range(start, len(PROBES)):
        os.write(w, (json.dumps({"at": j}) + "\n").encode())
        try:
            row = {"j": j, "v": enc(fn(None, *PROBES[j]))}
        except BaseException as exc:
            row = {"j": j, "e": type(exc).__name__}
        os.write(w, (json.dumps(row) + "\n").encode())

def run(binding):
    results = [None] * len(PROBES)
    deadline = time.monotonic() + spec["seconds_each"]
    start, fail, restarts = 0, None, 0
    while start < len(PROBES) and fail is None:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                child(binding, start, w)
            finally:
                os._exit(0)
        os.close(w)
        at, buf, late = start, b"", False
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                late = True
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(r, 65536)
            if not chunk:
                break
            *lines, buf = (buf + chunk).split(b"\n")
            buf = buf[-(1 << 20):]
            for line in lines:
                try:  # the child runs the C code, which may write here too: trust no line
                    msg = json.loads(line)
                    if "fail" in msg:
                        fail = str(msg["fail"])[:300]
                    elif "at" in msg and start <= int(msg["at"]) < len(PROBES):
                        at = int(msg["at"])
                    elif "j" in msg and 0 <= int(msg["j"]) < len(PROBES):
                        j = int(msg["j"])
                        results[j] = {"v": msg["v"]} if "v" in msg else {"e": str(msg["e"])}
                        at = j + 1
                except Exception:
                    continue
        os.close(r)
        _, status = os.waitpid(pid, 0)
        if late:
            fail = fail or "no answer within its time"
            break
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            if name == "SIGSYS":
                fail = "forbidden: it reached outside its own process"
                break
            if at < len(PROBES):
                results[at] = {"e": "crash " + name}
            restarts += 1
            if restarts > 3:
                fail = "crashed again and again (" + name + ")"
                break
            start = at + 1
        else:
            start = len(PROBES)
    return {"fail": fail} if fail else {"results": results}

import guard
prepare(spec["bindings"])
for i, binding in enumerate(spec["bindings"]):
    row = run(binding)
    print(f"\nPROTO-SURVEY {NONCE} {i} {json.dumps(row)}", flush=True)
'''


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
    from .verify import _jsonable, _runtime_files

    if not bindings:
        return []
    nonce = secrets.token_hex(16)
    # The whole survey ends within wall_s however many siblings spin: each gets a share.
    each = max(min(SECONDS_EACH, (wall_s - 3.0) / len(bindings)), 0.05)
    spec = {"nonce": nonce, "bindings": bindings, "seconds_each": each,
            "probes": [_jsonable(list(p)) for p in probes], "foreign": list(FOREIGN)}
    files = {**_runtime_files(), "survey.json": json.dumps(spec).encode()}
    binds = sorted({b for x in bindings if os.path.sep in x["library"]
                    for b in library_binds(x["library"])})
    total = max(wall_s, each * len(bindings) + 3.0)
    try:
        verdict = run(python_source=HARNESS, files=files, binds=binds,
                      limits=Limits(wall_s=total, cpu_s=int(total) + 1, memory_mb=1024,
                                    processes=4, output_kb=4096))
    except SandboxUnavailable as exc:
        return [Row(None, f"sandbox: {exc}") for _ in bindings]
    rows: list[Row] = [Row(None, f"no answer ({verdict.kind})") for _ in bindings]
    marker = f"PROTO-SURVEY {nonce} "
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
