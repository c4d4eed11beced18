"""The default printString of every kind of value: pure, never runs image code."""

from __future__ import annotations

from image_format.codec import MappingProxyType

from .message import Message
from .objects import ProtoObject


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def describe(value: object, name_of=None, depth: int = 0) -> str:
    """Smalltalk-flavoured text for a value; `name_of(obj)` names objects."""
    if value is None:
        return "nil"
    if value is True:
        return "true"
    if value is False:
        return "false"
    t = type(value)
    if t is int:
        if value.bit_length() <= 14000:
            return str(value)
        from image_format.literals import int_text  # rare: past ~4300 decimal digits

        return int_text(value)
    if t is float:
        return repr(value)
    if t is str:
        return quote(value)
    if t is bytes:
        return "#[" + " ".join(str(b) for b in value) + "]"
    if t is ProtoObject:
        name = name_of(value) if name_of is not None else None
        return f"<{name} #{value.oid}>" if name else f"<object #{value.oid}>"
    if t is Message:
        return f"a Message({value.selector})"
    if depth > 8:
        return "..."
    if t is tuple or t is list:
        return "{" + ". ".join(describe(v, name_of, depth + 1) for v in value) + "}"
    if t is MappingProxyType or t is dict:
        inner = ". ".join(
            f"{describe(k, name_of, depth + 1)} -> {describe(v, name_of, depth + 1)}"
            for k, v in value.items()
        )
        return "#{" + inner + "}"
    if callable(getattr(value, "proto_print", None)):
        return value.proto_print()
    return f"a foreign {type(value).__name__}"
