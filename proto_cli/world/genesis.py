"""The world a new image starts with.

    lobby            the root namespace; global names are its slots
    traits           a namespace of shared behaviour: object, clonable, number,
                     string, bytes, list, map, nil, true, false, block, message
    genesis          the empty prototype to clone new objects from

Every traits object delegates to `traits object`; `genesis` and the lobby
delegate to `traits clonable`. Method sources come from genesis_methods.py.
"""

from __future__ import annotations

import inspect
import textwrap

from image_format import layout as L
from image_format.codec import Ref

from .genesis_methods import REGISTRY
from .objects import CONSTANT, METHOD, PARENT
from .world import World

TRAITS = ("object", "clonable", "number", "string", "bytes", "list", "map",
          "nil", "true", "false", "block", "message")


def method_source(fn) -> str:
    """A registered function's text without its decorator, as a method slot holds it."""
    lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
    while lines and lines[0].startswith("@"):
        lines.pop(0)
    return "\n".join(lines) + "\n"


def create_genesis(txn) -> World:
    """Populate an empty image with the genesis world (inside the caller's transaction)."""
    world = World(txn, roots={})
    made = {name: world.new_object() for name in ("lobby", "traits", "genesis", *TRAITS)}
    world.roots = {name: obj.oid for name, obj in made.items()}
    top = made["object"]
    for name in TRAITS:
        if name != "object":
            world.put_slot(made[name], "parent", top, PARENT)
        for selector, fn in REGISTRY.get(name, ()):
            world.put_slot(made[name], selector, method_source(fn), METHOD)
        world.put_slot(made["traits"], name, made[name], CONSTANT)
    for name in ("lobby", "traits", "genesis"):
        world.put_slot(made[name], "parent", made["clonable"], PARENT)
    lobby = made["lobby"]
    for name in ("lobby", "traits", "genesis"):
        world.put_slot(lobby, name, made[name], CONSTANT)
    txn.put_meta(L.K_ROOTS, {name: Ref(oid) for name, oid in world.roots.items()})
    return world
