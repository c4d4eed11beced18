"""A character-level automaton for the JSON answers the learner's schema allows.

llama.cpp's grammar sampler checks every token of a 150k vocabulary at every
step; on this machine that doubled the cost of each generated token. Here the
schema becomes a regular expression over characters, matched by Brzozowski
derivatives: a token is allowed when deriving the automaton by its text does
not reach the empty language. The decoder asks only the most likely tokens,
best first, so a greedy pick is the same as the grammar's. Where the answer has
only one way to go on (the JSON keys, the rest of a function name once it is
unique) the characters are *forced*: the decoder feeds them to the model in one
batch instead of generating them a token at a time.

The answer is compact JSON (no whitespace), as in the prompt's worked examples.
Only the subset of JSON Schema that prompt.schema writes is understood:
anyOf, const, enum, type (integer/number/string/boolean/null), object
properties in order (all written, none optional) and prefixItems arrays.
"""

from __future__ import annotations

import json

FRACTION_DIGITS = 6  # an expected value is compared with a 1e-3 tolerance; digits cost tokens


class Node:
    """One regular expression, hash-consed: equal expressions are the same object."""

    __slots__ = ("kind", "parts", "nullable", "_derived")
    _interned: dict[tuple, Node] = {}

    def __new__(cls, kind: str, parts: tuple) -> Node:
        key = (kind, parts)
        node = cls._interned.get(key)
        if node is None:
            node = object.__new__(cls)
            node.kind = kind
            node.parts = parts
            node.nullable = _nullable(kind, parts)
            node._derived = {}
            cls._interned[key] = node
        return node

    def derive(self, char: str) -> Node:
        """The expression matching what may follow `char`; DEAD when nothing may."""
        out = self._derived.get(char)
        if out is None:
            out = self._derived[char] = _derive(self, char)
        return out

    def derive_text(self, text: str) -> Node:
        node = self
        for char in text:
            node = node.derive(char)
            if node is DEAD:
                break
        return node

    def forced(self) -> str:
        """The characters every continuation must start with."""
        out = []
        node = self
        while not node.nullable:
            first = _first(node)
            if first is None or len(first) != 1:
                break
            (char,) = first
            out.append(char)
            node = node.derive(char)
        return "".join(out)

    @property
    def finished(self) -> bool:
        """Nothing may follow: the answer is complete."""
        return self.nullable and _first(self) == frozenset()


def _nullable(kind: str, parts: tuple) -> bool:
    if kind in ("eps", "star"):
        return True
    if kind == "seq":
        return parts[0].nullable and parts[1].nullable
    if kind == "alt":
        return any(p.nullable for p in parts)
    return False  # dead, lit, set, notset


EPS = Node("eps", ())
DEAD = Node("dead", ())


def lit(text: str) -> Node:
    return Node("lit", (text,)) if text else EPS


def charset(chars: str) -> Node:
    return Node("set", (frozenset(chars),))


def notset(chars: str) -> Node:
    """Any character but these (and not a control character)."""
    return Node("notset", (frozenset(chars),))


def seq(*nodes: Node) -> Node:
    out = EPS
    for node in reversed(nodes):
        out = _seq2(node, out)
    return out


def _seq2(a: Node, b: Node) -> Node:
    if a is DEAD or b is DEAD:
        return DEAD
    if a is EPS:
        return b
    if b is EPS:
        return a
    if a.kind == "seq":  # keep sequences right-nested, so derivatives stay small
        return _seq2(a.parts[0], _seq2(a.parts[1], b))
    return Node("seq", (a, b))


def alt(*nodes: Node) -> Node:
    flat: set[Node] = set()
    for node in nodes:
        if node.kind == "alt":
            flat.update(node.parts)
        elif node is not DEAD:
            flat.add(node)
    if not flat:
        return DEAD
    if len(flat) == 1:
        return next(iter(flat))
    return Node("alt", tuple(sorted(flat, key=id)))


def star(node: Node) -> Node:
    return Node("star", (node,))


def optional(node: Node) -> Node:
    return alt(EPS, node)


def _derive(node: Node, char: str) -> Node:
    kind, parts = node.kind, node.parts
    if kind == "lit":
        text = parts[0]
        return lit(text[1:]) if text[0] == char else DEAD
    if kind == "set":
        return EPS if char in parts[0] else DEAD
    if kind == "notset":
        return DEAD if char in parts[0] or ord(char) < 0x20 else EPS
    if kind == "seq":
        head, tail = parts
        out = _seq2(head.derive(char), tail)
        return alt(out, tail.derive(char)) if head.nullable else out
    if kind == "alt":
        return alt(*(p.derive(char) for p in parts))
    if kind == "star":
        return _seq2(parts[0].derive(char), node)
    return DEAD  # eps, dead


def _first(node: Node) -> frozenset | None:
    """The characters a match may start with; None when too many to list."""
    kind, parts = node.kind, node.parts
    if kind == "lit":
        return frozenset(parts[0][0])
    if kind == "set":
        return parts[0]
    if kind == "notset":
        return None
    if kind == "seq":
        head = _first(parts[0])
        if head is None or not parts[0].nullable:
            return head
        tail = _first(parts[1])
        return None if tail is None else head | tail
    if kind == "alt":
        out: frozenset = frozenset()
        for part in parts:
            sub = _first(part)
            if sub is None:
                return None
            out |= sub
        return out
    if kind == "star":
        return _first(parts[0])
    return frozenset()


# -- JSON values -------------------------------------------------------------------------

DIGIT = charset("0123456789")
INTEGER = seq(optional(lit("-")), alt(lit("0"), seq(charset("123456789"), star(DIGIT))))
_FRACTION = seq(lit("."), DIGIT, *([optional(DIGIT)] * (FRACTION_DIGITS - 1)))
NUMBER = seq(INTEGER, optional(_FRACTION),
             optional(seq(charset("eE"), optional(charset("+-")), DIGIT, star(DIGIT))))
_ESCAPE = seq(lit("\\"), alt(charset('"\\/bfnrt'),
                             seq(lit("u"), *([charset("0123456789abcdefABCDEF")] * 4))))
#: JSON text: no raw control characters (a newline inside a string is not JSON).
STRING = seq(lit('"'), star(alt(notset('"\\' + "".join(map(chr, range(32)))), _ESCAPE)),
             lit('"'))
TYPES = {"integer": INTEGER, "number": NUMBER, "string": STRING, "boolean":
         alt(lit("true"), lit("false")), "null": lit("null")}


def bounded_string(limit: int) -> Node:
    """A JSON string of at most `limit` characters (escapes count as one): a small model
    can run on inside a free string, and the bound makes it close."""
    char = alt(notset('"\\' + "".join(map(chr, range(32)))), _ESCAPE)
    body = lit("")
    for _ in range(max(limit, 0)):
        body = optional(seq(char, body))
    return seq(lit('"'), body, lit('"'))


def compile_schema(schema: dict) -> Node:
    """The schema's compact JSON instances as one expression."""
    if "anyOf" in schema:
        return alt(*(compile_schema(s) for s in schema["anyOf"]))
    if "const" in schema:
        return lit(_dump(schema["const"]))
    if "enum" in schema:
        return alt(*(lit(_dump(v)) for v in schema["enum"]))
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        fields = []
        for i, (name, sub) in enumerate(props.items()):
            fields.append(lit(("," if i else "") + _dump(name) + ":"))
            fields.append(compile_schema(sub))
        return seq(lit("{"), *fields, lit("}"))
    if kind == "array":
        items = [compile_schema(s) for s in schema.get("prefixItems", [])]
        body = []
        for i, item in enumerate(items):
            body += [lit(","), item] if i else [item]
        return seq(lit("["), *body, lit("]"))
    if kind == "string" and "maxLength" in schema:
        return bounded_string(int(schema["maxLength"]))
    if isinstance(kind, str) and kind in TYPES:
        return TYPES[kind]
    raise ValueError(f"unsupported schema for constrained decoding: {_dump(schema)[:80]}")


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
