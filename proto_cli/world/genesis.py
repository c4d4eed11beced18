"""The world a new image starts with.

    lobby            the root namespace; global names are its slots
    traits           a namespace of shared behaviour: object, clonable, number,
                     string, bytes, list, map, set, nil, true, false, block, message
    Array Vector Dictionary Set
                     make collections that change in place (`Array new: 5`)
    genesis          the empty prototype to clone new objects from
    learner          the learning prototype: a reference to a local model and
                     its settings, `infer:`, `reflectOn:`, and a
                     doesNotUnderstand: that learns (see proto_cli/learn)
    cLibrary         the prototype of library objects; delegates to learner

Every traits object delegates to `traits object`; `genesis`, the lobby and the
learner delegate to `traits clonable`. Method sources come from genesis_methods.py.
"""

from __future__ import annotations

import inspect
import textwrap

from image_format import layout as L
from image_format.codec import Ref

from . import genesis_collections, genesis_som  # noqa: F401 - register their methods
from .genesis_methods import REGISTRY
from .host_api import API_VERSION
from .objects import CONSTANT, DATA, METHOD, PARENT
from .world import World

TRAITS = ("object", "clonable", "number", "string", "bytes", "list", "map", "set",
          "nil", "true", "false", "block", "message")
#: Lobby objects that make collections which change in place (genesis_collections.py).
MAKERS = ("Array", "Vector", "Dictionary", "Set", "Integer", "Float", "Character")


#: The genesis an image begins as. Its methods' sources are copied into every new
#: image, so any change to them (a reformatted line too) is a new genesis: bump the
#: version, record the digest (tests/test_genesis_contract.py says the new one), and
#: teach `proto upgrade` (genesis_upgrade.py) the sources it replaces.
GENESIS_VERSION = 2
GENESIS_DIGEST = "39dcfd5feb55042cfcd17a06ee703648c0a3d771d3eee643cdef85373bc0c0a0"


# The learner's settings: `model` nil means the default model (see learn/modelfile.py).
LEARNER_SETTINGS = {"model": None, "modelSha256": None, "maxAttempts": 3, "temperature": 0.0,
                    "verifySeconds": 20}


def method_source(fn) -> str:
    """A registered function's text without its decorator, as a method slot holds it."""
    lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
    while lines and lines[0].startswith("@"):
        lines.pop(0)
    return "\n".join(lines) + "\n"


def create_genesis(txn) -> World:
    """Populate an empty image with the genesis world (inside the caller's transaction)."""
    world = World(txn, roots={})
    made = {name: world.new_object()
            for name in ("lobby", "traits", "genesis", *TRAITS, "learner", "cLibrary")}
    world.roots = {name: obj.oid for name, obj in made.items()}
    top = made["object"]
    for name in TRAITS:
        if name != "object":
            world.put_slot(made[name], "parent", top, PARENT)
        for selector, fn in REGISTRY.get(name, ()):
            world.put_slot(made[name], selector, method_source(fn), METHOD)
        world.put_slot(made["traits"], name, made[name], CONSTANT)
    for name in ("lobby", "traits", "genesis", "learner"):
        world.put_slot(made[name], "parent", made["clonable"], PARENT)
    learner = made["learner"]
    for selector, fn in REGISTRY["learner"]:
        world.put_slot(learner, selector, method_source(fn), METHOD)
    for slot, value in LEARNER_SETTINGS.items():
        world.put_slot(learner, slot, value, DATA)
    library = made["cLibrary"]
    world.put_slot(library, "parent", learner, PARENT)
    world.put_slot(library, "header", None, DATA)
    world.put_slot(library, "library", None, DATA)
    lobby = made["lobby"]
    for name in ("lobby", "traits", "genesis", "learner", "cLibrary"):
        world.put_slot(lobby, name, made[name], CONSTANT)
    for name in MAKERS:
        maker = world.new_object()
        world.put_slot(maker, "parent", made["clonable"], PARENT)
        for selector, fn in REGISTRY[name]:
            world.put_slot(maker, selector, method_source(fn), METHOD)
        world.put_slot(lobby, name, maker, CONSTANT)
        if name == "Float":  # SOM's name for it
            world.put_slot(lobby, "Double", maker, CONSTANT)
    txn.put_meta(L.K_ROOTS, {name: Ref(oid) for name, oid in world.roots.items()})
    txn.put_meta(L.K_GENESIS, GENESIS_VERSION)
    txn.put_meta(L.K_API, API_VERSION)
    return world


def genesis_digest() -> str:
    """SHA-256 over what a new image's genesis holds that code wrote: every method's
    holder, selector and source, and the learner's settings."""
    import hashlib
    import json

    entries = sorted([holder, selector, method_source(fn)]
                     for holder, methods in REGISTRY.items() for selector, fn in methods)
    text = json.dumps([entries, LEARNER_SETTINGS, TRAITS, MAKERS], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
