"""Hostile input never crashes proto: a result, or one line of error and a known exit code.

Fuzzes the expression and shell-word syntax (through `proto eval` / `proto send`),
the Squeakerfile parser and `proto build`, the value decoder and the value
literals, with both raw random input and near-valid, grammar-aware input.
A hang fails the example (Hypothesis deadline, and SIGALRM as a hard cap).

    PROTO_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py    # a long run
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from image_format import literals
from image_format.codec import MAX_DEPTH, Pickled, Ref, decode, decode_prefix, encode
from image_format.errors import DecodeError, EncodeError
from proto_cli.build import recipe
from proto_cli.errors import ProtoSyntaxError
from proto_cli.main import main
from proto_cli.world import session
from proto_cli.world.syntax import parse, parse_words

pytestmark = pytest.mark.slow  # a developer's default run leaves these out; CI runs them

EXAMPLES = int(os.environ.get("PROTO_FUZZ_EXAMPLES", "300"))
HARD_CAP = 30  # seconds: an example still running then is a hang
_SCRIPT = Path(sys.executable).with_name("proto")  # the installed launcher, bin/proto
PROTO = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "proto_cli.main"]

# No example database: nothing is written into the repository.
FUZZ = settings(
    max_examples=EXAMPLES, deadline=timedelta(seconds=5), database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example, HealthCheck.filter_too_much],
)
BUILDS = settings(FUZZ, max_examples=max(10, EXAMPLES // 3), deadline=timedelta(seconds=20))
PROCESSES = settings(FUZZ, max_examples=max(4, EXAMPLES // 60), deadline=timedelta(seconds=20))


class Hang(Exception):
    """An example outlived HARD_CAP."""


@contextlib.contextmanager
def hard_cap(seconds: int = HARD_CAP) -> Iterator[list[bool]]:
    """A deadline that interrupts: Hypothesis's own only measures after the fact."""
    fired: list[bool] = []

    def on_alarm(signum, frame) -> None:
        fired.append(True)
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield fired
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """`proto ARGV` in-process, with strict UTF-8 stdin and stdout as under en_US.UTF-8."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    source = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="strict")
    with hard_cap() as fired, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err), mock.patch.object(sys, "stdin", source):
        code = main(argv)
    assert not fired, f"hang: proto {argv!r}"
    out.flush()
    err.flush()
    return (code, out.buffer.getvalue().decode("utf-8", "surrogateescape"),
            err.buffer.getvalue().decode("utf-8", "surrogateescape"))


def assert_clean(code: int, err: str, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    """The CLI contract: a known exit code; errors are one `proto: ` line, never a crash."""
    if currently_in_test_context():  # the mix of outcomes: --hypothesis-show-statistics
        event(f"exit {code}")
    assert code in allowed, (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0:
        assert err == "", err
    else:
        assert len(err.splitlines()) == 1 and err.startswith("proto: "), err
        assert err.endswith("\n"), err


def mutated(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Near-valid text: a few characters cut or added, a run repeated, or the rest cut off."""
    noise = st.sampled_from(list("()[]{}.;:=|^#'\"-+*/\\<>~,@%&?!_$ \n\t\x00\udcff\u2028é9eE"))

    @st.composite
    def build(draw) -> str:
        text = draw(base)
        for _ in range(draw(st.integers(0, 3))):
            i = draw(st.integers(0, len(text)))
            op = draw(st.sampled_from(["cut", "add", "dup", "trunc"]))
            if op == "cut":
                text = text[:i] + text[i + 1:]
            elif op == "add":
                text = text[:i] + draw(noise) + text[i:]
            elif op == "dup":
                text = text[:i] + text[i:i + 8] * draw(st.integers(2, 50)) + text[i:]
            else:
                text = text[:i]
        return text

    return build()


# -- expressions --------------------------------------------------------------------
# Messages that cannot run long or load a model (no loops, no raisedTo:, no learner).
UNARY = ["printString", "size", "abs", "negated", "sqrt", "isNil", "notNil", "yourself",
         "clone", "copy", "value", "reversed", "first", "last", "isEmpty", "asString",
         "asUppercase", "keys", "values", "slotNames", "numArgs", "not", "even", "odd",
         "rounded", "floor", "ceiling", "asInteger", "asFloat", "hex", "asBytes", "asNumber",
         "frobnicate", "x", "y", "selector", "arguments"]
BINARY = ["+", "-", "*", "/", "//", "\\\\", "<", ">", "<=", ">=", "=", "~=", ",", "&", "|",
          "->", "@", "%", "==>"]
KEYWORDS = [["at:"], ["at:", "put:"], ["max:"], ["min:"], ["between:", "and:"], ["ifTrue:"],
            ["ifFalse:"], ["ifTrue:", "ifFalse:"], ["and:"], ["or:"], ["includes:"],
            ["with:"], ["value:"], ["value:", "value:"], ["collect:"], ["select:"],
            ["inject:", "into:"], ["do:"], ["addSlot:", "value:"], ["setSlot:", "value:"],
            ["removeSlot:"], ["respondsTo:"], ["perform:"], ["perform:", "with:"],
            ["copyAt:", "put:"], ["at:", "ifAbsent:"], ["includesSubstring:"], ["ifNil:"],
            ["foo:", "bar:"], ["x:"], ["y:"]]
NAMES = ["x", "y", "z", "p", "self", "genesis", "traits", "lobby", "nil", "true", "false",
         "unknownName", "_x1"]
SAFE_SYMBOLS = UNARY + BINARY + ["".join(k) for k in KEYWORDS]

common_literal = st.one_of(
    st.integers(-1000, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=20).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(SAFE_SYMBOLS).map(lambda s: "#" + s),
    st.lists(st.integers(0, 255), max_size=5).map(lambda b: "#[" + " ".join(map(str, b)) + "]"),
    st.sampled_from(["nil", "true", "false", "#'quoted sym'", "''''", "-7", "2.5e-3"]),
)
odd_literal = st.one_of(  # edges and near misses, one literal in ten
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["1e308", "1e999", "-0.0", "1_000", "0x10", "1.", "1e", "3r", "$a", "#",
                     "#[256]", "#[1.5]", "1__0", "١٢"]),
    st.integers(4290, 4310).map(lambda n: "7" * n),
)
literal = st.integers(0, 9).flatmap(lambda k: odd_literal if k == 0 else common_literal)
name = st.sampled_from(NAMES)


def _keyword_send(receiver: str, parts: list[str], args: list[str]) -> str:
    return receiver + " " + " ".join(f"{p} {a}" for p, a in zip(parts, args, strict=True))


@st.composite
def keyword_message(draw, operand: st.SearchStrategy[str]) -> str:
    parts = draw(st.sampled_from(KEYWORDS))
    args = [draw(operand) for _ in parts]
    return _keyword_send(draw(operand), parts, args)


def _block(params: list[str], body: list[str]) -> str:
    head = "".join(f":{p} " for p in params) + "| " if params else ""
    return "[" + head + ". ".join(body) + "]"


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One more level: operands are mostly parenthesised, so most programs parse."""
    operand = inner.map(lambda e: f"({e})") | inner
    return st.one_of(
        st.tuples(operand, st.sampled_from(UNARY)).map(" ".join),
        st.tuples(operand, st.sampled_from(BINARY), operand).map(" ".join),
        keyword_message(operand),
        st.tuples(st.lists(st.sampled_from(["a", "b", "x"]), max_size=3),
                  st.lists(inner, max_size=3)).map(lambda t: _block(*t)),
        st.lists(inner, max_size=4).map(lambda items: "{" + ". ".join(items) + "}"),
        st.tuples(operand, st.lists(st.sampled_from(UNARY + ["x: 1", "+ 2", "at: 1"]),
                                    min_size=1, max_size=3))
        .map(lambda t: t[0] + " " + "; ".join(t[1])),
    )


expression = st.recursive(literal | name, _compound, max_leaves=12)
statement = expression | st.tuples(st.sampled_from(["x", "y", "p", "z", "q", "nil"]),
                                   expression).map(" := ".join)
PRELUDE = "x := 3. y := 'a'. p := genesis clone. p addSlot: 'x' value: {1. #[2]. 'z'}. "
program = st.tuples(st.sampled_from(["", PRELUDE]),
                    st.lists(statement, min_size=1, max_size=4).map(". ".join)).map("".join)

OPENERS = ["(", "[", "{", "x := ", "#[", "[:a | ", "'", "\"", "#", "- ", "(1 + "]


@st.composite
def deep(draw) -> str:
    """Deep nesting or very long chains: past any recursion limit, and back."""
    n = draw(st.integers(0, 20_000))
    opener = draw(st.sampled_from(OPENERS))
    closer = {"(": ")", "[": "]", "{": "}", "[:a | ": "]", "(1 + ": ")", "#[": "]"}.get(opener, "")
    closed = draw(st.integers(0, n))
    core = draw(st.sampled_from(["1", "x", "", "nil", "3 negated"]))
    return opener * n + core + closer * closed


chains = st.tuples(st.sampled_from(["1", "x", "'s'", "(1)"]),
                   st.sampled_from([" negated", " + 1", " yourself", " abs", "; yourself"]),
                   st.integers(0, 5000)).map(lambda t: t[0] + t[1] * t[2])
raw_text = st.text(max_size=300) | st.text(
    alphabet=st.sampled_from(list("()[]{}.;:=|^#'\"-+*/\\<>~,@%&?!_ 0123456789eExyz:\n")),
    max_size=300)
expressions = raw_text | mutated(program) | program | deep() | chains


@pytest.fixture(scope="module", autouse=True)
def typer_built_once() -> Iterator[None]:
    """Typer rebuilds its click command on every call (~35 ms, most of an in-process
    `proto eval`); build it once here. The command and its argument handling are Typer's own."""
    import typer.main

    from proto_cli import main as main_module
    from proto_cli.commands.app import app

    command = typer.main.get_command(app)

    def run_app(argv: list[str]) -> int:
        command(args=argv, prog_name="proto")
        return 0

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(main_module, "_run_app", run_app)
        yield


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("fuzz") / "template.image")
    session.create(path)
    return path


@pytest.fixture(scope="module")
def fresh(template: str, tmp_path_factory):
    """A fresh copy of a genesis image per example: no example sees another's changes."""
    work = str(tmp_path_factory.mktemp("work") / "t.image")

    def copy() -> str:
        shutil.copyfile(template, work)
        return work

    return copy


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _syntax_fails(work) -> bool:
    try:
        work()
    except ProtoSyntaxError:
        return True
    return False


@FUZZ
@given(expressions)
def test_parse_answers_statements_or_a_syntax_error(src: str) -> None:
    with hard_cap():
        try:
            assert parse(src)
        except ProtoSyntaxError as exc:
            assert "\n" not in exc.reason and exc.column >= 1


OUTPUT = st.sampled_from([[], ["--json"]])


@FUZZ
@given(expressions, OUTPUT)
def test_eval_any_expression(fresh, src: str, output: list[str]) -> None:
    assume("\x00" not in src)  # argv cannot hold NUL (see the stdin case below)
    code, _, err = run_cli(["-i", fresh(), "eval", "--no-learn", *output, "--", src])
    assert_clean(code, err)
    if _syntax_fails(lambda: parse(src)):  # (`-` reads stdin: empty, also a syntax error)
        assert code == 2 and "syntax error" in err, err


@FUZZ
@given(expressions)
def test_eval_from_stdin_may_hold_anything(fresh, src: str) -> None:
    """`proto eval -` reads a file or pipe: NUL bytes and broken UTF-8 are possible."""
    data = src.encode("utf-8", "surrogatepass")
    code, _, err = run_cli(["-i", fresh(), "eval", "--no-learn", "-"], stdin=data)
    assert_clean(code, err)


# -- shell words (`proto send`) --------------------------------------------------------
word = st.one_of(
    literal, name, st.sampled_from(UNARY + BINARY), st.sampled_from(KEYWORDS).map(" ".join),
    st.text(max_size=30), st.sampled_from(["", "-", "--", "-3", "--json", ":", "at:put:", "x:y"]),
)


@st.composite
def shell_message(draw) -> list[str]:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return [draw(st.sampled_from(UNARY))]
    if kind == 1:
        return [draw(st.sampled_from(BINARY)), draw(word)]
    if kind == 2:
        parts = draw(st.sampled_from(KEYWORDS))
        return [w for p in parts for w in (p, draw(word))]
    return draw(st.lists(word.map(lambda w: w.split(" ")[0]), max_size=5))


@FUZZ
@given(word, shell_message(), OUTPUT)
def test_send_any_words(fresh, receiver: str, words: list[str], output: list[str]) -> None:
    assume("\x00" not in receiver + "".join(words))
    argv = ["-i", fresh(), "send", "--no-learn", *output, "--", receiver, *words]
    code, _, err = run_cli(argv)
    assert_clean(code, err)
    from proto_cli.commands.argv import FLAGS, VALUED

    options = [w for w in (receiver, *words) if w.startswith("--") and w != "--"]
    if any(w in FLAGS or w in VALUED or w == "--help" or w.startswith(("--image=", "--model="))
           for w in options):
        return  # a real option among the words: its own behaviour, tested in test_cli
    if options:  # a word starting with `--` is an option wherever it is (argv.py)
        assert code == 2 and ("no option" in err or "needs a value" in err
                              or "requires an argument" in err or "syntax error" in err), err
    elif _syntax_fails(lambda: parse_words(receiver, words)):
        assert code == 2 and "syntax error" in err, err


@pytest.mark.parametrize("opener", ["(", "[", "{", "x := ", "[:a | ", "(1 + ", "{1. "])
def test_ten_thousand_levels_are_a_syntax_error(fresh, opener: str) -> None:
    src = opener * 10_000 + "1"
    code, _, err = run_cli(["-i", fresh(), "eval", "--no-learn", "--", src])
    assert_clean(code, err, (2,))
    assert "nesting too deep" in err


def test_deep_but_legal_nesting_and_long_chains_evaluate(fresh) -> None:
    assert run_cli(["-i", fresh(), "eval", "--", "(" * 60 + "1" + ")" * 60])[:2] == (0, "1\n")
    chain = "0" + " + 1" * 100_000
    assert run_cli(["-i", fresh(), "eval", "--", chain])[:2] == (0, "100000\n")
    code, _, err = run_cli(["-i", fresh(), "eval", "--", "(" * 65 + "1" + ")" * 65])
    assert code == 2 and "nesting too deep" in err


def test_huge_number_literal_is_a_plain_syntax_error(fresh) -> None:
    code, _, err = run_cli(["-i", fresh(), "eval", "--", "9" * 100_000])
    assert code == 2 and "longer than 4300 digits" in err and len(err) < 200


def test_undecodable_argv_bytes_print_back_unchanged(fresh) -> None:
    """Non-UTF-8 bytes in argv arrive as lone surrogates; a strict stdout must not fail."""
    text = b"'caf\xe9'".decode("utf-8", "surrogateescape")
    code, out, err = run_cli(["-i", fresh(), "eval", "--", text])
    assert (code, err) == (0, "")
    assert out.encode("utf-8", "surrogateescape") == b"'caf\xe9'\n"


def test_an_empty_selector_is_not_reported_as_a_corrupt_image(fresh) -> None:
    code, _, err = run_cli(["-i", fresh(), "eval", "--", "3 perform: ''"])
    assert code == 1 and "does not understand" in err, err


def test_a_huge_integer_result_prints(fresh) -> None:
    for output in ([], ["--json"]):
        code, _, err = run_cli(["-i", fresh(), "eval", *output, "--", "2 raisedTo: 20000"])
        assert code == 0, err


def test_empty_selector_word_is_a_syntax_error(fresh) -> None:
    code, _, err = run_cli(["-i", fresh(), "send", "--", "3", "", "4"])
    assert code == 2 and "syntax error" in err


# -- Squeakerfiles --------------------------------------------------------------------
DIRECTIVE_NAMES = list(recipe.DIRECTIVES)
arg_word = st.one_of(
    st.sampled_from(["point", "origin", "genesis", "lobby", "x", "y", "p", "3", "'a'", "nil",
                     "data.txt", "missing.txt", ".", "/dev/null", "fifo", "base.image",
                     "scratch", "zlib.h", "libz.so.1", "nope.h", "x:", "+", "4", "#[1 2]",
                     "(", ")", "[", "]", "<<", "<<EOF", "\\", "#", "\"", "a\x00b"]),
    st.text(alphabet=st.characters(blacklist_categories=["Zs", "Zl", "Zp", "Cc"]),
            min_size=1, max_size=12),
)
METHOD_BODIES = ["def m(self):\n    return 42\n", "def m(self, a):\n    return a\n",
                 "def m(self):\n    return send(self, 'x')\n", "def m(self):\n    raise ValueError('no')\n",
                 "not python at all (\n", "import os\n", "x = 1\n", "\x00\n", ""]


@st.composite
def directive_line(draw, *, build_safe: bool) -> list[str]:
    names = [d for d in DIRECTIVE_NAMES if not (build_safe and d == "LEARN")]
    directive = draw(st.sampled_from(names) | st.sampled_from(["from", "Slot", "RUN", "#"]))
    if directive == "METHOD" and draw(st.booleans()):
        marker = draw(st.sampled_from(["EOF", "END", "'EOF'", "\"EOF\"", ""]))
        head = f"METHOD {draw(arg_word)} {draw(arg_word)} <<{marker}"
        body = draw(st.sampled_from(METHOD_BODIES) | st.text(max_size=60)).splitlines()
        end = [marker.strip("'\"")] if draw(st.integers(0, 9)) else []
        return [head, *body, *end]
    args = draw(st.lists(arg_word | expression, max_size=5))
    if directive in ("SEND", "EVAL", "SLOT") and draw(st.booleans()):
        args.append(draw(program))
    line = " ".join([directive, *args])
    if draw(st.integers(0, 4)) == 0:  # continued over lines
        cut = draw(st.integers(0, len(line)))
        return [line[:cut] + " \\", draw(st.sampled_from(["", "  ", "\\"])) + line[cut:]]
    return [line]


@st.composite
def squeakerfile(draw, *, build_safe: bool = False) -> str:
    first = draw(st.sampled_from(["FROM scratch"] * 6 + ["FROM base.image", "FROM data.txt",
                                                         "FROM nowhere", "FROM", ""]))
    lines = [first]
    for _ in range(draw(st.integers(0, 6))):
        lines += draw(directive_line(build_safe=build_safe) | st.sampled_from(
            ["", "# comment", "   ", "\\", "<<EOF", "FROM scratch"]).map(lambda s: [s]))
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\\", "\n\\\n"]))
    return text.replace("\n", "\r\n") if draw(st.integers(0, 9)) == 0 else text


OBJECTS = ["point", "origin", "genesis", "lobby", "traits.number", "nope"]
FILES = ["data.txt", "m.py", "missing.txt", "fifo", "/dev/null", ".", "base.image"]


@st.composite
def well_formed_line(draw) -> list[str]:
    """A directive with the right number of plausible arguments: it reaches its handler."""
    directive = draw(st.sampled_from([d for d in DIRECTIVE_NAMES if d not in ("FROM", "LEARN")]))
    obj = st.sampled_from(OBJECTS)
    slot = st.sampled_from(["x", "y", "parent", "_a1", "bad-name", "x:", "genesis"])
    if directive == "OBJECT":
        words = [draw(st.sampled_from(["point", "origin", "lobby", "2bad"]))]
        words += draw(st.lists(obj, max_size=1))
    elif directive in ("SLOT", "PARENT"):
        words = [draw(obj), draw(slot), draw(program if directive == "SLOT" else obj)]
    elif directive == "METHOD":
        selector = draw(st.sampled_from(["m", "m:", "+", "at:put:", "bad selector"]))
        if draw(st.booleans()):
            body = draw(st.sampled_from(METHOD_BODIES)).splitlines()
            return [f"METHOD {draw(obj)} {selector} <<EOF", *body, "EOF"]
        words = [draw(obj), selector, draw(st.sampled_from(FILES))]
    elif directive in ("SEND", "EVAL"):
        words = [draw(program)]
    elif directive == "LIBRARY":
        words = [draw(st.sampled_from(["z", "2z"])),
                 draw(st.sampled_from(["zlib.h", "nope.h"])), "libz.so.1"]
    elif directive == "RESOURCE":
        words = [draw(st.sampled_from(["banner", "2b"])), draw(st.sampled_from(FILES))]
    else:
        words = [draw(st.sampled_from(["maintainer", "k"])),
                 draw(st.text(min_size=1, max_size=20))]
    return [" ".join([directive, *words])]


@st.composite
def buildable(draw) -> str:
    """A Squeakerfile that mostly parses, so its steps run (LEARN needs a model: left out)."""
    first = draw(st.sampled_from(["FROM scratch"] * 8 + ["FROM base.image", "FROM data.txt"]))
    lines = [first]
    for _ in range(draw(st.integers(0, 5))):
        lines += draw(well_formed_line())
    return "\n".join(lines) + "\n"


@FUZZ
@given(squeakerfile() | mutated(squeakerfile()) | st.text(max_size=300))
def test_recipe_parse_answers_steps_or_one_located_error(text: str) -> None:
    with hard_cap():
        try:
            steps = recipe.parse(text, "Squeakerfile")
        except recipe.RecipeError as exc:
            message = str(exc)
            assert "\n" not in message
            where, _, rest = message.partition(": ")
            file, line, column = where.rsplit(":", 2)
            assert file == "Squeakerfile" and int(line) >= 1 and int(column) >= 1 and rest
        else:
            assert steps and steps[0].directive == "FROM"
            for step in steps:
                assert step.directive in recipe.DIRECTIVES and step.line >= 1


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory, template: str, monkeypatch_module) -> Path:
    """A recipe folder with files to read, a FIFO (must not block) and a build cache."""
    folder = tmp_path_factory.mktemp("recipe")
    monkeypatch_module.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    (folder / "data.txt").write_text("hello\n")
    (folder / "m.py").write_text("def m(self):\n    return 7\n")
    shutil.copyfile(template, folder / "base.image")
    os.mkfifo(folder / "fifo")
    (folder / "out").mkdir()
    return folder


def _build(folder: Path, text: str) -> tuple[int, str]:
    (folder / "Squeakerfile").write_text(text, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(FileNotFoundError):
        (folder / "Squeakerfile.lock").unlink()
    out = folder / "out" / "app.image"
    try:
        code, _, err = run_cli(["build", "-f", str(folder / "Squeakerfile"), "-o", str(out)])
        # Errors are exit 2 (README); a failure leaves no output and no temporary file.
        assert_clean(code, err, (0, 2))
        left = set(os.listdir(folder / "out")) - {"app.image-lock"}  # LMDB's, harmless
        assert left == ({"app.image"} if code == 0 else set()), left
    finally:
        for name in os.listdir(folder / "out"):
            os.unlink(folder / "out" / name)
    return code, err


@BUILDS
@given(buildable() | squeakerfile(build_safe=True) | mutated(buildable()))
def test_build_any_squeakerfile(build_dir: Path, text: str) -> None:
    assume("LEARN" not in text)  # LEARN needs a model (see the test below)
    _build(build_dir, text)


@BUILDS
@given(st.text(max_size=200))
def test_build_random_text(build_dir: Path, text: str) -> None:
    assume("LEARN" not in text)
    _build(build_dir, text)


def test_build_reading_a_fifo_or_a_device_fails_instead_of_blocking(build_dir: Path) -> None:
    (build_dir / "zero").symlink_to("/dev/zero")
    for path in ("fifo", "."):
        code, err = _build(build_dir, f"FROM scratch\nRESOURCE banner {path}\n")
        assert code == 2 and "not a regular file" in err
    for path in ("/dev/zero", "zero"):  # outside the recipe's folder, a device anyway
        code, err = _build(build_dir, f"FROM scratch\nRESOURCE banner {path}\n")
        assert code == 2 and "outside the recipe's folder" in err


@pytest.mark.parametrize("line", ["LEARN 3 frobnicate", "LEARN genesis (((", "LEARN x y: 1; z",
                                  "LEARN nope foo: 1"])
def test_build_learn_that_cannot_learn_fails_before_any_model(build_dir: Path, line: str) -> None:
    code, err = _build(build_dir, f"FROM scratch\n{line}\n")
    assert code == 2 and err.startswith("proto: Squeakerfile:2:1: "), err


def test_build_with_a_damaged_lock_file_fails_cleanly(build_dir: Path) -> None:
    (build_dir / "Squeakerfile").write_text("FROM scratch\n")
    (build_dir / "Squeakerfile.lock").write_text("[" * 100_000)
    out = build_dir / "out" / "app.image"
    code, _, err = run_cli(["build", "-f", str(build_dir / "Squeakerfile"), "-o", str(out)])
    assert_clean(code, err, (2,))
    assert not out.exists()


# -- the value decoder and literals --------------------------------------------------
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.binary(),
    st.integers(-(2**20_000), 2**20_000), st.integers(0, 2**64 - 1).map(Ref),
    st.binary(max_size=20).map(Pickled),
)
hashable = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.binary(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5).map(tuple)
    | st.dictionaries(hashable, inner, max_size=5).map(MappingProxyType),
    max_leaves=25,
)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


hostile = st.one_of(
    st.binary(max_size=2000),
    st.tuples(st.sampled_from(b"sbDlmri"), st.integers(0, 2**80), st.binary(max_size=20)).map(
        lambda t: bytes([t[0]]) + _varint(t[1]) + t[2]),  # a huge declared length
    st.tuples(st.sampled_from([b"l\x01", b"m\x01N", b"l\x02N"]), st.integers(0, 5000)).map(
        lambda t: t[0] * t[1] + b"N"),  # deep nesting
    st.tuples(st.sampled_from(b"isbr"), st.integers(0, 100_000)).map(
        lambda t: bytes([t[0]]) + b"\xff" * t[1] + b"\x01"),  # endless varints
)


@st.composite
def damaged(draw) -> bytes:
    """A valid encoding with a few bytes flipped, cut or spliced in."""
    data = bytearray(encode(draw(values)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data)))
        op = draw(st.integers(0, 2))
        if op == 0 and i < len(data):
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            del data[i:i + draw(st.integers(1, 8))]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def same(a: object, b: object) -> bool:
    """Equal, with NaN equal to itself (compared by the bytes each encodes to)."""
    return encode(a) == encode(b)


@FUZZ
@given(values)
def test_decode_encode_round_trip(value: object) -> None:
    data = encode(value)
    assert same(decode(data), value)
    if not _has_nan(value):
        assert decode(data) == value
    inner, end = decode_prefix(b"xx" + data + b"tail", None, 2)
    assert same(inner, value) and end == 2 + len(data)
    assert same(decode(memoryview(data)), value)  # any buffer, e.g. one LMDB lends


def _has_nan(value: object) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, tuple):
        return any(_has_nan(v) for v in value)
    if isinstance(value, MappingProxyType):
        return any(_has_nan(k) or _has_nan(v) for k, v in value.items())
    return False


@FUZZ
@given(hostile | damaged())
def test_decode_answers_a_value_or_decode_error(data: bytes) -> None:
    with hard_cap():
        for start in (0, 1):
            try:
                value, end = decode_prefix(data, None, start)
            except DecodeError:
                continue
            assert start < end <= len(data)
            assert same(decode(data[start:end]), value)


def test_decoder_limits_match_the_encoder() -> None:
    nested: object = None
    for _ in range(MAX_DEPTH):
        nested = (nested,)
    assert decode(encode(nested)) == nested
    with pytest.raises(EncodeError):
        encode((nested,))
    with pytest.raises(DecodeError):
        decode(b"l\x01" + encode(nested))
    big = 3 ** 200_000  # stored whole, decoded whole (once refused past 448 bits)
    assert decode(encode(-big)) == -big
    with pytest.raises(EncodeError):
        encode(Ref(2**64))
    with pytest.raises(DecodeError):
        decode(b"r" + _varint(2**64))


literal_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from(list('[]{}":,@x0123456789abcdef-.eE +pickledfloat()nilru\\')),
            max_size=200),
    mutated(values.map(literals.write)),
    st.tuples(st.sampled_from(["[", "{", "pickled ", "@", '"', 'x"', "float("]),
              st.integers(0, 5000)).map(lambda t: t[0] * t[1]),
    st.integers(4290, 5000).map(lambda n: "9" * n),
    st.integers(4290, 5000).map(lambda n: "@" + "9" * n),
)


@FUZZ
@given(literal_text)
def test_literal_read_answers_a_value_or_literal_error(text: str) -> None:
    with hard_cap():
        try:
            value = literals.read(text)
        except literals.LiteralError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 400
            return
    text = literals.write(value)
    assert literals.write(literals.read(text)) == text


@FUZZ
@given(values)
def test_literal_write_read_round_trip(value: object) -> None:
    text = literals.write(value)
    assert "\n" not in text and "\r" not in text
    assert literals.write(literals.read(text)) == text  # canonical
    if not _has_nan(value):  # every NaN is written float(nan): sign and payload are not kept
        assert same(literals.read(text), value)


# -- a few real processes ------------------------------------------------------------
def _subprocess(args: list, *, stdin: bytes = b"", env: dict | None = None):
    full = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", **(env or {})}
    return subprocess.run([*PROTO, *args], input=stdin, capture_output=True, env=full,
                           timeout=60)


@PROCESSES
@given(expressions.filter(lambda s: "\x00" not in s and len(s) < 20_000))
def test_real_process_eval(template: str, tmp_path_factory, src: str) -> None:
    work = tmp_path_factory.mktemp("proc") / "t.image"
    shutil.copyfile(template, work)
    arg = src.encode("utf-8", "surrogatepass")  # argv is bytes: any text can arrive
    done = _subprocess(["-i", str(work), "eval", "--no-learn", "--", arg])
    err = done.stderr.decode("utf-8", "replace")
    assert_clean(done.returncode, err)


def test_real_process_deep_nesting_and_bad_bytes(template: str, tmp_path: Path) -> None:
    work = tmp_path / "t.image"
    shutil.copyfile(template, work)
    done = _subprocess(["-i", str(work), "eval", "[" * 10_000])
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1
    assert b"nesting too deep" in done.stderr
    done = _subprocess(["-i", str(work), "send", os.fsdecode(b"'\xff\xfe'"), "size"])
    assert (done.returncode, done.stdout, done.stderr) == (0, b"2\n", b"")
    done = _subprocess(["-i", str(work), "eval", "-"], stdin=b"'\xff' , '\x00'")
    assert done.returncode == 0 and done.stdout == b"'\xff\x00'\n", done


def test_real_process_build_failure_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "Squeakerfile").write_text("FROM scratch\nSEND 3 frobnicate\n")
    done = _subprocess(["build", "-f", str(tmp_path / "Squeakerfile"), "-o",
                        str(tmp_path / "app.image")], env={"XDG_CACHE_HOME": str(tmp_path)})
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1
    assert done.stderr.startswith(b"proto: Squeakerfile:2:1: ")
    assert not (tmp_path / "app.image").exists()
