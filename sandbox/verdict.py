"""The outcome of one sandboxed run, and how raw exit data is classified.

Kinds (``Verdict.kind``); ``status`` is "ok" only for ``none``:

none           exited 0
exit           exited with a non-zero code (``exit_code``)
signal         killed by a signal (``signal``, e.g. "SIGSEGV")
timeout        still running at the wall-clock deadline; the whole tree was killed
memory         an allocation failed under the address-space limit (RLIMIT_AS)
output-limit   wrote more than ``output_kb`` on stdout or stderr; killed
cpu            used its CPU seconds (SIGXCPU, or SIGKILL at the hard limit)
file-size      wrote a file larger than ``file_mb`` (SIGXFSZ, or EFBIG when ignored)
processes      could not fork under the process limit (RLIMIT_NPROC) and failed
sandbox-error  bubblewrap (or the limit helpers) failed before the program started

Two are read from stderr because the kernel reports them to the program, not to
its parent: a failed allocation (``memory``) and a refused fork (``processes``)
arrive as an errno the program turns into an error message (Python's
``MemoryError``, ``BlockingIOError``), so they are recognised only when the program
exits non-zero with such a message at the end of its stderr. Programs that crash
instead (a C program dereferencing a NULL malloc) are reported as ``signal``.

SIGXCPU at the soft CPU limit is what nearly every program dies of (Python does
not handle it); a SIGKILL counts as ``cpu`` only when the run lasted long enough
to have reached the hard limit, else it is ``signal``.

Signals: bubblewrap reports a child killed by signal N as exit status 128+N, like a
shell, so inside the sandbox an exit code of 129..192 is read as a signal; a
program that calls exit(139) itself is reported as SIGSEGV.
"""

from __future__ import annotations

import os

from .limits import Limits

KINDS = (
    "none", "exit", "signal", "timeout", "memory", "output-limit", "cpu", "file-size",
    "processes", "sandbox-error",
)

_MEMORY_MARKERS = (b"MemoryError", b"Cannot allocate memory", b"std::bad_alloc",
                   b"out of memory")
_FILE_SIZE_MARKERS = (b"File too large", b"[Errno 27]")
_PROCESS_MARKERS = (b"BlockingIOError: [Errno 11]", b"fork: Resource temporarily unavailable",
                    b"Cannot fork", b"fork: retry", b"can't start new thread")
_SANDBOX_PREFIXES = (b"bwrap: ", b"setpriv: ", b"prlimit: failed to set")

#: Verdict fields and defaults, in JSON order.
FIELDS: dict[str, object] = {
    "status": "failed",
    "kind": "sandbox-error",
    "exit_code": None,
    "signal": None,
    "stdout": "",
    "stderr": "",
    "stdout_truncated": False,
    "stderr_truncated": False,
    "duration_s": 0.0,
    "sandboxed": True,
    "detail": "",
    "limits": None,
}


class Verdict:
    """What happened. ``stdout``/``stderr`` are decoded UTF-8 (invalid bytes replaced)
    and hold at most ``output_kb`` KiB each; the ``*_truncated`` flags say if more came.
    ``limits`` is the budget the run had, as a dict."""

    __slots__ = tuple(FIELDS)
    status: str
    kind: str
    exit_code: int | None
    signal: str | None
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    duration_s: float
    sandboxed: bool
    detail: str
    limits: dict[str, float]

    def __init__(self, **values: object) -> None:
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown Verdict fields: {sorted(unknown)}")
        for name, default in FIELDS.items():
            setattr(self, name, values.get(name, default))
        if self.limits is None:
            self.limits = {}
        if self.kind not in KINDS:
            raise ValueError(f"unknown verdict kind {self.kind!r}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in FIELDS}

    def to_json(self, indent: int | None = None) -> str:
        import json

        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Verdict:
        return cls(**data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verdict) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (f"Verdict(status={self.status!r}, kind={self.kind!r}, "
                f"exit_code={self.exit_code!r}, signal={self.signal!r}, "
                f"duration_s={self.duration_s!r})")


def signal_name(num: int) -> str:
    import signal as _signal  # lazily: the enum module is the costliest import here

    try:
        return _signal.Signals(num).name
    except ValueError:
        return f"SIG{num}"


def _could_hit_cpu(duration_s: float, limits: Limits) -> bool:
    """A SIGKILL is RLIMIT_CPU's hard limit (cpu_s + 1) only if the run lasted long
    enough to burn that much CPU on this machine's cores. (The CPU time itself is
    not observable: bwrap does not wait for its pid-1 init, so rusage misses it.)"""
    return duration_s * (os.cpu_count() or 1) >= limits.cpu_s + 1


def _tail(data: bytes, size: int = 4096) -> bytes:
    return data[-size:]


def classify(
    *,
    wait_status: int | None,
    killed_for: str | None,
    duration_s: float,
    stderr: bytes,
    limits: Limits,
    sandboxed: bool,
) -> tuple[str, int | None, str | None, str]:
    """(kind, exit_code, signal name, detail) from the raw outcome of a run.

    ``wait_status`` is the status of the process we spawned (bwrap, or the program
    itself when unsandboxed); ``killed_for`` is set when we killed it ourselves."""
    import signal as _signal

    if killed_for == "timeout":
        return "timeout", None, None, f"killed at the wall-clock limit of {limits.wall_s:g} s"
    if killed_for == "output-limit":
        return ("output-limit", None, None,
                f"killed after more than {limits.output_kb:g} KiB on stdout or stderr")
    if wait_status is None:
        return "sandbox-error", None, None, "no exit status"

    code: int | None = None
    sig: int | None = None
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
    else:
        code = os.WEXITSTATUS(wait_status)
        if sandboxed and 128 < code <= 128 + 64:
            sig, code = code - 128, None

    head = stderr.lstrip()[:200]
    if sandboxed and code not in (None, 0) and head.startswith(_SANDBOX_PREFIXES):
        return "sandbox-error", code, None, head.splitlines()[0].decode("utf-8", "replace")

    if sig is not None:
        name = signal_name(sig)
        killed_at_hard = sig == _signal.SIGKILL and _could_hit_cpu(duration_s, limits)
        if sig == _signal.SIGXCPU or killed_at_hard:
            return "cpu", None, name, f"used its {limits.cpu_s:g} CPU seconds"
        if sig == _signal.SIGXFSZ:
            return "file-size", None, name, f"wrote a file larger than {limits.file_mb:g} MB"
        return "signal", None, name, f"killed by {name}"

    assert code is not None
    if code == 0:
        return "none", 0, None, ""
    tail = _tail(stderr)
    if any(m in tail for m in _MEMORY_MARKERS):
        return "memory", code, None, f"allocation failed under {limits.memory_mb:g} MB"
    if any(m in tail for m in _FILE_SIZE_MARKERS):
        return "file-size", code, None, f"wrote a file larger than {limits.file_mb:g} MB"
    if any(m in tail for m in _PROCESS_MARKERS):
        return "processes", code, None, f"fork refused at {limits.processes} processes"
    return "exit", code, None, f"exited with code {code}"
