"""Messages: selectors, their arity, and the reified Message of doesNotUnderstand:."""

from __future__ import annotations

BINARY_CHARS = frozenset("+-*/\\<>=~@%|&?,")


def selector_arity(selector: str) -> int:
    """How many arguments a selector takes: unary 0, binary 1, keyword one per part."""
    if not selector:
        return -1
    if selector[0] in BINARY_CHARS:
        return 1
    return selector.count(":")


def is_valid_selector(selector: str) -> bool:
    """Unary (`x`), binary (`+`), or keyword (`at:put:`) selector syntax."""
    if not selector:
        return False
    if selector[0] in BINARY_CHARS:
        return all(ch in BINARY_CHARS for ch in selector)
    if ":" not in selector:
        return _is_identifier(selector)
    if not selector.endswith(":"):
        return False
    return all(_is_identifier(part) for part in selector[:-1].split(":"))


def _is_identifier(text: str) -> bool:
    return bool(text) and (text[0].isalpha() or text[0] == "_") and text.replace("_", "a").isalnum()


class Message:
    """A send that was not understood, reified so a handler can inspect or forward it."""

    __slots__ = ("receiver", "selector", "arguments")

    def __init__(self, receiver: object, selector: str, arguments: tuple) -> None:
        self.receiver = receiver
        self.selector = selector
        self.arguments = tuple(arguments)

    def __repr__(self) -> str:
        return f"Message({self.selector!r}, {len(self.arguments)} args)"
