"""Verify a binding in the sandbox, in its own process, and classify what went wrong.

Stages, in order: cdef (cffi parses the declaration), dlopen, symbol, compile
(the method source), test (the proposal's inputs against its expected result),
call (the real message arguments: no crash, a C-representable result, the same
answer twice). A crash by signal is attributed to the stage it happened in.
"""

from __future__ import annotations

import json
import os

from .binding import Proposal

RESULT_MARK = "PROTO-RESULT "
STAGE_MARK = "PROTO-STAGE "
KINDS = ("cdef", "missing-symbol", "compile", "assertion", "error", "crash", "timeout",
         "sandbox")

HARNESS = r'''
import json, math, sys
sys.path.insert(0, "/sandbox")

def stage(name):
    print("PROTO-STAGE " + name, flush=True)

def enc(v):
    if isinstance(v, bytes):
        return {"$hex": v.hex()}
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return {"$float": repr(v)}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return {"$foreign": type(v).__name__}

def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b

def check(got, expect):
    if expect is None:
        return
    if isinstance(expect, bool) or (expect == 1 and isinstance(got, int)
                                    and not isinstance(got, bool) and isinstance(expect, int)):
        # C predicates answer "nonzero" for true: isspace(' ') is 8192 here, not 1.
        expect = bool(expect)
        if bool(got) != expect:
            raise AssertionError(f"expected a {'true' if expect else 'false'} result, got {got!r}")
        return
    if isinstance(expect, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise AssertionError(f"expected {expect!r}, got {got!r}")
        if not math.isclose(got, expect, rel_tol=1e-3, abs_tol=1e-6):
            raise AssertionError(f"expected {expect!r}, got {got!r}")
        return
    if isinstance(got, bytes):
        if got.hex() != expect.lower() and got != expect.encode():
            raise AssertionError(f"expected {expect!r}, got {got.hex()!r} (hex)")
        return
    if got != expect:
        raise AssertionError(f"expected {expect!r}, got {got!r}")

def unbytes(d):
    return bytes.fromhex(d["$bytes"]) if set(d) == {"$bytes"} else d

spec = json.loads(open("/sandbox/spec.json").read(), object_hook=unbytes)
where = "cdef"
try:
    stage("cdef")
    import cffi
    ffi = cffi.FFI()
    ffi.cdef(spec["cdef"])
    where = "dlopen"; stage("dlopen")
    lib = ffi.dlopen(spec["library"])
    where = "symbol"; stage("symbol")
    getattr(lib, spec["function"])
    where = "compile"; stage("compile")
    ns = {}
    exec(compile(spec["source"], "<learned method>", "exec"), ns)
    fn = [v for k, v in ns.items() if callable(v) and not k.startswith("__")][0]
    where = "test"; stage("test")
    got = fn(None, *spec["test_inputs"])
    check(got, spec["expect"])
    where = "call"; stage("call")
    first = fn(None, *spec["args"])
    second = fn(None, *spec["args"])
    if not same(first, second):
        raise AssertionError(f"not deterministic: {first!r} then {second!r}")
    done = {"ok": True, "test_result": enc(got), "result": enc(first)}
    print("PROTO-RESULT " + json.dumps(done), flush=True)
except BaseException as exc:
    print("PROTO-RESULT " + json.dumps({"ok": False, "stage": where,
          "error": f"{type(exc).__name__}: {exc}"[:2000]}), flush=True)
'''


class Check:
    """The verdict on one proposal: ok, or a failure kind and its message verbatim."""

    __slots__ = ("ok", "kind", "message", "stage", "seconds", "result")

    def __init__(self, ok: bool, kind: str = "none", message: str = "", stage: str = "",
                 seconds: float = 0.0, result: object = None) -> None:
        self.ok = ok
        self.kind = kind
        self.message = message
        self.stage = stage
        self.seconds = seconds
        self.result = result

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    def feedback(self) -> str:
        """The failure as the model is told it."""
        return f"{self.kind} (stage {self.stage}): {self.message}"


def _runtime_files() -> dict[str, bytes]:
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "runtime.py"), "rb") as f:
        runtime = f.read()
    return {"proto_cli/__init__.py": b"", "proto_cli/learn/__init__.py": b"",
            "proto_cli/learn/runtime.py": runtime}


def verify(source: str, cdef: str, library: str, proposal: Proposal, args: list,
           wall_s: float = 20.0) -> Check:
    """Run the binding and its test in bubblewrap; never in this process."""
    from sandbox import Limits, SandboxUnavailable, library_binds, run

    spec = {"cdef": cdef, "library": library, "function": proposal.function, "source": source,
            "test_inputs": _jsonable(proposal.test_inputs), "expect": proposal.expect,
            "args": _jsonable(args)}
    files = {**_runtime_files(), "spec.json": json.dumps(spec).encode()}
    binds = library_binds(library) if os.path.sep in library else []
    try:
        verdict = run(python_source=HARNESS, files=files, binds=binds,
                      limits=Limits(wall_s=wall_s, cpu_s=wall_s, memory_mb=1024))
    except SandboxUnavailable as exc:
        return Check(False, "sandbox", str(exc), "sandbox")
    return classify(verdict)


def _jsonable(values: list) -> list:
    return [{"$bytes": v.hex()} if isinstance(v, bytes) else v for v in values]


def classify(verdict) -> Check:
    result = None
    stage = ""
    for line in verdict.stdout.splitlines():
        if line.startswith(STAGE_MARK):
            stage = line[len(STAGE_MARK):]
        elif line.startswith(RESULT_MARK):
            try:
                result = json.loads(line[len(RESULT_MARK):])
            except ValueError:
                result = None
    seconds = verdict.duration_s
    if verdict.kind in ("timeout", "cpu"):
        limit = "time" if verdict.kind == "timeout" else "CPU time"
        return Check(False, "timeout", f"no answer within the {limit} limit (stage {stage})",
                     stage, seconds)
    if verdict.kind == "signal":
        return Check(False, "crash", f"the process died by {verdict.signal} during {stage}",
                     stage, seconds)
    if result is None:
        tail = (verdict.stderr.strip().splitlines() or [verdict.kind])[-1]
        kind = "sandbox" if verdict.kind == "sandbox-error" else "error"
        return Check(False, kind, f"{verdict.kind}: {tail}", stage, seconds)
    if result.get("ok"):
        return Check(True, "none", "", "call", seconds, result.get("result"))
    failed_stage = result.get("stage", stage)
    error = result.get("error", "")
    kind = {"cdef": "cdef", "dlopen": "missing-symbol", "symbol": "missing-symbol",
            "compile": "compile"}.get(failed_stage)
    if kind is None:
        kind = "assertion" if error.startswith("AssertionError") else "error"
    return Check(False, kind, error, failed_stage, seconds)
