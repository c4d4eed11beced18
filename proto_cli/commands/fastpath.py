"""`proto send` and `proto eval` without importing Typer: their start-up is measured
and Typer's is ~60 ms.

Handles exactly the option forms the Typer `send` command documents; anything
else (help, unknown options) returns None and falls through to the full app.
"""

from __future__ import annotations


def try_send(argv: list[str]) -> list | None:
    """[image, receiver, words, as_json, learn] when argv is a plain send; else None."""
    parsed = _plain(argv, "send")
    if parsed is None or not parsed[1]:
        return None
    image, words, as_json, learn = parsed
    return [image, words[0], words[1:], as_json, learn]


def try_eval(argv: list[str]) -> list | None:
    """[image, expression, as_json, learn] when argv is a plain eval of one expression
    (`-` for stdin); else None."""
    parsed = _plain(argv, "eval")
    if parsed is None or len(parsed[1]) != 1:
        return None
    image, words, as_json, learn = parsed
    return [image, words[0], as_json, learn]


def _plain(argv: list[str], command: str) -> list | None:
    """[image, words, as_json, learn] for `[-i IMG] COMMAND [--json] [--no-learn] [-i IMG]
    [--] WORDS...`; None for anything else (help, --model, other options)."""
    image, i, n = None, 0, len(argv)
    while i < n and argv[i] != command:
        arg = argv[i]
        if arg in ("-i", "--image") and i + 1 < n:
            image, i = argv[i + 1], i + 2
        elif arg.startswith("--image="):
            image, i = arg[8:], i + 1
        else:
            return None
    if i >= n:
        return None
    i += 1
    as_json, learn = False, True
    while i < n and argv[i].startswith("-") and not _is_number(argv[i]):
        arg = argv[i]
        if arg in ("-i", "--image") and i + 1 < n:
            image, i = argv[i + 1], i + 2
        elif arg.startswith("--image="):
            image, i = arg[8:], i + 1
        elif arg == "--json":
            as_json, i = True, i + 1
        elif arg == "--no-learn":
            learn, i = False, i + 1
        elif arg == "--":
            i += 1
            break
        else:
            return None
    if i >= n:
        return None
    return [image, argv[i:], as_json, learn]


def _is_number(word: str) -> bool:
    return len(word) > 1 and (word[1].isdigit() or word[1] == ".")
