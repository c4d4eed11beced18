"""The compiled interpreter (issue 18): inline paths that stay exact.

Sends that the compiler runs inline (integer arithmetic, conditionals, counting and
`whileTrue:` loops, `value:` to a block) must answer what the real send answers, and
must give way to the real send whenever the image's method is not genesis's own:
redefined before the program runs, or while a loop is running.
"""

from __future__ import annotations

import contextlib
import hashlib

import pytest

from proto_cli.errors import ProtoError
from proto_cli.world.genesis import method_source
from proto_cli.world.genesis_methods import REGISTRY
from proto_cli.world.intrinsics import GENESIS_SHA256
from proto_cli.world.mirror import Mirror
from proto_cli.world.objects import METHOD


def test_the_table_of_inlined_methods_is_genesis():
    for (traits, selector), digest in GENESIS_SHA256.items():
        source = method_source(dict(REGISTRY[traits])[selector])
        assert hashlib.sha256(source.encode()).hexdigest() == digest, (traits, selector)


def _redefine(world, traits: str, selector: str, source: str) -> None:
    world(lambda w: Mirror(w, w.root(traits)).define(selector, source))


@pytest.mark.parametrize("program, answer", [
    ("3 + 4", 42), ("| s | s := 0. 1 to: 3 do: [:i | s := s + i]. s", 42),
])
def test_a_redefined_plus_is_sent_not_inlined(world, program, answer):
    _redefine(world, "number", "+", "def plus(self, other):\n    return 42\n")
    assert world.eval(program) == answer


def test_redefined_conditionals_and_loops_are_sent(world):
    _redefine(world, "true", "ifTrue:", "def t(self, block):\n    return 'mine'\n")
    assert world.eval("3 > 2 ifTrue: [1]") == "mine"
    _redefine(world, "number", "timesRepeat:", "def t(self, block):\n    return 'mine'\n")
    assert world.eval("| n | n := 0. 3 timesRepeat: [n := n + 1]. n") == 0
    _redefine(world, "block", "whileTrue:", "def t(self, body):\n    return 'mine'\n")
    assert world.eval("[true] whileTrue: [1]") == "mine"
    _redefine(world, "block", "value", "def v(self):\n    return 7\n")
    # to:do: sends value:, still genesis's; ifFalse:'s inline path needs `value`
    assert world.eval("false ifFalse: [1]") == 7
    assert world.eval("| s | s := 0. 1 to: 3 do: [:i | s := s + i]. s") == 6


@pytest.mark.parametrize("loop", [
    "1 to: 5 do: [:i | n := n + 1. n = 2 ifTrue: [lobby changeValue]]",
    "5 timesRepeat: [n := n + 1. n = 2 ifTrue: [lobby changeValue]]",
    "[n < 5] whileTrue: [n := n + 1. n = 2 ifTrue: [lobby changeValue]]",
    "[n >= 5] whileFalse: [n := n + 1. n = 2 ifTrue: [lobby changeValue]]",
])
def test_a_loop_whose_block_value_changes_while_it_runs_finishes_with_sends(world, loop):
    """Genesis's loops send value (value:) each time round; so must an inlined loop. Here
    the second round makes `value` answer nil without running the block: the count
    stops at 2 (a whileTrue: whose condition answers nil then says so)."""
    world(lambda w: Mirror(w, w.lobby).define("changeValue", (
        "def change_value(self):\n"
        "    block = send(send(lobby, 'traits'), 'block')\n"
        "    reflect(block).define('value:', 'def v(self, x):\\n    return None\\n')\n"
        "    reflect(block).define('value', 'def v(self):\\n    return None\\n')\n"
        "    return self\n")))
    program = f"| n | n := 0. {loop}. n"
    if "while" in loop:
        with pytest.raises(ProtoError, match="condition answered nil, not a boolean"):
            world.eval(program)
    else:
        assert world.eval(program) == 2


def test_inline_paths_answer_what_the_sends_answer(world):
    assert world.eval("| s b | s := 1. b := [s := 10]. s + b value") == 11  # receiver first
    assert world.eval("3 + 4.5") == 7.5 and world.eval("(1/2) + 1") == world.eval("3/2")
    assert world.eval("(2 raisedTo: 100) * 2") == 2 ** 101
    assert world.eval("| s | s := 0. 1 to: 3.5 do: [:i | s := s + i]. s") == 6
    assert world.eval("| s | s := 0. 5 to: 1 do: [:i | s := s + i]. s") == 0
    assert world.eval("1 to: 3 do: [:i | i]") == 1  # to:do: answers its receiver
    assert world.eval("3 timesRepeat: [1]") == 3
    assert world.eval("| i | i := 0. [i < 3] whileTrue: [i := i + 1]") is None
    assert world.eval("| i | i := 0. [i >= 3] whileFalse: [i := i + 1]. i") == 3
    assert world.eval("{true and: [false]. false and: [1/0]. true or: [1/0]. false or: [3]}") \
        == [False, False, True, 3]
    assert world.eval("{true ifFalse: [1]. false ifTrue: [1]. false ifFalse: [2] ifTrue: [3]}") \
        == [None, None, 2]
    # an assignment to a block parameter does not steer the loop
    assert world.eval("| s | s := 0. 1 to: 3 do: [:i | s := s + i. i := 10]. s") == 6
    with pytest.raises(ProtoError, match="whileTrue: condition answered 3, not a boolean"):
        world.eval("[3] whileTrue: [1]")
    with pytest.raises(ProtoError, match="does not understand ifTrue:"):
        world.eval("3 ifTrue: [1]")
    with pytest.raises(ProtoError, match="timesRepeat:: the receiver is not an integer"):
        world.eval("2.5 timesRepeat: [1]")
    with pytest.raises(ProtoError, match="takes 1 argument"):
        world.eval("[:x | x] value")


def test_blocks_made_in_inlined_loops_capture_each_round(world):
    """Each round of a loop is a new activation: a block made in it keeps its own `i`,
    and a block over an outer variable shares it."""
    assert world.eval("| bs | bs := Vector new. 1 to: 3 do: [:i | bs add: [i]]. "
                      "(bs collect: [:b | b value]) asArray") == [1, 2, 3]
    assert world.eval("| bs n | n := 0. bs := Vector new. 3 timesRepeat: [| k | k := n. "
                      "n := n + 1. bs add: [k]]. (bs collect: [:b | b value]) asArray") \
        == [0, 1, 2]
    assert world.eval("| c inc | c := 0. inc := [c := c + 1]. 1 to: 4 do: [:i | inc value]. "
                      "c") == 4


def test_return_from_inside_inlined_blocks_leaves_the_method(world):
    world(lambda w: Mirror(w, w.lobby).define(
        "find:", "[:n | 1 to: 10 do: [:i | i = n ifTrue: [^ i * 10]]. 0]"))
    assert world.eval("{lobby find: 3. lobby find: 11}") == [30, 0]
    assert world.eval("| r | r := 0. #(1 2 3) do: [:x | x = 2 ifTrue: [r := x]]. r") == 2


def test_names_that_the_generated_python_uses_are_plain_variables(world):
    names = ["scope", "outer", "names", "e0", "t1", "v2", "SEND", "u", "exc", "c0"]
    temps = " ".join(names)
    sets = " ".join(f"{n} := {i}." for i, n in enumerate(names))
    body = " + ".join(names)
    assert world.eval(f"| {temps} | {sets} 1 to: 2 do: [:t3 | t1 := t1 + t3]. "
                      f"[:exc | {body} + exc] value: 100") == 45 - 8 + 100 + 3 + 100  # exc: the parameter


def test_nesting_past_the_inline_limit_still_runs(world):
    depth = 30
    program = "| n | n := 0. " + "1 to: 1 do: [:i | " * depth + "n := n + 1" + "]" * depth
    assert world.eval(program + ". n") == 1
    program = "| n | n := 0. " + "true ifTrue: [" * 60 + "n := 5" + "]" * 60
    assert world.eval(program + ". n") == 5


def test_a_stored_block_reads_and_writes_its_captured_values(world):
    world.eval("| k | k := 5. keep := [:x | k := k + x. k]")
    assert world.eval("keep value: 1") == 6
    assert world.eval("{keep value: 1. keep value: 1}") == [6, 7]  # a copy per command


def test_corrupt_genesis_slots_make_the_inline_path_give_way(world):
    """A damaged slot that an inline check reads must not break sends that never need it."""
    from image_format import layout as L

    def damage(w):
        block = w.root("block")
        w.txn.put(L.slot_key(block.oid, "whileFalse:"), b"\xff")

    world(damage)
    assert world.eval("| s | s := 0. 1 to: 3 do: [:i | s := s + i]. s") == 6
    assert world.eval("3 + 4") == 7
    assert world(lambda w: w.slot(w.root("number"), "+").kind) == METHOD


@pytest.mark.parametrize("program", [
    "3 ifTrue: [1]", "[3] whileTrue: [1]", "'a' ifFalse: [1] ifTrue: [2]", "#(1) and: [2]",
    "[nil] whileFalse: [1]", "2.5 + 1", "'x' < 3", "#sym value", "true value: 1",
    "nil value", "false ifTrue: [1]"])
def test_generated_python_draws_no_warning(world, program):
    """A literal beside `is` makes Python print a SyntaxWarning on the user's terminal."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(ProtoError):  # most are errors: what matters is the output
            world.eval(f"nil. {program}")  # two statements: compiled (one is sent as is)
    assert [str(w.message) for w in caught] == []


def test_a_return_with_nowhere_to_go_says_so_before_its_value_is_made(world):
    """As before the compiler: `^ expr` whose home has ended fails first; its expression
    never runs (no side effect, no hang)."""
    world.eval("b := [^ zz := 5]")
    with pytest.raises(ProtoError, match="nothing to return from"):
        world.eval("b value")
    with pytest.raises(ProtoError, match="unknown name zz"):
        world.eval("zz")
    world.eval("h := [^ [true] whileTrue: []]")
    with pytest.raises(ProtoError, match="nothing to return from"):
        world.eval("h value")
    world(lambda w: Mirror(w, w.lobby).define("mk", "[[:x | ^ x foo]]"))
    with pytest.raises(ProtoError, match="method has already answered"):
        world.eval("(lobby mk) value: 3")


@pytest.mark.parametrize("chain", ["1" + " + 1" * 3000, "3" + " abs" * 3000,
                                   "(1 to: 3) asArray" + " reversed" * 2001 + " first"])
def test_long_send_chains_compile_without_recursing(world, chain):
    """A chain is one link after another for the compiler, as for the parser."""
    answer = world.eval(f"b := [{chain}]. b value")
    assert answer == {0: 3001, 1: 3, 2: 3}[["1", "3", "("].index(chain[0])]


@pytest.mark.parametrize("program", [
    "| x | x := 0. " + "true ifTrue: [x := x + 1]. " * 3000 + "x",
    "| x | x := 0. " + "1 to: 2 do: [:i | x := x + i]. " * 2000 + "x",
])
def test_many_blocks_compile_as_they_run(world, program):
    """A block's body is compiled when a block of it is first made: thousands of inline
    fallbacks that never run cost no compiling (they took a minute at the first try)."""
    import time

    started = time.monotonic()
    assert world.eval(program) in (3000, 6000)
    assert time.monotonic() - started < 30  # a hang guard, not a benchmark


def test_nested_conditionals_in_a_binary_tree_compile_quickly(world):
    def tree(depth: int) -> str:
        return "x := x + 1" if depth == 0 else f"true ifTrue: [{tree(depth - 1)}. {tree(depth - 1)}]"

    assert world.eval(f"| x | x := 0. {tree(12)}. x") == 2 ** 12


def test_a_block_that_holds_itself_is_refused_in_one_line(cli):
    """A stored block keeps copies of what it uses; one that holds itself has no end."""
    code, _out, err = cli("eval", "| a | a := [:p | a]. sb := [a]. 1")
    assert code == 1 and err.count("\n") == 1 and "cannot store in slot sb" in err, err


def test_main_gives_the_cycle_collector_back(cli, tmp_path):
    """The fast path starts without the collector; a caller in the same process must get
    it back, also when the command fails before its work begins."""
    import gc

    assert gc.isenabled()
    code, _out, _err = cli("eval", "3 + 4")
    assert code == 0 and gc.isenabled()
    code, _out, _err = cli("eval", "3 + 4", image=str(tmp_path / "missing.image"))
    assert code != 0 and gc.isenabled()
    frozen = gc.get_freeze_count()
    cli("eval", "3 + 4")
    assert gc.get_freeze_count() == frozen  # start-up is frozen once a process
