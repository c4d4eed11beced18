"""The `proto` command through real subprocesses and in-process: the README tour."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT


def test_tour_through_the_shell(proto, tmp_path):
    assert proto("eval", "point := genesis clone. point addSlot: 'x' value: 3. point addSlot: 'y' value: 4").returncode == 0
    src = tmp_path / "dist.py"
    src.write_text("def distance(self):\n    return (send(self, 'x') ** 2 + send(self, 'y') ** 2) ** 0.5\n")
    assert proto("define", "point", "distance", "--source", str(src)).returncode == 0
    r = proto("send", "point", "distance")
    assert (r.returncode, r.stdout) == (0, "5.0\n")
    assert proto("send", "point", "x:", "10").returncode == 0
    assert proto("send", "point", "x").stdout == "10\n"
    r = proto("send", "point", "frobnicate")
    assert r.returncode == 1
    assert r.stderr.strip() == "proto: <point #{}> does not understand frobnicate".format(r.stderr.split("#")[1].split(">")[0])
    r = proto("send", "3", "+", "4")
    assert r.stdout == "7\n"
    r = proto("inspect", "point", "--json")
    info = json.loads(r.stdout)
    assert info["name"] == "point"
    assert {s["name"]: s["kind"] for s in info["slots"]} == {
        "parent*": "parent", "distance": "method", "x": "data", "y": "data"}


def test_define_from_stdin_and_keyword_send(proto):
    proto("eval", "d := genesis clone. d addSlot: 'items' value: #{}")  # bad: no map literal
    proto("eval", "d := genesis clone. d addSlot: 'items' value: {}")
    r = proto("define", "d", "at:put:", stdin=(
        "def at_put(self, index, value):\n"
        "    items = list(send(self, 'items'))\n"
        "    items[index:index + 1] = [value]\n"
        "    send(self, 'items:', tuple(items))\n"
        "    return value\n"))
    assert r.returncode == 0, r.stderr
    r = proto("send", "d", "at:", "0", "put:", "'x'")
    assert (r.returncode, r.stdout) == (0, "'x'\n")
    assert proto("send", "d", "items").stdout == "{'x'}\n"


def test_json_shapes(proto):
    proto("eval", "p := genesis clone. blob := #[0 255]. pi := 3.5. s := 'hé'")
    assert json.loads(proto("send", "--json", "blob", "yourself").stdout) == {
        "result": {"$base64": "AP8="}, "learned": False}
    assert json.loads(proto("send", "--json", "pi", "yourself").stdout)["result"] == 3.5
    assert json.loads(proto("send", "--json", "s", "size").stdout)["result"] == 2
    result = json.loads(proto("eval", "--json", "p").stdout)["result"]
    assert result["name"] == "p" and isinstance(result["$ref"], int)
    assert json.loads(proto("eval", "--json", "{1. nil. true}").stdout)["result"] == [1, None, True]


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["send", "lobby", "nothingHere"], 1, "does not understand nothingHere"),
        (["send", "nosuchname", "printString"], 1, "unknown name nosuchname"),
        (["send", "3", "+"], 2, "binary message + takes exactly one argument"),
        (["send", "3", "at:", "hello world"], 2, "quote strings"),
        (["eval", "3 +"], 2, "syntax error at column 4"),
        (["eval", "1 / 0"], 1, "1 / 0: division by zero"),
        (["define", "nobody", "x", "--source", "/nonexistent.py"], 2, "cannot read"),
        (["inspect", "nobody"], 2, "the lobby has no slot 'nobody'"),
        (["send", "3", "+", "'a'"], 1, "3 + 'a': the argument is not a number"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(proto, args, code, text):
    r = proto(*args)
    assert r.returncode == code, r.stderr
    assert text in r.stderr
    assert "Traceback" not in r.stderr
    if code == 1 or args[0] != "define":
        assert r.stderr.count("\n") == 1


def test_missing_image_is_exit_2(proto, tmp_path):
    r = proto("send", "lobby", "printString", image=None)
    assert r.returncode == 2 and "PROTO_IMAGE" in r.stderr
    r = proto("-i", str(tmp_path / "none.image"), "send", "lobby", "printString")
    assert r.returncode == 2 and "no such image" in r.stderr


def test_init_refuses_to_overwrite(proto, image_path):
    r = proto("init", image_path)
    assert r.returncode == 2 and "already exists" in r.stderr


def test_recursion_without_end_fails_cleanly(proto):
    proto("eval", "r := genesis clone")
    proto("define", "r", "loop", stdin="def loop(self):\n    return send(self, 'loop')\n")
    r = proto("send", "r", "loop")
    assert r.returncode == 1 and "recursion too deep" in r.stderr and "Traceback" not in r.stderr


def test_image_option_in_both_places(proto, image_path):
    assert proto("-i", image_path, "send", "3", "+", "1", image=None).stdout == "4\n"
    assert proto("send", "-i", image_path, "3", "+", "1", image=None).stdout == "4\n"
    assert proto("send", "--", "-3", "abs").stdout == "3\n"


def test_in_process_cli(cli):
    assert cli("eval", "x := 41")[0] == 0
    code, out, _ = cli("send", "x", "+", "1")
    assert (code, out) == (0, "42\n")


def test_send_start_up_imports_only_what_it_needs(image_path):
    probe = (
        "import sys\nfrom proto_cli.main import main\n"
        f"code = main(['-i', {image_path!r}, 'send', '3', '+', '4'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'typer', 'click', 'rich', 'llama_cpp', 'pycparser', 'cffi', 'typing', 're', 'ast', 'json', 'contextlib', 'struct', 'dataclasses', 'enum', 'sandbox'})\n"
        "print(code, heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.splitlines()[-1] == "0 []", r.stdout + r.stderr


@pytest.mark.parametrize("argv", [["eval", "3 + 4"], ["eval", "--json", "x := 3. x * 2"],
                                  ["eval", "-"]])
def test_eval_start_up_imports_only_what_send_does(image_path, argv):
    """eval takes send's fast path (issue 18): no Typer, no rich, no parser libraries."""
    probe = (
        "import sys, io\nsys.stdin = io.StringIO('1 + 1')\nfrom proto_cli.main import main\n"
        f"code = main(['-i', {image_path!r}, *{argv!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'typer', 'click', 'rich', 'llama_cpp', 'pycparser', 'cffi', 'typing', 're', 'ast', "
        "'json', 'contextlib', 'struct', 'dataclasses', 'enum', 'sandbox'})\n"
        "print(code, heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    expected = "0 ['enum', 'json', 're']" if "--json" in argv else "0 []"  # json's own
    assert r.stdout.splitlines()[-1] == expected, r.stdout + r.stderr


def test_an_expression_starting_with_a_minus_is_no_option(proto):
    """click read `-1 min: 3` as options (-1, -m..., -i 'n: 3')."""
    for args in (["eval", "-1 min: 3"], ["eval", "--json", "-1 min: 3"]):
        r = proto(*args)
        assert r.returncode == 0 and "-1" in r.stdout, r.stderr
    assert proto("eval", "-3 abs").stdout.strip() == "3"


@pytest.mark.parametrize("argv", [
    ["send", "3", "+", "4", "--json"], ["--json", "send", "3", "+", "4"],
    ["send", "--json", "3", "+", "4"], ["send", "3", "+", "4", "--no-learn", "--json"],
    ["eval", "3 + 4", "--json"], ["--json", "eval", "3 + 4"]])
def test_options_go_anywhere(proto, argv):
    r = proto(*argv)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["result"] == 7


def test_a_negative_receiver_and_unknown_or_incomplete_options(proto):
    assert proto("send", "--", "-3", "abs", "--json").stdout.strip() == \
        '{"result": 3, "learned": false}'
    assert proto("send", "-3", "abs").stdout.strip() == "3"
    assert proto("send", "3", "-", "4").stdout.strip() == "-1"
    r = proto("send", "3", "+", "4", "--bogus")
    assert r.returncode == 2 and "no option --bogus" in r.stderr
    r = proto("send", "3", "+", "4", "--model")
    assert r.returncode == 2 and "--model needs a value" in r.stderr


def test_init_reads_the_image_option_and_the_environment(proto, tmp_path):
    target = tmp_path / "env.image"
    r = proto("init", env={"PROTO_IMAGE": str(target)})
    assert r.returncode == 0 and target.exists(), r.stderr
    other = tmp_path / "opt.image"
    assert proto("-i", str(other), "init").returncode == 0 and other.exists()
    r = proto("init", image=None)
    assert r.returncode == 2 and "PROTO_IMAGE" in r.stderr


def test_short_library_names_resolve_as_the_linker_does(proto):
    r = proto("lib", "add", "z", "--header", "zlib.h", "--library", "z")
    assert r.returncode == 0 and "libz.so.1" in r.stdout, r.stderr
    r = proto("lib", "add", "zz", "--header", "zlib.h", "--library", "libz.so")
    assert r.returncode == 0 and "libz.so.1" in r.stdout, r.stderr
    r = proto("lib", "add", "nope", "--header", "zlib.h", "--library", "zzz")
    assert r.returncode == 2 and "closest on this system: " in r.stderr and "libz" in r.stderr


def test_lib_list_and_remove(proto):
    assert proto("lib", "add", "z", "--header", "zlib.h", "--library", "z").returncode == 0
    listed = json.loads(proto("lib", "list", "--json").stdout)
    assert listed == [{"name": "z", "header": "zlib.h", "library": "libz.so.1", "learned": 0}]
    assert "z\tlibz.so.1\tzlib.h\t0 learned" in proto("lib", "list").stdout
    r = proto("lib", "remove", "genesis")
    assert r.returncode == 2 and "not a library object" in r.stderr
    assert proto("lib", "remove", "z").returncode == 0
    assert json.loads(proto("lib", "list", "--json").stdout) == []


def _commands():
    import typer

    from proto_cli.commands.app import app

    def walk(command, path):
        for name, sub in getattr(command, "commands", {}).items():
            if hasattr(sub, "commands"):
                yield from walk(sub, [*path, name])
            else:
                yield [*path, name]

    return list(walk(typer.main.get_command(app), []))


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_help_reads_like_clicks_with_an_example(cli, command):
    code, out, _ = cli(*command, "--help", image=None)
    assert code == 0
    assert "<str>" not in out and "<bool>" not in out and "<list" not in out
    assert "`proto " in " ".join(out.split()), out  # an example to copy


def _complete(image_path, line):
    import os

    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    env = {**os.environ, "COMP_WORDS": line, "COMP_CWORD": str(cword),
           "_PROTO_COMPLETE": "complete_bash", "PROTO_IMAGE": image_path}
    done = subprocess.run([sys.executable, "-m", "proto_cli.main"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)
    return done.stdout.split()


def test_completion_offers_lobby_names_and_what_a_receiver_understands(proto, image_path):
    proto("eval", "point := genesis clone. point addSlot: 'x' value: 3. "
          "point define: 'norm' as: [self x]")
    assert _complete(image_path, "proto send po") == ["point"]
    offered = _complete(image_path, "proto send point ")
    assert {"x", "x:", "norm", "addSlot:", "clone"} <= set(offered)
    assert _complete(image_path, "proto send point addSlot: 3 ") == ["value:"]
    assert "raisedTo:" in _complete(image_path, "proto send 3 ra")
    assert _complete(image_path, "proto inspect tra") == ["traits"]
    r = proto("--help", image=None)
    assert r.returncode == 0 and "--install-completion" in r.stdout


def test_each_word_command_takes_its_own_options_anywhere():
    from proto_cli.commands.argv import hoisted
    from proto_cli.errors import UsageError

    assert hoisted(["learn", "m", "cubeRootOf:", "27", "--relearn"]) == \
        ["learn", "--relearn", "--", "m", "cubeRootOf:", "27"]
    assert hoisted(["send", "3", "--", "4"]) == ["send", "--", "3", "--", "4"]
    for argv in (["eval", "3", "--review"], ["send", "3", "+", "4", "--relearn"],
                 ["--relearn", "eval", "3"]):
        with pytest.raises(UsageError, match="no option"):
            hoisted(argv)


def test_more_library_names_as_the_linker_takes_them():
    import shutil

    from proto_cli.learn.libraries import library_name

    if shutil.which("ldconfig") is None:
        pytest.skip("no ldconfig")
    assert library_name("libz") == "libz.so.1" and library_name("c") == "libc.so.6"
