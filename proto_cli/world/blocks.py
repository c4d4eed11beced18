"""Blocks: closures made by `[:x | ...]` in an expression, and blocks kept in slots.

A live block closes over the running evaluation. Stored in a slot, it becomes a
StoredBlock (image_format/values.py): its source text and the values its enclosing
variables held then. Sent `value` later, it is parsed and run again over a scope made
from those values: a copy, as every stored value is, so a stored counter block counts
within one command and starts again from its stored values in the next.
"""

from __future__ import annotations

from image_format.values import StoredBlock


class Scope:
    """One activation's variables and the scope it was defined in. A block's activation
    shares its defining scope, as in every Smalltalk: an assignment to an outer variable
    is seen by the outer code and by every other block over it (a copy would lose it:
    a counter that stays at 1, a `whileTrue:` that never ends)."""

    __slots__ = ("names", "outer")

    def __init__(self, names: dict, outer: Scope | None = None) -> None:
        self.names = names
        self.outer = outer

    def holder(self, name: str) -> dict | None:
        """The variables of the innermost scope that has `name`, or None."""
        scope = self
        while scope is not None:
            if name in scope.names:
                return scope.names
            scope = scope.outer
        return None


class StoredScope(Scope):
    """The outermost scope of a block revived from a slot: the values it captured. A
    `^` that reaches it has no program to return from."""

    __slots__ = ()


class Block:
    """A closure over its defining scope; answers `value`, `value:` ... via traits block."""

    __slots__ = ("params", "body", "scope", "node", "run")

    def __init__(self, node, scope: Scope, run) -> None:
        self.node = node
        self.params = node.params
        self.body = node.body
        self.scope = scope
        self.run = run  # its body, compiled (codegen.py): run(its names, its outer Scope)

    def __call__(self, *args: object) -> object:
        params = self.params
        count = len(args)
        if count != len(params):
            from ..errors import ProtoError

            raise ProtoError(f"{self.proto_print()[:60]} takes {len(params)} argument(s), "
                             f"{count} given")
        if count == 1:
            names = {params[0]: args[0]}
        elif not count:
            names = {}
        elif count == 2:  # inject:into:, keysAndValuesDo:...
            names = {params[0]: args[0], params[1]: args[1]}
        else:
            names = dict(zip(params, args, strict=True))
        try:
            return self.run(names, self.scope)  # its Scope is made only if needed
        except RecursionError as exc:  # a block calling itself sends nothing to say where
            if not hasattr(exc, "proto_where"):
                exc.proto_where = f"block {self.proto_print()[:60]}"
            raise

    def proto_print(self) -> str:
        source = self.node.source
        if source:
            return source if len(source) <= 80 else source[:76] + " ...]"
        return "[:" + " :".join(self.params) + " | ...]" if self.params else "[...]"

    def stored(self, depth: int = 0) -> StoredBlock:
        """This block as a slot keeps it: its source and the enclosing variables it uses,
        each a storable copy (a block among them stored the same way, one level deeper:
        a block that holds itself ends where storable's depth does)."""
        captured = {}
        for name in sorted(_names_in(self.node.body)):
            names = self.scope.holder(name)
            if names is not None and name not in self.params:
                captured[name] = storable(names[name], depth + 1)
        return StoredBlock(self.node.source, captured)


def storable(value: object, depth: int = 0) -> object:
    """`value` with every live block in it replaced by its stored form. Past the depth
    an image can store (a list that holds itself), it stops: encoding then says why."""
    t = type(value)
    if depth > 64:
        return value
    if t is Block:
        return value.stored(depth)
    if t is list or t is tuple:
        return tuple(storable(v, depth + 1) for v in value)
    if t is dict:
        return {k: storable(v, depth + 1) for k, v in value.items()}
    return value


def revive(world, stored: StoredBlock) -> Block:
    """The live block a stored one is: parsed once per command (never by reading it)."""
    from .evaluator import Evaluator
    from .syntax import BlockNode, parse

    cache = world._revived
    hit = cache.get(id(stored))
    if hit is not None and hit[0] is stored:
        return hit[1]
    from ..errors import ProtoError, UsageError

    try:
        program = parse(stored.source)
    except UsageError as exc:
        raise ProtoError(f"stored block {stored.source[:40]!r}: {exc}") from None
    node = program[0] if len(program) == 1 else None
    if type(node) is not BlockNode:
        raise ProtoError(f"a stored block's source is not one block: {stored.source[:60]!r}")
    block = Block(node, StoredScope(dict(stored.captured)), Evaluator(world).block_run(node))
    cache[id(stored)] = (stored, block)
    return block


def _names_in(nodes) -> set[str]:
    """Every variable name read or assigned anywhere in these statements."""
    from .syntax import Assign, Name, walk

    return {node.name for node in walk(nodes) if type(node) is Name or type(node) is Assign}
