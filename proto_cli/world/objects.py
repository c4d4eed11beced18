"""Objects and slots as they live in memory, loaded lazily from an image.

An object knows only its id and world; its slots are fetched one at a time,
when a lookup first asks for them, and remembered (absent ones too).
"""

from __future__ import annotations

from image_format.layout import CONSTANT, DATA, METHOD, PARENT

ASSIGNABLE = (DATA, PARENT)
__all__ = ["ASSIGNABLE", "CONSTANT", "DATA", "METHOD", "PARENT", "ProtoObject", "Slot"]


class Slot:
    """One slot: its kind (data, constant, method, parent), value and optional annotation."""

    __slots__ = ("kind", "value", "meta")

    def __init__(self, kind: str, value: object, meta: object = None) -> None:
        self.kind = kind
        self.value = value
        self.meta = meta

    def __repr__(self) -> str:
        return f"Slot({self.kind!r}, {self.value!r})"


class ProtoObject:
    """A Self-style object: an identity whose behaviour is entirely in its slots.

    Methods receive it as `self`; `self.send("x")` sends through the normal lookup.
    Reflection (adding slots, cloning) goes through `reflect(obj)`, a mirror,
    so the base level stays a pure message-passing interface.
    """

    __slots__ = ("oid", "world", "_slots", "_parents", "_cache")

    def __init__(self, oid: int, world) -> None:
        self.oid = oid
        self.world = world
        self._slots: dict = {}
        self._parents: tuple | None = None
        self._cache: dict = {}

    def send(self, selector: str, *args: object) -> object:
        return self.world.send(self, selector, args)

    def __repr__(self) -> str:
        return f"<object #{self.oid}>"
