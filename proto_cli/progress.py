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
        text = f"learning: attempt {attempt}/{total}, {what} ({time.monotonic() - self.start:.1f}s)"
        if self.status is None:
            from rich.console import Console

            self.status = Console(stderr=True).status(text)
            self.status.start()
        else:
            self.status.update(text)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()
