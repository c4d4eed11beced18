"""What the world relies on in the records it reads, checked as it reads them.

The world only ever writes records of these shapes, and `proto verify` reports any
that are not, but a file can be damaged, hand-made or written by another version.
Left unchecked, a roots record that is a list, a method slot holding an int or a
map in a parent list surfaced as a Python error deep inside inspect, methods or a
send (an `internal error`). Checked where the record is decoded, the same damage is
one line naming the object and slot, exit 2, whichever command met it first.

Each check is a type test on a value already decoded (no method runs, nothing is
parsed), so it is cheap enough for the send path.
"""

from __future__ import annotations

from image_format.codec import MappingProxyType, Pickled, Ref, decode
from image_format.errors import DecodeError, ImageError

from .objects import METHOD, PARENT, ProtoObject

_KINDS_OF_VALUE = {
    int: "an integer", float: "a float", str: "a string", bytes: "a byte array",
    bool: "a boolean", type(None): "nil", tuple: "a list", list: "a list",
    MappingProxyType: "a map", dict: "a map", Ref: "an object reference",
    ProtoObject: "an object", Pickled: "a pickled value",
}
#: The kinds imported only when met (image_format/values.py, fractions), by name.
_LATE_KINDS = {"Fraction": "a fraction", "ProtoSet": "a set", "StoredBlock": "a block"}
HINT = "`proto verify` lists every problem"


def a(value: object) -> str:
    """What kind of value this is, for a message ('a map', 'an integer')."""
    t = type(value)
    return _KINDS_OF_VALUE.get(t) or _LATE_KINDS.get(t.__name__, f"a {t.__name__}")


def corrupt_slot(oid: int, name: str, what: str) -> DecodeError:
    return DecodeError(f"corrupt slot {name!r} of object #{oid}: {what} ({HINT})")


def roots_from(stored: object) -> dict[str, int]:
    """Root name -> oid from the roots record, which must map names to object references.

    The world needs `lobby` for every path and name it shows; the other roots are
    checked when first used (`World.root`)."""
    if stored is None or (type(stored) is MappingProxyType and not stored):
        raise ImageError("the image has no genesis world (was it made by `proto init`?)")
    if type(stored) is not MappingProxyType:
        raise DecodeError(f"corrupt roots record: it is {a(stored)}, not a map of names to "
                          f"objects ({HINT})")
    roots = {}
    for name, ref in stored.items():
        if type(name) is not str:
            raise DecodeError(f"corrupt roots record: a root name is {a(name)}, not a string "
                              f"({HINT})")
        if type(ref) is not Ref:
            raise DecodeError(f"corrupt roots record: root {name!r} is {a(ref)}, not an "
                              f"object reference ({HINT})")
        roots[name] = ref.oid
    if "lobby" not in roots:
        raise DecodeError(f"corrupt roots record: it has no lobby ({HINT})")
    return roots


def check_slot(oid: int, name: str, kind: str, value: object) -> None:
    """A method slot holds source text, a parent slot an object: what lookup, inspect
    and methods take for granted (`World.put_slot` refuses anything else)."""
    if kind == METHOD:
        if type(value) is not str:
            raise corrupt_slot(oid, name, f"a method slot holds {a(value)}, not source text")
        if not value or value.isspace():
            raise corrupt_slot(oid, name, "a method slot holds no source")
    elif kind == PARENT and type(value) is not ProtoObject:
        raise corrupt_slot(oid, name, f"a parent slot holds {a(value)}, not an object")


def parent_names_from(record: bytes | None, oid: int) -> tuple[str, ...]:
    """The parent slot names in an object's header record: `{"parents": (names...)}`.
    No record (an object that does not exist) has none."""
    if record is None:
        return ()
    try:
        header = decode(record)
    except DecodeError as exc:
        raise DecodeError(f"corrupt header of object #{oid}: {exc} ({HINT})") from None
    parents = header.get("parents") if type(header) is MappingProxyType else None
    if type(parents) is not tuple:
        raise DecodeError(f"corrupt header of object #{oid}: it has no list of parents "
                          f"({HINT})")
    for name in parents:
        if type(name) is not str:
            raise DecodeError(f"corrupt header of object #{oid}: its parents list holds "
                              f"{a(name)}, not a slot name ({HINT})")
    return parents


def provenance(oid: int, name: str, meta: object) -> MappingProxyType | None:
    """A method slot's annotation, which `methods` reads as a map (learned, function...)."""
    if meta is not None and type(meta) is not MappingProxyType:
        raise corrupt_slot(oid, name, f"the method's provenance is {a(meta)}, not a map")
    return meta
