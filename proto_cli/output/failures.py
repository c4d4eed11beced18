"""Turning any failure into one line on stderr and the documented exit code."""

from __future__ import annotations

import os
import sys

from image_format.errors import ImageError

from ..errors import MethodFailed, ProtoError, ProtoSyntaxError


def report(exc: BaseException) -> int:
    """Print `exc` as `proto: message` and answer the exit code (1 or 2)."""
    if isinstance(exc, ProtoSyntaxError):
        _say(str(exc))
        if exc.source and sys.stderr.isatty():
            print(f"  {exc.source}\n  {' ' * (exc.column - 1)}^", file=sys.stderr)
        return 2
    if isinstance(exc, ProtoError):
        _say(str(exc))
        return exc.exit_code
    if isinstance(exc, ImageError):
        _say(str(exc))
        return 2
    if isinstance(exc, KeyboardInterrupt):
        _say("interrupted")
        return 130
    where = getattr(exc, "proto_where", None)
    if where is not None:
        _say(str(MethodFailed(where, exc)))
        return 1
    if isinstance(exc, MemoryError):
        _say("out of memory")
        return 1
    if isinstance(exc, BrokenPipeError):  # the reader left (`| head`): nothing to say,
        _silence_stdout()  # and exit 1, as click does for the other commands
        return 1
    if isinstance(exc, OSError):
        _silence_stdout()
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"{where}{exc.strerror or exc}")
        return 2
    if os.environ.get("PROTO_DEBUG"):
        raise exc
    _say(f"internal error: {type(exc).__name__}: {exc} (set PROTO_DEBUG=1 for a traceback)")
    return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's own flush at exit cannot fail too."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):
        pass


def _say(text: str) -> None:
    """One line, whatever the message quotes: \\r, \\x85 or U+2028 would start another."""
    text = " ".join(text.splitlines())
    if sys.stderr.isatty():  # a message quoting image data shows its escapes, never obeys
        from .terminal import visible

        text = visible(text)
    print(f"proto: {text}", file=sys.stderr)
