"""Slot values as one line of text, and back: the value syntax of the text export.

    nil true false      42  -7      2.5  float(inf)  float(nan)
    "text"  (JSON string escapes)   x"00ff"  (bytes, hex)
    0x1f...  -0x1f...   (an int too long for decimal: more than 14000 bits)
    [1, "a", @12]       (list)      {"k": 1, 2: [3]}  (map, stored order kept)
    @12                 (a reference to object 12)
    fraction(-32/15)    set[1, "a"]     block("[:n | n + k]", {"k": 1})
    pickled x"80..."    (an opaque pickled record: carried, never loaded)

Writing then reading gives the same value, and the same value is always
written the same way, so an export is canonical and a git diff is clean.
"""

from __future__ import annotations

import json

from .codec import LATE_MODULES, MappingProxyType, Pickled, Ref
from .errors import ImageError


class LiteralError(ImageError):
    """Text that is not a value literal."""


def write(value: object) -> str:
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value: object, out: list[str]) -> None:
    t = type(value)
    if value is None:
        out.append("nil")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is int:
        out.append(int_text(value))
    elif t is float:
        out.append(repr(value) if value == value and value not in (_INF, -_INF)
                   else f"float({value!r})")
    elif t is str:
        out.append(_string(value))
    elif t is bytes:
        out.append(f'x"{value.hex()}"')
    elif t is Ref:
        out.append(f"@{value.oid}")
    elif t is Pickled:
        out.append(f'pickled x"{value.data.hex()}"')
    elif t is tuple or t is list:
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(", ")
            _write(item, out)
        out.append("]")
    elif t is MappingProxyType or t is dict:
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(", ")
            _write(key, out)
            out.append(": ")
            _write(item, out)
        out.append("}")
    elif t.__module__ in LATE_MODULES:
        _write_late(value, out)
    else:
        raise LiteralError(f"a {t.__name__} has no literal form")


def _write_late(value: object, out: list[str]) -> None:
    from fractions import Fraction

    from .values import ProtoSet, StoredBlock

    t = type(value)
    if t is Fraction and value.denominator == 1:
        out.append(int_text(value.numerator))
    elif t is Fraction:
        out.append(f"fraction({int_text(value.numerator)}/{int_text(value.denominator)})")
    elif t is ProtoSet:
        out.append("set")
        _write(value.elements, out)
    elif t is StoredBlock:
        out.append("block(")
        _write(value.source, out)
        out.append(", ")
        _write(value.captured, out)
        out.append(")")
    else:
        raise LiteralError(f"a {t.__name__} has no literal form")


_INF = float("inf")
_DECIMAL_BITS = 14000  # < 4300 decimal digits, Python's default int_max_str_digits
MAX_OID = (1 << 64) - 1


def int_text(value: int) -> str:
    """Decimal, or hex past ~4300 digits, where Python will not print decimal (hex has no
    limit, and reads back)."""
    if value.bit_length() <= _DECIMAL_BITS:
        return str(value)
    return ("-" if value < 0 else "") + f"0x{abs(value):x}"


def _string(text: str) -> str:
    """JSON, readable (non-ASCII kept) unless a lone surrogate forces escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(text)
    return json.dumps(text, ensure_ascii=False)


def read(text: str) -> object:
    """The value a literal denotes (the whole text must be one literal)."""
    value, end = read_prefix(text, 0)
    end = _skip(text, end)
    if end != len(text):
        raise LiteralError(f"unexpected {_excerpt(text[end:], 12)} after a value")
    return value


def read_prefix(text: str, pos: int, depth: int = 0) -> tuple[object, int]:
    pos = _skip(text, pos)
    if depth > 64:
        raise LiteralError("value nests too deeply")
    if pos >= len(text):
        raise LiteralError("a value is missing")
    ch = text[pos]
    if ch == '"':
        return _read_string(text, pos)
    if ch == "@":
        end = _digits_end(text, pos + 1)
        if end == pos + 1:
            raise LiteralError("@ must be followed by an object id")
        if end - pos > 21 or int(text[pos + 1:end]) > MAX_OID:
            raise LiteralError(f"object id {_excerpt(text[pos + 1:end])} is out of range")
        return Ref(int(text[pos + 1:end])), end
    if ch == "[":
        items = []
        pos = _skip(text, pos + 1)
        if text.startswith("]", pos):
            return (), pos + 1
        while True:
            item, pos = read_prefix(text, pos, depth + 1)
            items.append(item)
            pos = _skip(text, pos)
            if text.startswith("]", pos):
                return tuple(items), pos + 1
            pos = _expect(text, pos, ",")
    if ch == "{":
        out: dict = {}
        pos = _skip(text, pos + 1)
        if text.startswith("}", pos):
            return MappingProxyType(out), pos + 1
        while True:
            key, pos = read_prefix(text, pos, depth + 1)
            pos = _expect(text, _skip(text, pos), ":")
            try:
                before = len(out)
                out[key], pos = read_prefix(text, pos, depth + 1)
            except TypeError:
                raise LiteralError("a map key must be a plain value") from None
            if len(out) == before:  # also true and 1, false and 0: one key to Python
                raise LiteralError("a map holds a key twice")
            pos = _skip(text, pos)
            if text.startswith("}", pos):
                return MappingProxyType(out), pos + 1
            pos = _expect(text, pos, ",")
    if text.startswith('x"', pos):
        end = text.find('"', pos + 2)
        if end < 0:
            raise LiteralError("bytes x\"...\" are not closed")
        try:
            return bytes.fromhex(text[pos + 2:end]), end + 1
        except ValueError:
            raise LiteralError("bytes must be x\"hex\"") from None
    for word, value in (("nil", None), ("true", True), ("false", False)):
        if text.startswith(word, pos):
            return value, pos + len(word)
    if text.startswith('pickled x"', pos):
        data, end = read_prefix(text, pos + len("pickled "), depth + 1)
        return Pickled(data), end
    if text.startswith(("fraction(", "set[", "block("), pos):
        return _read_late(text, pos, depth)
    if text.startswith("float(", pos):
        end = text.find(")", pos)
        word = text[pos + 6:end] if end >= 0 else ""
        if word not in ("inf", "-inf", "nan"):
            raise LiteralError(f"float({_excerpt(word)}) is not a value")
        return float(word), end + 1
    return _read_number(text, pos)


def _read_late(text: str, pos: int, depth: int) -> tuple[object, int]:
    from fractions import Fraction

    from .values import ProtoSet, StoredBlock, captured_ok

    if text.startswith("set[", pos):
        items, end = read_prefix(text, pos + 3, depth + 1)
        try:
            value = ProtoSet(items, frozen=True)
        except TypeError:
            raise LiteralError("a set element must be a plain value") from None
        if len(value) != len(items):
            raise LiteralError("a set holds a value twice")
        return value, end
    if text.startswith("block(", pos):
        source, end = read_prefix(text, pos + 6, depth + 1)
        end = _expect(text, end, ",")
        captured, end = read_prefix(text, end, depth + 1)
        end = _expect(text, end, ")")
        if type(source) is not str or type(captured) is not MappingProxyType \
                or not captured_ok(captured):
            raise LiteralError('a block is block("source", {"name": value, ...}), each name '
                               'a variable name')
        return StoredBlock(source, captured), end
    numerator, end = _read_number(text, _skip(text, pos + 9))
    end = _expect(text, end, "/")
    denominator, end = _read_number(text, _skip(text, end))
    end = _expect(text, end, ")")
    if type(numerator) is not int or type(denominator) is not int or denominator < 2:
        raise LiteralError("a fraction is fraction(INTEGER/INTEGER), the second 2 or more")
    value = Fraction(numerator, denominator)
    if value.denominator != denominator:
        raise LiteralError("a fraction is written in lowest terms")
    return value, end


def _read_string(text: str, pos: int) -> tuple[str, int]:
    end = pos + 1
    while True:
        end = text.find('"', end)
        if end < 0:
            raise LiteralError("a string is not closed")
        backslashes = 0
        while text[end - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            break
        end += 1
    try:
        return json.loads(text[pos:end + 1]), end + 1
    except ValueError as exc:
        raise LiteralError(f"bad string: {exc}") from None


def _read_number(text: str, pos: int) -> tuple[int | float, int]:
    hex_at = pos + (text.startswith("-", pos))
    if text.startswith("0x", hex_at):
        end = hex_at + 2
        while end < len(text) and text[end] in _HEX:
            end += 1
        if end == hex_at + 2:
            raise LiteralError(f"{_excerpt(text[pos:end + 1])} is not a value")
        return int(text[pos:end], 16), end
    end = pos
    while end < len(text) and (text[end] in _ASCII_DIGITS or text[end] in "+-.eE"):
        end += 1
    word = text[pos:end]
    try:
        if word.lstrip("-").isdigit():
            if len(word) > 4300:
                raise LiteralError(f"{_excerpt(word)}: more than 4300 digits (write it 0x...)")
            return int(word), end
        return float(word), end
    except ValueError:
        raise LiteralError(f"{_excerpt(word or text[pos:pos + 12])} is not a value") from None


_ASCII_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"


def _excerpt(text: str, limit: int = 24) -> str:
    """Quoted, cut short: an error about a huge token stays readable."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _digits_end(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _ASCII_DIGITS:
        pos += 1
    return pos


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    return pos


def _expect(text: str, pos: int, char: str) -> int:
    pos = _skip(text, pos)
    if not text.startswith(char, pos):
        raise LiteralError(f"expected {char!r} at {text[pos:pos + 12]!r}")
    return pos + 1
