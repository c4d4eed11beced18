"""Which Python values may leave the world: its values, never arbitrary objects.

A method is Python, so it can answer anything: a function, an open file, a module.
Storing one is refused by the codec; answering one to the command fails the command
(and rolls its transaction back). Between methods nothing is checked: the hot path of
a send stays one dictionary probe and a call.
"""

from __future__ import annotations

from image_format.codec import LATE_MODULES, MappingProxyType, Pickled

from ..errors import ProtoError
from .message import Message
from .objects import ProtoObject

PLAIN = frozenset({type(None), bool, int, float, str, bytes, ProtoObject, Message, Pickled})
_CONTAINERS = (tuple, list)
_MAPPINGS = (dict, MappingProxyType)
MAX_DEPTH = 64
NESTED = "nesting deeper than 64"


def foreign_in(value: object, depth: int = 0) -> str | None:
    """The type name of the first foreign value inside `value`, or None if all are values.

    Native values made by bindings (C pointers) print themselves (`proto_print`) and
    are accepted: they are the world's, valid for this process only.
    """
    t = type(value)
    if t in PLAIN:
        return None
    if depth > MAX_DEPTH:
        return NESTED
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
    if t.__module__ in LATE_MODULES:  # fractions, sets, stored blocks
        if t.__name__ == "ProtoSet":
            return foreign_in(value.elements, depth + 1)
        return None
    if callable(getattr(t, "proto_print", None)):
        return None
    return t.__name__


def checked_answer(value: object) -> object:
    """`value`, if a command may answer it."""
    if type(value) in PLAIN:
        return value
    foreign = foreign_in(value)
    if foreign == NESTED:
        raise ProtoError(f"the answer nests more than {MAX_DEPTH} lists or maps deep; it "
                         "cannot be shown or stored")
    if foreign is not None:
        raise ProtoError(f"a method answered a foreign Python object ({foreign}); a method "
                         "must answer a proto value")
    return value
