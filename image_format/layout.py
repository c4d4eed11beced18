"""Where things live inside the LMDB file.

Two named databases:
    meta   format name and version, the next object id, the well-known roots.
    slots  one record per slot, keyed  oid (8 bytes, big-endian) + slot name;
           plus one header record per object keyed by the bare 8-byte oid,
           which sorts first among the object's keys.

Keys sort by object, so all of an object is one contiguous range, a slot is
one point lookup, and a diff can walk two images in step.
"""

from __future__ import annotations

from .errors import DecodeError

FORMAT_NAME = b"proto-image"
FORMAT_VERSION = 1

META_DB = b"meta"
SLOTS_DB = b"slots"

K_FORMAT = b"format"
K_VERSION = b"version"
K_NEXT_OID = b"next_oid"
K_ROOTS = b"roots"
#: Which genesis the image began as, and the host API its stored code is written to
#: (proto_cli/world/host_api.py). Absent: made before versions were recorded (both 1).
K_GENESIS = b"genesis"
K_API = b"api"

OID_BYTES = 8

# Slot kinds: the first byte of a slot record.
DATA = "d"  # a value, readable by `name` and assignable by `name:`
CONSTANT = "c"  # a value, read-only
METHOD = "m"  # Python source of a function whose first parameter is the receiver
PARENT = "p"  # a reference to an object to delegate to (`name*`)
KINDS = {DATA: "data", CONSTANT: "constant", METHOD: "method", PARENT: "parent"}


def object_key(oid: int) -> bytes:
    return oid.to_bytes(OID_BYTES, "big")


def slot_key(oid: int, name: str) -> bytes:
    return oid.to_bytes(OID_BYTES, "big") + name.encode("utf-8")


def split_key(key: bytes) -> tuple[int, str]:
    """(oid, slot name); the name is '' for an object's header record."""
    return int.from_bytes(key[:OID_BYTES], "big"), slot_name(key)


def slot_name(key: bytes) -> str:
    """The slot name in a record key; a damaged key is a DecodeError, like a damaged value."""
    try:
        return bytes(key[OID_BYTES:]).decode("utf-8")
    except UnicodeDecodeError:
        oid = int.from_bytes(key[:OID_BYTES], "big")
        raise DecodeError(f"corrupt record: a slot name of @{oid} is not UTF-8") from None
