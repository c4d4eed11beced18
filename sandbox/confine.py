"""Run one call confined: in a child of this process that can change nothing but its answer.

Verification (runner.py, guard.py) proves what a binding does inside bubblewrap;
it cannot prove what the same C code does later, in the user's process, next to the
image's LMDB lock, the terminal and inherited sockets (a library may notice it is
being watched). So a learned method's call runs here instead of in-process:

1. fork: the child shares nothing the parent can be hurt through. It closes every
   inherited descriptor (stdio goes to /dev/null) and unmaps every shared mapping
   (LMDB maps the image and its lock file shared and writable: plain memory writes
   there would reach the file and every other process using it);
2. it installs guard.py's allow-list seccomp filter: computation, memory, reading
   what it opens itself; everything else fails with EPERM;
3. it calls the function, and writes the answer (or the exception) to a pipe;
4. the parent reads it within a deadline (then the child is killed), and answers
   it, or raises the same kind of exception. A crash is an error, never the
   parent's death.

Answers cross as JSON: None, booleans, numbers, text and bytes. A C pointer cannot
cross (it would point into the child): such a method must be trusted to run
in-process. Linux on x86_64/aarch64 only; elsewhere ConfinementUnavailable.
"""

from __future__ import annotations

import json
import os

CALL_SECONDS = 60.0  # a deadline for one call: a spinning C function is killed


def call_seconds() -> float:
    """The deadline: PROTO_CALL_SECONDS when set to a positive number, else 60 s."""
    try:
        value = float(os.environ.get("PROTO_CALL_SECONDS", ""))
    except ValueError:
        return CALL_SECONDS
    return value if 0 < value <= 86400 else CALL_SECONDS
MAX_ANSWER = 64 << 20
#: Exceptions that keep their kind when they cross back (a marshalling TypeError stays
#: one: the world words it as it always did); others arrive as ConfinedError.
_KEPT = {cls.__name__: cls for cls in (TypeError, ValueError, OverflowError,
                                       ZeroDivisionError, UnicodeError, IndexError,
                                       KeyError, ArithmeticError, MemoryError)}


class ConfinementUnavailable(RuntimeError):
    """This machine cannot confine a call (no fork, no seccomp for its architecture)."""


class ConfinedError(RuntimeError):
    """The confined call failed: it raised, crashed, overran its deadline, or answered
    what cannot cross back."""


def call(fn, args: tuple, seconds: float | None = None) -> object:
    """fn(*args) in a confined child; its answer, or its exception."""
    from .guard import GuardUnavailable, allow_program

    seconds = call_seconds() if seconds is None else seconds
    try:
        allow_program((3,))  # this machine has a filter
    except GuardUnavailable as exc:
        raise ConfinementUnavailable(str(exc)) from None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(fn, args, read_end, write_end, seconds)
    os.close(write_end)
    try:
        raw, ended = _read(read_end, pid, seconds)
    finally:
        os.close(read_end)
    status = _reap(pid, ended)
    return _answer(raw, status, seconds)


def _child(fn, args, read_end: int, write_end: int, seconds: float) -> None:
    code = 0
    try:
        os.close(read_end)
        answer_fd = _isolate(write_end, seconds)
        from .guard import allow_program, load

        load(allow_program((answer_fd,)))
        try:
            payload = _encode(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - every failure crosses back as data
            payload = json.dumps({"raised": type(exc).__name__, "message": str(exc)[:2000]})
        data = payload.encode("utf-8", "surrogatepass")
        view = memoryview(data)
        while view:
            view = view[os.write(answer_fd, view):]
    except BaseException:  # noqa: BLE001
        code = 70
    os._exit(code)


def _isolate(write_end: int, seconds: float) -> int:
    """Nothing of the parent's left to touch: descriptors, shared memory, CPU without end.
    Answers the answer pipe's descriptor (3)."""
    import resource

    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if write_end != 3:
        os.dup2(write_end, 3)
    os.closerange(4, 1 << 20)  # close_range(2): one call, whatever the limit
    _unmap_shared()
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    return 3


def _unmap_shared() -> None:
    """Unmap every shared mapping (the image and its lock file, above all): a write to
    one needs no system call, so no filter could stop it."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
        lines = f.read().splitlines()
    for line in lines:
        fields = line.split()
        if len(fields) < 2 or len(fields[1]) < 4 or fields[1][3] != "s":
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if libc.munmap(start, end - start) != 0:
            raise OSError(ctypes.get_errno(), "munmap of a shared mapping failed")


def _read(fd: int, pid: int, seconds: float) -> tuple[bytes, bool]:
    """Everything the child writes, until it closes the pipe or the deadline passes
    (then it is killed). (bytes, whether it ended by itself)."""
    import select
    import time

    deadline = time.monotonic() + seconds
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            _kill(pid)
            return b"".join(chunks), False
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), True
        size += len(chunk)
        if size > MAX_ANSWER:
            _kill(pid)
            return b"", False
        chunks.append(chunk)


def _kill(pid: int) -> None:
    import contextlib
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _reap(pid: int, ended: bool) -> int | None:
    """The child's wait status; None if it had to be killed."""
    _, status = os.waitpid(pid, 0)
    return status if ended else None


def _answer(raw: bytes, status: int | None, seconds: float) -> object:
    if status is None:
        raise ConfinedError(f"no answer within {seconds:g} s (the call was stopped)")
    if os.WIFSIGNALED(status):
        import signal

        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        raise ConfinedError(f"the call crashed ({name})")
    try:
        data = json.loads(raw.decode("utf-8", "surrogatepass")) if raw else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfinedError("the call ended without an answer")
    if "raised" in data:
        kind, message = str(data.get("raised")), str(data.get("message", ""))
        raise _KEPT.get(kind, ConfinedError)(message if kind in _KEPT else f"{kind}: {message}")
    return _decode(data)


def _encode(value: object) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        return json.dumps({"value": value})
    if isinstance(value, bytes | bytearray):
        return json.dumps({"bytes": bytes(value).hex()})
    raise TypeError(f"the answer is {type(value).__name__}, which cannot leave the "
                    "confined call (a C pointer points into it)")


def _decode(data: dict) -> object:
    if "bytes" in data and isinstance(data["bytes"], str):
        try:
            return bytes.fromhex(data["bytes"])
        except ValueError:
            pass
    elif "value" in data and (data["value"] is None or isinstance(
            data["value"], bool | int | float | str)):
        return data["value"]
    raise ConfinedError("the call's answer was garbled")
