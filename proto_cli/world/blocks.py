"""Blocks: closures made by `[:x | ...]` in an expression; they live only in memory."""

from __future__ import annotations


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


class Block:
    """A closure over its defining scope; answers `value`, `value:` ... via traits block.

    Blocks cannot be stored in an image: they close over the running evaluation.
    """

    __slots__ = ("params", "body", "scope", "evaluator")

    def __init__(self, params: list[str], body: list, scope: Scope, evaluator) -> None:
        self.params = params
        self.body = body
        self.scope = scope
        self.evaluator = evaluator

    def __call__(self, *args: object) -> object:
        if len(args) != len(self.params):
            from .errors import UsageError

            raise UsageError(f"block takes {len(self.params)} argument(s), {len(args)} given")
        return self.evaluator.run(
            self.body, Scope(dict(zip(self.params, args, strict=True)), self.scope))

    def proto_print(self) -> str:
        return "[:" + " :".join(self.params) + " | ...]" if self.params else "[...]"
