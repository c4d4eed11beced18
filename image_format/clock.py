"""The one clock behind every timestamp proto writes (provenance, snapshot sidecars).

Reproducible builds fix it: `SOURCE_DATE_EPOCH` when the environment sets it (the
reproducible-builds convention), and `proto build` holds it at that value (0 when
unset) for the whole build through `fixed`, without touching os.environ.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

_fixed: list[int] = []


def now() -> int:
    """Seconds since the epoch: the fixed time inside `fixed`, else SOURCE_DATE_EPOCH,
    else the wall clock."""
    if _fixed:
        return _fixed[-1]
    epoch = source_date_epoch(None)
    return int(time.time()) if epoch is None else epoch


def source_date_epoch(default: int | None = 0) -> int | None:
    """SOURCE_DATE_EPOCH when it is set to a number of seconds, else `default`."""
    stamp = os.environ.get("SOURCE_DATE_EPOCH")
    return int(stamp) if stamp and stamp.isdigit() else default


@contextmanager
def fixed(epoch: int):
    """Every timestamp written inside is `epoch`."""
    _fixed.append(epoch)
    try:
        yield
    finally:
        _fixed.pop()
