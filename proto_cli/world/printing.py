"""The default printString of every kind of value: pure, never runs image code."""

from __future__ import annotations

from image_format.codec import MappingProxyType

from .exact import is_fraction
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
        return _big_decimal(value)  # rare: past ~4300 decimal digits
    if t is float:
        return _float_text(value)
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
    if is_fraction(value):
        if value.denominator == 1:
            return describe(value.numerator)
        return f"{describe(value.numerator)}/{describe(value.denominator)}"
    if t.__module__ == "image_format.values":
        if t.__name__ == "ProtoSet":
            return "a Set(" + " ".join(describe(v, name_of, depth + 1) for v in value) + ")"
        if t.__name__ == "StoredBlock":
            return value.source if len(value.source) <= 80 else value.source[:76] + " ...]"
    return f"a foreign {type(value).__name__}"


MAX_PRINTED_BITS = 350_000  # about 105,000 decimal digits; converting more is quadratic


def _big_decimal(value: int) -> str:
    """Decimal, as a Smalltalk prints any integer (Python refuses past 4,300 digits by
    default, and hex is no answer), up to about 105,000 digits; past that, its size."""
    import sys

    bits = value.bit_length()
    if bits > MAX_PRINTED_BITS:
        digits = int(bits * 0.30103) + 1
        return f"{'-' if value < 0 else ''}<an integer of about {digits:,} digits>"
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(value)
    finally:
        sys.set_int_max_str_digits(limit)


def _float_text(value: float) -> str:
    """As Pharo prints a Float: `1.0e100`, `1.0e-5`, `Float infinity`, `Float nan`
    (Python's `1e+100`, `inf` and `nan` are not the language's)."""
    if value != value:
        return "Float nan"
    if value in (float("inf"), float("-inf")):
        return "Float infinity" if value > 0 else "Float infinity negated"
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}e{int(exponent)}"
