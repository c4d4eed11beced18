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
from .syntax import BlockNode, Node


class UnknownName(ProtoError):
    """A name that is neither a block parameter nor answered by the lobby."""


class NonLocalReturn(BaseException):  # noqa: N818 - control flow, like GeneratorExit
    """`^value`, unwinding to the program it returns from: through blocks and the
    methods that run them (past their `except Exception`), as in Smalltalk."""

    def __init__(self, value: object, home: Scope) -> None:
        self.value = value
        self.home = home


class Evaluator:
    """Runs parsed statements, compiled to Python (codegen.py) once per evaluator: a
    body is compiled for the names its scope holds and whether that scope has an outer
    one, and kept with the statements it came from."""

    def __init__(self, world) -> None:
        self.world = world
        self._bodies: dict[tuple, tuple] = {}  # (id(statements), names, outer) -> (it, fn)

    def run(self, statements: list[Node], scope: Scope | dict | None = None) -> object:
        scope = _scope(scope)
        try:
            return self.body(statements, scope)(scope)
        except NonLocalReturn as ret:
            if ret.home is not scope:
                raise
            return ret.value

    def eval(self, node: Node, scope: Scope | dict) -> object:
        scope = _scope(scope)
        return self.body([node], scope, keep=False)(scope)

    def body(self, statements: list[Node], scope: Scope, keep: bool = True):
        """The function running `statements` in a scope like this one. Nothing is caught
        here: `run` catches the `^` whose home is its scope."""
        key = (id(statements), frozenset(scope.names), scope.outer is not None)
        hit = self._bodies.get(key)
        if hit is not None and hit[0] is statements:
            return hit[1]
        fn = self.compile(statements, key[1], key[2], hot=False)  # a program: run once
        if keep:  # the list kept: its id stays its own
            self._bodies[key] = (statements, fn)
        return fn

    def block_run(self, node: BlockNode):
        """The function a block revived from a slot runs: its outer scope holds the
        values it captured, known only when it runs."""
        return self.compile(node.body, frozenset(node.params), True, block=True)

    def compile(self, statements: list[Node], names: frozenset, outer: bool,
                block: bool = False, hot: bool = True):
        from .codegen import compile_body

        return compile_body(statements, names, outer, compiled_env(self.world), block=block,
                            hot=hot)

    def name(self, name: str) -> object:
        """A name no enclosing scope has: `self` or the lobby's."""
        if name == "self":
            return self.world.lobby
        try:
            return self.world.send(self.world.lobby, name)
        except MessageNotUnderstood as exc:
            self.unknown(exc, name)

    def unknown(self, exc: MessageNotUnderstood, name: str):
        """The lobby did not understand `name`: an unknown name, unless the miss was
        another's (a method the lobby's slot reader ran)."""
        if exc.message.receiver is self.world.lobby and exc.message.selector == name:
            hint = f" (did you mean: {', '.join(exc.near)}?)" if exc.near else ""
            raise UnknownName(f"unknown name {name}{hint}") from None
        raise exc

    def assign(self, name: str, value: object) -> None:
        """An assignment to a name no enclosing scope has: the lobby's slot."""
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


def compiled_env(world) -> dict:
    """The globals of one world's compiled code: the send, the scopes, the inline
    paths' flags (intrinsics.py) and what a loop runs when its fast path must stop."""
    env = world._compiled_env
    if env is not None:
        return env
    from .intrinsics import ARITH, Guards

    helper = Evaluator(world)
    send = world.send

    def read(scope, name):  # past the scopes the compiler knew (a stored block's values)
        names = scope.holder(name)
        return helper.name(name) if names is None else names[name]

    def write(scope, name, value):
        names = scope.holder(name)
        if names is None:
            helper.assign(name, value)
        else:
            names[name] = value

    def home(scope):
        while scope.outer is not None:
            scope = scope.outer
        if type(scope) is not Scope:
            _check_home(scope)
        return scope

    def not_boolean(selector, value):
        raise ProtoError(f"{selector} condition answered {world.describe(value)[:60]}, "
                         "not a boolean")

    # The rest of a loop whose blocks' `value` changed while it ran, as genesis's runs it.
    def to_do_rest(i, stop, block):
        while i <= stop:
            send(block, "value:", (i,))
            i += 1

    def float_steps(i, stop):  # to:do: up to a float: i counts in integers
        while i <= stop:
            yield i
            i += 1

    def times_rest(count, block):
        for _ in range(count):
            send(block, "value", ())

    def while_rest(cond, body, want, body_first):
        if body_first:
            send(body, "value", ())
        while True:
            condition = send(cond, "value", ())
            if condition is not True and condition is not False:
                not_boolean("whileTrue:" if want else "whileFalse:", condition)
            if condition is not want:
                return None
            send(body, "value", ())

    def arithmetic(selector, flag, op):  # a site that runs once calls this
        def run(a, b):
            if type(a) is int and type(b) is int and (env[flag] or guards.check(flag)):
                return op(a, b)
            return send(a, selector, (b,))

        return run

    env = world._compiled_env = {
        "SEND": send, "BLOCK": Block, "SCOPE": Scope, "NLR": NonLocalReturn, "HOME": home,
        "READ": read, "WRITE": write, "ASSIGN": helper.assign, "LOBBY": world.lobby,
        "UNKNOWN": helper.unknown, "NOT_UNDERSTOOD": MessageNotUnderstood,
        "NOT_BOOLEAN": not_boolean, "TO_DO_REST": to_do_rest, "FLOAT_STEPS": float_steps,
        "TIMES_REST": times_rest, "WHILE_REST": while_rest,
    }
    guards = world._guards = Guards(world, env)
    env["CHECK"] = guards.check
    for selector, (_op, flag) in ARITH.items():
        env[f"OP_{flag}"] = arithmetic(selector, flag, _OPERATORS[selector])
    return env


_OPERATORS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
              "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
              ">=": lambda a, b: a >= b}
