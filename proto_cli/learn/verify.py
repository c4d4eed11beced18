"""Verify a binding in the sandbox, in its own process, and classify what went wrong.

Stages, in order: cdef (cffi parses the declaration), dlopen, symbol, compile
(the method source), guard, test (the proposal's inputs against its expected
result), call (the real message arguments: no crash, a C-representable result, the
same answer twice).

The guard (sandbox/guard.py, a seccomp filter) goes on before any chosen C code
runs: a binding that passes is installed and runs unsandboxed, so a call that would
reach the host (a process, the network, a file change, a signal) must kill the run
(``forbidden``), not fail quietly in the sandbox and pass a test expecting that.

The stages run in a child of the harness, so that a crash, a kill by the guard or
a limit is seen from outside with the stage it happened in and the child's peak
memory (a C loop that mallocs until the address-space limit dies of a NULL write:
its peak says it was memory). Stage marks and the report carry a per-run nonce
and the result leaves the child through a pipe: whatever the C code prints
cannot pass for the verdict.
"""

from __future__ import annotations

import json
import os
import secrets

from ..world.host_api import FOREIGN
from .binding import Proposal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sandbox import Verdict

STAGE_MARK = "PROTO-STAGE"
REPORT_MARK = "PROTO-REPORT"
MESSAGE_CHARS = 600  # a failure as it reaches the model, the transcript and the user
#: A child that died by a signal after touching this share of its address-space limit
#: ran out of memory (malloc returned NULL and the C code wrote through it).
MEMORY_SHARE = 0.5

#: How the harnesses here and in survey.py begin: the spec read and removed (the nonce
#: leaves the file system before any C code runs), and answers encoded as JSON.
PRELUDE = r'''
import json, math, os, resource, select, signal, sys, time
sys.path.insert(0, "/sandbox")

def unbytes(d):
    return bytes.fromhex(d["$bytes"]) if set(d) == {"$bytes"} else d

def read_spec(name):
    with open("/sandbox/" + name) as f:
        data = json.loads(f.read(), object_hook=unbytes)
    os.unlink("/sandbox/" + name)
    return data

def enc(v):
    if isinstance(v, bytes):
        return {"$hex": v.hex()}
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return {"$float": repr(v)}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return {"$foreign": type(v).__name__}
'''

HARNESS = PRELUDE + r'''
spec = read_spec("spec.json")
NONCE = spec["nonce"]

def say(fd, kind, text):
    os.write(fd, ("\n%s %s %s\n" % (kind, NONCE, text)).encode())

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

def stages(w):
    where = "cdef"
    def stage(name):
        nonlocal where
        where = name
        say(w, "stage", name)
    try:
        stage("cdef")
        import cffi
        ffi = cffi.FFI()
        ffi.cdef(spec["cdef"])
        stage("dlopen")
        lib = ffi.dlopen(spec["library"])
        stage("symbol")
        getattr(lib, spec["function"])
        stage("compile")
        import proto_cli.learn.runtime as runtime
        ns = {name: getattr(runtime, name) for name in spec["foreign"]}
        given = dict(ns)
        exec(compile(spec["source"], "<learned method>", "exec"), ns)
        fn = [v for k, v in ns.items()
              if callable(v) and not k.startswith("__") and given.get(k) is not v][0]
        stage("guard")
        import guard
        guard.install((w,))
        stage("test")
        got = fn(None, *spec["test_inputs"])
        check(got, spec["expect"])
        stage("call")
        first = fn(None, *spec["args"])
        second = fn(None, *spec["args"])
        if not same(first, second):
            raise AssertionError(f"not deterministic: {first!r} then {second!r}")
        done = {"ok": True, "test_result": enc(got), "result": enc(first)}
    except BaseException as exc:
        done = {"ok": False, "stage": where, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    say(w, "result", json.dumps(done))

sys.stdout.flush()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    try:
        stages(w)
    finally:
        os._exit(0)
os.close(w)
stage, result, buf = "", None, b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    *lines, buf = (buf + chunk).split(b"\n")
    buf = buf[-65536:]
    for line in lines:
        kind, _, rest = line.decode("utf-8", "replace").partition(" ")
        nonce, _, text = rest.partition(" ")
        if nonce != NONCE:
            continue
        if kind == "stage":
            stage = text
            print(f"\nPROTO-STAGE {NONCE} {stage}", flush=True)
        elif kind == "result":
            try:
                result = json.loads(text)
            except ValueError:
                result = None
_, status, usage = os.wait4(pid, 0)
report = {"stage": stage, "result": result, "peak_mb": round(usage.ru_maxrss / 1024, 1),
          "limit_mb": resource.getrlimit(resource.RLIMIT_AS)[0] / 1048576}
if os.WIFSIGNALED(status):
    report["signal"] = signal.Signals(os.WTERMSIG(status)).name
else:
    report["exit"] = os.WEXITSTATUS(status)
print(f"\nPROTO-REPORT {NONCE} {json.dumps(report)}", flush=True)
'''


class Check:
    """The verdict on one proposal: ok, or a failure kind and its message verbatim."""

    __slots__ = ("ok", "kind", "message", "stage", "seconds", "result")

    def __init__(self, ok: bool, kind: str = "none", message: str = "", stage: str = "",
                 seconds: float = 0.0, result: object = None) -> None:
        self.ok = ok
        self.kind = kind
        self.message = clean(message)
        self.stage = stage
        self.seconds = seconds
        self.result = result

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    def feedback(self) -> str:
        """The failure as the model is told it."""
        return f"{self.kind} (stage {self.stage}): {self.message}"


def _runtime_files() -> dict[str, bytes]:
    """The runtime that defines a learned method's foreign names (host_api.FOREIGN; older
    methods import it by this path), and the guard the harness installs."""
    from sandbox import guard

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "runtime.py"), "rb") as f:
        runtime = f.read()
    with open(guard.__file__, "rb") as f:
        guard_source = f.read()
    return {"proto_cli/__init__.py": b"", "proto_cli/learn/__init__.py": b"",
            "proto_cli/learn/runtime.py": runtime, "guard.py": guard_source}


def verify(source: str, cdef: str, library: str, proposal: Proposal, args: list,
           wall_s: float = 20.0) -> Check:
    """Run the binding and its test in bubblewrap; never in this process. `wall_s` bounds
    the run (and its CPU seconds): every way a binding fails ends within it."""
    from sandbox import Limits, SandboxUnavailable, library_binds, run

    nonce = secrets.token_hex(16)
    spec = {"cdef": cdef, "library": library, "function": proposal.function, "source": source,
            "test_inputs": _jsonable(proposal.test_inputs), "expect": proposal.expect,
            "args": _jsonable(args), "nonce": nonce, "foreign": list(FOREIGN)}
    files = {**_runtime_files(), "spec.json": json.dumps(spec).encode()}
    binds = library_binds(library) if os.path.sep in library else []
    try:
        verdict = run(python_source=HARNESS, files=files, binds=binds,
                      limits=Limits(wall_s=wall_s, cpu_s=wall_s, memory_mb=1024,
                                    processes=4))
    except SandboxUnavailable as exc:
        return Check(False, "sandbox", str(exc), "sandbox")
    return classify(verdict, nonce)


def _jsonable(values: list) -> list:
    return [{"$bytes": v.hex()} if isinstance(v, bytes) else v for v in values]


def _marks(stdout: str, nonce: str) -> tuple[str, dict | None]:
    """(last stage, the harness's report) from this run's own marks; any other line,
    whatever it claims, is the program's output."""
    stage, report = "", None
    for line in stdout.splitlines():
        mark, _, rest = line.partition(" ")
        key, _, text = rest.partition(" ")
        if key != nonce:
            continue
        if mark == STAGE_MARK:
            stage = text
        elif mark == REPORT_MARK:
            try:
                report = json.loads(text)
            except ValueError:
                report = None
    return stage, report


FORBIDDEN = ("it reached outside its own process (a new process or program, a network "
             "socket, a file change, a write to a descriptor other than stdout/stderr, a "
             "signal to another process, a system setting), which a learned method may "
             "not do: the guard killed it")


def classify(verdict: Verdict, nonce: str) -> Check:
    """The Check for a sandbox Verdict: the sandbox's own limits first, then what the
    harness saw of its child (signal, peak memory, result)."""
    stage, report = _marks(verdict.stdout, nonce)
    during = f"during {stage}" if stage else "before the first stage"
    seconds = verdict.duration_s
    limits = verdict.limits or {}

    def fail(kind: str, message: str, where: str = stage) -> Check:
        return Check(False, kind, message, where, seconds)

    if verdict.kind in ("timeout", "cpu"):
        limit = "time" if verdict.kind == "timeout" else "CPU time"
        return fail("timeout", f"no answer within the {limit} limit {during}")
    if verdict.kind == "output-limit":
        streams = [n for n, cut in (("stdout", verdict.stdout_truncated),
                                    ("stderr", verdict.stderr_truncated)) if cut]
        return fail("output-limit", f"wrote more than {_amount(limits, 'output_kb', 'KiB')} on "
                    f"{' and '.join(streams) or 'its output'} {during}; killed")
    if verdict.kind == "file-size":
        return fail("file-size", f"wrote a file larger than {_amount(limits, 'file_mb', 'MB')} "
                    f"{during}")
    if verdict.kind == "signal":
        return fail("crash", f"the process died by {verdict.signal} {during}")
    if report is None:
        tail = (verdict.stderr.strip().splitlines() or [verdict.detail or verdict.kind])[-1]
        kind = {"sandbox-error": "sandbox", "memory": "memory",
                "processes": "processes"}.get(verdict.kind, "error")
        return fail(kind, f"{verdict.kind}: {tail}")
    signal = report.get("signal")
    peak, limit_mb = report.get("peak_mb") or 0, report.get("limit_mb") or 0
    if signal == "SIGSYS":
        return fail("forbidden", f"{FORBIDDEN} {during}")
    if signal == "SIGXCPU" or (signal == "SIGKILL" and seconds >= limits.get("cpu_s", 0)):
        return fail("timeout", f"no answer within the CPU time limit {during}")
    if signal == "SIGXFSZ":
        return fail("file-size", f"wrote a file larger than {_amount(limits, 'file_mb', 'MB')} "
                    f"{during}")
    if signal is not None:
        if limit_mb and peak >= MEMORY_SHARE * limit_mb:
            return fail("memory", f"it used {peak:.0f} MB of its {limit_mb:.0f} MB address "
                        f"space and died by {signal} {during} (an allocation failed)")
        return fail("crash", f"the process died by {signal} {during}")
    result = report.get("result")
    if not isinstance(result, dict):
        return fail("error", f"the binding's process ended without an answer (exit code "
                    f"{report.get('exit')}) {during}")
    if result.get("ok") and verdict.kind == "none":
        return Check(True, "none", "", "call", seconds, result.get("result"))
    failed_stage = result.get("stage", stage)
    error = str(result.get("error", "") or f"{verdict.kind}: {verdict.detail}")
    kind = {"cdef": "cdef", "dlopen": "missing-symbol", "symbol": "missing-symbol",
            "compile": "compile", "guard": "sandbox"}.get(failed_stage)
    if kind is None:
        kind = ("assertion" if error.startswith("AssertionError")
                else "memory" if error.startswith("MemoryError") else "error")
    return fail(kind, error, failed_stage)


def _amount(limits: dict, name: str, unit: str) -> str:
    value = limits.get(name)
    return f"{value:g} {unit}" if isinstance(value, int | float) else "its limit"


def clean(text: str, limit: int = MESSAGE_CHARS) -> str:
    """One printable line: control characters escaped, at most `limit` characters. What
    a binding's output or a model's answer says reaches a terminal only this way."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit * 4])
    return out if len(out) <= limit else out[: limit - 3] + "..."
