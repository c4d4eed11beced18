"""Run untrusted code inside bubblewrap before it may enter an image.

Standalone on purpose: no import from ``proto_cli`` and nothing heavier than the
standard library, so importing it is cheap and it can be used on its own.

    from sandbox import run, Limits
    verdict = run(python_source="print(1 + 1)", limits=Limits(wall_s=5))
    verdict.status, verdict.kind, verdict.stdout   # ("ok", "none", "2\\n")
"""

from .check import check
from .errors import SandboxUnavailable, UnsandboxedWarning
from .limits import Limits
from .policy import library_binds
from .runner import run
from .verdict import KINDS, Verdict

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
