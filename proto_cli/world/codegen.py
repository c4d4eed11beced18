"""Compiling parsed statements to Python source: one code object per program.

Why: walking the tree (or a tree of closures) costs a Python call per node, and a
counting loop was 50-100x slower than the same loop in CPython. Here a program, and
each block in it when a block of it is first made, becomes one Python function, so a
loop's body is straight-line Python.

What it keeps exactly (the language issue's semantics):
- Every operation is a message send, in the order the tree says: each value goes to a
  temporary as soon as it is made, so `s + b value` reads `s` before `b` may change it.
- Variables live in Scope dicts shared by every block over them (blocks.py). A name
  resolves at compile time to the innermost scope that declares it, which is exact:
  `| temps |` come first in a body, and a scope gains no other name. A name no
  compiled scope declares is looked up at run time, past them (a stored block's
  captured values), then sent to the lobby, as before.
- Inline paths, as Smalltalk compilers have for `ifTrue:`, `to:do:`, `whileTrue:` and
  small-integer arithmetic, run only while the image still has genesis's method for
  that send (intrinsics.py); otherwise the site makes its blocks and sends. A loop
  whose blocks' `value` is redefined while it runs finishes with real sends, as the
  genesis method would.
- An inlined block's variables are Python locals only when no block inside it could
  capture them; otherwise it gets a Scope per activation, as a real block would.
- `^` unwinds to the outermost scope of the chain, as before (evaluator.NonLocalReturn).
"""

from __future__ import annotations

from ..errors import ProtoError
from .intrinsics import ARITH, BLOCK_VALUE, CONDITIONALS
from .syntax import (
    Assign,
    BlockNode,
    Brace,
    Cascade,
    Lit,
    Name,
    Node,
    Return,
    Send,
    Temps,
    walk,
)

#: Python allows 20 nested loops/trys and 100 indentation levels; a body nested deeper
#: than this many inlined constructs makes real blocks instead.
MAX_INLINE_DEPTH = 12
#: An inlined construct carries its fallback path beside its inline body, so nesting
#: grows the source faster than the program; past this many lines a unit inlines no more.
MAX_LINES = 4000


class Unit:
    """One compile: a body and every block in it, as the source of one factory function
    whose argument is the constants the source cannot spell (block nodes, #(...))."""

    def __init__(self, env: dict, inline: bool = True, hot: bool = True) -> None:
        self.env = env
        self.inline = inline
        self.hot = hot  # its entry runs often (a method), not once (a program)
        self.consts: list[object] = []
        self.indexes: dict[int, int] = {}  # id(constant) -> its place in consts
        self.functions: list[list[str]] = []
        self.lazy: dict[tuple, LazyBody] = {}  # real_block's bodies, one per node and place
        self.count = 0
        self.lines = 0

    def const(self, value: object) -> str:
        """A literal in the source when Python writes it back exactly (a constant of the
        code object: the fastest read); anything else, an item of the factory's tuple."""
        kind = type(value)
        if value is None or kind is bool or kind is int or kind is str or kind is bytes or \
                (kind is float and value - value == 0):  # not inf or nan
            try:
                return repr(value)
            except ValueError:  # an int past Python's digit limit for text
                pass
        index = self.indexes.get(id(value))
        if index is None:  # (the list keeps the value, so its id stays its own)
            index = self.indexes[id(value)] = len(self.consts)
            self.consts.append(value)
        return f"C[{index}]"

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def source(self, entry: str) -> str:
        lines = ["def _factory(C):"]
        for fn in self.functions:
            lines.extend("    " + line for line in fn)
        lines.append(f"    return {entry}")
        return "\n".join(lines) + "\n"


class _Created:
    """A scope made inside a function by an inlined block: Python locals, or (when a
    block inside could capture them) a dict and a Scope of its own."""

    def __init__(self, names: list[str], unit: Unit, materialized: bool) -> None:
        self.names = names
        self.materialized = materialized
        if materialized:
            self.dict, self.scope = unit.fresh("d"), unit.fresh("s")
            self.locals: dict[str, str] = {}
        else:
            self.locals = {name: unit.fresh("v") for name in names}


class Function:
    """One Python function: a program's or method's `f(scope)`, a block's
    `f(names, outer)`.

    `chain` holds the names of the scopes it can see at entry, innermost (its own)
    first: scope, scope.outer, ... `unknown` says whether the chain goes on past them
    to scopes whose names are known only at run time (a stored block's values)."""

    def __init__(self, unit: Unit, chain: list[frozenset], unknown: bool,
                 block: bool = False) -> None:
        self.unit = unit
        self.block = block
        self.used_scope = False
        self.name = unit.fresh("f")
        self.chain = chain
        self.unknown = unknown
        self.created: list[_Created] = []
        self.lines: list[str] = []
        self.indent = 1
        self.depth = 0  # inlined constructs open around the current line
        self.used_chain: set[int] = set()
        self.used_unknown = False
        self.temps = 0
        self.loops = 0  # inlined loops open around the current line

    def hot(self) -> bool:
        """Whether the code emitted now may run many times: all of a block's or a
        method's, a program's only inside its loops (its top level runs once)."""
        return self.block or self.unit.hot or self.loops > 0

    # -- output
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)
        self.unit.lines += 1

    def tmp(self) -> str:
        """A fresh temporary. Numbered per top-level statement: no value outlives the
        statement that made it, and a function with tens of thousands of distinct locals
        takes Python seconds to compile."""
        self.temps += 1
        return f"t{self.temps}"

    def finish(self, body: list[Node]) -> str:
        """Emit the function; answers its name. A program's takes its Scope; a block's
        takes its own names and the Scope it closes over, and makes a Scope object of its
        own only when something needs one (a block made inside it)."""
        result = "None"
        for node in body:
            self.temps = 0
            result = self.expr(node)
        self.emit(f"return {result}")
        prologue = []
        if self.block:
            outer = ["outer" + ".outer" * (k - 1) for k in range(len(self.chain) + 1)]
            if self.used_scope:
                prologue.append("    scope = SCOPE(names, outer)")
            head = f"def {self.name}(names, outer):"
        else:
            outer = ["scope" + ".outer" * k for k in range(len(self.chain) + 1)]
            head = f"def {self.name}(scope):"
        for k in sorted(self.used_chain):
            prologue.append(f"    e{k} = {'names' if self.block and k == 0 else outer[k]}"
                            f"{'' if self.block and k == 0 else '.names'}")
        if self.used_unknown:
            prologue.append(f"    u = {outer[len(self.chain)]}")
        self.unit.functions.append([head, *prologue, *self.lines])
        return self.name

    # -- scopes
    def resolve(self, name: str) -> tuple[str, str]:
        """How to reach `name`: ('local', var), ('dict', dict var), ('unknown', '') or
        ('lobby', '')."""
        for level in reversed(self.created):
            if name in level.names:
                if level.materialized:
                    return "dict", level.dict
                return "local", level.locals[name]
        for k, names in enumerate(self.chain):
            if name in names:
                self.used_chain.add(k)
                return "dict", f"e{k}"
        if self.unknown:
            self.used_unknown = True
            return "unknown", ""
        return "lobby", ""

    def current_scope(self) -> str:
        """The Scope a block made here closes over."""
        for level in reversed(self.created):
            if level.materialized:
                return level.scope
        self.used_scope = True
        return "scope"

    def visible_chain(self) -> list[frozenset]:
        """The names of every Scope a block made here can see, innermost first."""
        made = [frozenset(level.names) for level in reversed(self.created)
                if level.materialized]
        return made + self.chain

    # -- statements and expressions
    def statements(self, body: list[Node]) -> str:
        result = "None"
        for node in body:
            result = self.expr(node)
        return result

    def expr(self, node: Node) -> str:
        """Emit the node's evaluation; answer a Python name (or constant) holding it."""
        t = type(node)
        if t is Send:
            return self.send(node)
        if t is Lit:
            return self.unit.const(node.value)
        if t is Name:
            return self.read(node.name)
        if t is Assign:
            value = self.expr(node.expr)
            self.write(node.name, value)
            return value
        if t is BlockNode:
            return self.real_block(node)
        if t is Cascade:
            receiver = self.expr(node.receiver)
            out = "None"
            for selector, args in node.messages:
                out = self.plain_send(receiver, selector, [self.expr(a) for a in args])
            return out
        if t is Brace:
            items = [self.expr(item) for item in node.items]
            out = self.tmp()
            self.emit(f"{out} = [{', '.join(items)}]")
            return out
        if t is Temps:
            for name in node.names:
                self.write(name, "None")
            return "None"
        if t is Return:  # where it returns to is checked first, before its value is made
            home = self.tmp()
            self.emit(f"{home} = HOME({'outer' if self.block else 'scope'})")
            value = self.expr(node.expr)
            self.emit(f"raise NLR({value}, {home})")
            return "None"
        raise TypeError(f"unknown node {t.__name__}")

    def read(self, name: str) -> str:
        how, var = self.resolve(name)
        out = self.tmp()
        if how == "local":
            self.emit(f"{out} = {var}")
        elif how == "dict":
            self.emit(f"{out} = {var}[{name!r}]")
        elif how == "unknown":
            self.emit(f"{out} = READ(u, {name!r})")
        elif name == "self":  # no scope has it: the lobby, as at the top of a program
            self.emit(f"{out} = LOBBY")
        else:  # the lobby's slot, by a send (a miss is an unknown name)
            self.emit("try:")
            self.emit(f"    {out} = SEND(LOBBY, {name!r}, ())")
            self.emit("except NOT_UNDERSTOOD as exc:")
            self.emit(f"    UNKNOWN(exc, {name!r})")
        return out

    def write(self, name: str, value: str) -> None:
        how, var = self.resolve(name)
        if how == "local":
            self.emit(f"{var} = {value}")
        elif how == "dict":
            self.emit(f"{var}[{name!r}] = {value}")
        elif how == "unknown":
            self.emit(f"WRITE(u, {name!r}, {value})")
        else:
            self.emit(f"ASSIGN({name!r}, {value})")

    def plain_send(self, receiver: str, selector: str, args: list[str]) -> str:
        out = self.tmp()
        packed = "()" if not args else f"({', '.join(args)},)"
        self.emit(f"{out} = SEND({receiver}, {selector!r}, {packed})")
        return out

    def send(self, node: Send) -> str:
        """A send and the sends it is the receiver of (`1 + 1 + 1 ...`, `x abs abs`), one
        link after another: a chain as long as a program is costs no recursion here."""
        links = []
        while type(node) is Send:
            links.append(node)
            node = node.receiver
        innermost = links[-1]
        if self.inlining() and innermost.selector in ("whileTrue:", "whileFalse:") and \
                _literal_block(innermost.receiver, 0) and _literal_block(innermost.args[0], 0):
            value = self.while_loop(innermost)  # its receiver is a literal block
            links.pop()
        else:
            value = self.expr(node)
        for link in reversed(links):
            value = self.one_send(link, value)
        return value

    def inlining(self) -> bool:
        return self.unit.inline and self.depth < MAX_INLINE_DEPTH and self.unit.lines < MAX_LINES

    def one_send(self, node: Send, receiver: str) -> str:
        """`node` sent to the value already in `receiver`."""
        selector, args = node.selector, node.args
        if self.inlining():
            inline = _INLINE.get(selector)
            if inline is not None and inline[1](node):
                return inline[0](self, node, receiver)
        values = [self.expr(a) for a in args]
        if selector in ARITH and self.unit.inline:
            (arg,) = values
            out = self.tmp()
            op, flag = ARITH[selector]
            if not self.hot():  # runs once: a call is less to compile than the test inline
                self.emit(f"{out} = OP_{flag}({receiver}, {arg})")
                return out
            self.emit(f"{out} = {receiver} {op} {arg} if type({receiver}) is int "
                      f"and type({arg}) is int and ({flag} or CHECK({flag!r})) else "
                      f"SEND({receiver}, {selector!r}, ({arg},))")
            return out
        if selector in BLOCK_VALUE and self.unit.inline:
            receiver = self.named(receiver)  # Python warns of `'x'()`
            out = self.tmp()
            packed = "()" if not values else f"({', '.join(values)},)"
            self.emit(f"{out} = {receiver}({', '.join(values)}) if type({receiver}) is BLOCK "
                      f"and (VAL or CHECK('VAL')) else SEND({receiver}, {selector!r}, {packed})")
            return out
        return self.plain_send(receiver, selector, values)

    # -- inlined blocks
    def open_block(self, node: BlockNode, bound: dict[str, str]) -> _Created | None:
        """Enter an inlined block's body: its parameters bound to the given Python
        expressions, its temporaries nil. None when it declares nothing."""
        names = list(node.params) + sorted(_temps(node.body) - set(node.params))
        if not names:
            return None
        level = _Created(names, self.unit, _captured(node.body, set(names)))
        if level.materialized:
            pairs = ", ".join(f"{name!r}: {bound[name]}" for name in node.params)
            self.emit(f"{level.dict} = {{{pairs}}}")
            self.emit(f"{level.scope} = SCOPE({level.dict}, {self.current_scope()})")
        else:
            for name in node.params:
                self.emit(f"{level.locals[name]} = {bound[name]}")
        self.created.append(level)
        return level

    def inline_body(self, node: BlockNode, bound: dict[str, str] | None = None) -> str:
        """The block's statements, run here; answers the name of their value."""
        level = self.open_block(node, bound or {})
        self.depth += 1
        try:
            value = self.statements(node.body)
        finally:
            self.depth -= 1
            if level is not None:
                self.created.pop()
        return value

    def real_block(self, node: BlockNode) -> str:
        """A block made here. Its body is compiled when a block of it is first made
        (LazyBody): most inline paths' fallback blocks never are, and a program of many
        blocks compiles each as it runs, not all before it starts."""
        chain = (frozenset(node.params) | _temps(node.body), *self.visible_chain())
        key = (id(node), chain, self.unknown)
        body = self.unit.lazy.get(key)
        if body is None:
            body = self.unit.lazy[key] = LazyBody(node, chain, self.unknown, self.unit.env)
        out = self.tmp()
        self.emit(f"{out} = BLOCK({self.unit.const(node)}, {self.current_scope()}, "
                  f"{self.unit.const(body)}.run)")
        return out

    def named(self, atom: str) -> str:
        """The value in a variable: Python warns of `3 is True` (a literal beside `is`)."""
        if atom.isidentifier() and atom not in ("None", "True", "False"):
            return atom
        out = self.tmp()
        self.emit(f"{out} = {atom}")
        return out

    def conditional(self, node: Send, receiver: str) -> str:
        """ifTrue: ifFalse: ifTrue:ifFalse: ifFalse:ifTrue: and: or: on true and false."""
        selector = node.selector
        receiver = self.named(receiver)
        blocks = dict(zip(selector.split(":")[:-1], node.args, strict=True))
        on_true = blocks.get("ifTrue", blocks.get("and"))
        on_false = blocks.get("ifFalse", blocks.get("or"))
        out = self.tmp()
        for truth, taken in (("True", on_true), ("False", on_false)):
            keyword = "if" if truth == "True" else "elif"
            self.emit(f"{keyword} {receiver} is {truth} and (IFS or CHECK('IFS')):")
            self.indent += 1
            if taken is not None:
                self.emit(f"{out} = {self.inline_body(taken)}")
            elif selector in ("and:", "or:"):  # true or: [..] is true; false and: [..] false
                self.emit(f"{out} = {truth}")
            else:
                self.emit(f"{out} = None")
            self.indent -= 1
        self.emit("else:")
        self.indent += 1
        made = [self.real_block(arg) for arg in node.args]
        self.emit(f"{out} = SEND({receiver}, {selector!r}, ({', '.join(made)},))")
        self.indent -= 1
        return out

    def to_do(self, node: Send, start: str) -> str:
        """`a to: b do: [:i | ...]` on an integer and a number: genesis's loop, inline."""
        stop = self.expr(node.args[0])
        body = node.args[1]
        i = self.tmp()
        return self.counting(
            f"type({start}) is int and (type({stop}) is int or type({stop}) is float)",
            f"{i} in (range({start}, {stop} + 1) if type({stop}) is int else "
            f"FLOAT_STEPS({start}, {stop}))",
            lambda: f"TO_DO_REST({i}, {stop}, {self.real_block(body)})",
            body, {body.params[0]: i} if body.params else {},
            start, lambda: f"SEND({start}, 'to:do:', ({stop}, {self.real_block(body)}))")

    def times_repeat(self, node: Send, count: str) -> str:
        """`n timesRepeat: [...]` on an integer: genesis's loop, inline."""
        body = node.args[0]
        i = self.tmp()
        return self.counting(
            f"type({count}) is int", f"{i} in range({count})",
            lambda: f"TIMES_REST({count} - {i}, {self.real_block(body)})",
            body, {}, count,
            lambda: f"SEND({count}, 'timesRepeat:', ({self.real_block(body)},))")

    def counting(self, types: str, each: str, rest, body: BlockNode, bound: dict,
                 answer: str, send) -> str:
        """A counting loop of genesis's, inline: while `types` hold and genesis's methods
        are the image's, `for each:` run the body (and if a block's `value` changes while
        it runs, finish with `rest()`, as the genesis loop would), answering `answer`;
        otherwise `send()`. rest and send are called where their blocks are made."""
        out = self.tmp()
        self.emit(f"if {types} and (LOOP or CHECK('LOOP')):")
        self.indent += 1
        self.emit(f"for {each}:")
        self.indent += 1
        self.emit("if not (VAL or CHECK('VAL')):")
        self.indent += 1
        self.emit(rest())
        self.emit("break")
        self.indent -= 1
        self.loops += 1
        self.inline_body(body, bound)
        self.loops -= 1
        self.indent -= 1
        self.emit(f"{out} = {answer}")
        self.indent -= 1
        self.emit("else:")
        self.indent += 1
        self.emit(f"{out} = {send()}")
        self.indent -= 1
        return out

    def while_loop(self, node: Send) -> str:
        """`[cond] whileTrue: [body]` (or whileFalse:): genesis's loop, inline."""
        cond, body = node.receiver, node.args[0]
        want = node.selector == "whileTrue:"
        out = self.tmp()
        self.emit("if WHL or CHECK('WHL'):")
        self.indent += 1
        self.emit("while True:")
        self.indent += 1
        self.loops += 1
        for part, block in (("cond", cond), ("body", body)):
            self.emit("if not (VAL or CHECK('VAL')):")
            self.indent += 1
            self.emit(f"WHILE_REST({self.real_block(cond)}, {self.real_block(body)}, "
                      f"{want}, {part == 'body'})")
            self.emit("break")
            self.indent -= 1
            if part == "cond":
                value = self.named(self.inline_body(block))
                self.emit(f"if {value} is not True and {value} is not False:")
                self.indent += 1
                self.emit(f"NOT_BOOLEAN({node.selector!r}, {value})")
                self.indent -= 1
                self.emit(f"if {'not ' if want else ''}{value}:")
                self.indent += 1
                self.emit("break")
                self.indent -= 1
            else:
                self.inline_body(block)
        self.loops -= 1
        self.indent -= 1
        self.emit(f"{out} = None")
        self.indent -= 1
        self.emit("else:")
        self.indent += 1
        made = self.real_block(cond)
        self.emit(f"{out} = SEND({made}, {node.selector!r}, ({self.real_block(body)},))")
        self.indent -= 1
        return out


def _literal_block(node: Node, params: int) -> bool:
    return type(node) is BlockNode and len(node.params) == params


_INLINE = {
    **{selector: (Function.conditional,
                  lambda n: all(_literal_block(a, 0) for a in n.args))
       for selector in CONDITIONALS},
    "to:do:": (Function.to_do, lambda n: _literal_block(n.args[1], 1)),
    "timesRepeat:": (Function.times_repeat, lambda n: _literal_block(n.args[0], 0)),
}  # (whileTrue: and whileFalse: are Function.send's: their receiver is a literal block)


def _temps(body: list[Node]) -> frozenset:
    return frozenset(body[0].names) if body and type(body[0]) is Temps else frozenset()


def _captured(body: list[Node], names: set[str]) -> bool:
    """Whether any block inside these statements (inlined or not: an inlined one still
    has a real form on its fallback path) uses one of `names`."""
    from .blocks import _names_in

    return any(type(node) is BlockNode and _names_in(node.body) & names
               for node in walk(body))


def compile_body(body: list[Node], names: frozenset, unknown: bool, env: dict,
                 block: bool = False, hot: bool = True):
    """The function running `body` in a scope that holds `names` (plus its temporaries):
    `f(scope)`, or for a block `f(names, outer)`; `unknown`: that scope has an outer
    one, known only at run time; `hot`: the body runs often (a method's), not once."""
    return _compiled(body, (names | _temps(body),), unknown, env, block, hot)


class LazyBody:
    """A real block's body, compiled the first time a block of it is made (`run`)."""

    __slots__ = ("node", "chain", "unknown", "env", "_run")

    def __init__(self, node: BlockNode, chain: tuple, unknown: bool, env: dict) -> None:
        self.node, self.chain, self.unknown, self.env = node, chain, unknown, env
        self._run = None

    @property
    def run(self):
        fn = self._run
        if fn is None:
            fn = self._run = _compiled(self.node.body, self.chain, self.unknown, self.env,
                                       True, True)
        return fn


def _compiled(body: list[Node], chain: tuple, unknown: bool, env: dict, block: bool,
              hot: bool):
    """The body compiled and made a function; without inline paths if Python refuses it
    (its limits on nested loops and indentation); a ProtoError if that fails too."""
    for inline in (True, False):
        unit = Unit(env, inline, hot)
        try:
            entry = Function(unit, list(chain), unknown, block).finish(body)
            space: dict = {}
            exec(unit.source(entry), env, space)  # not compile(): its first call costs ~1 ms
        except (SyntaxError, RecursionError, MemoryError, OverflowError):
            continue
        return space["_factory"](tuple(unit.consts))
    raise ProtoError("the program is too large or too deeply nested to run")
