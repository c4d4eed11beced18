"""Watching one spawned process: bounded output, wall-clock deadline, exit status.

Pipes are read incrementally with a selector, so memory stays bounded by
``output_kb`` per stream however much the program writes; the exit is observed
through a pidfd so a program that closes its stdout early cannot hang us."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from collections.abc import Callable

from .limits import Limits

#: How long to keep draining pipes after the process exited or was killed.
GRACE_S = 2.0
_STATUS_MAX = 64 * 1024
_STREAMS = ("stdout", "stderr")


class Outcome:
    """Raw facts of one run, before classification."""

    def __init__(self) -> None:
        self.wait_status: int | None = None
        self.duration_s = 0.0
        self.killed_for: str | None = None
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.stdout_truncated = False
        self.stderr_truncated = False
        self.status_docs: list[dict[str, object]] = []


def parse_status(data: bytes) -> list[dict[str, object]]:
    """The JSON documents bwrap wrote to --json-status-fd (concatenated objects)."""
    text = data.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    docs: list[dict[str, object]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return docs  # incomplete: wait for more
        if isinstance(doc, dict):
            docs.append(doc)


class _Watch:
    def __init__(self, proc: subprocess.Popen[bytes], limits: Limits, started: float,
                 kill: Callable[[Outcome], None],
                 on_status: Callable[[Outcome], None] | None,
                 on_exit: Callable[[Outcome], None] | None) -> None:
        self.proc = proc
        self.limits = limits
        self.started = started
        self.kill_tree = kill
        self.on_status = on_status
        self.on_exit = on_exit
        self.out = Outcome()
        self.status_buf = bytearray()
        self.stop_at: float | None = None  # once exited or killed: drain pipes until then

    def kill(self, reason: str) -> None:
        if self.out.killed_for is None:
            self.out.killed_for = reason
            self.kill_tree(self.out)
            self.stop_at = time.monotonic() + GRACE_S

    def reap(self, block: bool = False) -> bool:
        pid, status = os.waitpid(self.proc.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return False
        self.out.wait_status = status
        self.out.duration_s = time.monotonic() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        if self.stop_at is None:
            self.stop_at = time.monotonic() + GRACE_S
        if self.on_exit is not None:
            self.on_exit(self.out)
        return True

    def feed(self, name: str, chunk: bytes) -> None:
        if name == "status":
            if len(self.status_buf) < _STATUS_MAX:
                self.status_buf += chunk
                self.out.status_docs = parse_status(bytes(self.status_buf))
                if self.on_status is not None:
                    self.on_status(self.out)
            return
        buf: bytearray = getattr(self.out, name)
        room = self.limits.output_bytes - len(buf)
        buf += chunk[: max(room, 0)]
        if len(chunk) > room:
            setattr(self.out, f"{name}_truncated", True)
            self.kill("output-limit")


def supervise(
    proc: subprocess.Popen[bytes],
    *,
    limits: Limits,
    started: float,
    kill: Callable[[Outcome], None],
    status_fd: int | None = None,
    on_status: Callable[[Outcome], None] | None = None,
    on_exit: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Run the event loop until the process exited and its pipes closed.

    ``kill(outcome)`` must kill the whole process tree; it is called at most once,
    at the deadline or when a stream overflows. ``on_status`` sees each new status
    document, ``on_exit`` runs once the process has been reaped."""
    w = _Watch(proc, limits, started, kill, on_status, on_exit)
    out = w.out
    assert proc.stdout is not None and proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "stderr")
    if status_fd is not None:
        sel.register(status_fd, selectors.EVENT_READ, "status")
    pidfd: int | None
    try:
        pidfd = os.pidfd_open(proc.pid)
        sel.register(pidfd, selectors.EVENT_READ, "exit")
    except (AttributeError, OSError):
        pidfd = None  # old kernel: poll waitpid instead
    deadline = started + limits.wall_s
    try:
        while True:
            keys = list(sel.get_map().values())
            if out.wait_status is not None and not any(k.data in _STREAMS for k in keys):
                break
            now = time.monotonic()
            if now >= deadline and out.wait_status is None:
                w.kill("timeout")
            if w.stop_at is not None and now >= w.stop_at:
                if out.wait_status is None:
                    w.reap(block=True)  # it was killed: this cannot block for long
                break
            wake = w.stop_at if w.stop_at is not None else deadline
            timeout = max(0.0, wake - now)
            if pidfd is None:
                timeout = min(timeout, 0.02)
            exited = pidfd is None
            for key, _ in sel.select(timeout):
                if key.data == "exit":
                    sel.unregister(key.fd)
                    exited = True
                    continue
                chunk = os.read(key.fd, 65536)
                if chunk:
                    w.feed(key.data, chunk)
                else:
                    sel.unregister(key.fd)
            if exited and out.wait_status is None:
                w.reap()
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
    return out
