"""What can go wrong in the world, each with the exit code the CLI gives it.

Exit codes: 1 a message failed (not understood, or its method raised);
2 bad invocation, bad syntax or an unusable image.
"""

from __future__ import annotations


class ProtoError(Exception):
    """Base of the world's own errors; `str()` is a one-line message."""

    exit_code = 1


class UsageError(ProtoError):
    """The request itself is malformed (bad name, bad source, wrong arity)."""

    exit_code = 2


class ProtoSyntaxError(UsageError):
    """An expression or message does not parse; `column` is 1-based."""

    def __init__(self, message: str, source: str, column: int) -> None:
        super().__init__(f"syntax error at column {column}: {message}")
        self.source = source
        self.column = column
        self.reason = message


class MessageNotUnderstood(ProtoError):
    """Raised by the default `doesNotUnderstand:`; carries the reified message."""

    def __init__(self, message, description: str = "", near: list[str] | None = None) -> None:
        self.message = message
        self.description = description
        self.near = near or []
        super().__init__(self._text())

    def _text(self) -> str:
        selector = self.message.selector or "'' (an empty selector)"
        text = f"{_short(self.description)} does not understand {_short(selector)}"
        if self.near:
            text += f" (did you mean: {', '.join(self.near)}?)"
        return text


class SlotError(ProtoError):
    """A reflective slot operation was refused (no such slot, not an object...)."""


class MethodFailed(ProtoError):
    """A method raised a Python exception; says which method and why."""

    def __init__(self, where: str, exc: BaseException) -> None:
        self.where = where
        self.original = exc
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, RecursionError):
            super().__init__(f"{where}: recursion too deep (a block or method that calls "
                             "itself without end?)")
            return
        if isinstance(exc, OverflowError):  # Python's floats, in the language's words
            super().__init__(f"{where}: the number is too large for a float")
            return
        super().__init__(f"{where} raised {type(exc).__name__}: {reason}")


class OutsideWork(BaseException):  # noqa: N818 - a control-flow signal, like GeneratorExit
    """A send needs work that must not run inside its transaction (e.g. learning).

    It unwinds past user code's `except Exception`; the command rolls the transaction
    back, does the work, and runs again.
    """


def cannot_write(path: str, exc: OSError) -> UsageError:
    """The one-line error for an output file that could not be written."""
    return UsageError(f"cannot write {path}: {exc.strerror or exc}")


def _short(text: str, limit: int = 100) -> str:
    """A value's text in a message: a 20,000-element list is not quoted whole."""
    if len(text) <= limit:
        return text
    return text[:limit] + (" ...}" if text.startswith("{") else " ...")
