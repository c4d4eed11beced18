"""The world's work on a deep stack: a Smalltalk user recurses thousands of blocks deep.

Each level of block or method recursion costs the evaluator about ten Python frames,
and Python's default limit (1,000 frames on the main thread's 8 MB stack) stopped a
recursive block at about 50 levels. A command's transaction runs instead on a thread
with a 1 GiB stack (address space: only the pages used are memory) and a frame limit
that stays well inside it, so recursion 10,000+ levels deep works and deeper recursion
ends in a clear error, never a crash. `_thread` is built in: no import cost for send.
"""

from __future__ import annotations

import _thread
import sys

STACK_BYTES = 1 << 30
#: Frames allowed on that stack: measured at under 1 KiB of C stack per frame on the
#: evaluator's paths, so this leaves the stack more than twice the room it needs.
FRAMES = 400_000
_DEEP: set[int] = set()  # the threads running on a deep stack now
#: Set by `send`'s fast path: one message, whose start-up is its budget, runs on the
#: main stack (methods recurse some hundreds of levels there; `eval` goes deep).
SHALLOW: list[bool] = []


class _Worker:
    """A thread on a deep stack, waiting for one piece of work."""

    def __init__(self) -> None:
        self.go = _thread.allocate_lock()
        self.go.acquire()
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.job: tuple = ()  # (fn, args), given by run()
        self.out: tuple = ()  # (ok, value)
        self.ident: list[int] = []
        previous = _thread.stack_size(STACK_BYTES)  # ValueError/RuntimeError: no such stack
        try:
            _thread.start_new_thread(self._body, ())
        finally:
            _thread.stack_size(previous)

    def _body(self) -> None:
        me = _thread.get_ident()
        self.ident.append(me)
        self.go.acquire()  # until its work is given
        _DEEP.add(me)
        try:
            fn, args = self.job
            self.out = (True, fn(*args))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self.out = (False, exc)
        finally:
            _DEEP.discard(me)
            self.done.release()


_EARLY: list[_Worker] = []  # a worker started before its work was known (start_early)


def start_early() -> None:
    """Start the deep stack's thread now. A new thread takes 0.4-2 ms here before it runs;
    `eval` calls this before its imports, which then hide that wait."""
    if _EARLY or SHALLOW:
        return
    try:
        worker = _Worker()
    except (ValueError, RuntimeError):
        return  # run() will run the work where it is
    _EARLY.append(worker)


def run(fn, *args):
    """fn(*args) on the deep stack (or here, if this is already it, if the command is a
    plain send, or where a thread with such a stack cannot be made); its answer, or
    its exception."""
    if SHALLOW or _thread.get_ident() in _DEEP:
        return fn(*args)
    if _EARLY:
        worker = _EARLY.pop()
    else:
        try:
            worker = _Worker()
        except (ValueError, RuntimeError):  # no thread with that stack here: run on this one
            return fn(*args)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, FRAMES))
    worker.job = (fn, args)
    worker.go.release()
    try:
        worker.done.acquire()  # interruptible: Ctrl-C ends the command
    except KeyboardInterrupt:
        _interrupt(worker.ident)  # and the work: its transaction rolls back (`proto shell`
        worker.done.acquire()  # goes on)
        raise
    finally:
        sys.setrecursionlimit(limit)
    ok, value = worker.out
    if ok:
        return value
    raise value


def _interrupt(worker: list[int]) -> None:
    """Raise KeyboardInterrupt in the work's thread, as Ctrl-C would have on the main one:
    it unwinds through the transaction, which aborts (a process that lives on, the shell,
    must not find the interrupted input committed later)."""
    import ctypes

    if worker:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker[0]),
                                                   ctypes.py_object(KeyboardInterrupt))
