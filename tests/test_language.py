"""The language as a Smalltalk user meets it: exact fractions, collections that change
in place, blocks kept in slots, methods written in the language."""

from __future__ import annotations

from fractions import Fraction

import pytest

from image_format import codec, literals
from image_format.values import ProtoSet, StoredBlock
from proto_cli.errors import ProtoError, UsageError


def test_integer_division_is_exact(world):
    assert world.eval("(4/3) + (4/5)") == Fraction(32, 15)
    assert world.eval("((4/3) + (4/5)) printString") == "32/15"
    assert type(world.eval("(1/2) * 2")) is int  # whole: an integer, not 2/2
    assert world.eval("6 / 3") == 2 and type(world.eval("6 / 3")) is int
    assert world.eval("(1/3) + 0.5") == pytest.approx(0.8333333)
    assert world.eval("10 raisedTo: -2") == Fraction(1, 100)
    assert world.eval("(3/4) numerator + (3/4) denominator") == 7
    assert world.eval("{(7/2) rounded. (7/2) floor. (-7/2) truncated. (1/3) reciprocal}") \
        == [4, 3, -3, 3]
    assert world.eval("(1/2) = 0.5") is True
    assert world.eval("f := 3/4. f + 1") == Fraction(7, 4)  # stored and read back exact
    with pytest.raises(ProtoError, match="division by zero"):
        world.eval("(1/2) / 0")


def test_collections_made_in_eval_change_in_place(world):
    assert world.eval("| a | a := Array new: 3. a at: 0 put: 5. a") == [5, None, None]
    assert world.eval("| v | v := Vector new. v add: 1; add: 2; addFirst: 0. "
                      "{v removeLast. v size. v}") == [2, 2, [0, 1]]
    assert world.eval("| d | d := Dictionary new. d at: #k put: 1. d at: #k put: 2. "
                      "{d at: #k. d size. d at: #no ifAbsent: [0]. d removeKey: #k. d size}") \
        == [2, 1, 0, 2, 0]
    assert world.eval("| s | s := Set new. s add: 1; add: 1; add: 'a'. s size") == 2
    assert world.eval("| a b | a := {1. 2}. b := a copy. b at: 0 put: 9. {a. b}") \
        == [[1, 2], [9, 2]]
    # identity: a collection that can change is one object
    assert world.eval("| a | a := {1}. {a == a. a == {1}. a = {1}. #(1) == #(1)}") \
        == [True, False, True, True]


def test_literals_and_stored_values_stay_immutable(world):
    with pytest.raises(ProtoError, match="a literal or stored list cannot change"):
        world.eval("#(1 2) at: 0 put: 5")
    world.eval("keep := Array new: 2")
    with pytest.raises(ProtoError, match="cannot change"):
        world.eval("keep at: 0 put: 1")
    with pytest.raises(ProtoError, match="stored map cannot change"):
        world.eval("dd := Dictionary new. dd at: 1 put: 2")
    # a key or element is kept as an immutable copy: changing the list later loses nothing
    assert world.eval("| k d | k := {1}. d := Dictionary new. d at: k put: 'x'. "
                      "k at: 0 put: 2. d at: #(1)") == "x"


def test_sets_and_maps_answer_in_proto_terms(world):
    with pytest.raises(ProtoError, match="key not found"):
        world.eval("| d | d := Dictionary new. d at: 1")
    with pytest.raises(ProtoError, match="a map cannot be a set element"):
        world.eval("| s | s := Set new. s add: Dictionary new")
    assert world.eval("| s | s := Set new. s addAll: #(3 1 3 2). s printString") \
        == "a Set(3 1 2)"  # in the order added, the same in every process


def test_negative_numbers_in_literal_arrays(world):
    assert world.eval("#(1 -50 2.5 -4e2 (3 -4))") == (1, -50, 2.5, -400.0, (3, -4))
    assert world.eval("#(+ - -- -3)") == ("+", "-", "--", -3)
    assert world.eval("3 -4") == -1


def test_a_block_kept_in_a_slot_runs_later_with_its_captured_values(world):
    world.eval("fact := [:n | n <= 1 ifTrue: [1] ifFalse: [n * (fact value: n - 1)]]")
    assert world.eval("fact value: 20") == 2432902008176640000
    world.eval("| k | k := 10. adder := [:x | x + k]")  # k is the program's: captured
    assert world.eval("adder value: 5") == 15
    world.eval("counter := ([:n | [n := n + 1]]) value: 5")
    assert world.eval("counter value. counter value") == 7  # within one command
    assert world.eval("counter value") == 6  # the stored copy starts again
    assert world.eval("adder numArgs") == 1
    world.eval("escape := [:x | ^ x]")
    with pytest.raises(ProtoError, match="stored block"):
        world.eval("escape value: 1")


def test_a_stored_block_is_text_and_values_never_run_by_reading(world, cli):
    world.eval("| k | k := 3/4. blk := [:x | x + k]")
    code, out, _ = cli("inspect", "lobby")
    assert code == 0 and "[:x | x + k]" in out
    stored = world(lambda w: w.slot(w.lobby, "blk").value)
    assert type(stored) is StoredBlock and dict(stored.captured) == {"k": Fraction(3, 4)}
    text = literals.write(stored)
    assert text == 'block("[:x | x + k]", {"k": fraction(3/4)})'
    assert literals.read(text) == stored
    assert codec.decode(codec.encode(stored)) == stored


def test_export_and_import_round_trip_new_values_byte_for_byte(image_path, cli, tmp_path):
    assert cli("eval", "f := 1/3. s := Set new. b := [:x | x * 2]. t := {Set new. 2/5}")[0] \
        == 0
    out = tmp_path / "a.txt"
    assert cli("export", "-o", str(out))[0] == 0
    again = tmp_path / "b.image"
    assert cli("import", str(out), "-o", str(again), image=None)[0] == 0
    out2 = tmp_path / "b.txt"
    assert cli("export", "-o", str(out2), image=str(again))[0] == 0
    assert out.read_bytes() == out2.read_bytes()
    assert cli("eval", "b value: f", image=str(again))[1].strip() == "2/3"


@pytest.mark.parametrize("text, message", [
    ("fraction(4/2)", "lowest terms"), ("fraction(1/1)", "2 or more"),
    ("set[1, 1]", "twice"), ('block(1, {})', "block"), ('block("[1]", {1: 2})', "block"),
])
def test_malformed_new_literals_are_refused(text, message):
    with pytest.raises(literals.LiteralError, match=message):
        literals.read(text)


@pytest.mark.parametrize("data", [b"q\x02\x01", b"q\x04\x04", b"S\x02i\x02i\x02",
                                  b"ks\x01xm\x01i\x02i\x02"])
def test_malformed_new_records_are_refused(data):
    from image_format.errors import DecodeError

    with pytest.raises(DecodeError):
        codec.decode(data)


def test_methods_in_the_language(world, cli):
    world.eval("p := genesis clone. p addSlot: 'x' value: 3. "
               "p define: 'double' as: [self x * 2]. "
               "p define: 'find:in:' as: [:v :list | list do: [:e | e = v ifTrue: [^ #found]]. "
               "#absent]")
    assert world.eval("p double") == 6
    assert world.eval("{p find: 2 in: #(1 2 3). p find: 9 in: #(1)}") == ["found", "absent"]
    world.eval("p define: 'fact:' as: '[:n | n <= 1 ifTrue: [1] "
               "ifFalse: [n * (self fact: n - 1)]]'")
    code, out, _ = cli("eval", "(p fact: 2000) printString size")  # on the deep stack
    assert (code, out.strip()) == (0, "5736")
    world.eval("p define: 'doesNotUnderstand:' as: [:m | m selector]")
    assert world.eval("p foo: 1 bar: 2") == "foo:bar:"
    world.eval("p define: 'escape' as: [[:v | ^ v]]")
    with pytest.raises(ProtoError, match="method has already answered"):
        world.eval("p escape value: 1")


@pytest.mark.parametrize("source, message", [
    ("| t | t := 1. p define: 'bad' as: [t]", "uses t of the program"),
    ("p define: 'two:' as: [3]", "takes 1 argument"),
    ("p define: 'x' as: '[unclosed'", "method x"),
    ("p define: 'x' as: 3", "source text or a block"),
])
def test_bad_language_methods_are_refused(world, source, message):
    world.eval("p := genesis clone")
    with pytest.raises(UsageError, match=message):
        world.eval(source)


def test_som_protocol_a_smalltalk_user_brings(world):
    assert world.eval("{10 % -3. 1024 >>> 1. -1 as32BitUnsignedValue. 2 & 3}") \
        == [-2, 512, 4294967295, 2]
    assert world.eval("{true && [false]. false || [true]. #(1 2) length. 'ab' + 'c'}") \
        == [False, True, 2, "abc"]
    assert world.eval("1, 2, 3") == [1, 2, 3]
    assert world.eval("{Integer fromString: '42'. Character value: 65. Float infinity}") \
        == [42, "A", float("inf")]
    assert world.eval("'a..b' split: '.'") == ["a", "", "b"]


def test_hash_is_the_same_in_every_process(world):
    assert world.eval("'abc' hash") == 891568578  # crc32, not Python's per-process hash
    assert world.eval("{1 hash = 1.0 hash. #(1 2) hash = {1. 2} hash}") == [True, True]


def test_set_value_type():
    s = ProtoSet([1, [2, 3]])
    assert (2, 3) in s and len(s) == 2 and s.elements == (1, (2, 3))


def test_true_is_not_one_in_sets_and_maps(world):
    """Python holds true = 1 (one dictionary key); the language does not."""
    assert world.eval("{true. 1. false. 0} asSet size") == 4
    assert world.eval("| d | d := Dictionary new. d at: 1 put: #a. "
                      "{d includesKey: true. d at: true ifAbsent: [#none]. d at: 1.0}") \
        == [False, "none", "a"]
    with pytest.raises(ProtoError, match="cannot keep apart"):
        world.eval("| d | d := Dictionary new. d at: 1 put: #a. d at: true put: #b")
    assert world.eval("{#(1) == #(true). #(1) = #(true). #(1 #(2)) == #(1 #(2))}") \
        == [False, False, True]
    with pytest.raises(literals.LiteralError, match="twice"):
        literals.read("{1: 2, true: 3}")
    with pytest.raises(Exception, match="one key twice"):
        codec.decode(b"m\x02i\x02i\x02Ti\x04")


def test_whole_fractions_are_integers(world):
    assert world.eval("(1 to: 2 by: 1/2)") == (1, Fraction(3, 2), 2)
    assert type(world.eval("(1/2) raisedTo: 0")) is int
    assert world.eval("z := ((1/2) rem: (1/4)) + ((3/2) * 2). z") == 3
    assert codec.decode(codec.encode(Fraction(4, 1))) == 4  # stored as the integer


def test_equal_values_hash_alike(world):
    assert world.eval("{(1/2) hash = 0.5 hash. 2 hash = 2.0 hash. "
                      "(Set new add: 1; yourself) hash = (Set new add: 1.0; yourself) hash}") \
        == [True, True, True]


def test_what_collection_messages_answer_can_change(world):
    assert world.eval("| r | r := #(1 2) collect: [:x | x]. r at: 0 put: 9. r") == [9, 2]
    assert world.eval("#(3 1 2) sorted: [:a :b | a > b]") == [3, 2, 1]
    with pytest.raises(ProtoError, match="cannot be sorted in place"):
        world.eval("| a | a := #(3 1 2). a sort")
    # iteration sees the list as it was: a block that adds to it does not loop forever
    assert world.eval("| v | v := Vector new. v add: 1. v do: [:x | v add: x]. v size") == 2


def test_a_stored_block_stays_live_in_the_command_that_stores_it(world):
    assert world.eval("| k | k := 5. b1 := [k]. k := 6. b1 value") == 6
    assert world.eval("b1 value") == 5  # later commands: k as it was when b1 was stored
    assert world.eval("| c | c := 0. b2 := [c := c + 1]. b2 value. b2 value. c") == 2


def test_hostile_stored_blocks_are_refused_or_said(image_path, cli, tmp_path):
    assert cli("eval", "| k | k := 1. bb := [:x | x + k]")[0] == 0
    text = tmp_path / "x.txt"
    cli("export", "-o", str(text))
    body = text.read_text()
    for bad in ('{"self": 1}', '{"": 1}', '{"a b": 1}', '{"nil": 1}'):
        (tmp_path / "bad.txt").write_text(body.replace('{"k": 1}', bad))
        code, _, err = cli("import", str(tmp_path / "bad.txt"), "-o",
                           str(tmp_path / f"b{len(bad)}.image"), image=None)
        assert code == 2 and "variable name" in err, (bad, err)
    (tmp_path / "broken.txt").write_text(body.replace('"[:x | x + k]"', '"[:x | x +"'))
    broken = str(tmp_path / "broken.image")
    assert cli("import", str(tmp_path / "broken.txt"), "-o", broken, image=None)[0] == 0
    code, out, _ = cli("verify", broken, image=None)
    assert code != 0 and "stored block" in out
    code, _, err = cli("eval", "bb value: 1", image=broken)
    assert code == 1 and "stored block '[:x | x +'" in err


def test_bounds_a_command_can_afford(world):
    with pytest.raises(ProtoError, match="more than 3,000,000 digits"):
        world.eval("2 raisedTo: 10000000000")
    with pytest.raises(ProtoError, match="longer than 100,000,000"):
        world.eval("| s | s := 'ab'. 1 to: 40 do: [:i | s := s , s]. s size")
    with pytest.raises(ProtoError, match="more than 10,000,000 items"):
        world.eval("| s | s := {1}. 1 to: 30 do: [:i | s := s , s]. s size")


def test_characters_and_code_points(world):
    assert world.eval("{$a charCode. 97 asCharacter. (Character value: 955) size}") \
        == [97, "a", 1]
    with pytest.raises(ProtoError, match="surrogate"):
        world.eval("Character value: 55296")
