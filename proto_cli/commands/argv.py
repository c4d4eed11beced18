"""Options anywhere on the command line, as git, sqlite-utils and llm accept them.

`send`, `eval` and `learn` take message words, which Typer reads as one run of
arguments (a word like `-3` or `-` is a receiver or a selector, not an option). Before
either parser sees the command line, the options of those commands are moved from
wherever they are (after the message words, or before the command name) to just after
the command name. A word that starts with `--` is an option; `--` alone marks where the
words begin, so a negative receiver reads as one (`proto send -- -3 abs`), and past it
only the command's own options are still options (`proto eval -- --0` evaluates `--0`).
No module is imported here: `send`'s start-up is measured.
"""

from __future__ import annotations

WORD_COMMANDS = frozenset({"send", "eval", "learn"})
#: Each word command's own flags (an option another command has is no option here).
COMMAND_FLAGS = {
    "send": frozenset({"--json", "--no-learn", "--review", "--approve"}),
    "eval": frozenset({"--json", "--no-learn"}),
    "learn": frozenset({"--json", "--relearn", "--review", "--approve"}),
}
FLAGS = frozenset().union(*COMMAND_FLAGS.values())
VALUED = frozenset({"-i", "--image", "--model"})
GLOBAL_VALUED = frozenset({"-i", "--image"})


def hoisted(argv: list[str]) -> list[str]:
    """argv with the options of a word command gathered right after its name."""
    i, n = 0, len(argv)
    globals_: list[str] = []  # -i/--image before the command: the app's own option
    own: list[str] = []  # the command's options, written before its name
    while i < n:
        arg = argv[i]
        if arg in GLOBAL_VALUED and i + 1 < n:
            globals_ += argv[i:i + 2]
            i += 2
        elif arg.startswith("--image="):
            globals_.append(arg)
            i += 1
        elif arg in FLAGS or arg.startswith("--model="):
            own.append(arg)
            i += 1
        elif arg == "--model" and i + 1 < n:
            own += argv[i:i + 2]
            i += 2
        else:
            break
    if i >= n or argv[i] not in WORD_COMMANDS:
        return argv
    command = argv[i]
    for arg in own:
        if arg in FLAGS and arg not in COMMAND_FLAGS[command]:
            raise _usage(f"{command}: no option {arg}")
    words: list[str] = []
    separated = False
    j = i + 1
    while j < n:
        arg = argv[j]
        if arg == "--" and not separated and not words:
            separated = True  # before the words it marks where they begin; else a word
        elif arg == "--":
            words.append(arg)
        elif arg in VALUED:
            if j + 1 >= n:
                raise _usage(f"{command}: {arg} needs a value")
            own += argv[j:j + 2]
            j += 1
        elif arg in COMMAND_FLAGS[command] or arg == "--help" \
                or arg.startswith(("--image=", "--model=")):
            own.append(arg)
        elif arg.startswith("--") and not separated:
            known = ", ".join(sorted(COMMAND_FLAGS[command] | {"--image", "--model"}))
            raise _usage(f"{command}: no option {arg[:40]} (its options: {known})")
        else:
            words.append(arg)
        j += 1
    if not words and "--help" not in own:
        wanted = {"send": "a receiver and a message", "learn": "a receiver and a message",
                  "eval": "an expression (- reads it from stdin)"}[command]
        raise _usage(f"{command}: give {wanted}")
    return [*globals_, command, *own, "--", *words]


def _usage(message: str) -> Exception:
    from ..errors import UsageError

    return UsageError(message)
