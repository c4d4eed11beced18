"""Expression and shell-word syntax: precedence, literals, and errors that point."""

from __future__ import annotations

import pytest

from proto_cli.errors import ProtoSyntaxError
from proto_cli.world.syntax import Assign, BlockNode, Cascade, Lit, Name, Send, parse, parse_words


def shape(node):
    if isinstance(node, Send):
        return (node.selector, shape(node.receiver), *[shape(a) for a in node.args])
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Assign):
        return (":=", node.name, shape(node.expr))
    if isinstance(node, Cascade):
        return ("cascade", shape(node.receiver), [m[0] for m in node.messages])
    if isinstance(node, BlockNode):
        return ("block", node.params, [shape(s) for s in node.body])
    return type(node).__name__


def test_precedence_unary_binary_keyword():
    (node,) = parse("a at: b size + 2 put: c")
    assert shape(node) == ("at:put:", "a", ("+", ("size", "b"), 2), "c")


def test_parentheses_statements_and_assignment():
    nodes = parse("x := (1 + 2) * 3. x")
    assert shape(nodes[0]) == (":=", "x", ("*", ("+", 1, 2), 3))
    assert shape(nodes[1]) == "x"


def test_literals():
    (node,) = parse("{1. -2. 3.5. 1e3. 'it''s'. #sym. #at:put:. #[1 2 255]. nil. true. false}")
    assert [shape(n) for n in node.items] == [
        1, -2, 3.5, 1000, "it's", "sym", "at:put:", bytes([1, 2, 255]), None, True, False]


@pytest.mark.parametrize("text, value", [
    ("16r1F", 31), ("-16rFF", -255), ("2r1010", 10), ("36rZZ", 1295), ("2e3", 2000),
    ("2.5e3", 2500.0), ("1_000", 1000)])
def test_radix_and_exponent_literals_as_in_pharo(text, value):
    (node,) = parse(text)
    assert shape(node) == value and type(shape(node)) is type(value)


@pytest.mark.parametrize("text, message", [
    ("37r1", "radix"), ("2r102", "not below 2"), ("1e99999", "exponent"), ("3r", "malformed")])
def test_bad_radix_and_exponent_literals(text, message):
    with pytest.raises(ProtoSyntaxError, match=message):
        parse(text)


def test_minus_is_binary_after_an_operand():
    (node,) = parse("3-2")
    assert shape(node) == ("-", 3, 2)
    (node,) = parse("3 - -2")
    assert shape(node) == ("-", 3, -2)


def test_blocks_and_cascades():
    (node,) = parse("[:a :b | a + b]")
    assert shape(node) == ("block", ["a", "b"], [("+", "a", "b")])
    (node,) = parse("p x: 1; y: 2; yourself")
    assert shape(node) == ("cascade", "p", ["x:", "y:", "yourself"])


@pytest.mark.parametrize(
    ("source", "column", "reason"),
    [
        ("3 + ", 5, "expected an expression"),
        ("(3 + 4", 7, "expected ')'"),
        ("'open", 1, "unterminated string"),
        ("x := ", 6, "expected an expression"),
        ("3 ` 4", 3, "unexpected character"),
        ("3 $ 4", 3, "expected '.' between statements"),  # `$ ` is the character space
        ("#[1 300]", 5, "0 to 255"),
        ("nil := 3", 1, "cannot assign"),
        ("[:a a]", 5, "expected '|'"),
    ],
)
def test_syntax_errors_point_at_the_column(source, column, reason):
    with pytest.raises(ProtoSyntaxError) as info:
        parse(source)
    assert info.value.column == column
    assert reason in str(info.value)


def test_shell_words():
    assert shape(parse_words("p", ["distance"])) == ("distance", "p")
    assert shape(parse_words("3", ["+", "4"])) == ("+", 3, 4)
    assert shape(parse_words("d", ["at:", "1", "put:", "'x'"])) == ("at:put:", "d", 1, "x")
    assert shape(parse_words("d", ["at:", "#[1 2]"])) == ("at:", "d", b"\x01\x02")
    assert shape(parse_words("p", ["x:", "-1.5"])) == ("x:", "p", -1.5)
    assert shape(parse_words("p", ["x:", "nil"])) == ("x:", "p", None)


@pytest.mark.parametrize(
    "words",
    [[], ["at:"], ["at:", "1", "put:"], ["+"], ["a", "b"], ["at:", "hello world"], ["x:", "'open"]],
)
def test_bad_shell_words(words):
    with pytest.raises(ProtoSyntaxError):
        parse_words("p", words)
