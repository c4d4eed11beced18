"""Reading a Squeakerfile: directives one per line, like a Dockerfile.

    # a comment
    FROM scratch
    OBJECT point
    SLOT point x 3
    METHOD point norm <<EOF
    def norm(self):
        return send(self, "x") ** 2
    EOF
    SEND point x: 4 \\
         y: 5

A line ending in a backslash continues on the next. `<<WORD` at the end of a
line takes the following lines, up to one that is exactly WORD, as the
directive's body (method source, verbatim). Errors name the file, line and
column, like a compiler.
"""

from __future__ import annotations

from ..errors import UsageError

DIRECTIVES = {
    # name: (least words, most words or None for "the rest"), after the directive
    "FROM": (1, 1),
    "OBJECT": (1, 2),
    "SLOT": (3, None),
    "PARENT": (3, None),
    "METHOD": (2, 3),
    "SEND": (1, None),
    "EVAL": (1, None),
    "LIBRARY": (3, 3),
    "LEARN": (2, None),
    "RESOURCE": (2, 2),
    "LABEL": (2, None),
}


class RecipeError(UsageError):
    """`FILE:LINE:COL: message` (exit code 2)."""


class Step:
    """One directive: its words, an optional heredoc body, and where it was written."""

    __slots__ = ("directive", "words", "body", "line", "column", "text", "source")

    def __init__(self, directive: str, words: list[str], body: str | None, line: int,
                 column: int, text: str, source: str) -> None:
        self.directive = directive
        self.words = words
        self.body = body
        self.line = line
        self.column = column
        self.text = text  # the directive as written (continuations joined, body included)
        self.source = source

    def error(self, message: str, column: int | None = None) -> RecipeError:
        return RecipeError(f"{self.source}:{self.line}:{column or self.column}: {message}")

    def rest(self, skip: int) -> str:
        """The text after the first `skip` words (a message or expression, as written)."""
        text = self.text.split("\n", 1)[0]
        pos = 0
        for _ in range(skip + 1):
            pos = _skip_space(text, pos)
            while pos < len(text) and not text[pos].isspace():
                pos += 1
        return text[_skip_space(text, pos):]


def parse(text: str, source: str = "Squeakerfile") -> list[Step]:
    lines = text.split("\n")
    steps: list[Step] = []
    i = 0
    while i < len(lines):
        start = i
        raw = lines[i]
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        logical = raw.rstrip()
        if logical.endswith("\\"):  # joined once at the end: no quadratic re-copying
            pieces = []
            while logical.endswith("\\"):
                pieces.append(logical[:-1])
                if i >= len(lines):
                    raise RecipeError(f"{source}:{start + 1}:{len(' '.join(pieces)) + 1}: "
                                      "a continued line has nothing after it")
                logical = lines[i].strip()
                i += 1
            logical = " ".join([*pieces, logical])
        column = len(logical) - len(logical.lstrip()) + 1
        words = logical.split()
        body = None
        if words and words[-1].startswith("<<"):
            marker = words[-1][2:].strip("'\"")
            if not marker:
                raise RecipeError(f"{source}:{start + 1}:{logical.rfind('<<') + 1}: "
                                  "a heredoc needs a word after <<, like <<EOF")
            end = i
            while end < len(lines) and lines[end].strip() != marker:
                end += 1
            if end >= len(lines):
                raise RecipeError(f"{source}:{start + 1}:{logical.rfind('<<') + 1}: "
                                  f"heredoc not closed: no line {marker!r} follows")
            body = "\n".join(lines[i:end]) + "\n"
            i = end + 1
            words = words[:-1]
            logical = logical[: logical.rfind("<<")].rstrip()
        if not words:  # a lone backslash before a blank line, or a bare <<EOF
            raise RecipeError(f"{source}:{start + 1}:{column}: a directive is missing")
        directive = words[0]
        if directive.upper() != directive or directive not in DIRECTIVES:
            raise RecipeError(f"{source}:{start + 1}:{column}: unknown directive "
                              f"{directive!r} (known: {', '.join(DIRECTIVES)})")
        least, most = DIRECTIVES[directive]
        args = words[1:]
        if body is not None and directive != "METHOD":
            raise RecipeError(f"{source}:{start + 1}:{column}: only METHOD takes a heredoc")
        if directive == "METHOD":
            if len(args) != (2 if body is not None else 3):
                raise RecipeError(f"{source}:{start + 1}:{column}: METHOD takes OBJECT "
                                  "SELECTOR and a <<EOF body, or OBJECT SELECTOR FILE")
        elif len(args) < least or (most is not None and len(args) > most):
            expect = f"{least}" if most == least else f"{least} to {most}" if most else \
                f"at least {least}"
            raise RecipeError(f"{source}:{start + 1}:{column}: {directive} takes {expect} "
                              f"argument(s), got {len(args)}")
        text_all = logical.strip() + ("\n" + body if body is not None else "")
        steps.append(Step(directive, args, body, start + 1, column, text_all, source))
    if not steps:
        raise RecipeError(f"{source}:1:1: empty Squeakerfile: it needs at least FROM")
    if steps[0].directive != "FROM":
        raise steps[0].error("the first directive must be FROM")
    for step in steps[1:]:
        if step.directive == "FROM":
            raise step.error("FROM may only come first")
    return steps


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos
