"""Text from an image on its way to a terminal: nothing in it may act on the terminal.

Kept apart from render.py (rich, the world) so that `send`'s lean start-up can use it.
"""

from __future__ import annotations


def visible(text: str, newlines: bool = False) -> str:
    """Image data as it may reach a terminal: control and format characters (escape
    sequences, a carriage return over a line, bidi overrides) shown as escapes, never
    sent raw. Tabs stay; newlines stay where the text is shown on several lines."""
    if text.isprintable():
        return text
    import unicodedata

    out = []
    for ch in text:
        if ch == "\t" or (ch == "\n" and newlines) or ch.isprintable() or \
                unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)
