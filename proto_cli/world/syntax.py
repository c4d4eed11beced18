"""Message syntax: expressions for `proto eval` and shell words for `proto send`.

A small Smalltalk: unary > binary > keyword precedence, parentheses, cascades
(`;`), statements separated by `.`, temporaries `| a b |` (in a program or a block),
`name := expr` assignment, `^expr` (return from the program, also from inside a
block), blocks `[:x | x + 1]`, brace lists `{1. 2. 3}`, and literals: integers,
floats, `'strings'` (quote doubled inside), characters `$a` (one-character strings),
`#symbols` (strings), literal arrays `#(1 $a 'b' #c d (2 3))` (bare words are
symbols), bytes `#[1 2 255]`, `nil`, `true`, `false`. Comments are in double quotes.
Hand-written (no `re`) because `proto send` start-up is measured.
"""

from __future__ import annotations

from ..errors import ProtoSyntaxError
from .message import BINARY_CHARS

# Token kinds
NUM, STR, SYM, BYTES_OPEN, IDENT, KEYWORD, BINARY, ASSIGN = range(8)
LPAREN, RPAREN, LBRACK, RBRACK, LBRACE, RBRACE, PERIOD, SEMI, COLON, EOF = range(8, 18)
ARRAY_OPEN, CARET = 18, 19
_PUNCT = {"(": LPAREN, ")": RPAREN, "[": LBRACK, "]": RBRACK, "{": LBRACE, "}": RBRACE,
          ".": PERIOD, ";": SEMI}
LITERAL_NAMES = {"nil": None, "true": True, "false": False}
# Deeper nesting is a syntax error, not a RecursionError: each level costs the
# recursive-descent parser ~8 Python frames and the evaluator a few more.
MAX_NESTING = 64
# Python refuses to convert longer digit strings (int_max_str_digits); say so plainly.
MAX_INT_DIGITS = 4300


# -- AST (tuples would be faster, classes read better; the trees are tiny)
class Node:
    __slots__ = ("col",)


class Lit(Node):
    __slots__ = ("value",)

    def __init__(self, value: object, col: int) -> None:
        self.value, self.col = value, col


class Name(Node):
    __slots__ = ("name",)

    def __init__(self, name: str, col: int) -> None:
        self.name, self.col = name, col


class Assign(Node):
    __slots__ = ("name", "expr")

    def __init__(self, name: str, expr: Node, col: int) -> None:
        self.name, self.expr, self.col = name, expr, col


class Send(Node):
    __slots__ = ("receiver", "selector", "args")

    def __init__(self, receiver: Node, selector: str, args: list, col: int) -> None:
        self.receiver, self.selector, self.args, self.col = receiver, selector, args, col


class Cascade(Node):
    """`r m1; m2`: every message goes to the receiver of the first."""

    __slots__ = ("receiver", "messages")

    def __init__(self, receiver: Node, messages: list, col: int) -> None:
        self.receiver, self.messages, self.col = receiver, messages, col


class Temps(Node):
    """`| a b |`: variables of the program or block they open, nil until assigned."""

    __slots__ = ("names",)

    def __init__(self, names: list[str], col: int) -> None:
        self.names = names
        self.col = col


class Return(Node):
    """`^expr`: the program's answer, from wherever it is evaluated (a block too)."""

    __slots__ = ("expr",)

    def __init__(self, expr: Node, col: int) -> None:
        self.expr = expr
        self.col = col


class BlockNode(Node):
    __slots__ = ("params", "body", "source")

    def __init__(self, params: list[str], body: list[Node], col: int, source: str = "") -> None:
        self.params, self.body, self.col, self.source = params, body, col, source


class Brace(Node):
    __slots__ = ("items",)

    def __init__(self, items: list[Node], col: int) -> None:
        self.items, self.col = items, col


def children(node: Node) -> list[Node]:
    """The nodes directly inside one node (a block's statements too)."""
    t = type(node)
    if t is Send:
        return [node.receiver, *node.args]
    if t is Assign or t is Return:
        return [node.expr]
    if t is Cascade:
        return [node.receiver, *(arg for _selector, args in node.messages for arg in args)]
    if t is BlockNode:
        return list(node.body)
    if t is Brace:
        return list(node.items)
    return []


def walk(nodes):
    """Every node in these statements, blocks' bodies included (no recursion: a program
    may nest as deep as the parser allows)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


# -- lexer
def tokenize(src: str) -> list[tuple[int, object, int]]:
    """(kind, value, 0-based offset) tokens ending with EOF."""
    out: list[tuple[int, object, int]] = []
    i, n = 0, len(src)
    literal = 0  # how many `#(` and nested `(` are open: there `-2` is always a number
    while i < n:
        ch = src[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch == '"':
            end = src.find('"', i + 1)
            if end < 0:
                raise ProtoSyntaxError("unterminated comment", src, start + 1)
            i = end + 1
            continue
        if _digit(ch) or (ch == "-" and i + 1 < n and _digit(src[i + 1])
                          and (literal or _neg_ok(out))):
            value, i = _number(src, i)
            out.append((NUM, value, start))
        elif ch.isalpha() or ch == "_":
            i += 1
            while i < n and (src[i].isalnum() or src[i] == "_"):
                i += 1
            if i < n and src[i] == ":" and not (i + 1 < n and src[i + 1] == "="):
                out.append((KEYWORD, src[start : i + 1], start))
                i += 1
            else:
                out.append((IDENT, src[start:i], start))
        elif ch == "'":
            text, i = _string(src, i)
            out.append((STR, text, start))
        elif ch == "$":
            if i + 1 >= n:
                raise ProtoSyntaxError("expected a character after $", src, start + 1)
            out.append((STR, src[i + 1], start))
            i += 2
        elif ch == "^":
            out.append((CARET, "^", start))
            i += 1
        elif ch == "#":
            if i + 1 < n and src[i + 1] == "[":
                out.append((BYTES_OPEN, None, start))
                i += 2
            elif i + 1 < n and src[i + 1] == "(":
                out.append((ARRAY_OPEN, None, start))
                literal += 1
                i += 2
            elif i + 1 < n and src[i + 1] == "'":
                text, i = _string(src, i + 1)
                out.append((SYM, text, start))
            elif i + 1 < n and (src[i + 1].isalpha() or src[i + 1] == "_"):
                i += 1
                while i < n and (src[i].isalnum() or src[i] in "_:"):
                    i += 1
                out.append((SYM, src[start + 1 : i], start))
            elif i + 1 < n and src[i + 1] in BINARY_CHARS:
                i += 1
                while i < n and src[i] in BINARY_CHARS:
                    i += 1
                out.append((SYM, src[start + 1 : i], start))
            else:
                raise ProtoSyntaxError("expected a symbol or #[ after #", src, start + 1)
        elif ch == ":":
            if i + 1 < n and src[i + 1] == "=":
                out.append((ASSIGN, ":=", start))
                i += 2
            else:
                out.append((COLON, ":", start))
                i += 1
        elif ch in _PUNCT:
            out.append((_PUNCT[ch], ch, start))
            if literal and ch in "()":
                literal += 1 if ch == "(" else -1
            i += 1
        elif ch in BINARY_CHARS:
            i += 1
            while i < n and src[i] in BINARY_CHARS and not (
                src[i] == "-" and i + 1 < n and _digit(src[i + 1])
            ):
                i += 1
            out.append((BINARY, src[start:i], start))
        else:
            raise ProtoSyntaxError(f"unexpected character {ch!r}", src, start + 1)
    out.append((EOF, None, n))
    return out


def _digit(ch: str) -> bool:
    """0-9 only: `str.isdigit` also says yes to '٣' and '²', which are no digits here."""
    return "0" <= ch <= "9"


def _neg_ok(tokens: list) -> bool:
    """A '-' starts a negative literal unless it follows an operand (then it is minus)."""
    if not tokens:
        return True
    return tokens[-1][0] not in (NUM, STR, SYM, IDENT, RPAREN, RBRACK, RBRACE)


def _number(src: str, i: int) -> tuple[object, int]:
    start, n = i, len(src)
    if src[i] == "-":
        i += 1
    while i < n and (_digit(src[i]) or src[i] == "_"):
        i += 1
    if i + 1 < n and src[i] == "r" and _radix_digit(src[i + 1]):
        return _radix_number(src, start, i)
    is_float = False
    if i + 1 < n and src[i] == "." and _digit(src[i + 1]):
        is_float = True
        i += 1
        while i < n and _digit(src[i]):
            i += 1
    if i < n and src[i] in "eE":
        j = i + 1
        if j < n and src[j] in "+-":
            j += 1
        if j < n and _digit(src[j]):
            is_float = True
            i = j
            while i < n and _digit(src[i]):
                i += 1
    text = src[start:i]
    if i < n and (src[i].isalpha() or src[i] == "_"):
        raise ProtoSyntaxError(f"malformed number {_excerpt(src[start:i + 1])}", src, start + 1)
    if not is_float and len(text) - text.count("_") - (src[start] == "-") > MAX_INT_DIGITS:
        raise ProtoSyntaxError(f"integer literal longer than {MAX_INT_DIGITS} digits",
                               src, start + 1)
    if is_float and "." not in text:  # 2e3 is the integer 2000, 1e-2 is 1/100 (Pharo)
        return _scaled_integer(src, start, text), i
    try:
        return (float(text) if is_float else int(text)), i
    except ValueError:
        raise ProtoSyntaxError(f"malformed number {_excerpt(text)}", src, start + 1) from None


def _radix_digit(ch: str) -> bool:
    return _digit(ch) or "A" <= ch <= "Z" or "a" <= ch <= "z"


def _radix_number(src: str, start: int, r_at: int) -> tuple[int, int]:
    """`16r1F`, `2r1010`, `-16rFF`: an integer in a radix from 2 to 36."""
    base_text = src[start:r_at].lstrip("-").replace("_", "")
    i = r_at + 1
    while i < len(src) and (_radix_digit(src[i]) or src[i] == "_"):
        i += 1
    digits = src[r_at + 1:i]
    if not base_text or not 2 <= int(base_text) <= 36:
        raise ProtoSyntaxError(f"radix {_excerpt(base_text)} is not from 2 to 36", src, start + 1)
    if len(digits) > MAX_INT_DIGITS:
        raise ProtoSyntaxError(f"integer literal longer than {MAX_INT_DIGITS} digits",
                               src, start + 1)
    try:
        value = int(digits.replace("_", ""), int(base_text))
    except ValueError:
        raise ProtoSyntaxError(f"malformed number {_excerpt(src[start:i])}: a digit is not "
                               f"below {base_text}", src, start + 1) from None
    return (-value if src[start] == "-" else value), i


def _scaled_integer(src: str, start: int, text: str) -> object:
    """An integer mantissa with an exponent: exact, as in Pharo (an integer, or a fraction
    for a negative exponent), within the digits an integer literal may have."""
    mantissa, exponent = text.lower().split("e")
    power = int(exponent)
    if abs(power) > MAX_INT_DIGITS:
        raise ProtoSyntaxError(f"exponent {_excerpt(exponent)} is too large (at most "
                               f"{MAX_INT_DIGITS} digits)", src, start + 1)
    value = int(mantissa.replace("_", ""))
    if power >= 0:
        return value * 10**power
    from .exact import fraction

    return fraction(value, 10**-power)


def _excerpt(text: str, limit: int = 20) -> str:
    """Quoted, cut short: an error about a huge token stays readable."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _string(src: str, i: int) -> tuple[str, int]:
    parts, start, i = [], i, i + 1
    while True:
        end = src.find("'", i)
        if end < 0:
            raise ProtoSyntaxError("unterminated string", src, start + 1)
        parts.append(src[i:end])
        if end + 1 < len(src) and src[end + 1] == "'":
            parts.append("'")
            i = end + 2
        else:
            return "".join(parts), end + 1


# -- parser
_CLOSERS = {RBRACK: "']' to close the block", RBRACE: "'}' to close the brace list"}


class Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = tokenize(src)
        self.pos = 0
        self.depth = 0

    def nest(self, tok: tuple) -> None:
        """Enter one level of (), [], {} or `:=`; refuse before Python's stack runs out."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ProtoSyntaxError(
                f"nesting too deep (more than {MAX_NESTING} levels of (), [], {{}} or :=)",
                self.src, tok[2] + 1)

    def peek(self) -> tuple[int, object, int]:
        return self.toks[self.pos]

    def next(self) -> tuple[int, object, int]:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def fail(self, message: str, tok=None) -> ProtoSyntaxError:
        tok = tok or self.peek()
        found = "end of input" if tok[0] == EOF else repr(self.src[tok[2] :].split()[0][:20])
        return ProtoSyntaxError(f"{message}, found {found}", self.src, tok[2] + 1)

    def expect(self, kind: int, what: str) -> tuple:
        if self.peek()[0] != kind:
            raise self.fail(f"expected {what}")
        return self.next()

    def program(self) -> list[Node]:
        temps = self.temporaries()
        stmts = self.statements(EOF)
        if not stmts:
            raise self.fail("expected an expression")
        self.expect(EOF, "end of input")
        return temps + stmts

    def temporaries(self) -> list[Node]:
        """`| a b |` (or `||`, none) opening a program or a block body."""
        tok = self.peek()
        if tok[0] != BINARY or tok[1] not in ("|", "||"):
            return []
        self.next()
        if tok[1] == "||":
            return []
        names: list[str] = []
        while self.peek()[0] == IDENT:
            name = self.next()
            if name[1] in LITERAL_NAMES or name[1] == "self":
                raise ProtoSyntaxError(f"cannot declare {name[1]}", self.src, name[2] + 1)
            if name[1] in names:
                raise ProtoSyntaxError(f"{name[1]} is declared twice", self.src, name[2] + 1)
            names.append(name[1])
        bar = self.peek()
        if bar[0] != BINARY or bar[1] != "|":
            raise self.fail("expected '|' to close the temporaries")
        self.next()
        return [Temps(names, tok[2] + 1)]

    def statements(self, closer: int) -> list[Node]:
        stmts: list[Node] = []
        while self.peek()[0] not in (closer, EOF):
            stmts.append(self.statement())
            if self.peek()[0] == PERIOD:
                self.next()
            elif self.peek()[0] == EOF and closer != EOF:
                raise self.fail(f"expected {_CLOSERS.get(closer, 'a closing bracket')}")
            elif self.peek()[0] != closer:
                raise self.fail("expected '.' between statements")
        return stmts

    def statement(self) -> Node:
        tok = self.peek()
        if tok[0] == CARET:
            self.next()
            self.nest(tok)
            node = Return(self.statement(), tok[2] + 1)
            self.depth -= 1
            return node
        if tok[0] == IDENT and self.toks[self.pos + 1][0] == ASSIGN:
            self.pos += 2
            if tok[1] in LITERAL_NAMES or tok[1] == "self":
                raise ProtoSyntaxError(f"cannot assign to {tok[1]}", self.src, tok[2] + 1)
            if self.peek()[0] == CARET:
                raise self.fail("expected an expression (a return is a statement)")
            self.nest(tok)
            node = Assign(tok[1], self.statement(), tok[2] + 1)
            self.depth -= 1
            return node
        return self.expression()

    def expression(self) -> Node:
        first = self.keyword_expr()
        if self.peek()[0] != SEMI:
            return first
        if not isinstance(first, Send):
            raise self.fail("a cascade needs a message before ';'")
        messages = [(first.selector, first.args)]
        receiver = first.receiver
        while self.peek()[0] == SEMI:
            self.next()
            holder = self.keyword_expr(receiver=_Slot())
            if not isinstance(holder, Send) or not isinstance(_root(holder), _Slot):
                raise self.fail("expected a message after ';'")
            messages.append(_flatten_cascade(holder))
        return Cascade(receiver, messages, first.col)

    def keyword_expr(self, receiver: Node | None = None) -> Node:
        col = self.peek()[2] + 1
        rcvr = self.binary_expr(receiver)
        if self.peek()[0] != KEYWORD:
            return rcvr
        parts, args = [], []
        while self.peek()[0] == KEYWORD:
            parts.append(self.next()[1])
            args.append(self.binary_expr())
        return Send(rcvr, "".join(parts), args, col)

    def binary_expr(self, receiver: Node | None = None) -> Node:
        col = self.peek()[2] + 1
        left = self.unary_expr(receiver)
        while self.peek()[0] == BINARY:
            op = self.next()[1]
            left = Send(left, op, [self.unary_expr()], col)
        return left

    def unary_expr(self, receiver: Node | None = None) -> Node:
        col = self.peek()[2] + 1
        node = receiver if receiver is not None else self.primary()
        while self.peek()[0] == IDENT:
            node = Send(node, self.next()[1], [], col)
        return node

    def primary(self) -> Node:
        tok = self.next()
        kind, value, off = tok
        col = off + 1
        if kind in (NUM, STR, SYM):
            return Lit(value, col)
        if kind == IDENT:
            if value in LITERAL_NAMES:
                return Lit(LITERAL_NAMES[value], col)
            return Name(value, col)
        if kind == BYTES_OPEN:
            data = []
            while self.peek()[0] == NUM:
                b = self.next()
                if type(b[1]) is not int or not 0 <= b[1] <= 255:
                    raise ProtoSyntaxError("a byte is an integer from 0 to 255", self.src, b[2] + 1)
                data.append(b[1])
            self.expect(RBRACK, "']' to close the bytes literal")
            return Lit(bytes(data), col)
        if kind == ARRAY_OPEN:
            self.nest(tok)
            items = self.literal_array()
            self.depth -= 1
            return Lit(items, col)
        if kind == LPAREN:
            self.nest(tok)
            inner = self.expression()
            self.expect(RPAREN, "')'")
            self.depth -= 1
            return inner
        if kind == LBRACK:
            self.nest(tok)
            node = self.block(col)
            self.depth -= 1
            return node
        if kind == LBRACE:
            self.nest(tok)
            items = self.statements(RBRACE)
            self.expect(RBRACE, "'}'")
            self.depth -= 1
            return Brace(items, col)
        self.pos -= 1
        raise self.fail("expected an expression")

    def literal_array(self) -> tuple:
        """The items of `#( ... )` up to its `)`: literals, nested `( ... )`, and bare
        words, keywords and operators as symbols (`#(at:put: + foo)`)."""
        items: list = []
        joined = -1  # where the last keyword ended: `at:put:` is one symbol
        while True:
            tok = self.next()
            kind, value, off = tok
            if kind == RPAREN:
                return tuple(items)
            if kind == KEYWORD and off == joined:
                items[-1] += value
            elif kind in (NUM, STR, SYM, KEYWORD, BINARY):
                items.append(value)
            elif kind == IDENT:
                items.append(LITERAL_NAMES.get(value, value))
            elif kind in (LPAREN, ARRAY_OPEN):
                self.nest(tok)
                items.append(self.literal_array())
                self.depth -= 1
            elif kind == BYTES_OPEN:
                self.pos -= 1
                items.append(self.primary().value)
            else:
                self.pos -= 1
                raise self.fail("expected a literal or ')' in the literal array")
            joined = off + len(value) if kind == KEYWORD else -1

    def block(self, col: int) -> BlockNode:
        params: list[str] = []
        while self.peek()[0] == COLON:
            self.next()
            name = self.expect(IDENT, "a block parameter name after ':'")
            if name[1] in LITERAL_NAMES or name[1] == "self" or name[1] in params:
                raise ProtoSyntaxError(f"{name[1]} cannot be a block parameter here",
                                       self.src, name[2] + 1)
            params.append(name[1])
        if params:
            bar = self.peek()
            if bar[0] == BINARY and bar[1] == "|":
                self.next()
            elif bar[0] == BINARY and bar[1] == "||" or bar[0] != RBRACK:
                raise self.fail("expected '|' after block parameters")
        body = self.temporaries()
        body += self.statements(RBRACK)
        end = self.expect(RBRACK, "']' to close the block")[2]
        return BlockNode(params, body, col, self.src[col - 1:end + 1])


class _Slot(Node):
    """Placeholder receiver while parsing a cascade part."""

    __slots__ = ()

    def __init__(self) -> None:
        self.col = 0


def _root(node: Node) -> Node:
    while isinstance(node, Send):
        node = node.receiver
    return node


def _flatten_cascade(node: Send) -> tuple[str, list]:
    if isinstance(node.receiver, Send):
        raise ProtoSyntaxError("a cascade part is a single message", "", node.col)
    return node.selector, node.args


def parse(src: str) -> list[Node]:
    """Statements of an expression program."""
    return Parser(src).program()


def parse_words(receiver: str, words: list[str]) -> Send:
    """One message from shell words: `point x: 10`, `3 + 4`, `d at: 1 put: 'x'`.

    Each word is whole: a selector part, or one argument literal or lobby name.
    """
    rcvr = _word_operand(receiver, 1)
    if not words:
        raise ProtoSyntaxError("expected a message after the receiver", receiver, len(receiver) + 1)
    first = words[0]
    if first.endswith(":") and _is_keyword_part(first):
        if len(words) % 2:
            raise ProtoSyntaxError(
                f"keyword {words[-1]} needs an argument", " ".join(words), len(" ".join(words)) + 1
            )
        parts, args = [], []
        for i in range(0, len(words), 2):
            part = words[i]
            if not (part.endswith(":") and _is_keyword_part(part)):
                raise ProtoSyntaxError(
                    f"expected a keyword like 'at:' at word {i + 2}, found {part!r}", part, 1
                )
            parts.append(part)
            args.append(_word_operand(words[i + 1], i + 3))
        return Send(rcvr, "".join(parts), args, 1)
    if not first:
        raise ProtoSyntaxError("word 2 is empty: expected a selector", first, 1)
    if all(ch in BINARY_CHARS for ch in first):
        if len(words) != 2:
            raise ProtoSyntaxError(f"binary message {first} takes exactly one argument", first, 1)
        return Send(rcvr, first, [_word_operand(words[1], 3)], 1)
    if len(words) == 1 and (first[0].isalpha() or first[0] == "_") and (
        first.replace("_", "a").isalnum()
    ):
        return Send(rcvr, first, [], 1)
    raise ProtoSyntaxError(
        f"{' '.join(words)!r} is not a message (unary `x`, binary `+ 4`, keyword `at: 1`)",
        first, 1,
    )


def _is_keyword_part(word: str) -> bool:
    body = word[:-1]
    return bool(body) and (body[0].isalpha() or body[0] == "_") and body.replace("_", "a").isalnum()


def _word_operand(word: str, position: int) -> Node:
    """One shell word as a literal or a lobby name."""
    try:
        toks = tokenize(word)
    except ProtoSyntaxError as exc:
        raise ProtoSyntaxError(f"word {position}: {exc.reason}", word, exc.column) from None
    parser = Parser.__new__(Parser)
    parser.src, parser.toks, parser.pos, parser.depth = word, toks, 0, 0
    if toks[0][0] in (NUM, STR, SYM, BYTES_OPEN) or (toks[0][0] == IDENT):
        try:
            node = parser.primary()
        except ProtoSyntaxError as exc:
            raise ProtoSyntaxError(f"word {position}: {exc.reason}", word, exc.column) from None
        if parser.peek()[0] == EOF:
            return node
    raise ProtoSyntaxError(
        f"word {position} ({word!r}) is not a literal or a name; quote strings: \"'{word}'\"",
        word, 1,
    )
