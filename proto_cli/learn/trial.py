"""One proposal on trial: the gate, its look-alikes and its oracle, run side by side.

Three sandbox runs, concurrent (each is a separate bubblewrap process; the proto
process only waits): verify.py's gate for the proposal itself, survey.py's table of
the proposal and its siblings on the probes, and the oracle's values on the same
probes. Their results become an evidence.Case; nothing here decides.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from . import oracle as O
from .binding import Proposal
from .candidates import relevance, words
from .evidence import Case
from .need import Need
from .probes import key
from .probes import probes as make_probes
from .siblings import Binding, siblings
from .survey import survey
from .verify import Check, verify


class Trial:
    """What running a proposal showed: the gate's Check, and the Case for the decision."""

    def __init__(self, check: Check, case: Case | None, bindings: list[Binding]) -> None:
        self.check = check
        self.case = case
        self.bindings = bindings


def gate(need: Need, binding: Binding, wall_s: float) -> Check:
    """verify.py's stages for one binding; the expected value is evidence, judged with
    the others (evidence.py), not an assertion here."""
    p = binding.proposal
    unasserted = Proposal(p.function, p.args, p.out_size, p.test_inputs, None)
    return verify(binding.source, binding.cdef, need.library, unasserted, list(need.args),
                  wall_s)


def run(need: Need, primary: Binding, pool: list, defined: dict, wall_s: float,
        docs: dict[str, str] | None = None, echoes: list | None = None) -> Trial:
    """The gate, the survey and the oracle for a proposal, concurrently."""
    proposal = primary.proposal
    oracle, problem = None, ""
    try:
        oracle = O.check(proposal.oracle, len(need.args), defined)
    except O.OracleError as exc:
        problem = str(exc)
        oracle = None
    family = [primary] + siblings(need, primary, pool, {k: v for k, v in defined.items()
                                                        if type(v) is int})
    inputs = make_probes(need.args, need.kinds, proposal.test_inputs)
    test = next((i for i, p in enumerate(inputs) if key(p) == key(proposal.test_inputs)), 0)
    with ThreadPoolExecutor(max_workers=3) as pool_:
        checked = pool_.submit(gate, need, primary, wall_s)
        table = pool_.submit(survey, [b.spec(need.library) for b in family], inputs, wall_s)
        values = pool_.submit(O.evaluate, oracle, inputs, defined, wall_s) if oracle else None
        check = checked.result()
        rows = table.result()
        computed = values.result() if values is not None else None
    if not check.ok:
        return Trial(check, None, family)
    if oracle and computed is None:
        problem = "it could not be evaluated"
    shown_oracle = oracle or (proposal.oracle if problem else None)
    said = words(need.selector)
    said_by = [(b.name, (docs or {}).get(b.name, "")) for b in family]
    case = Case([b.label for b in family], rows, inputs, test, shown_oracle,
                computed if oracle else None, proposal.expect, problem,
                [relevance(said, name, doc) for name, doc in said_by],
                echoes, asks_yes_no(need.selector),
                [relevance(said, name, doc, spelled=False) for name, doc in said_by])
    return Trial(check, case, family)


def asks_yes_no(selector: str) -> bool:
    """Smalltalk's convention: `isEmpty`, `hasPrefix:`, `includes:`... ask yes or no."""
    for word in ("is", "has", "includes", "contains", "can", "matches"):
        if selector.startswith(word) and (len(selector) == len(word)
                                          or not selector[len(word)].islower()):
            return True
    return False


