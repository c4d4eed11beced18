"""Every genesis selector has a test: a send of it appears in the tests or in the ported
SOM programs (tests/conformance/som). A new genesis method without one fails here.
Below, the sends no other test made."""

from __future__ import annotations

import os
import re
from fractions import Fraction

import pytest

from proto_cli.errors import MessageNotUnderstood
from proto_cli.world import genesis  # noqa: F401 - registers every genesis method
from proto_cli.world.genesis_methods import REGISTRY

TESTS = os.path.dirname(__file__)


def _sources() -> str:
    texts = []
    for root, _, files in os.walk(TESTS):
        for name in files:
            if name.endswith((".py", ".proto")):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    texts.append(f.read())
    return "\n".join(texts)


def _pattern(selector: str) -> str:
    """A send of the selector as written in a test: keyword parts in order."""
    if not selector.endswith(":"):
        word = re.escape(selector)
        return rf"(?<![\w:]){word}(?![\w:])" if selector[0].isalpha() else word
    parts = [re.escape(p + ":") for p in selector.split(":")[:-1]]
    return r"[^.\n]*?".join(rf"(?<![\w:]){p}" for p in parts)


def test_every_genesis_selector_is_sent_by_some_test():
    text = _sources()
    untested = sorted({f"{holder} {selector}" for holder, methods in REGISTRY.items()
                       for selector, _ in methods if not re.search(_pattern(selector), text)})
    assert not untested, f"genesis selectors no test sends: {untested}"


@pytest.mark.parametrize(("source", "expected"), [
    ("| v | v := Vector new. v addLast: 3; addLast: 4. v", [3, 4]),
    ("| v | v := Vector new. v add: 1; add: 2. {v remove: 2 ifAbsent: [0]. "
     "v remove: 9 ifAbsent: [0]. v}", [2, 0, [1]]),
    ("| v | v := Vector new. v add: 1; add: 2. v removeAll. v size", 0),
    ("| a | a := Array new: 3. a atAllPut: 7. a", [7, 7, 7]),
    ("#(1) isArray", True),
    ("| d | d := Dictionary new. d at: 1 put: 2. {d removeKey: 1 ifAbsent: [0]. "
     "d removeKey: 1 ifAbsent: [0]}", [2, 0]),
    ("| d | d := Dictionary new. {d at: 1 ifAbsentPut: [5]. d at: 1 ifAbsentPut: [6]}",
     [5, 5]),
    ("| d s | d := Dictionary new. d at: 1 put: 2; at: 3 put: 4. s := 0. "
     "d keysDo: [:k | s := s + k]. s", 4),
    ("| d s | d := Dictionary new. d at: 1 put: 2; at: 3 put: 4. s := 0. "
     "d valuesDo: [:v | s := s + v]. s", 6),
    ("| d | d := Dictionary new. d at: 1 put: 2. {d keyAtValue: 2. d keyAtValue: 9}",
     [1, None]),
    ("{3 squared. (1/2) squared}", [9, Fraction(1, 4)]),
    ("{(1/2) isFraction. 3 isFraction. 0.5 isFraction}", [True, False, False]),
    ("{0 isZero. 1 isZero. 0.0 isZero. (1/2) isZero}", [True, False, True, False]),
    ("{0 tan. 0 arcTan. 1 arcTan * 4}", [0.0, 0.0, pytest.approx(3.141592653589793)]),
    ("{1.5 isFloat. 1 isFloat. 'a' isFloat. nil isFloat}", [True, False, False, False]),
    ("3 perform: #+ withArguments: #(4)", 7),
    ("| s | s := Set new. s add: 1. {s remove: 1 ifAbsent: [0]. s remove: 1 ifAbsent: [0]}",
     [1, 0]),
    ("'AbC' asLowercase", "abc"),
    ("{$a codePoint. (Character value: 955) codePoint}", [97, 955]),
])
def test_sends_no_other_test_makes(world, source, expected):
    assert world.eval(source) == expected


def test_perform_of_a_selector_nobody_has_is_not_understood(world):
    with pytest.raises(MessageNotUnderstood):
        world.eval("3 perform: #fooBar withArguments: #()")
