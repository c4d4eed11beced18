"""Writing a file whole or not at all: a temporary name beside it, then a rename."""

from __future__ import annotations

import os
from collections.abc import Callable

from .world.errors import UsageError


def write_whole(path: str, fill: Callable[[str], None]) -> None:
    """`fill(tmp)` writes the content to `tmp`; it becomes `path` only if that succeeds."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        fill(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
