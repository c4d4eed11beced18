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
    """Runs parsed statements. Each node is compiled once per evaluator into a Python
    closure over its children's closures (`code`): the tree is walked when it is
    compiled, not at every run of a loop's body. What a closure does is what the
    tree walk did, node for node: the same sends, in the same order."""

    def __init__(self, world) -> None:
        self.world = world
        self._code: dict[Node, object] = {}  # node (by identity) -> its closure
        self._bodies: dict[int, tuple] = {}  # id(statements) -> (statements, closure)

    def run(self, statements: list[Node], scope: Scope | dict | None = None) -> object:
        scope = _scope(scope)
        try:
            return self.body(statements)(scope)
        except NonLocalReturn as ret:
            if ret.home is not scope:
                raise
            return ret.value

    def eval(self, node: Node, scope: Scope | dict) -> object:
        if type(scope) is dict:
            scope = Scope(scope)
        return self.code(node)(scope)

    def body(self, statements: list[Node]):
        """Statements as one closure answering the last one's value. Nothing is caught
        here: `run` catches the `^` whose home is its scope, and a block's scope is never
        a home (that is its outermost scope), so a block's `^` passes through."""
        key = id(statements)
        hit = self._bodies.get(key)
        if hit is not None and hit[0] is statements:
            return hit[1]
        codes = [self.code(stmt) for stmt in statements]
        if not codes:
            fn = _nothing
        elif len(codes) == 1:
            fn = codes[0]
        else:
            def fn(scope):
                result = None
                for code in codes:
                    result = code(scope)
                return result
        self._bodies[key] = (statements, fn)  # the list kept: its id stays its own
        return fn

    def code(self, node: Node):
        """The node's closure, compiled on first use."""
        fn = self._code.get(node)
        if fn is None:
            fn = self._code[node] = self._compile(node)
        return fn

    def _compile(self, node: Node):
        t = type(node)
        if t is Send:
            return self._send(node)
        if t is Lit:
            value = node.value
            return lambda scope: value
        if t is Name:
            return self._name(node.name)
        if t is Assign:
            return self._assign(node.name, self.code(node.expr))
        if t is BlockNode:
            return lambda scope: Block(node, scope, self)
        if t is Cascade:
            receiver = self.code(node.receiver)
            messages = [(selector, [self.code(a) for a in args])
                        for selector, args in node.messages]
            send = self.world.send

            def cascade(scope):
                value = receiver(scope)
                result = None
                for selector, args in messages:
                    result = send(value, selector, tuple([a(scope) for a in args]))
                return result

            return cascade
        if t is Brace:  # a new list each time, that can change (a literal #() cannot)
            items = [self.code(item) for item in node.items]
            return lambda scope: [item(scope) for item in items]
        if t is Temps:
            names = list(node.names)

            def temps(scope):
                for name in names:
                    scope.names[name] = None

            return temps
        if t is Return:
            expr = self.code(node.expr)

            def ret(scope):
                home = scope
                while home.outer is not None:
                    home = home.outer
                if type(home) is not Scope:
                    _check_home(home)
                raise NonLocalReturn(expr(scope), home)

            return ret
        raise TypeError(f"unknown node {t.__name__}")

    def _send(self, node: Send):
        """A send and the sends it is sent to (`a b c + d ...`): one closure for the whole
        chain, so a long chain costs no Python frame per send."""
        links = []
        while type(node) is Send:
            links.append(node)
            node = node.receiver
        first = self.code(node)
        steps = [(link.selector, [self.code(a) for a in link.args]) for link in reversed(links)]
        send = self.world.send
        if len(steps) == 1:
            ((selector, args),) = steps
            if not args:
                return lambda scope: send(first(scope), selector, ())
            if len(args) == 1:
                (arg,) = args
                return lambda scope: send(first(scope), selector, (arg(scope),))

        def chain(scope):
            value = first(scope)
            for selector, args in steps:
                value = send(value, selector, tuple([a(scope) for a in args]))
            return value

        return chain

    def _name(self, name: str):
        miss = self.name

        def read(scope):
            while scope is not None:
                names = scope.names
                if name in names:
                    return names[name]
                scope = scope.outer
            return miss(name)

        return read

    def _assign(self, name: str, expr):
        miss = self.assign

        def write(scope):
            value = expr(scope)
            holder = scope
            while holder is not None:
                names = holder.names
                if name in names:
                    names[name] = value
                    return value
                holder = holder.outer
            miss(name, value)
            return value

        return write

    def name(self, name: str) -> object:
        """A name no enclosing scope has: `self` or the lobby's."""
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

    def assign(self, name: str, value: object) -> None:
        """An assignment to a name no enclosing scope has: the lobby's slot."""
        world, lobby = self.world, self.world.lobby
        slot = world.slot(lobby, name)
        if slot is None:
            world.put_slot(lobby, name, value, DATA)
        else:
            world.set_slot(lobby, name, value, assignment=True)


def _nothing(scope) -> None:
    return None


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
