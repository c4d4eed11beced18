"""What the shell asks of a world: send words, evaluate text, define, look at objects.

Resolving a path for `inspect` or `define` reads slots directly and never runs
a method, so looking at an image cannot execute code stored in it.
"""

from __future__ import annotations

from image_format.codec import MAX_OID
from image_format.layout import KINDS

from ..errors import UsageError
from .evaluator import Evaluator, compiled_env
from .intrinsics import ARITH
from .objects import METHOD, PARENT, ProtoObject
from .syntax import Lit, Name, Send, parse, parse_words


def send_words(world, receiver: str, words: list[str]) -> object:
    """`proto send RECEIVER WORDS...`: one message, each word whole."""
    node = parse_words(receiver, words)
    return _message(world, node) if _plain_message(node) else Evaluator(world).eval(node, {})


def evaluate(world, source: str) -> object:
    """`proto eval`: statements separated by '.', the last one's value answered."""
    program = parse(source)
    if len(program) == 1 and _plain_message(program[0]):
        return _message(world, program[0])
    return Evaluator(world).run(program)


def _plain_message(node) -> bool:
    """One send whose operands are literals or names: `3 + 4`, `point x: 10`."""
    return type(node) is Send and all(type(operand) in (Lit, Name)
                                      for operand in (node.receiver, *node.args))


def _message(world, node):
    """A plain message, sent as it stands: nothing to compile (start-up: the compiler is
    for programs). What the compiled program would do: names are the lobby's, and integer
    arithmetic is genesis's while the image's method for it is (evaluator.compiled_env)."""
    evaluator = Evaluator(world)
    values = [o.value if type(o) is Lit else evaluator.name(o.name)
              for o in (node.receiver, *node.args)]
    arithmetic = ARITH.get(node.selector)
    if arithmetic is not None and len(values) == 2:
        return compiled_env(world)[f"OP_{arithmetic[1]}"](*values)
    return world.send(values[0], node.selector, tuple(values[1:]))


def resolve(world, path: str) -> ProtoObject:
    """An object by lobby path (`point`, `traits.number`, `lobby`) or id (`@12`).

    Any text may arrive here: `@²` is no number, an id past 8 bytes is no key, and a
    name from argv that is not UTF-8 (lone surrogates) is no slot name."""
    digits = path[1:]
    if path.startswith("@") and digits.isascii() and digits.isdigit():
        if len(digits) > 20 or int(digits) > MAX_OID:
            raise UsageError(f"no object {path[:30]} in this image")
        obj = world.object(int(digits))
        if not world.exists(obj):
            raise UsageError(f"no object {path} in this image")
        return obj
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{path!r}: not a lobby path (it is not UTF-8 text)") from None
    obj = world.lobby
    for i, part in enumerate(path.split(".")):
        if i == 0 and part == "lobby":
            continue
        slot = world.slot(obj, part) if part else None
        if slot is None:
            where = "the lobby" if obj is world.lobby else world.describe(obj)
            raise UsageError(f"{path}: {where} has no slot {part!r}")
        if type(slot.value) is not ProtoObject:
            shown = world.describe(slot.value)
            raise UsageError(f"{path}: slot {part} holds {shown}, not an object")
        obj = slot.value
    return obj


def define(world, path: str, selector: str, source: str, meta: object = None) -> ProtoObject:
    from .method_source import validate_source

    obj = resolve(world, path)
    validate_source(source, selector)
    world.put_slot(obj, selector, source, METHOD, meta)
    return obj


def inspect_object(world, obj: ProtoObject) -> dict:
    """A plain description of an object's slots (no method is run)."""
    slots = []
    parents = set(world.parent_names(obj))
    for name, slot in world.slots(obj):
        entry = {"name": name + ("*" if slot.kind == PARENT else ""), "kind": KINDS[slot.kind]}
        if slot.kind == METHOD:
            entry["source"] = slot.value
        else:
            entry["value"] = slot.value
        if slot.meta is not None:
            entry["meta"] = slot.meta
        slots.append(entry)
    order = {name: i for i, name in enumerate(world.parent_names(obj))}
    slots.sort(key=lambda s: (0, order[s["name"][:-1]]) if s["name"][:-1] in parents
               and s["kind"] == "parent" else (1, s["name"]))
    return {"oid": obj.oid, "name": world.name_of(obj), "slots": slots}
