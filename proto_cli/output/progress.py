"""Progress of slow work (learning) on stderr, for people at a terminal only."""

from __future__ import annotations

import sys
import time


class progress_display:  # noqa: N801 - used as a context manager, reads like a function
    """Learning progress on stderr for people (attempt n of N, stage, time so far)."""

    def __init__(self) -> None:
        self.status = None
        self.start = 0.0

    def __enter__(self):
        self.start = time.monotonic()
        return self if sys.stderr.isatty() else None

    def __call__(self, attempt: int, total: int, what: str) -> None:
        text = f"learning: attempt {attempt}/{total}, {what}" if total else f"learning: {what}"
        if self.status is None:
            from rich.console import Console

            self.clock = _Clock(self.start)
            self.clock.text = text
            self.status = Console(stderr=True).status(self.clock)
            self.status.start()
        else:
            self.clock.text = text

    def stage(self, what: str) -> None:
        """A stage outside the attempts: assembling the model, evaluating the prompt."""
        self(0, 0, what)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()


class _Clock:
    """The status line, rendered afresh at every refresh: the time keeps counting while
    llama.cpp evaluates (a text computed once froze it, and a long wait looked like a
    hang)."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.text = ""

    def __rich__(self) -> str:
        return f"{self.text} ({time.monotonic() - self.start:.1f}s)"
