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

import contextlib
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


def call(fn, args: tuple, seconds: float | None = None, reads: tuple[str, ...] = ()
         ) -> object:
    """fn(*args) in a confined child; its answer, or its exception. `reads`: files the
    call may open besides the system's libraries and Python's own (its library)."""
    from .guard import supported

    seconds = call_seconds() if seconds is None else seconds
    if not supported():
        import platform

        raise ConfinementUnavailable(f"no system-call guard for {platform.machine()} "
                                     "(x86_64 and aarch64 only)")
    _ready()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(fn, args, read_end, write_end, seconds, reads)
    os.close(write_end)
    try:
        raw, why = _read(read_end, pid, seconds)
    finally:
        os.close(read_end)
    # Its answer is read (or the deadline passed, or it closed the pipe): whatever it is
    # doing now, sleeping or stopped, it is done. A child that closed its pipe early and
    # slept would otherwise hold this process, and the image's write lock, forever.
    _kill(pid)
    _, status = os.waitpid(pid, 0)
    return _answer(raw, status, why, seconds)


def _ready() -> None:
    """Import here, once, what every child needs: a child's own imports would be paid
    on every call (ctypes alone is ~3 ms), and could not happen after its filter."""
    import ctypes  # noqa: F401
    import resource  # noqa: F401
    import select  # noqa: F401
    import signal  # noqa: F401
    import stat  # noqa: F401
    import time  # noqa: F401

    from . import landlock

    landlock.abi()
    landlock.readable()
    _libc()


def _child(fn, args, read_end: int, write_end: int, seconds: float,
           reads: tuple[str, ...]) -> None:
    code = 0
    try:
        os.close(read_end)
        answer_fd = _isolate(write_end, seconds)
        from . import landlock
        from .guard import allow_program, load

        landlock.restrict_reads(reads)  # where the kernel has Landlock
        _drop_capabilities()
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
    """Nothing of the parent's left to touch: its session and terminal, descriptors,
    shared memory, CPU and memory without end. Answers the answer pipe's descriptor (3)."""
    import resource
    import signal

    os.setsid()  # no controlling terminal: /dev/tty cannot be opened to read keystrokes
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))  # it dies with the proto process
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if write_end != 3:
        os.dup2(write_end, 3)
    os.closerange(4, 2**31 - 1)  # close_range(2): one call, whatever the limit
    _unmap_shared()
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    room = _address_space() + MEMORY_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
    return 3


PR_SET_PDEATHSIG = 1
_LIBC: list = []


def _libc():
    """libc through ctypes, opened once per process (children inherit it)."""
    if not _LIBC:
        import ctypes

        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]
MEMORY_HEADROOM = 1 << 30  # address space a call may add to what the fork inherited


def _prctl(option: int, value: int) -> None:
    import ctypes

    libc = _libc()
    if libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0),
                  ctypes.c_ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "prctl failed")


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 8 << 30


def _drop_capabilities() -> None:
    """No capability left (a root parent's child could otherwise read any process's
    memory through /proc, or override file modes)."""
    import ctypes
    import platform

    number = {"x86_64": 126, "aarch64": 91}.get(platform.machine())
    if number is None:
        return
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty (x2)
    libc = _libc()
    if libc.syscall(ctypes.c_long(number), header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _unmap_shared() -> None:
    """Unmap every shared mapping (the image and its lock file, above all): a write to
    one needs no system call, so no filter could stop it."""
    import ctypes

    libc = _libc()
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


def _read(fd: int, pid: int, seconds: float) -> tuple[bytes, str]:
    """Everything the child writes, and why the reading stopped: "end" (it closed the
    pipe), "deadline" or "too large" (then it is killed)."""
    import select
    import time

    deadline = time.monotonic() + seconds
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            _kill(pid)
            return b"".join(chunks), "deadline"
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), "end"
        size += len(chunk)
        if size > MAX_ANSWER:
            _kill(pid)
            return b"", "too large"
        chunks.append(chunk)


def _kill(pid: int) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _answer(raw: bytes, status: int, why: str, seconds: float) -> object:
    data = None
    with contextlib.suppress(ValueError, RecursionError):  # a garbled or forged answer
        data = json.loads(raw.decode("utf-8", "surrogatepass")) if raw else None
    if isinstance(data, dict):
        if "raised" in data:
            kind, message = str(data.get("raised")), str(data.get("message", ""))
            raise _KEPT.get(kind, ConfinedError)(
                message if kind in _KEPT else f"{kind}: {message}")
        return _decode(data)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) != 9:
        import signal

        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        raise ConfinedError(f"the call crashed ({name})")
    if why == "deadline":
        raise ConfinedError(f"no answer within {seconds:g} s (the call was stopped)")
    if why == "too large":
        raise ConfinedError(f"its answer is larger than {MAX_ANSWER >> 20} MB")
    raise ConfinedError("the call ended without an answer")


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
