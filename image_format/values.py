"""The value kinds an image stores beyond the codec's plain ones: sets and blocks
(and exact fractions, Python's own `fractions.Fraction`, imported only where one is
met: it costs a `proto send` more start-up than the whole codec). Each is a plain
value: storing, reading, exporting or diffing one never runs code (a stored block is
its source text and the values it captured).
"""

from __future__ import annotations

MappingProxyType = type(type.__dict__)

__all__ = ["ABSENT", "ProtoSet", "StoredBlock", "find_key", "freeze", "member_key"]
ABSENT = object()  # find_key's answer for a key a map does not hold


def freeze(value: object) -> object:
    """A hashable, immutable equal of a value, as a set element or map key is kept
    (a list that changed after it went in would be lost in the set)."""
    t = type(value)
    if t is list:
        return tuple(freeze(v) for v in value)
    if t is tuple:
        return value if all(type(v) is not list for v in value) else tuple(map(freeze, value))
    if t is dict:
        return MappingProxyType({freeze(k): freeze(v) for k, v in value.items()})
    if t is ProtoSet and not value.frozen:
        return ProtoSet(value.elements, frozen=True)
    return value


def member_key(value: object) -> object:
    """What tells set elements and map keys apart, as the language tells values apart:
    Python holds true = 1 and false = 0 (one dictionary key), the language does not."""
    t = type(value)
    if t is bool:
        return (ABSENT, value)
    if t is tuple:
        return tuple(member_key(v) for v in value) if any(map(_risky, value)) else value
    return value


def _risky(value: object) -> bool:
    """Whether Python may take this key for another (a boolean, 0 or 1, or a list
    holding one)."""
    t = type(value)
    if t is bool:
        return True
    if t is tuple:
        return any(map(_risky, value))
    try:
        return value == 0 or value == 1
    except Exception:  # noqa: BLE001 - a value without a plain =
        return False


def find_key(mapping, key: object) -> object:
    """The key `mapping` holds that is `key` in the language's terms, or ABSENT: a map
    that holds 1 does not hold true."""
    k = freeze(key)
    try:
        if k not in mapping:
            return ABSENT
    except TypeError:  # a map as a key: never held
        return ABSENT
    if not _risky(k):
        return k
    wanted = member_key(k)
    for stored in mapping:
        if stored == k and member_key(stored) == wanted:
            return stored
    return ABSENT


class ProtoSet:
    """A set of values in the order they were added (so a set prints and exports the
    same way every time; Python's set orders strings by a per-process hash). A set made
    in eval can change; one read from a slot is frozen, as every stored value is."""

    __slots__ = ("_items", "frozen")

    def __init__(self, items=(), frozen: bool = False) -> None:
        self._items: dict = {}  # member_key(element) -> element
        for item in items:
            self.add(item)
        self.frozen = frozen

    @property
    def elements(self) -> tuple:
        return tuple(self._items.values())

    def add(self, item: object) -> None:
        item = freeze(item)
        key = member_key(item)
        if key not in self._items:
            self._items[key] = item

    def discard(self, item: object) -> bool:
        try:
            key = member_key(freeze(item))
            if key in self._items:
                del self._items[key]
                return True
        except TypeError:
            pass
        return False

    def __contains__(self, item: object) -> bool:
        try:
            return member_key(freeze(item)) in self._items
        except TypeError:
            return False

    def __iter__(self):
        return iter(tuple(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return type(other) is ProtoSet and self._items.keys() == other._items.keys()

    def __hash__(self) -> int:
        return hash(frozenset(self._items))

    def __repr__(self) -> str:
        return f"ProtoSet({list(self._items)!r})"


RESERVED = frozenset({"self", "nil", "true", "false"})


def captured_ok(captured) -> bool:
    """Whether a stored block's captured names are variable names a program could have
    (a name such as `self` would otherwise stand in for the block's receiver)."""
    return all(type(k) is str and k.isidentifier() and k not in RESERVED for k in captured)


class StoredBlock:
    """A block as a slot holds it: its source text (`[:n | ...]`) and the values of the
    enclosing variables it uses, as they were when it was stored. Reading one never
    parses or runs it; sending it `value` does (see proto_cli/world/blocks.py)."""

    __slots__ = ("source", "captured")

    def __init__(self, source: str, captured: MappingProxyType | dict) -> None:
        self.source = source
        self.captured = captured if type(captured) is MappingProxyType \
            else MappingProxyType(dict(captured))

    def __eq__(self, other: object) -> bool:
        return type(other) is StoredBlock and other.source == self.source \
            and dict(other.captured) == dict(self.captured)

    def __hash__(self) -> int:
        return hash(("block", self.source))

    def __repr__(self) -> str:
        return f"StoredBlock({self.source[:40]!r})"
