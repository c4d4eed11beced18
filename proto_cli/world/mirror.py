"""Mirrors: reflection kept apart from the base level, as in Self.

Methods reach the meta level with `reflect(obj)`; objects themselves only
answer messages.
"""

from __future__ import annotations

from ..errors import UsageError
from .objects import DATA, METHOD, PARENT, ProtoObject


class Mirror:
    __slots__ = ("world", "target")

    def __init__(self, world, target: object) -> None:
        self.world = world
        self.target = target

    def clone(self) -> object:
        return self.world.clone(self.target)

    def add_slot(self, name: str, value: object) -> object:
        """Add or replace a slot; a trailing `*` makes a parent slot."""
        if name.endswith("*"):
            self.world.put_slot(self.target, name[:-1], value, PARENT)
        else:
            self.world.put_slot(self.target, name, value, DATA)
        return self.target

    def define(self, selector: str, source: str, meta: object = None) -> object:
        from .blocks import Block
        from .method_source import validate_source

        if type(selector) is not str:
            raise UsageError(f"define: {self.world.describe(selector)[:60]}: a selector is a "
                             "string")
        if type(source) is Block:
            from .language_methods import source_of_block

            source = source_of_block(source, selector)
        if type(source) is not str:
            raise UsageError(f"define: {selector} as: {self.world.describe(source)[:60]}: "
                             "the method is source text or a block")
        validate_source(source, selector)
        self.world.put_slot(self.target, selector, source, METHOD, meta)
        return self.target

    def set_slot(self, name: str, value: object) -> object:
        self.world.set_slot(self.target, name.rstrip("*"), value)
        return self.target

    def remove_slot(self, name: str) -> object:
        self.world.remove_slot(self.target, name.rstrip("*"))
        return self.target

    def slot_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.world.slots(self.target))

    def get(self, name: str) -> object:
        slot = self.world.slot(self.target, name)
        return None if slot is None else slot.value

    def parents(self) -> tuple:
        return tuple(self.world.parents(self.target))

    def describe(self) -> str:
        return self.world.describe(self.target)

    def responds_to(self, selector: str) -> bool:
        world = self.world
        start = self.target if type(self.target) is ProtoObject else world.behaviour(self.target)
        return world.find(start, selector, set()) is not None
