"""Run untrusted code inside bubblewrap before it may enter an image.

Standalone on purpose: no import from ``proto_cli`` and only the standard library.
Importing it is cheap: ``run``, ``check`` and ``library_binds`` load their modules
(and subprocess) on first use.

    from sandbox import run, Limits
    verdict = run(python_source="print(1 + 1)", limits=Limits(wall_s=5))
    verdict.status, verdict.kind, verdict.stdout   # ("ok", "none", "2\\n")
"""

from __future__ import annotations

import importlib

from .errors import SandboxUnavailable, UnsandboxedWarning
from .limits import Limits
from .verdict import KINDS, Verdict

TYPE_CHECKING = False  # typing itself costs more to import than this package
if TYPE_CHECKING:
    from .hostcheck import check
    from .policy import library_binds
    from .runner import run

_LAZY = {"run": "runner", "check": "hostcheck", "library_binds": "policy"}

__all__ = [
    "KINDS",
    "Limits",
    "SandboxUnavailable",
    "UnsandboxedWarning",
    "Verdict",
    "check",
    "library_binds",
    "run",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
