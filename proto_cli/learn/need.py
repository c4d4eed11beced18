"""A reified message, turned into what learning needs to know about it."""

from __future__ import annotations

from ..errors import UsageError

DIRECT_PREFIX = "call_c_"


def kind_of(value: object) -> str:
    """The C-facing kind of a message argument."""
    if value is None:
        return "nil"
    if value is True or value is False:
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, bytes):
        return "bytes"
    if type(value).__name__ == "Foreign":
        return "pointer"
    return "object"


class Need:
    """Selector, arguments and their kinds, and the library the receiver is bound to."""

    __slots__ = ("selector", "args", "kinds", "header", "library", "receiver", "converters")

    def __init__(self, selector: str, args: tuple, header: str, library: str,
                 receiver: str = "") -> None:
        from ..world.exact import is_fraction

        self.selector = selector
        # an exact fraction (`1e-5` is 1/100000, as in Pharo) reaches C as a double, as a
        # Smalltalk FFI coerces it (asFloat)
        self.args = tuple(float(a) if is_fraction(a) else a for a in args)
        self.kinds = tuple(kind_of(a) for a in self.args)
        self.header = header
        self.library = library
        self.receiver = receiver
        self.converters: list = []  # header functions that parse text into a fixed value
        bad = [k for k in self.kinds if k == "object"]
        if bad:
            raise UsageError(
                f"cannot learn {selector}: a C function cannot take a {bad[0]} argument"
            )

    @property
    def direct(self) -> str | None:
        """The C function named by a `call_c_NAME:` selector, if it is one."""
        if self.selector.startswith(DIRECT_PREFIX):
            return self.selector[len(DIRECT_PREFIX):].split(":")[0] or None
        return None

    def describe_args(self) -> list[str]:
        return [f"arg{i + 1} = {'nil' if a is None else repr(a)} ({k})"
                for i, (a, k) in enumerate(zip(self.args, self.kinds, strict=True))]

    def message_text(self) -> str:
        parts = self.selector.split(":")
        if len(parts) == 1:
            return self.selector
        words = []
        for part, arg in zip(parts[:-1], self.args, strict=True):
            words.append(f"{part}: {literal(arg)}")
        return " ".join(words)


def literal(value: object) -> str:
    """A value as the message syntax writes it (`'it''s'`, `#[1 2]`, `nil`)."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bytes):
        return "#[" + " ".join(str(b) for b in value) + "]"
    if value is None:
        return "nil"
    return repr(value)
