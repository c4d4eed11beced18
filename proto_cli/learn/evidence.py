"""What a learned binding's install rests on, and the decision to install at all.

A binding is installed on evidence that does not come from the model's arithmetic
alone, or not at all:

- an **oracle**: the model's Python expression for the answer, computed in the
  sandbox on the message's arguments and on generated ones (probes.py). A binding
  that agrees with it on all of them (or nearly all of many) is *oracle-supported*;
- a **stated value**: the model's expected answer for its test inputs. It supports
  a binding, but is never enough to switch away from the function the model chose:
  a wrong value would lead straight to the sibling that matches it (`atan` for
  `tangentOf:`).

Every candidate the evidence supports is grouped with those that answer the same on
every probe (they are the same function, as far as anyone can tell). One group: it
is the answer, unless the documentation clearly names another function. Several, or
such a rival: the evidence does not tell them apart; the model hears which candidates
differ and may give sharper evidence, and in the end learning abstains. (A 1.5B model
asked to judge between two concrete answers picked `atan` for `tangentOf:` and a case
converter for a yes/no question about case: its judgement is no evidence.) None: the
proposal failed, and the model hears why. No oracle and no stated value: the binding
is *unverified*, and is installed only if a person approves it.
"""

from __future__ import annotations

import math

from .oracle import OUTSIDE
from .probes import key
from .survey import Error, Row

ORACLE_REL = 1e-9  # Python's math and C's libm mostly agree to the last bit
STATED_REL = 1e-3  # a stated value is written with few digits
NEARLY_ALL = 0.9  # share of many inputs an oracle-supported binding must agree on
MANY = 10
STRONG_INPUTS = 4  # an oracle that chose a function the model did not name needs these
MAX_CHOICES = 4


def number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def matches(got: object, want: object, rel: float, predicate: bool = False) -> bool:
    """Whether a binding's answer is the expected one. C predicates answer nonzero for
    yes (isdigit('7') is 2048 here), so a predicate compares truth values."""
    if isinstance(got, Error) or want is OUTSIDE:
        return False
    if predicate or isinstance(want, bool):
        return (number(got) or isinstance(got, bool)) and bool(got) == bool(want)
    if want is None:
        return got is None
    if number(want):
        if not number(got):
            return False
        if isinstance(got, float) and isinstance(want, float) and got != got and want != want:
            return True
        try:
            return math.isclose(got, want, rel_tol=rel, abs_tol=rel * 1e-3)
        except OverflowError:
            return False
    if isinstance(want, str):
        if type(got) is int and len(want) == 1 and 0 <= got < 0x110000:
            return chr(got) == want  # C answers a character as its code: 97 for "a"
        if isinstance(got, bytes):
            return got.hex() == want.lower() or got == want.encode("utf-8", "replace")
        return got == want
    if isinstance(want, bytes):
        return got == want or (isinstance(got, str) and got.encode("utf-8") == want)
    return False


def same(a: object, b: object) -> bool:
    """Two bindings' answers to one input are the same answer."""
    if isinstance(a, Error) or isinstance(b, Error):
        return isinstance(a, Error) and isinstance(b, Error)
    if number(a) and number(b):
        return matches(a, b, ORACLE_REL)
    return type(a) is type(b) and a == b


class Support:
    """How one binding stands against the evidence."""

    __slots__ = ("oracle", "agreed", "valued", "stated", "reading")

    def __init__(self) -> None:
        self.oracle = False
        self.agreed = 0
        self.valued = 0
        self.stated = False
        self.reading = AS_IS  # how its answers were read against the oracle's


# C says some things differently from Python; an oracle written in Python says them
# Python's way. A binding's answers are read the C way before they are compared:
AS_IS = "as is"
ZERO_IS_YES = "zero is yes"  # memcmp, wcscmp, regexec: 0 means equal / matched
SIGN = "sign"  # a three-way comparison: any negative, zero or any positive
SUFFIX = "suffix of argument "  # strchr, memchr: a pointer into the argument, or NULL
NO_READING = object()  # an answer that says nothing in a reading


def read(answer: object, reading: str, inputs: tuple) -> object:
    """A C answer as the Python value it stands for in one reading."""
    if reading == AS_IS or isinstance(answer, Error):
        return answer
    if reading == ZERO_IS_YES:
        return answer == 0 if type(answer) is int else NO_READING
    if reading == SIGN:
        return (answer > 0) - (answer < 0) if type(answer) is int else NO_READING
    # SUFFIX + n: Python's str.find answers the index in argument n; C a pointer into it,
    # or NULL (-1).
    whole = inputs[int(reading[len(SUFFIX):]) - 1]
    if answer is None:
        return -1
    if isinstance(answer, str) and whole.endswith(answer):
        return len(whole) - len(answer)
    return NO_READING


class Decision:
    """install | reject | ambiguous | unverified, with what it rests on."""

    def __init__(self, kind: str, *, chosen: int | None = None, evidence: dict | None = None,
                 classes: list[list[int]] | None = None, probe: int = 0,
                 feedback: str = "", shown: list | None = None) -> None:
        # kind: install | reject | ambiguous | unverified
        self.kind = kind
        self.shown = shown or []  # (inputs, answer) pairs the feedback tells the model
        self.chosen = chosen
        self.evidence = evidence or {}
        self.classes = classes or []
        self.probe = probe
        self.feedback = feedback


class Case:
    """The table to decide on: bindings (0 is the proposal) x probes (0 is the message's
    own arguments, `test` the test's inputs), the oracle's values and the stated value."""

    def __init__(self, labels: list[str], rows: list[Row], probes: list[tuple], test: int,
                 oracle: str | None, values: list | None, expect: object,
                 oracle_problem: str = "", relevance: list[float] | None = None,
                 echoes: list[tuple[tuple, object]] | None = None,
                 yes_no: bool = False, rival_relevance: list[float] | None = None) -> None:
        self.labels = labels
        #: The selector asks a yes/no question (`isUpper:`, `hasPrefix:`): a stated 1 means
        #: "true", and answers that are equally true or false everywhere are one answer.
        self.yes_no = yes_no
        self.relevance = relevance or [0.0] * len(labels)
        #: The same, without the words a name spells run together: a rival must say more
        #: in plain words (a rival's name may spell two of three words where the chosen
        #: one abbreviates the third in a way no spelling finds): the spelling may defend
        #: the chosen function, never block it.
        self.rival_relevance = rival_relevance or self.relevance
        #: (inputs, answer) pairs the model was shown earlier in this learn: a stated
        #: value equal to one of them may be a copy, not knowledge, and is no evidence.
        self.echoes = echoes or []
        self.rows = rows
        self.probes = probes
        self.test = test
        self.oracle = oracle
        self.values = values
        self.expect = expect
        self.oracle_problem = oracle_problem
        self.valued = [j for j, v in enumerate(values or []) if v is not OUTSIDE]
        if oracle and values is not None and not self.valued:
            self.oracle_problem = self.oracle_problem or "it raised for every input"
        truths = [values[j] for j in self.valued] if values else []
        self.predicate = bool(truths) and all(
            isinstance(v, bool) or (yes_no and number(v) and v in (0, 1)) for v in truths)
        self.readings = self._readings(truths)
        self.support = [self._support(r) for r in rows]
        # Agreeing on nearly all inputs is tolerated for Python's conventions at the edges,
        # not where another binding agrees on more (a look-alike at 24/25 beside 25/25).
        most = max((s.agreed for s in self.support), default=0)
        for s in self.support:
            if s.oracle and s.agreed < s.valued and s.agreed < most:
                s.oracle = False

    def stated_predicate(self, got: object) -> bool:
        """A stated truth value, or a stated 1 for an integer answer to a yes/no
        selector: C predicates answer nonzero for "true"."""
        expect = self.expect
        return isinstance(expect, bool) or (self.yes_no and expect == 1 and type(expect) is int
                                            and number(got) and not isinstance(got, float))

    def echoed(self) -> bool:
        """Whether the stated value repeats an answer the model was shown for these inputs."""
        inputs = self.probes[self.test]
        return any(key(shown) == key(inputs) and (
            matches(value, self.expect, STATED_REL, self.stated_predicate(value)))
            for shown, value in self.echoes)

    @property
    def oracle_usable(self) -> bool:
        return bool(self.oracle) and bool(self.valued)

    def _readings(self, truths: list) -> list[str]:
        """The C conventions an oracle's values allow. "Zero is yes" only where the
        selector does not itself ask yes or no: `isEmpty:` answered by a length that is 0
        for the empty string would be a lie, `compare:with:` answered 0 is C's "equal"."""
        out = [AS_IS]
        if self.predicate and not self.yes_no:
            out.append(ZERO_IS_YES)
        ints = bool(truths) and all(type(v) is int for v in truths)
        if ints and {-1, 1} <= set(truths) <= {-1, 0, 1}:
            out.append(SIGN)
        if ints and any(v >= 0 for v in truths):
            out += [f"{SUFFIX}{k + 1}" for k in range(len(self.probes[0]))
                    if all(isinstance(p[k], str) for p in self.probes)]
        return out

    def agreement(self, results: list, reading: str) -> list[bool]:
        """For each input the oracle valued: whether the answer, so read, is its value."""
        return [matches(read(results[j], reading, self.probes[j]), self.values[j],
                        ORACLE_REL, self.predicate) for j in self.valued]

    def read_row(self, i: int) -> list:
        """A binding's answers as its reading says them."""
        row, reading = self.rows[i], self.support[i].reading
        if not row.ok:
            return [Error(row.failure)] * len(self.probes)
        return [read(a, reading, p) for a, p in zip(row.results, self.probes, strict=True)]

    def _support(self, row: Row) -> Support:
        s = Support()
        if not row.ok:
            return s
        results = row.results
        if self.expect is not None and not self.echoed() and _varies(results):
            got = results[self.test]
            s.stated = matches(got, self.expect, STATED_REL, self.stated_predicate(got))
        if self.oracle_usable:
            s.valued = len(self.valued)
            # The reading that agrees most; C's own (as is) where two agree as much.
            agreed, s.reading = max(((self.agreement(results, r), r) for r in self.readings),
                                    key=lambda t: sum(t[0]))
            s.agreed = sum(agreed)
            if not _varies([self.values[j] for j in self.valued]):
                return s  # an oracle with one answer for every input tells nothing apart
            key = [n for n, j in enumerate(self.valued) if j in (0, self.test)]
            nearly = (s.valued >= MANY and s.agreed >= NEARLY_ALL * s.valued
                      and _varies([results[j] for j in self.valued]))  # not a constant
            s.oracle = all(agreed[n] for n in key) and (s.agreed == s.valued or nearly)
        return s

    def oracle_says(self, expect: object) -> bool:
        """Whether a stated value at the test inputs says what the oracle's value there
        says, in some reading (0 stated for a comparison the oracle answers True)."""
        inputs, value = self.probes[self.test], self.values[self.test]
        if matches(value, expect, STATED_REL, self.stated_predicate(value)):
            return True
        return any(matches(read(expect, r, inputs), value, STATED_REL, self.predicate)
                   for r in self.readings if r != AS_IS)

    def strong(self, i: int) -> bool:
        """Oracle support a function the model did not name can stand on alone: many
        inputs with more than one answer among them."""
        s = self.support[i]
        distinct = {repr(self.values[j]) for j in self.valued}
        return s.oracle and s.valued >= STRONG_INPUTS and len(distinct) >= 2

    def same_answer(self, a: object, b: object) -> bool:
        """The same answer to a yes/no question (256 and 1 are both "yes") or the same."""
        if (self.predicate or self.yes_no) and (number(a) or isinstance(a, bool)) \
                and (number(b) or isinstance(b, bool)):
            return bool(a) == bool(b)
        return same(a, b)

    def representative(self, group: list[int]) -> int:
        """The proposal if the group holds it, else the member whose name and documentation
        say most of what the selector says."""
        if 0 in group:
            return 0
        return max(group, key=lambda i: (self.relevance[i], -i))

    def classes(self, members: list[int]) -> list[list[int]]:
        """The members grouped by their answers, in member order: to every probe, or where
        a usable oracle is the evidence, to every input in its domain (what a binding does
        with text `uuid.UUID` refuses is no difference anyone asked about)."""
        over = self.valued if self.oracle_usable and any(s.oracle for s in self.support) \
            else range(len(self.probes))
        by_oracle = over is self.valued
        out: list[list[int]] = []
        for i in members:
            for group in out:
                if by_oracle:  # what the answers say, in one reading: a C "0 is equal"
                    # beside a "1 is equal" is two answers, one of them a lie
                    if self.support[group[0]].reading != self.support[i].reading:
                        continue
                    a, b = self.read_row(group[0]), self.read_row(i)
                else:
                    a, b = (self.rows[k].results or [Error(self.rows[k].failure)]
                            * len(self.probes) for k in (group[0], i))
                if all(self.same_answer(a[j], b[j]) for j in over):
                    group.append(i)
                    break
            else:
                out.append([i])
        return out


def decide(case: Case) -> Decision:
    """The install decision for one proposal and its siblings. It never rests on the
    model's judgement alone: where the evidence leaves more than one answer, or the
    documentation names another function more clearly, it does not install."""
    n = len(case.rows)
    oracle_ok = case.oracle_usable and any(s.oracle for s in case.support)
    stated = case.expect is not None
    conflict = (oracle_ok and stated and case.test in case.valued
                and not case.oracle_says(case.expect))
    by_oracle = [i for i in range(n) if case.support[i].oracle] if oracle_ok else []
    by_value = [i for i in range(n) if case.support[i].stated] if stated else []
    if oracle_ok:
        supported = sorted(set(by_oracle) | set(by_value)) if conflict else by_oracle
    elif stated:
        supported = by_value
    else:
        if case.oracle_usable:  # it evaluated, and agreed with no candidate
            return _rejected(case)
        if case.oracle:  # given, but no evidence: let the model correct it
            return Decision("reject", feedback=_oracle_feedback(case))
        return Decision("unverified", chosen=0, evidence=_evidence(case, 0, [0]))
    if not supported:
        return _rejected(case)
    groups = case.classes(supported)
    mine = next((g for g in groups if 0 in g), None)
    if mine is None:
        # The proposal failed: only a function the oracle alone picks out may replace it
        # (never one a stated value picks: that is how a wrong value finds its sibling).
        strong = [g for g in groups if all(case.strong(i) for i in g)]
        if conflict or len(strong) != 1:
            return _rejected(case)
        return _unless_rival(case, strong[0], case.representative(strong[0]))
    if len(groups) == 1:
        return _unless_rival(case, mine, 0)
    if conflict and case.support[0].oracle:
        # The model's function and its oracle agree; only its arithmetic did not.
        return _unless_rival(case, mine, 0)
    # Documentation never settles it in favour of an install: a header's comments are
    # untrusted text, and the model's reading of them is what is in question.
    others = [g for g in groups if g is not mine][:MAX_CHOICES - 1]
    return _ambiguous(case, [mine] + others, "the evidence does not tell them apart")


def _unless_rival(case: Case, group: list[int], chosen: int) -> Decision:
    rival = _better_documented(case, group)
    if rival is None:
        return Decision("install", chosen=chosen,
                        evidence=_evidence(case, chosen, group,
                                           proposed=0 if chosen else None))
    return _ambiguous(case, [group, rival], f"the documentation of "
                      f"{case.labels[case.representative(rival)]} says more of what the "
                      "message says")


def _ambiguous(case: Case, groups: list[list[int]], why: str) -> Decision:
    """Candidates the evidence cannot choose between, named with their answers where
    they differ: the model may answer with an oracle or test that tells them apart."""
    j = distinguishing(case, groups)
    names = ", ".join(case.labels[case.representative(g)] for g in groups)
    # Their answers are not told: a model shown them copies one as its next "expected".
    return Decision("ambiguous", classes=groups, probe=j,
                    feedback=f"ambiguous (stage evidence): {names} answer differently for "
                             f"inputs {_args(case.probes[j])}; {why}. Give an oracle or a "
                             "test whose expected value tells them apart, for the one the "
                             "message means")


def _better_documented(case: Case, group: list[int]) -> list[int] | None:
    """Another binding, answering differently, whose name and documentation say clearly
    more of what the selector says than the chosen one's: the evidence may only confirm
    the model's own misreading (`cos` for `hyperbolicCosineOf:`, where `cosh` is the
    "hyperbolic cosine function"), so it is not installed.
    Its group, or None."""
    mine = max(case.relevance[i] for i in group)
    best, best_score = None, mine + RIVAL_MARGIN
    for i, row in enumerate(case.rows):
        said = case.rival_relevance[i]
        if i in group or not row.ok or said < max(best_score, RIVAL_FLOOR):
            continue
        best, best_score = i, said
    if best is None:
        return None
    return next(g for g in case.classes(list(range(len(case.rows)))) if best in g)


RIVAL_MARGIN = 0.3  # a third more of the selector's words
RIVAL_FLOOR = 0.5


def distinguishing(case: Case, groups: list[list[int]]) -> int:
    """The probe on which the groups' answers differ most: the message's own arguments
    when they tell them apart, else the earliest best one."""
    best, best_count = 0, -1
    for j in range(len(case.probes)):
        answers: list = []
        for g in groups:
            value = case.rows[g[0]].results[j]
            if not any(case.same_answer(value, a) for a in answers):
                answers.append(value)
        if len(answers) > best_count:
            best, best_count = j, len(answers)
        if best_count == len(groups):
            break
    return best


def _evidence(case: Case, chosen: int, group: list[int], proposed: int | None = None) -> dict:
    s = case.support[chosen]
    out: dict = {}
    if s.oracle and case.oracle:
        out["kind"] = "oracle"
        out["oracle"] = case.oracle
        out["inputs"] = s.valued
        out["agreed"] = s.agreed
        if s.reading != AS_IS:
            out["read_as"] = s.reading  # "zero is yes", "sign", "suffix of argument 2"
    elif s.stated:
        out["kind"] = "value"
    else:
        out["kind"] = "unverified"
    if case.expect is not None:
        out["expect"] = case.expect
        out["test"] = list(case.probes[case.test])
        out["expect_held"] = s.stated
    if case.oracle and out["kind"] != "oracle":
        out["oracle"] = case.oracle
        out["oracle_note"] = case.oracle_problem or "it agreed with no candidate"
    out["siblings"] = len(case.rows) - 1
    ruled = [case.labels[i] for i in range(len(case.rows)) if i not in group
             and case.rows[i].ok and i != chosen
             and not (case.support[i].oracle or case.support[i].stated)]
    out["ruled_out"] = ruled[:12]
    same_answers = [case.labels[i] for i in group if i != chosen]
    if same_answers:
        out["same_answers"] = same_answers[:6]
    if proposed is not None:
        out["proposed"] = case.labels[proposed]
    return out


def _rejected(case: Case) -> Decision:
    """The proposal failed its evidence; what the model is told of its own answers is
    remembered, so that a copy of one is not taken for knowledge later."""
    row = case.rows[0]
    shown = []
    if row.ok:
        shown = [(case.probes[j], row.results[j]) for j in {case.test, *case.valued[:1],
                                                             *_first_disagreement(case)}]
    return Decision("reject", feedback=_feedback(case), shown=shown)


def _first_disagreement(case: Case) -> list[int]:
    if not case.oracle_usable or not case.rows[0].ok:
        return []
    agreed = case.agreement(case.rows[0].results, case.support[0].reading)
    bad = next((j for j, ok in zip(case.valued, agreed, strict=True) if not ok), None)
    return [] if bad is None else [bad]


def _varies(answers: list) -> bool:
    """More than one answer among several inputs (or a single input: nothing to vary). A
    binding or oracle that answers the same to everything passes any test of that one
    answer (a lookup given a length of 1 is 0 for every word): it is no evidence."""
    if len(answers) <= 1:
        return True
    first = answers[0]
    return any(not same(first, a) for a in answers[1:])


def _feedback(case: Case) -> str:
    """Why the proposal failed, in terms the model can act on: what its function answered
    against what its test and its oracle expected."""
    row = case.rows[0]
    name = case.labels[0]
    if not row.ok:
        return f"error (stage call): {name} could not be run: {row.failure}"
    parts = []
    got = row.results[case.test]
    inputs = _args(case.probes[case.test])
    if case.expect is not None and case.echoed():
        parts.append(f"assertion (stage test): your expected value {show(case.expect)} for "
                     f"inputs {inputs} repeats an answer you were shown, so it checks nothing; "
                     "give an oracle, or a test of other inputs")
    elif case.expect is not None and not case.support[0].stated:
        parts.append(f"assertion (stage test): expected {show(case.expect)}, got {show(got)} "
                     f"from {name} for inputs {inputs}")
    if case.oracle_usable:
        bad = next(iter(_first_disagreement(case)), None)
        if bad is not None:
            parts.append(f"oracle (stage oracle): for inputs {_args(case.probes[bad])} your oracle "
                         f"{case.oracle} gives {show(case.values[bad])} but {name} answered "
                         f"{show(row.results[bad])}")
    return "; ".join(parts) or f"assertion (stage test): {name} is not supported by the test"


def _oracle_feedback(case: Case) -> str:
    return (f"oracle (stage oracle): your oracle {case.oracle} could not be evaluated "
            f"({case.oracle_problem or 'no value'}); write a Python expression that works, "
            "or null")


def _args(values: tuple) -> str:
    return "[" + ", ".join(show(v) for v in values) + "]"


def show(value: object) -> str:
    """A value as the model reads it: short, with bytes in hex."""
    if isinstance(value, bytes):
        text = value.hex()
        return text if len(text) <= 64 else text[:61] + "..."
    if isinstance(value, float):
        return repr(round(value, 9)) if math.isfinite(value) else repr(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
