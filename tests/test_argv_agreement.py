"""`proto send`'s fast path (commands/fastpath.py, no Typer) and the Typer app read the
same command lines alike: the same image, receiver, words, --json and --no-learn.

Both run after argv.hoisted, as in main(); the work (actions.send) is replaced by a
recorder, so nothing is sent."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proto_cli.commands import actions
from proto_cli.commands.argv import hoisted
from proto_cli.commands.fastpath import try_send
from proto_cli.errors import UsageError


def typer_reads(argv: list[str], monkeypatch) -> list:
    from proto_cli.commands import app as app_module

    seen = []

    def record(image, receiver, words, as_json=False, learn=True, **_):
        seen.append([image, receiver, list(words), as_json, learn])
        return ""

    monkeypatch.setattr(actions, "send", record)
    app_module.State.image = None
    try:
        app_module.app(args=argv, standalone_mode=False)
    finally:
        app_module.State.image = None
    assert len(seen) == 1, argv
    return seen[0]


LINES = [
    ["send", "p", "x"],
    ["-i", "a.image", "send", "p", "x:", "3"],
    ["send", "--json", "p", "x"],
    ["send", "p", "x", "--json"],
    ["--json", "send", "p", "x"],
    ["send", "--no-learn", "--image", "b.image", "p", "at:put:", "1", "-2"],
    ["send", "p", "-", "3"],
    ["send", "3", "+", "4"],
    ["send", "-1", "abs"],
    ["send", "-1.5", "abs", "--no-learn"],
    ["--image=c.image", "send", "p", "y"],
    ["send", "--image=d.image", "--", "p", "--"],
    ["send", "p", "with:", "--", "--json"],
    ["send", "m", "cubeRootOf:", "27", "-i", "e.image", "--json"],
]


@pytest.mark.parametrize("argv", LINES, ids=[" ".join(x) for x in LINES])
def test_the_fast_path_and_typer_agree(argv, monkeypatch):
    line = hoisted(argv)
    fast = try_send(line)
    assert fast is not None, line
    assert typer_reads(line, monkeypatch) == fast


WORD = st.sampled_from(["p", "x", "x:", "3", "-3", "-", "+", "'a b'", "--", "at:", "2.5"])
OPTION = st.sampled_from([["--json"], ["--no-learn"], ["-i", "f.image"], ["--image=g.image"]])


@settings(max_examples=60, deadline=None)
@given(st.lists(WORD, min_size=1, max_size=4), st.lists(OPTION, max_size=3),
       st.integers(0, 5))
def test_any_mix_of_options_and_words_is_read_alike(words, options, where):
    import contextlib

    argv = ["send", *words]
    for option in options:
        at = min(where, len(argv))
        argv[at:at] = option
    try:
        line = hoisted(argv)
    except UsageError:
        return  # no words at all: one error line, from either path
    fast = try_send(line)
    if fast is None:
        return  # the fast path declined: Typer alone reads it
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.suppress(SystemExit):
        assert typer_reads(line, monkeypatch) == fast
