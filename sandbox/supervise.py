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
from dataclasses import dataclass, field

from .limits import Limits

#: How long to keep draining pipes after the process exited or was killed.
GRACE_S = 2.0
_STATUS_MAX = 64 * 1024


@dataclass
class Outcome:
    wait_status: int | None = None
    cpu_s: float = 0.0
    duration_s: float = 0.0
    killed_for: str | None = None
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    status_docs: list[dict[str, object]] = field(default_factory=list)


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


def supervise(
    proc: subprocess.Popen[bytes],
    *,
    limits: Limits,
    started: float,
    kill: Callable[[Outcome], None],
    status_fd: int | None = None,
    on_status: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Run the event loop until the process exited and its pipes closed.

    ``kill(outcome)`` must kill the whole process tree; it is called at most once,
    at the deadline or when a stream overflows."""
    out = Outcome()
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
        pidfd = None  # old kernel: poll wait4 below
    status_buf = bytearray()
    deadline = started + limits.wall_s
    stop_at: float | None = None  # set once exited or killed: drain pipes until then
    cap = limits.output_bytes

    def do_kill(reason: str) -> None:
        nonlocal stop_at
        if out.killed_for is None:
            out.killed_for = reason
            kill(out)
            stop_at = time.monotonic() + GRACE_S

    def reap() -> bool:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == 0:
            return False
        out.wait_status = status
        out.cpu_s = usage.ru_utime + usage.ru_stime
        out.duration_s = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        return True

    try:
        while True:
            streams = [k for k in sel.get_map().values() if k.data in ("stdout", "stderr")]
            now = time.monotonic()
            if out.wait_status is not None and not streams:
                break
            if now >= deadline and out.wait_status is None:
                do_kill("timeout")
            if stop_at is not None and now >= stop_at:
                if out.wait_status is None:
                    _, status, usage = os.wait4(proc.pid, 0)  # killed: cannot block long
                    out.wait_status = status
                    out.cpu_s = usage.ru_utime + usage.ru_stime
                    out.duration_s = time.monotonic() - started
                    proc.returncode = os.waitstatus_to_exitcode(status)
                break
            wake = stop_at if stop_at is not None else deadline
            timeout = max(0.0, wake - now)
            if pidfd is None:
                timeout = min(timeout, 0.02)
            for key, _ in sel.select(timeout):
                if key.data == "exit":
                    sel.unregister(key.fd)
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                if key.data == "status":
                    if len(status_buf) < _STATUS_MAX:
                        status_buf += chunk
                        out.status_docs = parse_status(bytes(status_buf))
                        if on_status is not None:
                            on_status(out)
                    continue
                buf = out.stdout if key.data == "stdout" else out.stderr
                room = cap - len(buf)
                buf += chunk[: max(room, 0)]
                if len(chunk) > room:
                    setattr(out, f"{key.data}_truncated", True)
                    do_kill("output-limit")
            if out.wait_status is None and (pidfd is None or pidfd not in _fds(sel)):
                if reap() and stop_at is None:
                    stop_at = time.monotonic() + GRACE_S
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
    return out


def _fds(sel: selectors.BaseSelector) -> set[int]:
    return {k.fd for k in sel.get_map().values()}
