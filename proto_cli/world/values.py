"""Which Python values may cross a send: the world's values, never arbitrary objects.

A method is Python, so it can answer anything: a function, an open file, a module.
Such an answer cannot be printed faithfully, stored, or sent to, so the send that
produced it fails and names the method (the transaction is rolled back with it).
"""

from __future__ import annotations

from image_format.codec import MappingProxyType, Pickled

from .message import Message
from .objects import ProtoObject

PLAIN = frozenset({type(None), bool, int, float, str, bytes, ProtoObject, Message, Pickled})
_CONTAINERS = (tuple, list)
_MAPPINGS = (dict, MappingProxyType)
MAX_DEPTH = 64


def foreign_in(value: object, depth: int = 0) -> str | None:
    """The type name of the first foreign value inside `value`, or None if all are values.

    Native values made by bindings (C pointers) print themselves (`proto_print`) and
    are accepted: they are the world's, valid for this process only.
    """
    t = type(value)
    if t in PLAIN:
        return None
    if depth > MAX_DEPTH:
        return "nesting deeper than 64"
    if t in _CONTAINERS:
        for item in value:
            found = foreign_in(item, depth + 1)
            if found is not None:
                return found
        return None
    if t in _MAPPINGS:
        for key, item in value.items():
            found = foreign_in(key, depth + 1) or foreign_in(item, depth + 1)
            if found is not None:
                return found
        return None
    if callable(getattr(t, "proto_print", None)):
        return None
    return t.__name__
