"""The install decision on hand-built evidence tables, and the pieces that feed it.

evidence.decide is a pure function of a Case (bindings x probes, the oracle's values,
the stated value, the documentation's relevance, the answers already shown to the
model): these tests build the tables by hand, so each rule of the policy in
evidence.py's docstring is checked without a sandbox. oracle.check (the syntax gate
an oracle passes before it is ever evaluated), probes.probes (the generated inputs)
and siblings.out_size_for are plain functions too.
"""

from __future__ import annotations

import re

import pytest

from proto_cli.learn import oracle as O
from proto_cli.learn.evidence import Case, decide, matches, same
from proto_cli.learn.oracle import OUTSIDE
from proto_cli.learn.probes import probes
from proto_cli.learn.siblings import out_size_for
from proto_cli.learn.survey import Error, Row

# -- the table ------------------------------------------------------------------------

#: Four inputs of one float argument; the message's own first.
XS = [(2.0,), (1.0,), (-1.0,), (0.5,)]
SCALE = [6.0, 3.0, -3.0, 1.5]  # f(x) = 3x, what the message means
COMPLEMENT = [-5.0, -2.0, 4.0, -0.5]  # g(x) = 1 - 3x, its look-alike
DOUBLE = [4.0, 2.0, -2.0, 1.0]  # h(x) = 2x, another one


def case(rows: list[list], *, oracle: str | None = None, values: list | None = None,
         expect: object = None, test: int = 0, labels: list[str] | None = None,
         relevance: list[float] | None = None, echoes: list | None = None,
         inputs: list[tuple] | None = None, problem: str = "", yes_no: bool = False) -> Case:
    """A Case whose binding 0 is the proposal; rows given as answer lists (None: the
    binding could not run at all)."""
    labels = labels or [f"{n}(arg1)" for n in "fghijk"[:len(rows)]]
    table = [Row(None, "it could not be loaded") if r is None else Row(list(r)) for r in rows]
    return Case(labels, table, inputs or XS, test, oracle, values, expect, problem,
                relevance, echoes, yes_no)


# -- one supported group installs ------------------------------------------------------

def test_the_one_group_the_oracle_supports_is_installed():
    d = decide(case([SCALE, COMPLEMENT], oracle="arg1 * 3", values=SCALE))
    assert d.kind == "install" and d.chosen == 0
    ev = d.evidence
    assert ev["kind"] == "oracle" and ev["oracle"] == "arg1 * 3"
    assert ev["inputs"] == ev["agreed"] == 4
    assert ev["ruled_out"] == ["g(arg1)"] and ev["siblings"] == 1
    assert "proposed" not in ev  # the model's own function: nothing was switched


def test_bindings_that_answer_alike_everywhere_are_one_group():
    """A twin (same answers on every probe) is the same function as far as anyone can
    tell: no ambiguity, the proposal is installed and the twin is named."""
    d = decide(case([SCALE, SCALE, COMPLEMENT], oracle="arg1 * 3", values=SCALE))
    assert d.kind == "install" and d.chosen == 0
    assert d.evidence["same_answers"] == ["g(arg1)"]
    assert d.evidence["ruled_out"] == ["h(arg1)"]


def test_a_stated_value_alone_supports_the_proposal():
    d = decide(case([SCALE, COMPLEMENT], expect=6.0))
    assert d.kind == "install" and d.chosen == 0
    assert d.evidence["kind"] == "value" and d.evidence["expect_held"] is True
    assert d.evidence["test"] == [2.0]


def test_no_oracle_and_no_stated_value_is_unverified_not_installed():
    d = decide(case([SCALE, COMPLEMENT]))
    assert d.kind == "unverified" and d.chosen == 0
    assert d.evidence["kind"] == "unverified"


def test_an_oracle_that_could_not_be_evaluated_is_no_evidence():
    """Refused by its syntax check (values None, the reason as the problem): the
    proposal is rejected with the reason, never installed unverified."""
    d = decide(case([SCALE, COMPLEMENT], oracle="__import__('os')", values=None,
                    problem="the oracle uses an unknown name '__import__'"))
    assert d.kind == "reject"
    assert "could not be evaluated" in d.feedback and "__import__" in d.feedback
    # the same refused oracle beside a stated value: the value is the evidence
    d = decide(case([SCALE, COMPLEMENT], oracle="__import__('os')", values=None,
                    expect=6.0, problem="the oracle uses an unknown name '__import__'"))
    assert d.kind == "install" and d.evidence["kind"] == "value"
    assert "unknown name" in d.evidence["oracle_note"]


def test_an_oracle_that_raised_everywhere_is_no_evidence():
    d = decide(case([SCALE, COMPLEMENT], oracle="1/0", values=[OUTSIDE] * 4))
    assert d.kind == "reject" and "raised for every input" in d.feedback


# -- a stated value never switches -----------------------------------------------------

def test_a_stated_value_never_switches_to_the_sibling_it_matches():
    """The model proposed g and stated f's value: f is not installed in its place."""
    d = decide(case([COMPLEMENT, SCALE], expect=6.0))
    assert d.kind == "reject" and d.chosen is None
    assert "expected 6.0, got -5.0 from f(arg1)" in d.feedback
    # what the model was told is remembered (a later copy of it proves nothing)
    assert ((2.0,), -5.0) in d.shown


def test_a_binding_that_could_not_run_is_rejected_with_its_failure():
    d = decide(case([None, SCALE], expect=6.0))
    assert d.kind == "reject" and "could not be run" in d.feedback


# -- oracle switches: strong only ------------------------------------------------------

def test_a_strong_oracle_installs_the_lookalike_it_names():
    d = decide(case([COMPLEMENT, SCALE], oracle="arg1 * 3", values=SCALE))
    assert d.kind == "install" and d.chosen == 1
    assert d.evidence["kind"] == "oracle" and d.evidence["proposed"] == "f(arg1)"
    assert d.evidence["ruled_out"] == ["f(arg1)"]


def test_an_oracle_on_too_few_inputs_does_not_switch():
    """Three valued inputs (the rest outside the oracle's domain): weak."""
    values = [6.0, 3.0, -3.0, OUTSIDE]
    d = decide(case([COMPLEMENT, SCALE], oracle="o", values=values))
    assert d.kind == "reject"
    # the same three inputs support the model's own choice: that is enough
    assert decide(case([SCALE, COMPLEMENT], oracle="o", values=values)).kind == "install"


def test_an_oracle_with_one_answer_for_every_input_does_not_switch():
    """Four inputs but a single distinct value: it cannot tell much apart."""
    sevens = [7.0, 7.0, 7.0, 7.0]
    d = decide(case([COMPLEMENT, sevens], oracle="7.0", values=sevens))
    assert d.kind == "reject"
    # the same oracle with two answers among four inputs is strong
    two = [7.0, 7.0, 8.0, 8.0]
    assert decide(case([COMPLEMENT, two], oracle="o", values=two)).kind == "install"


def test_two_strong_groups_do_not_switch():
    """The proposal fails and two different look-alikes both satisfy the oracle
    (nearly-all agreement on many inputs): nothing is chosen for the model."""
    n = 12
    inputs = [(float(i),) for i in range(n)]
    want = [3.0 * i for i in range(n)]
    a = list(want)
    b = list(want)
    a[4] = -1.0  # each disagrees on one input of twelve: both nearly all, equally
    b[5] = -1.0
    d = decide(case([[0.0] * n, a, b], oracle="arg1 * 3", values=want, inputs=inputs))
    assert d.kind == "reject"


def test_nearly_all_is_no_support_beside_a_binding_that_agrees_more():
    """Tolerance is for Python's conventions at the edges, not for a look-alike that
    differs on one input where another agrees on all (isblank beside isspace)."""
    n = 12
    inputs = [(float(i),) for i in range(n)]
    want = [3.0 * i for i in range(n)]
    b = list(want)
    b[5] = -1.0
    d = decide(case([want, b], oracle="arg1 * 3", values=want, inputs=inputs))
    assert d.kind == "install" and d.chosen == 0 and d.evidence["ruled_out"] == ["g(arg1)"]


# -- conflicts between an oracle and a stated value ------------------------------------

def test_oracle_and_proposal_agree_when_only_the_stated_arithmetic_is_off():
    d = decide(case([SCALE, COMPLEMENT], oracle="arg1 * 3", values=SCALE, expect=-5.0))
    assert d.kind == "install" and d.chosen == 0
    assert d.evidence["kind"] == "oracle" and d.evidence["expect_held"] is False


def test_a_conflict_never_switches_to_the_oracles_choice():
    """The proposal matches its stated value, the oracle names the look-alike: the
    evidence disagrees with itself, so neither is installed."""
    d = decide(case([COMPLEMENT, SCALE], oracle="arg1 * 3", values=SCALE, expect=-5.0))
    assert d.kind == "ambiguous" and d.chosen is None
    assert "f(arg1)" in d.feedback and "g(arg1)" in d.feedback


def test_a_conflict_with_a_failed_proposal_is_rejected():
    """Proposal f fails both; g agrees with the oracle, h with the stated value."""
    d = decide(case([DOUBLE, SCALE, COMPLEMENT], oracle="arg1 * 3", values=SCALE,
                    expect=-5.0))
    assert d.kind == "reject"


# -- ambiguity and the documentation ---------------------------------------------------

def test_a_value_several_lookalikes_satisfy_is_ambiguous():
    """f(1/6) = g(1/6) = 0.5: the stated value supports both, and they differ elsewhere."""
    inputs = [(2.0,), (1 / 6,), (1.0,)]
    d = decide(case([[6.0, 0.5, 3.0], [-5.0, 0.5, -2.0]], expect=0.5, test=1,
                    inputs=inputs))
    assert d.kind == "ambiguous" and d.chosen is None
    assert d.classes == [[0], [1]]
    assert d.probe == 0  # the message's own arguments tell them apart
    # their answers are not told: a copy of one would come back as "expected"
    assert "6.0" not in d.feedback and "-5.0" not in d.feedback


def test_documentation_never_breaks_a_tie_in_favour_of_an_install():
    """A header's comments are untrusted text: they may block an install, never make one
    (a hostile reviewer got a wrong look-alike installed through such a tie-break)."""
    inputs = [(2.0,), (1 / 6,), (1.0,)]
    rows = [[6.0, 0.5, 3.0], [-5.0, 0.5, -2.0]]
    for relevance in ([1.0, 0.5], [0.5, 1.0], [1.0, 0.0]):
        d = decide(case(rows, expect=0.5, test=1, inputs=inputs, relevance=relevance))
        assert d.kind == "ambiguous"


def test_a_better_documented_rival_blocks_the_install():
    """Only the proposal is supported, but another binding's name and documentation say
    clearly more of the selector: the evidence may confirm a misreading."""
    d = decide(case([COMPLEMENT, SCALE], expect=-5.0, relevance=[0.5, 1.0]))
    assert d.kind == "ambiguous" and "documentation of g(arg1)" in d.feedback
    # not clearly more (below the margin), or too little said (below the floor): install
    assert decide(case([COMPLEMENT, SCALE], expect=-5.0, relevance=[0.5, 0.7])).kind == "install"
    assert decide(case([COMPLEMENT, SCALE], expect=-5.0, relevance=[0.0, 0.4])).kind == "install"
    # a rival that could not run is no rival
    assert decide(case([COMPLEMENT, None], expect=-5.0, relevance=[0.5, 1.0])).kind == "install"


def test_a_name_spelling_the_selector_defends_the_choice_but_never_blocks_it():
    """`isupper` spells "is upper(case)": it outweighs `toupper`'s "uppercase" line. But
    `isdigit` spelling "is digit" does not block `isxdigit` for `isHexDigit:`."""
    spelled = case([COMPLEMENT, SCALE], expect=-5.0, relevance=[1.0, 0.5])
    assert decide(spelled).kind == "install"
    rival = Case(["isxdigit(arg1)", "isdigit(arg1)"], [Row(COMPLEMENT), Row(SCALE)], XS, 0,
                 None, None, -5.0, relevance=[0.0, 0.67], rival_relevance=[0.0, 0.0])
    assert decide(rival).kind == "install"


# -- echoes ------------------------------------------------------------------------------

def test_a_stated_value_that_echoes_earlier_feedback_is_no_evidence():
    echoes = [((2.0,), -5.0)]  # the model was told g answered -5.0 for 2.0
    d = decide(case([COMPLEMENT, SCALE], expect=-5.0, echoes=echoes))
    assert d.kind == "reject"
    # the same value for other inputs, or another value, is no echo
    assert decide(case([COMPLEMENT, SCALE], expect=-5.0, echoes=[((1.0,), -5.0)])).kind == "install"
    assert decide(case([COMPLEMENT, SCALE], expect=-5.0, echoes=[((2.0,), 6.0)])).kind == "install"


def test_an_echo_does_not_discount_the_oracle():
    d = decide(case([SCALE, COMPLEMENT], oracle="arg1 * 3", values=SCALE, expect=6.0,
                    echoes=[((2.0,), 6.0)]))
    assert d.kind == "install" and d.evidence["kind"] == "oracle"
    assert d.evidence["expect_held"] is False  # the echoed value held nothing up


# -- predicates ------------------------------------------------------------------------

CODES = [(97,), (98,), (101,), (33,)]  # a, b, e, !
IS_VOWEL = [True, False, True, False]


def test_a_predicate_oracle_compares_truth_values():
    """C answers 256 for yes (like <ctype.h>); the oracle answers True."""
    d = decide(case([[256, 0, 256, 0], [0, 256, 0, 0]], oracle="o", values=IS_VOWEL,
                    inputs=CODES))
    assert d.kind == "install" and d.chosen == 0
    assert d.evidence["inputs"] == d.evidence["agreed"] == 4


def test_a_stated_truth_value_matches_a_nonzero_answer():
    assert decide(case([[256, 0, 256, 0]], expect=True, inputs=CODES)).kind == "install"
    # 1 means "true" only where the selector asks yes or no (`isVowel:`), and only for an
    # integer answer, not for a float one
    assert decide(case([[256, 0, 256, 0]], expect=1, inputs=CODES, yes_no=True)).kind == "install"
    assert decide(case([[256, 0, 256, 0]], expect=1, inputs=CODES)).kind == "reject"
    assert decide(case([[0, 256, 0, 0]], expect=True, inputs=CODES)).kind == "reject"
    assert decide(case([[3.0, 0, 0, 0]], expect=1, inputs=CODES, yes_no=True)).kind == "reject"


def test_matches_and_same():
    assert matches(256, True, 1e-9) and not matches(0, True, 1e-9)
    assert matches(256, 1, 1e-9, predicate=True)
    assert not matches(256, 1, 1e-9)
    assert matches(0.5000001, 0.5, 1e-3) and not matches(0.5001, 0.5, 1e-9)
    assert not matches(Error("crash SIGSEGV"), 6.0, 1e-3)
    assert not matches(6.0, OUTSIDE, 1e-3)
    assert matches(b"\x01\xff", "01ff", 1e-9) and matches("abc", b"abc", 1e-9)
    assert same(Error("a"), Error("b")) and not same(Error("a"), 0)
    assert same(3, 3.0) and not same("3", 3)


def test_predicates_with_the_same_truth_everywhere_are_one_answer():
    d = decide(case([[256, 0, 256, 0], [1, 0, 1, 0]], oracle="o", values=IS_VOWEL,
                    inputs=CODES))
    assert d.kind == "install" and d.chosen == 0


def test_an_oracle_answering_the_number_one_is_not_a_truth_value():
    d = decide(case([[10203]], oracle="LK_VERSION_MAJOR", values=[1], inputs=[()],
                    labels=["lk_version_number()"]))
    assert d.kind == "reject"  # today: install, "agreed on 1 of 1 inputs"


# -- oracle.check ------------------------------------------------------------------------

@pytest.mark.parametrize("expr,arity", [
    ("math.sqrt(arg1)", 1),
    ("-arg1", 1),
    ("arg1 * 2", 1),
    ("arg2 - arg1", 2),
    ("chr(arg1) in 'aeiouAEIOU'", 1),
    ("ctype.isalpha(arg1)", 1),  # the <ctype.h> alias
    ("hashlib.sha1(arg1.encode()).digest()", 1),
    ("sum(x * x for x in range(arg1))", 1),  # a comprehension binds its own name
    ("xml.parsers.expat.ErrorString(arg1)", 1),
    ("  arg1 + 1  ", 1),
])
def test_oracle_check_allows_computations(expr, arity):
    assert O.check(expr, arity) == expr.strip()


def test_oracle_check_allows_header_constants_it_is_given():
    assert O.check("LK_VERSION", 0, {"LK_VERSION": "1.2.3"}) == "LK_VERSION"
    with pytest.raises(O.OracleError, match="unknown name 'LK_VERSION'"):
        O.check("LK_VERSION", 0)


@pytest.mark.parametrize("expr,why", [
    ("__import__('os').system('x')", "unknown name '__import__'"),
    ("os.system('x')", "unknown name 'os'"),
    ("open('/etc/passwd').read()", "unknown name 'open'"),
    ("eval('1')", "unknown name 'eval'"),
    ("getattr(arg1, 'real')", "unknown name 'getattr'"),
    ("arg1.__class__", "starting with _"),
    ("math._private", "starting with _"),
    ("(lambda: 1)()", "may not use Lambda"),
    ("(x := 1)", "may not use NamedExpr"),
    ("import os", "not a Python expression"),
    ("arg1 +", "not a Python expression"),
    ("arg2", "unknown name 'arg2'"),  # one argument only
    ("arg1 + " + "1 + " * 200 + "1", "longer than"),
    ("+".join(["1"] * 150), "too large"),
])
def test_oracle_check_refuses_everything_else(expr, why):
    with pytest.raises(O.OracleError, match=re.escape(why)):
        O.check(expr, 1)


def test_oracle_check_none_means_no_oracle():
    assert O.check(None, 1) is None
    assert O.check("null", 1) is None and O.check("  None ", 1) is None
    assert O.check("", 1) is None
    with pytest.raises(O.OracleError, match="in a string"):
        O.check(42, 1)


# -- probes ------------------------------------------------------------------------------

UUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
UUID_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def test_probes_are_deterministic_message_first_then_the_test():
    a = probes((2.0,), ("float",), [4.0])
    assert a == probes((2.0,), ("float",), [4.0])
    assert a[0] == (2.0,) and a[1] == (4.0,)
    assert len(a) == len(set(a)) and len(a) <= 2 + 24
    # a test input equal to the message's is not repeated
    b = probes((2.0,), ("float",), [2.0])
    assert b[0] == (2.0,) and b.count((2.0,)) == 1
    # every probe keeps the message's arity and kinds
    two = probes((3, 10), ("int", "int"))
    assert two[0] == (3, 10) and all(len(p) == 2 and all(type(v) is int for v in p)
                                     for p in two)
    assert len({p[0] for p in two}) > 5 and len({p[1] for p in two}) > 5
    assert probes((), ()) == [()]


def test_probes_of_a_uuid_keep_its_shape():
    got = [p[0] for p in probes((UUID,), ("str",))]
    assert got[0] == UUID
    mutants = [s for s in got[1:] if UUID_SHAPE.fullmatch(s)]
    # the message's UUID varied digit by digit (and its upper-case form): UUIDs still
    assert len(set(mutants)) >= 5 and UUID not in mutants
    assert all(UUID_SHAPE.fullmatch(s) for s in got[1:6])
    assert all(s[i] == "-" for s in got[1:6] for i in (8, 13, 18, 23))


def test_probes_of_hex_stay_hex_and_small_ints_stay_small():
    hexes = [p[0] for p in probes(("ff",), ("str",))]
    varied = [s for s in hexes if len(s) == 2 and s.lower() != "ff"]
    assert varied and all(re.fullmatch(r"[0-9a-f]{2}", s) for s in varied)
    codes = [p[0] for p in probes((7,), ("int",))]
    assert codes[0] == 7 and all(0 <= c <= 127 for c in codes)
    assert {0, 32, 48, 65, 97} <= set(codes)  # one of each <ctype.h> class
    # a large number is probed with values of its size, a negative one with negatives
    big = [p[0] for p in probes((123456789,), ("int",))]
    assert all(0 <= c < 1 << 27 for c in big) and len(set(big)) > 10
    assert any(p[0] < 0 for p in probes((-5,), ("int",)))


def test_probes_of_other_kinds():
    assert probes((None,), ("nil",)) == [(None,)]
    assert set(probes((True,), ("bool",))) == {(True,), (False,)}
    raw = probes((b"ab",), ("bytes",))
    assert raw[0] == (b"ab",) and all(type(p[0]) is bytes for p in raw)
    floats = [p[0] for p in probes((2.5,), ("float",))]
    assert {0.0, -2.5, 1.25, 5.0} <= set(floats) and all(x == x for x in floats)


# -- siblings.out_size_for ---------------------------------------------------------------

def test_out_size_for_reads_the_functions_own_constant():
    defined = {"SHA224_DIGEST_LENGTH": 28, "SHA256_DIGEST_LENGTH": 32, "SHA_DIGEST_LENGTH": 20,
               "MD5_DIGEST_LENGTH": 16}
    assert out_size_for("SHA224", defined, 64) == 28
    assert out_size_for("SHA256", defined, 64) == 32
    assert out_size_for("SHA", defined, 64) == 20  # SHA224_... is not SHA's
    assert out_size_for("md5", defined, None) == 16  # names are matched upper-cased


def test_out_size_for_prefers_the_digest_length_and_falls_back():
    assert out_size_for("FOO", {"FOO_DIGEST_LENGTH": 8, "FOO_BLOCK_LENGTH": 64}, 1) == 8
    assert out_size_for("FOO", {"FOO_LENGTH": 8, "FOO_SIZE": 16}, 1) == 8
    # two sizes of one kind: it cannot tell which, so the fallback
    assert out_size_for("FOO", {"FOO_IN_SIZE": 8, "FOO_OUT_SIZE": 16}, 5) == 5
    # nothing of its own, zero, or absurdly large: the fallback
    assert out_size_for("FOO", {"BAR_SIZE": 8}, None) is None
    assert out_size_for("FOO", {"FOO_SIZE": 0}, 7) == 7
    assert out_size_for("FOO", {"FOO_SIZE": (1 << 20) + 1}, 7) == 7


# -- C's conventions against Python's --------------------------------------------------

PAIRS = [("HeLLo", "hello"), ("abc", "abd"), ("Abc", "abc"), ("x", "x"), ("b", "a")]
EQUAL_IGNORING_CASE = [True, False, True, True, False]
CASECMP = [0, -1, 0, 0, 1]  # C: 0 means equal
CMP = [-32, -1, -32, 0, 1]  # the case-sensitive look-alike


def test_zero_means_yes_for_a_comparison_the_oracle_answers_true():
    """`a.lower() == b.lower()` is True where strcasecmp answers 0; its case-sensitive
    look-alike differs on mixed case and is ruled out."""
    d = decide(case([CASECMP, CMP], oracle="arg1.lower() == arg2.lower()",
                    values=EQUAL_IGNORING_CASE, inputs=PAIRS))
    assert d.kind == "install" and d.chosen == 0
    assert d.evidence["agreed"] == 5
    # the look-alike, proposed, is replaced by the one the oracle picks out
    d = decide(case([CMP, CASECMP], oracle="o", values=EQUAL_IGNORING_CASE, inputs=PAIRS))
    assert d.kind == "install" and d.chosen == 1
    # and C's 0, stated, is what the oracle's True says: no conflict
    d = decide(case([CASECMP, CMP], oracle="o", values=EQUAL_IGNORING_CASE, inputs=PAIRS,
                    expect=0))
    assert d.kind == "install" and d.chosen == 0 and d.evidence["expect_held"]


def test_zero_is_no_yes_where_the_selector_asks_yes_or_no():
    """`isEmpty:` answered by a length: 0 for the empty string is no "yes"."""
    words = [("",), ("a",), ("abc",), ("",), ("xy",)]
    d = decide(case([[0, 1, 3, 0, 2]], oracle="len(arg1) == 0",
                    values=[True, False, False, True, False], inputs=words, yes_no=True))
    assert d.kind == "reject"


def test_zero_and_nonzero_truth_are_different_answers():
    """A truthy reading and a zero-is-yes reading of the same oracle both fit: two
    answers, not one."""
    d = decide(case([CASECMP, [1, 0, 1, 1, 0]], oracle="o", values=EQUAL_IGNORING_CASE,
                    inputs=PAIRS))
    assert d.kind == "ambiguous"


def test_a_three_way_comparison_agrees_by_sign():
    d = decide(case([CMP, [5, 5, 5, 5, 5]], oracle="(arg1 > arg2) - (arg1 < arg2)",
                    values=[-1, -1, -1, 0, 1], inputs=PAIRS))
    assert d.kind == "install" and d.chosen == 0
    # a count answering 0/1 is no three-way comparison: no sign reading without -1 and 1
    d = decide(case([[7, 0, 9]], oracle="o", values=[1, 0, 1], inputs=[(1,), (0,), (2,)]))
    assert d.kind == "reject"


def test_a_pointer_into_the_argument_is_the_index_python_finds():
    """strstr answers the rest of the haystack from the match, or NULL; `find` the index
    of the match, or -1. strchr-like look-alikes point elsewhere."""
    finds = [("ll", "hello"), ("x", "hello"), ("lo", "hello"), ("", "ab")]
    strstr = ["llo", None, "lo", "ab"]
    first_char = ["llo", None, "llo", None]
    d = decide(case([strstr, first_char], oracle="arg2.find(arg1)", values=[2, -1, 3, 0],
                    inputs=finds))
    assert d.kind == "install" and d.chosen == 0 and d.evidence["ruled_out"] == ["g(arg1)"]
    # a text that is no suffix of the argument says nothing
    d = decide(case([["ll", None, "lo", ""]], oracle="o", values=[2, -1, 3, 0], inputs=finds))
    assert d.kind == "reject"
