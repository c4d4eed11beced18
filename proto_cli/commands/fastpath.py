"""`proto send` without importing Typer: its start-up is measured and Typer's is ~60 ms.

Handles exactly the option forms the Typer `send` command documents; anything
else (help, unknown options) returns None and falls through to the full app.
"""

from __future__ import annotations


def try_send(argv: list[str]) -> list | None:
    """[image, receiver, words, as_json, learn] when argv is a plain send; else None."""
    image, i, n = None, 0, len(argv)
    while i < n and argv[i] != "send":
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
    return [image, argv[i], argv[i + 1 :], as_json, learn]


def _is_number(word: str) -> bool:
    return len(word) > 1 and (word[1].isdigit() or word[1] == ".")
