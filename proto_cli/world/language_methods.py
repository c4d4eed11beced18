"""Methods written in proto's own language, as a Self or Smalltalk user writes them.

A method slot holds Python source (`def ...`) or a block's source: `[:x | ^ self y + x]`,
one parameter per argument of the selector. Sent, it runs with `self` bound to the
receiver; it answers its last expression's value, as a Self method does (`^` answers
early, from the method or from any block inside it). A block that outlives its method
and then tries `^` gets an error, Smalltalk's BlockCannotReturn.

`define:as:` takes the text or a block literal (`p define: 'norm' as: [(self x squared +
self y squared) sqrt]`); a block that uses the variables of the program defining it is
refused, since a method runs long after that program has ended.
"""

from __future__ import annotations

from ..errors import UsageError
from .blocks import Scope
from .message import selector_arity


class MethodScope(Scope):
    """The outermost scope of one activation of a language method; `live` until it has
    answered, so a `^` from a block that escaped it can be refused."""

    __slots__ = ("live",)

    def __init__(self, names: dict) -> None:  # (no super() call: one per method send)
        self.names = names
        self.outer = None
        self.live = True


def block_of(source: str, selector: str | None):
    """The parsed block a method's source is, checked against its selector (None: a
    stored block, of any arity)."""
    from .syntax import BlockNode, parse

    what = f"method {selector}" if selector is not None else "block"
    try:
        program = parse(source)
    except UsageError as exc:
        raise UsageError(f"{what}: {exc}") from None
    node = program[0] if len(program) == 1 else None
    if type(node) is not BlockNode:
        raise UsageError(f"{what}: the source must be one block, [:arg | ...]")
    if selector is None:
        return node
    want = selector_arity(selector)
    if len(node.params) != want:
        raise UsageError(f"method {selector}: takes {want} argument(s), but the block has "
                         f"{len(node.params)} parameter(s)")
    return node


def source_of_block(block, selector: str) -> str:
    """The method source a block literal given to define:as: becomes."""
    from .blocks import _names_in

    used = sorted(n for n in _names_in(block.node.body) if block.scope.holder(n) is not None
                  and n not in block.params)
    if used:
        raise UsageError(f"method {selector}: the block uses {', '.join(used[:5])} of the "
                         "program that defines it; a method sees only self, its arguments "
                         "and the lobby")
    if not block.node.source:
        raise UsageError(f"method {selector}: this block has no source text")
    return block.node.source


def language_method(world, holder, selector: str, source: str):
    """The function a method slot of language source holds."""
    from .evaluator import Evaluator, NonLocalReturn
    from .syntax import Return, walk

    node = block_of(source, selector)
    params, body = node.params, node.body
    names = frozenset(("self", *params))
    if not any(type(n) is Return for n in walk(body)):
        # Nothing in it can `^`, so nothing needs its activation's identity or liveness:
        # it runs as a block body does, on its names alone (a Scope only if a block is made).
        run = Evaluator(world).compile(body, names, False, block=True)

        # (Each form builds its activation inline: a shared helper measured 10% slower on
        # bench_interpreter's sends to a method; this is every language method's send.)
        def method(receiver, *args):
            if args or params:
                return run({"self": receiver, **dict(zip(params, args, strict=True))}, None)
            return run({"self": receiver}, None)

        method.__name__ = selector
        return method
    run = Evaluator(world).compile(body, names, False)

    def method(receiver, *args):
        if args or params:
            scope = MethodScope({"self": receiver, **dict(zip(params, args, strict=True))})
        else:  # a unary method
            scope = MethodScope({"self": receiver})
        try:
            return run(scope)
        except NonLocalReturn as ret:
            if ret.home is not scope:
                raise
            return ret.value
        finally:
            scope.live = False

    method.__name__ = selector
    return method
