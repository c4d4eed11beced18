"""What learning installs, and on what evidence: the real loop, the real sandbox and a
C library of deliberate look-alikes (fixtures/lookalike, compiled here).

`lk_scale` (3x) and `lk_scale_complement` (1 - 3x) share one signature; so do the
predicates `lk_is_vowel` and `lk_is_consonant` (256 for yes, as <ctype.h> answers);
`lk_diff(a, b)` is its own look-alike with the arguments swapped; `lk_version` and
`lk_version_number` are named by the header's constants. The scripted backend replays
recorded model answers: it drives the loop into each rule of the policy (evidence.py),
it is never presented as learning. Each test either goes through propose_and_verify
in-process or through `proto send` as a subprocess, and checks what was (not)
installed with `proto methods --json`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from proto_cli.learn import oracle as O
from proto_cli.learn.binding import Proposal
from proto_cli.learn.headers import prototypes
from proto_cli.learn.loop import (
    LearnAbstained,
    Learned,
    LearnFailed,
    candidates_for,
    propose_and_verify,
)
from proto_cli.learn.models import ScriptedBackend
from proto_cli.learn.need import Need
from proto_cli.learn.siblings import Binding, siblings

from .conftest import PROTO, ROOT, build_fixture_library

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None or shutil.which("cc") is None,
    reason="needs bubblewrap and a C compiler",
)

SIXTH = 1 / 6  # lk_scale(1/6) == lk_scale_complement(1/6) == 0.5


@pytest.fixture(scope="module")
def lookalike(tmp_path_factory) -> tuple[str, str]:
    """(header, shared library) of fixtures/lookalike, compiled with cc once."""
    return build_fixture_library(tmp_path_factory.mktemp("lookalike"), "lookalike")


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory) -> str:
    """One header and documentation cache for the module; transcripts land here too."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def _hermetic_cache(monkeypatch, cache_home):
    monkeypatch.setenv("XDG_CACHE_HOME", cache_home)  # subprocesses inherit it


@pytest.fixture(scope="module")
def template(tmp_path_factory, lookalike, cache_home) -> str:
    """An image with `t` bound to the look-alike library, made once with the CLI."""
    header, lib = lookalike
    path = str(tmp_path_factory.mktemp("template") / "t.image")
    env = {**os.environ, "PROTO_IMAGE": path, "XDG_CACHE_HOME": cache_home}
    for step in (["init", path], ["lib", "add", "t", "--header", header, "--library", lib]):
        r = subprocess.run([*PROTO, *step], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=60)
        assert r.returncode == 0, (step, r.stderr)
    return path


class Lab:
    """`proto` on a fresh copy of the template image, with scripted model answers."""

    def __init__(self, proto, tmp: Path) -> None:
        self.proto = proto
        self.tmp = tmp
        self.scripts = 0

    def run(self, *args: str):
        return self.proto(*args)

    def script(self, answers: list) -> str:
        self.scripts += 1
        path = self.tmp / f"answers-{self.scripts}.json"
        path.write_text(json.dumps(answers))
        return f"scripted:{path}"

    def send(self, answers: list, *words: str, options: tuple = ()):
        return self.run("send", *options, "--model", self.script(answers), "t", *words)

    def methods(self) -> dict[str, dict]:
        r = self.run("methods", "--json", "t")
        assert r.returncode == 0, r.stderr
        return {m["selector"]: m for m in json.loads(r.stdout)}

    def evidence(self, selector: str) -> dict:
        return self.methods()[selector]["provenance"]["evidence"]


@pytest.fixture
def lab(proto, image_path, template, tmp_path) -> Lab:
    shutil.copyfile(template, image_path)
    return Lab(proto, tmp_path)


def answer(function: str, args: list, inputs: list, expect: object = None,
           oracle: str | None = None) -> dict:
    """A model answer as Proposal.parse reads it."""
    return {"oracle": oracle, "test": {"inputs": inputs, "expect": expect},
            "function": function, "args": args}


def learn(lookalike, selector: str, args: tuple, answers: list, attempts: int | None = None):
    """propose_and_verify as `learn()` calls it: (Learned, backend)."""
    header, lib = lookalike
    need = Need(selector, args, header, lib)
    backend = ScriptedBackend([json.dumps(a) for a in answers])
    learned = propose_and_verify(need, candidates_for(need), backend,
                                 attempts or len(answers), wall_s=10.0)
    return learned, backend


def one_line(r) -> str:
    """A refused learn: exit 1, nothing on stdout, one line on stderr."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("proto: ") and "Traceback" not in lines[0]
    return lines[0]


def transcript(message: str) -> list[dict]:
    path = message.rsplit("; transcript: ", 1)[1].strip()
    return json.loads(Path(path).read_text())["attempts"]


# -- 1. the oracle path ------------------------------------------------------------------

def test_an_oracle_install_records_its_evidence_in_the_provenance(lab):
    r = lab.send([answer("lk_scale", ["arg1"], [2.0], None, "arg1 * 3")],
                 "scale:", "2.0", options=("--json",))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["result"] == 6.0 and out["function"] == "lk_scale"
    assert out["evidence"] == "oracle"
    prov = lab.methods()["scale:"]["provenance"]
    ev = prov["evidence"]
    assert ev["kind"] == "oracle" and ev["oracle"] == "arg1 * 3"
    # the message's argument and the generated probes, every one agreed
    assert ev["inputs"] == ev["agreed"] and ev["inputs"] >= 10
    assert ev["ruled_out"] == ["lk_scale_complement(arg1)"]
    assert "proposed" not in ev
    assert prov["function"] == "lk_scale" and prov["model"].startswith("scripted:")
    # installed: the next send answers without a model (the script is used up)
    r = lab.run("send", "--no-learn", "t", "scale:", "5.0")
    assert r.returncode == 0 and r.stdout == "15.0\n"


def test_a_strong_oracle_installs_the_lookalike_it_names(lookalike):
    learned, _ = learn(lookalike, "scale:", (2.0,),
                       [answer("lk_scale_complement", ["arg1"], [2.0], None, "arg1 * 3")])
    assert learned.function == "lk_scale" and learned.verified
    assert learned.evidence["kind"] == "oracle"
    assert learned.evidence["proposed"] == "lk_scale_complement(arg1)"
    assert learned.evidence["inputs"] == learned.evidence["agreed"] >= 4
    assert learned.check.result == 6.0  # the chosen binding passed the gate itself
    # a predicate oracle (True/False) against C's 256/0 picks the vowel test
    learned, _ = learn(lookalike, "isVowel:", (97,),
                       [answer("lk_is_consonant", ["arg1"], [97], None,
                               "chr(arg1) in 'aeiouAEIOU'")])
    assert learned.function == "lk_is_vowel"
    assert learned.evidence["proposed"] == "lk_is_consonant(arg1)"


def test_a_strong_oracle_corrects_the_argument_order(lab):
    """`subtract: 3 from: 10` is 10 - 3: the model passed the arguments in message order,
    its oracle says otherwise, and lk_diff's reordering is what is installed."""
    r = lab.send([answer("lk_diff", ["arg1", "arg2"], [3, 10], None, "arg2 - arg1")],
                 "subtract:", "3", "from:", "10")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "7\n"
    found = lab.methods()["subtract:from:"]
    assert found["provenance"]["evidence"]["proposed"] == "lk_diff(arg1, arg2)"
    assert found["provenance"]["evidence"]["ruled_out"] == ["lk_diff(arg1, arg2)"]
    assert "lib.lk_diff(integer(a2), integer(a1))" in found["source"]
    r = lab.run("send", "--no-learn", "t", "subtract:", "1", "from:", "50")
    assert r.stdout == "49\n"


def test_a_weak_oracle_never_switches(lookalike):
    """An oracle defined on two inputs only (it raises elsewhere) agrees with lk_scale,
    not with the proposal: too little to install a function the model did not name."""
    weak = "arg1 * 3 if arg1 in (2.0, 4.0) else 1 / 0"
    with pytest.raises(LearnFailed) as failed:
        learn(lookalike, "scale:", (2.0,),
              [answer("lk_scale_complement", ["arg1"], [2.0], None, weak)])
    assert type(failed.value) is LearnFailed  # rejected, not undecided
    (attempt,) = transcript(str(failed.value))
    assert attempt["decision"]["kind"] == "reject"
    assert "gives 6.0 but lk_scale_complement(arg1) answered -5.0" in str(failed.value)


def test_a_one_input_oracle_cannot_switch_to_another_version_function(lab):
    """`version` has one input: LK_VERSION names lk_version, the model proposed
    lk_version_number; nothing is installed."""
    wrong = answer("lk_version_number", [], [], None, "LK_VERSION")
    line = one_line(lab.send([wrong] * 3, "version"))
    assert line.startswith("proto: could not learn version from ")
    kinds = [a["check"]["kind"] for a in transcript(line)]
    assert kinds == ["oracle", "oracle", "proposal"]  # then it left the schema
    assert lab.methods() == {}


def test_a_version_is_verified_by_the_header_constant(lab, lookalike):
    r = lab.send([answer("lk_version", [], [], None, "LK_VERSION")], "version")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "'1.2.3'\n"
    ev = lab.evidence("version")
    assert ev["kind"] == "oracle" and ev["oracle"] == "LK_VERSION"
    assert ev["inputs"] == ev["agreed"] == 1
    assert "lk_version_number()" in ev["ruled_out"]
    learned, _ = learn(lookalike, "versionNumber", (),
                       [answer("lk_version_number", [], [], None, "LK_VERSION_NUMBER")])
    assert learned.function == "lk_version_number" and learned.check.result == 10203


# -- 2. siblings and stated values -------------------------------------------------------

def test_the_siblings_are_the_same_shape_the_reordering_and_other_fits(lookalike):
    header, lib = lookalike
    protos = {p.name: p for p in prototypes(header)}
    need = Need("subtract:from:", (3, 10), header, lib)
    prop = Proposal("lk_diff", ["arg1", "arg2"], None, [3, 10], None)
    labels = [b.label for b in siblings(need, Binding(need, protos["lk_diff"], prop),
                                        list(protos.values()), {})]
    assert labels == ["lk_diff(arg2, arg1)"]
    need = Need("isVowel:", (97,), header, lib)
    prop = Proposal("lk_is_vowel", ["arg1"], None, [97], None)
    labels = [b.label for b in siblings(need, Binding(need, protos["lk_is_vowel"], prop),
                                        list(protos.values()), {})]
    assert labels[0] == "lk_is_consonant(arg1)"  # same parameter types first
    assert set(labels) == {"lk_is_consonant(arg1)", "lk_diff(arg1, 0)", "lk_scale(arg1)",
                           "lk_scale_complement(arg1)"}


def test_a_stated_value_never_switches_to_the_sibling_it_matches(lab, lookalike):
    """The model proposes lk_scale_complement and states 6.0, lk_scale's answer: the
    proposal is rejected (the model hears why); lk_scale is never installed for it."""
    wrong = answer("lk_scale_complement", ["arg1"], [2.0], 6.0)
    line = one_line(lab.send([wrong] * 3, "scale:", "2.0"))
    attempts = transcript(line)
    assert [a["check"]["kind"] for a in attempts] == ["assertion", "assertion", "proposal"]
    assert "expected 6.0, got -5.0 from lk_scale_complement(arg1)" in \
        attempts[0]["check"]["message"]
    assert all("evidence" not in a for a in attempts)
    assert lab.methods() == {}
    # the same with the argument order: lk_diff(arg2, arg1) matches 7, it is not taken
    with pytest.raises(LearnFailed) as failed:
        learn(lookalike, "subtract:from:", (3, 10),
              [answer("lk_diff", ["arg1", "arg2"], [3, 10], 7)])
    assert type(failed.value) is LearnFailed
    assert "expected 7, got -7" in str(failed.value)


def test_a_stated_value_supports_the_proposal(lookalike):
    """A false case tells a predicate from every function that is merely nonzero."""
    learned, _ = learn(lookalike, "isVowel:", (97,),
                       [answer("lk_is_vowel", ["arg1"], [98], False)])
    assert learned.function == "lk_is_vowel" and learned.evidence["kind"] == "value"
    assert learned.evidence["expect_held"] is True and learned.check.result == 256


def test_one_true_case_does_not_tell_a_predicate_from_anything_nonzero(lookalike):
    """`isVowel: 101` is true of lk_is_vowel, and 101 - 0 is "true" too: not installed."""
    with pytest.raises(LearnAbstained):
        learn(lookalike, "isVowel:", (97,), [answer("lk_is_vowel", ["arg1"], [101], True)])


def test_evidence_several_lookalikes_satisfy_is_not_installed(lab):
    """0.5 for 1/6 is true of lk_scale and of lk_scale_complement: the loop asks for
    sharper evidence and, without it, abstains."""
    both = answer("lk_scale", ["arg1"], [SIXTH], 0.5)
    line = one_line(lab.send([both] * 3, "scale:", "2.0"))
    assert line.startswith("proto: scale: not installed: ")
    assert "lk_scale(arg1)" in line and "lk_scale_complement(arg1)" in line
    assert "the evidence does not tell them apart" in line
    assert [a["decision"]["kind"] for a in transcript(line)] == ["ambiguous"] * 3
    assert lab.methods() == {}


def test_predicates_that_agree_on_the_stated_input_are_not_installed(lookalike):
    """'!' is neither a vowel nor a consonant: a stated 0 supports both."""
    with pytest.raises(LearnAbstained) as abstained:
        learn(lookalike, "check:", (33,), [answer("lk_is_vowel", ["arg1"], [33], 0)] * 2)
    message = str(abstained.value)
    assert message.startswith("check: not installed: ")
    assert "lk_is_vowel(arg1)" in message and "lk_is_consonant(arg1)" in message


def test_a_better_documented_rival_blocks_the_models_misreading(lookalike):
    """lk_is_consonant(97) is 0, as stated, but `isVowel:` is what lk_is_vowel's name
    and comment say: the evidence would only confirm the model's misreading."""
    with pytest.raises(LearnAbstained) as abstained:
        learn(lookalike, "isVowel:", (97,), [answer("lk_is_consonant", ["arg1"], [97], 0)] * 2)
    assert "the documentation of lk_is_vowel(arg1) says more" in str(abstained.value)


def test_a_comparison_is_read_the_c_way_against_a_python_oracle(lookalike):
    """`a.lower() == b.lower()` answers True where C's comparison answers 0: read that
    way, the oracle picks the case-folding comparison out of the case-sensitive one the
    model proposed, and the provenance says how C's answer was read."""
    learned, _ = learn(lookalike, "compareFolded:with:", ("HeLLo", "hello"),
                       [answer("lk_compare", ["arg1", "arg2"], ["HeLLo", "hello"],
                               oracle="arg1.lower() == arg2.lower()")])
    assert learned.function == "lk_compare_folded"
    ev = learned.evidence
    assert ev["kind"] == "oracle" and ev["read_as"] == "zero is yes"
    assert ev["proposed"] == "lk_compare(arg1, arg2)" and ev["agreed"] == ev["inputs"] >= 4


def test_a_found_text_is_read_as_the_index_python_finds(lookalike):
    """C answers the rest of the text from the match (or NULL); `str.find` its index (or
    -1). The reordered call, which looks for the text in the part, is ruled out."""
    learned, _ = learn(lookalike, "locate:in:", ("ll", "hello"),
                       [answer("lk_locate", ["arg2", "arg1"], ["ll", "hello"],
                               oracle="arg2.find(arg1)")])
    assert learned.function == "lk_locate" and learned.check.result == "llo"
    ev = learned.evidence
    assert ev["read_as"] == "suffix of argument 2"
    assert "lk_locate(arg1, arg2)" in ev["ruled_out"]


def test_an_oracle_misspelt_only_in_case_or_module_path_still_evaluates():
    assert O.evaluate(O.check("expat.errorString(arg1)", 1), [(4,)], {}, 10.0) == [
        __import__("xml.parsers.expat", fromlist=["x"]).ErrorString(4)]
    assert O.evaluate(O.check("math.Sqrt(arg1)", 1), [(4.0,)], {}, 10.0) == [2.0]


# -- 3. unverified bindings --------------------------------------------------------------

UNCHECKED = answer("lk_scale", ["arg1"], [2.0])  # no oracle, no expected value


def test_an_unverified_proposal_is_asked_about_once_then_returned_unverified(lookalike):
    learned, backend = learn(lookalike, "scale:", (2.0,), [UNCHECKED, UNCHECKED], attempts=3)
    assert isinstance(learned, Learned) and not learned.verified
    assert learned.evidence["kind"] == "unverified" and learned.function == "lk_scale"
    proposals = [c for c in backend.calls if not c[-1]["content"].startswith("Oracle only.")]
    assert len(proposals) == 2  # asked once more, not until the attempts ran out
    assert "unchecked (stage evidence)" in proposals[1][-1]["content"]
    # and once, for the message's oracle alone (answered null: none was recorded)
    assert len(backend.calls) == 3
    # evidence in the second answer is weighed as usual
    learned, _ = learn(lookalike, "scale:", (2.0,),
                       [UNCHECKED, answer("lk_scale", ["arg1"], [2.0], 6.0)])
    assert learned.verified and learned.evidence["kind"] == "value"


def test_an_oracle_asked_for_alone_can_verify_the_proposal(lookalike):
    """A proposal without evidence: the message's oracle is asked for apart from any
    function, and confirms the model's own choice."""
    learned, backend = learn(lookalike, "scale:", (2.0,), [UNCHECKED, {"oracle": "arg1 * 3"}],
                             attempts=1)
    assert learned.verified and learned.function == "lk_scale"
    assert learned.evidence["kind"] == "oracle" and learned.evidence["oracle"] == "arg1 * 3"
    assert backend.calls[1][-1]["content"].startswith("Oracle only.")


def test_an_oracle_asked_for_alone_never_replaces_the_proposal(lookalike):
    """Asked apart from the proposal, an oracle may confirm the function the model chose,
    not switch to a look-alike, however many inputs it agrees on: the model hears it."""
    complement = answer("lk_scale_complement", ["arg1"], [2.0])
    with pytest.raises(LearnFailed):
        learn(lookalike, "scale:", (2.0,), [complement, {"oracle": "arg1 * 3"}], attempts=1)
    learned, backend = learn(lookalike, "scale:", (2.0,),
                             [complement, {"oracle": "arg1 * 3"}, UNCHECKED], attempts=2)
    told = backend.calls[2][-1]["content"]
    assert "an oracle for the message, arg1 * 3, agrees with lk_scale(arg1)" in told
    # the model then proposes lk_scale itself: the same oracle (asked once a learn)
    # confirms it
    assert learned.function == "lk_scale" and learned.evidence["kind"] == "oracle"
    assert len(backend.calls) == 3


def test_an_unverified_binding_is_refused_in_one_line_then_approved(lab):
    line = one_line(lab.send([UNCHECKED] * 2, "scale:", "2.0"))
    assert "scale: not installed" in line and "lk_scale()" in line
    assert "--approve" in line and "call_c_lk_scale" in line
    assert lab.methods() == {}
    r = lab.send([UNCHECKED] * 2, "scale:", "2.0", options=("--approve",))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "6.0\n"
    assert lab.evidence("scale:")["kind"] == "approved-unverified"
    # the other way out the line names: bind the function directly, as it says
    direct = re.search(r"bind the function yourself: proto (send .*)$", line).group(1)
    r = lab.run(*shlex.split(direct))
    assert r.returncode == 0 and r.stdout == "6.0\n", r.stderr


def test_accept_unverified_on_the_receiver_installs_without_asking(lab):
    r = lab.run("eval", "t addSlot: 'acceptUnverified' value: true")
    assert r.returncode == 0, r.stderr
    r = lab.send([UNCHECKED] * 2, "scale:", "2.0")
    assert r.returncode == 0 and r.stdout == "6.0\n", r.stderr
    assert lab.evidence("scale:")["kind"] == "accepted-unverified"


def test_the_learn_command_the_refusal_suggests_works(lab):
    model = lab.script([UNCHECKED] * 2)
    r = lab.run("eval", f"t addSlot: 'model' value: '{model}'")
    assert r.returncode == 0, r.stderr
    line = one_line(lab.run("send", "t", "scale:", "2.0"))
    suggested = re.search(r"to install it anyway: proto (learn .*?); or bind", line).group(1)
    r = lab.run(*shlex.split(suggested))
    assert r.returncode == 0, r.stderr
    assert lab.evidence("scale:")["kind"] == "approved-unverified"


def test_an_unverified_candidate_an_oracle_contradicted_is_not_returned(lookalike):
    weak = "arg1 * 3 if arg1 in (2.0, 4.0) else 1 / 0"
    unchecked = answer("lk_scale_complement", ["arg1"], [2.0])
    try:
        learned, _ = learn(lookalike, "scale:", (2.0,),
                           [unchecked, answer("lk_scale_complement", ["arg1"], [2.0], None, weak)])
    except LearnFailed:
        return
    # lk_scale_complement(2.0) is -5.0; the oracle said 6.0: "nothing checked it" is false
    assert not (learned.function == "lk_scale_complement" and not learned.verified)


# -- 4. echoes ---------------------------------------------------------------------------

def test_a_stated_value_that_echoes_the_feedback_is_no_evidence(lookalike):
    """The model is told lk_scale_complement answered -5.0 for 2.0; stating -5.0 next
    is a copy, not knowledge. Stated first, the same value is evidence."""
    first = answer("lk_scale_complement", ["arg1"], [2.0], 6.0)
    copy = answer("lk_scale_complement", ["arg1"], [2.0], -5.0)
    with pytest.raises(LearnFailed) as failed:
        learn(lookalike, "scale:", (2.0,), [first, copy])
    attempts = transcript(str(failed.value))
    assert [a["decision"]["kind"] for a in attempts] == ["reject", "reject"]
    assert "got -5.0" in attempts[0]["check"]["message"]  # what it was shown
    learned, _ = learn(lookalike, "scale:", (2.0,), [copy])
    assert learned.function == "lk_scale_complement" and learned.evidence["kind"] == "value"


def test_an_echo_is_reported_as_an_echo(lookalike):
    first = answer("lk_scale_complement", ["arg1"], [2.0], 6.0)
    copy = answer("lk_scale_complement", ["arg1"], [2.0], -5.0)
    with pytest.raises(LearnFailed) as failed:
        learn(lookalike, "scale:", (2.0,), [first, copy])
    assert "expected -5.0, got -5.0" not in str(failed.value)


# -- 5. nil is NULL ----------------------------------------------------------------------

def test_nil_passes_as_null_to_a_pointer_parameter(lab, lookalike):
    r = lab.run("send", "t", "call_c_lk_count:", "nil")
    assert r.returncode == 0 and r.stdout == "-1\n", r.stderr
    r = lab.run("send", "t", "call_c_lk_count:", "'abc'")
    assert r.returncode == 0 and r.stdout == "3\n", r.stderr
    assert lab.evidence("call_c_lk_count:")["kind"] == "direct"
    learned, _ = learn(lookalike, "count:", (None,), [answer("lk_count", ["arg1"], [None], -1)])
    assert learned.function == "lk_count" and learned.check.result == -1
    assert learned.evidence["kind"] == "value"


def test_nil_is_no_null_for_a_binding_learned_with_text(lab):
    """A method verified with a string was never run with NULL: nil is an error there, in
    one line, not a NULL the C function may crash on (strlen(NULL)) in this process."""
    r = lab.run("send", "t", "call_c_lk_count:", "'abc'")
    assert r.returncode == 0 and r.stdout == "3\n", r.stderr
    r = lab.run("send", "t", "call_c_lk_count:", "nil")
    assert r.returncode == 1 and "expected a string or bytes" in r.stderr, (r.returncode,
                                                                          r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1


# -- 6. a refused oracle -----------------------------------------------------------------

def test_an_oracle_refused_by_its_syntax_check_is_never_evaluated(lookalike, monkeypatch):
    evaluated: list[str] = []
    real = O.evaluate

    def spy(expr, *args, **kwargs):
        evaluated.append(expr)
        return real(expr, *args, **kwargs)

    monkeypatch.setattr(O, "evaluate", spy)
    hostile = "__import__('os').system('x')"
    with pytest.raises(LearnFailed) as failed:
        learn(lookalike, "scale:", (2.0,), [answer("lk_scale", ["arg1"], [2.0], None, hostile)])
    assert "could not be evaluated" in str(failed.value)
    assert "unknown name '__import__'" in str(failed.value)
    # beside a stated value, the value is the evidence; the oracle is noted, not counted
    learned, _ = learn(lookalike, "scale:", (2.0,),
                       [answer("lk_scale", ["arg1"], [2.0], 6.0, hostile)])
    assert learned.evidence["kind"] == "value"
    assert "unknown name" in learned.evidence["oracle_note"]
    assert evaluated == []
    # an allowed oracle is evaluated (the spy sees it): the check is what kept the other out
    learn(lookalike, "scale:", (2.0,), [answer("lk_scale", ["arg1"], [2.0], None, "arg1 * 3")])
    assert evaluated == ["arg1 * 3"]


def test_an_oracle_that_agrees_with_nothing_is_reported_as_such(lookalike):
    with pytest.raises(LearnFailed) as failed:
        learn(lookalike, "scale:", (2.0,), [answer("lk_scale", ["arg1"], [2.0], None, "arg1 * 4")])
    assert "could not be evaluated" not in str(failed.value)


# -- 7. found while writing these (reported) ---------------------------------------------

def test_a_major_version_of_one_is_not_any_nonzero_number(lab):
    r = lab.send([answer("lk_version_number", [], [], None, "LK_VERSION_MAJOR")] * 3,
                 "majorVersion")
    assert r.returncode == 1, r.stdout
    assert "majorVersion" not in lab.methods()


UUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"


@pytest.mark.skipif(not os.path.exists("/usr/include/uuid/uuid.h"), reason="needs uuid-dev")
def test_uuid_parse_is_verified_by_the_natural_oracle():
    need = Need("bytesOf:", (UUID,), "uuid/uuid.h", "libuuid.so.1")
    proposal = {"oracle": "uuid.UUID(arg1).bytes", "test": {"inputs": [UUID], "expect": None},
                "function": "uuid_parse", "args": ["arg1", "out"], "out_size": 16}
    learned = propose_and_verify(need, candidates_for(need),
                                 ScriptedBackend([json.dumps(proposal)]), 1, wall_s=10.0)
    assert learned.function == "uuid_parse" and learned.evidence["kind"] == "oracle"
