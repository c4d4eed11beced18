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
from .sandboxed.stages import KIND_OF_STAGE, REPORT_MARK, STAGE_MARK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sandbox import Verdict

MESSAGE_CHARS = 600  # a failure as it reaches the model, the transcript and the user
#: A child that died by a signal after touching this share of its address-space limit
#: ran out of memory (malloc returned NULL and the C code wrote through it).
MEMORY_SHARE = 0.5


def launcher(module: str) -> str:
    """The program the sandbox runs: one of the harnesses shipped by `sandbox_files`."""
    return ("import sys\nsys.path.insert(0, '/sandbox')\n"
            f"from proto_cli.learn.sandboxed.{module} import main\nmain()\n")


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


def sandbox_files() -> dict[str, bytes]:
    """What the harnesses need in the sandbox, as files: the harness package (sandboxed/),
    the runtime that defines a learned method's foreign names (host_api.FOREIGN; older
    methods import it by this path), and the guard. Nothing else of proto goes in."""
    from sandbox import guard

    here = os.path.dirname(os.path.abspath(__file__))
    files = {"proto_cli/__init__.py": b"", "proto_cli/learn/__init__.py": b""}
    sources = {"proto_cli/learn/runtime.py": os.path.join(here, "runtime.py"),
               "guard.py": guard.__file__}
    folder = os.path.join(here, "sandboxed")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            sources[f"proto_cli/learn/sandboxed/{name}"] = os.path.join(folder, name)
    for target, path in sources.items():
        with open(path, "rb") as f:
            files[target] = f.read()
    return files


def verify(source: str, cdef: str, library: str, proposal: Proposal, args: list,
           wall_s: float = 20.0) -> Check:
    """Run the binding and its test in bubblewrap; never in this process. `wall_s` bounds
    the run (and its CPU seconds): every way a binding fails ends within it."""
    from sandbox import Limits, SandboxUnavailable, library_binds, run

    nonce = secrets.token_hex(16)
    spec = {"cdef": cdef, "library": library, "function": proposal.function, "source": source,
            "test_inputs": _jsonable(proposal.test_inputs), "expect": proposal.expect,
            "args": _jsonable(args), "nonce": nonce, "foreign": list(FOREIGN)}
    files = {**sandbox_files(), "spec.json": json.dumps(spec).encode()}
    binds = library_binds(library) if os.path.sep in library else []
    try:
        verdict = run(python_source=launcher("verify_run"), files=files, binds=binds,
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
    kind = KIND_OF_STAGE.get(failed_stage)
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
