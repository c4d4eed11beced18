"""Evaluating parsed expressions: every operation is a message send.

Names resolve to block parameters first (the innermost block's, then those of the
blocks it is nested in: scopes are shared, never copied), then are sent as unary
messages to the lobby (the root namespace, as in Self); `name := value` sets that
parameter or the lobby slot `name`, adding it when it is new.
"""

from __future__ import annotations

from ..errors import MessageNotUnderstood, ProtoError
from .blocks import Block, Scope
from .objects import DATA
from .syntax import Assign, BlockNode, Brace, Cascade, Lit, Name, Node, Return, Send, Temps


class UnknownName(ProtoError):
    """A name that is neither a block parameter nor answered by the lobby."""


class NonLocalReturn(BaseException):  # noqa: N818 - control flow, like GeneratorExit
    """`^value`, unwinding to the program it returns from: through blocks and the
    methods that run them (past their `except Exception`), as in Smalltalk."""

    def __init__(self, value: object, home: Scope) -> None:
        self.value = value
        self.home = home


class Evaluator:
    def __init__(self, world) -> None:
        self.world = world

    def run(self, statements: list[Node], scope: Scope | dict | None = None) -> object:
        scope = _scope(scope)
        result = None
        try:
            for stmt in statements:
                result = self.eval(stmt, scope)
        except NonLocalReturn as ret:
            if ret.home is not scope:
                raise
            return ret.value
        return result

    def eval(self, node: Node, scope: Scope | dict) -> object:
        if type(scope) is dict:
            scope = Scope(scope)
        t = type(node)
        if t is Send:
            return self.chain(node, scope)
        if t is Lit:
            return node.value
        if t is Name:
            return self.name(node.name, scope)
        if t is Assign:
            value = self.eval(node.expr, scope)
            self.assign(node.name, value, scope)
            return value
        if t is BlockNode:
            return Block(node, scope, self)
        if t is Cascade:
            receiver = self.eval(node.receiver, scope)
            result = None
            for selector, args in node.messages:
                values = tuple(self.eval(a, scope) for a in args)
                result = self.world.send(receiver, selector, values)
            return result
        if t is Brace:  # a new list each time, that can change (a literal #() cannot)
            return [self.eval(item, scope) for item in node.items]
        if t is Temps:
            for name in node.names:
                scope.names[name] = None
            return None
        if t is Return:
            home = scope
            while home.outer is not None:
                home = home.outer
            if type(home) is not Scope:
                _check_home(home)
            raise NonLocalReturn(self.eval(node.expr, scope), home)
        raise TypeError(f"unknown node {t.__name__}")

    def chain(self, node: Send, scope: Scope) -> object:
        """A send and the sends it is sent to (`a b c + d ...`), in a loop: a long chain
        must not cost one Python frame per send."""
        links = []
        while type(node) is Send:
            links.append(node)
            node = node.receiver
        value = self.eval(node, scope)
        send = self.world.send
        for link in reversed(links):
            value = send(value, link.selector, tuple(self.eval(a, scope) for a in link.args))
        return value

    def name(self, name: str, scope: Scope) -> object:
        names = scope.holder(name)
        if names is not None:
            return names[name]
        if name == "self":
            return self.world.lobby
        lobby = self.world.lobby
        try:
            return self.world.send(lobby, name)
        except MessageNotUnderstood as exc:
            if exc.message.receiver is lobby and exc.message.selector == name:
                hint = f" (did you mean: {', '.join(exc.near)}?)" if exc.near else ""
                raise UnknownName(f"unknown name {name}{hint}") from None
            raise

    def assign(self, name: str, value: object, scope: Scope) -> None:
        names = scope.holder(name)
        if names is not None:
            names[name] = value
            return
        world, lobby = self.world, self.world.lobby
        slot = world.slot(lobby, name)
        if slot is None:
            world.put_slot(lobby, name, value, DATA)
        else:
            world.set_slot(lobby, name, value, assignment=True)


def _check_home(home: Scope) -> None:
    """A `^` may return only to an activation still running (BlockCannotReturn)."""
    from .blocks import StoredScope

    if type(home) is StoredScope:
        raise ProtoError("^ in a stored block: the program that made the block has ended, "
                         "so there is nothing to return from")
    if not getattr(home, "live", True):
        raise ProtoError("^ in a block whose method has already answered: there is nothing "
                         "to return from")


def _scope(scope: Scope | dict | None) -> Scope:
    if scope is None:
        return Scope({})
    return Scope(scope) if type(scope) is dict else scope
