"""`proto shell`: a workspace on an image, as Smalltalk and Self users live in one.

Each input is evaluated as `proto eval` does, in its own transaction (an error rolls
back that input only, and is one line; the shell goes on). Results print with their
printString. An input continues over several lines while its brackets or a string are
open. `:inspect PATH` and `:methods PATH` look at objects without running their code;
`:help`, `:quit` (or Ctrl-D).

At a terminal, prompt_toolkit reads the input: history under the XDG state directory
(`$XDG_STATE_HOME/proto/history`), multi-line editing, and Tab completion of lobby
names and of the selectors the receiver before the cursor understands (read from slots,
never by running code). Compared with readline, prompt_toolkit gives completion menus,
multi-line editing and history on every platform without a C library. Not at a
terminal, the shell reads plain lines, so it can be scripted and tested through a pipe.
"""

from __future__ import annotations

import os
import sys

from . import actions, completion

HELP = """statements as in `proto eval`, each in its own transaction:
  p := genesis clone. p addSlot: 'x' value: 3
  p x + 4
  :inspect PATH   slots of an object (no code runs)     :methods PATH   its methods
  :help           this text                              :quit           leave (or Ctrl-D)"""


def history_path() -> str:
    state = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state):  # the XDG spec: a relative value is to be ignored
        state = os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "proto", "history")


def complete_input(text: str) -> bool:
    """Whether `text` is a whole input: no bracket or string or comment left open."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            end = text.find(ch, i + 1)
            while end != -1 and ch == "'" and end + 1 < n and text[end + 1] == "'":
                end = text.find(ch, end + 2)  # '' is a quote inside a string
            if end == -1:
                return False
            i = end + 1
            continue
        if ch == "$":
            i += 2
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        i += 1
    return depth <= 0


def run(image: str, out=print) -> int:
    """The read-evaluate-print loop; its exit code (0 after :quit or end of input)."""
    read = _terminal_reader(image) if sys.stdin.isatty() else _line_reader()
    if sys.stdin.isatty():
        out(f"proto shell on {image}; :help for help, Ctrl-D to leave")
    while True:
        try:
            text = read()
        except EOFError:
            return 0
        except KeyboardInterrupt:
            continue  # Ctrl-C drops the input being typed, as in any shell
        text = text.strip()
        if not text:
            continue
        if text in (":quit", ":q", ":exit"):
            return 0
        _one(image, text, out)


def _one(image: str, text: str, out) -> None:
    from ..output.failures import report

    try:
        if text == ":help":
            out(HELP)
        elif text.split()[0] in (":inspect", ":methods"):
            command, _, target = text.partition(" ")
            _look(image, command, target.strip() or "lobby", out)
        elif text.startswith(":"):
            out(f"proto: {text.split()[0][:40]}: no such command (:help lists them)")
        else:
            answer = actions.evaluate(image, text, learn=True)
            if sys.stdout.isatty():
                from ..output.terminal import visible

                answer = visible(answer, newlines=True)
            out(answer)
    except KeyboardInterrupt:  # the input's transaction rolled back (deep.run)
        print("proto: interrupted", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - one line, and the shell goes on
        sys.stdout.flush()
        report(exc)
        sys.stderr.flush()


def _look(image: str, command: str, target: str, out) -> None:
    from ..output.render import print_inspection, print_methods

    if command == ":inspect":
        print_inspection(actions.inspect(image, target))
    else:
        print_methods(actions.methods(image, target), with_source=False)


def _line_reader():
    buffer: list[str] = []

    def read() -> str:
        while True:
            line = sys.stdin.readline()
            if not line:
                if buffer:
                    text = "\n".join(buffer)
                    buffer.clear()
                    return text
                raise EOFError
            buffer.append(line.rstrip("\n"))
            text = "\n".join(buffer)
            if complete_input(text):
                buffer.clear()
                return text

    return read


def _terminal_reader(image: str):
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import FileHistory

    class ImageCompleter(Completer):
        def get_completions(self, document, complete_event):
            before = document.text_before_cursor
            word = document.get_word_before_cursor(WORD=True)
            words = before[:len(before) - len(word)].split()
            found = _offer(image, words, word)
            for item in found[:200]:
                yield Completion(item, start_position=-len(word))

    from prompt_toolkit.history import InMemoryHistory

    path = history_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path) and not os.path.isfile(path):
            raise IsADirectoryError(path)
        with open(path, "a", encoding="utf-8"):
            pass
        history = FileHistory(path)
    except OSError as exc:
        print(f"proto: warning: no history kept ({path}: {exc.strerror or exc})",
              file=sys.stderr)
        history = InMemoryHistory()
    session = PromptSession(history=history, completer=ImageCompleter(),
                            complete_while_typing=False)

    def read() -> str:
        lines = [session.prompt("proto> ")]
        while not complete_input("\n".join(lines)):
            lines.append(session.prompt("  ...> "))
        return "\n".join(lines)

    return read


def _offer(image: str, words: list[str], word: str) -> list[str]:
    """Completions for the word being typed, after `words` of the current statement."""
    for i in range(len(words) - 1, -1, -1):  # the statement being typed starts after '.'
        if words[i].endswith("."):
            words = words[i + 1:]
            break
    words = [w for w in words if w not in (":=",)]
    ctx = _Context({"image": image})
    if not words:
        return completion.lobby_names(ctx, word)
    ctx.params.update(receiver=words[0], words=words[1:])
    return completion.selectors(ctx, word)


class _Context:
    """What the completion functions read of a click context: its params."""

    def __init__(self, params: dict) -> None:
        self.params = params
        self.parent = None
