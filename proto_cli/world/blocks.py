"""Blocks: closures made by `[:x | ...]` in an expression; they live only in memory."""

from __future__ import annotations


class Block:
    """A closure over its defining scope; answers `value`, `value:` ... via traits block.

    Blocks cannot be stored in an image: they close over the running evaluation.
    """

    __slots__ = ("params", "body", "scope", "evaluator")

    def __init__(self, params: list[str], body: list, scope: dict, evaluator) -> None:
        self.params = params
        self.body = body
        self.scope = scope
        self.evaluator = evaluator

    def __call__(self, *args: object) -> object:
        if len(args) != len(self.params):
            from .errors import UsageError

            raise UsageError(f"block takes {len(self.params)} argument(s), {len(args)} given")
        scope = dict(self.scope)
        scope.update(zip(self.params, args, strict=True))
        return self.evaluator.run(self.body, scope)

    def proto_print(self) -> str:
        return "[:" + " :".join(self.params) + " | ...]" if self.params else "[...]"
