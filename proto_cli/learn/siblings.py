"""A proposal's look-alikes: the bindings a test must tell apart from it.

The wrong installs this guards against are rarely random: a complementary,
inverse or hyperbolic sibling (`atan` for `tan`), a twin with the same signature
(`isalnum` for `isalpha`, `SHA256` for `SHA224`), the same function with its
arguments swapped (`strchr(c, s)`), or another candidate that also
fits. Each becomes a Binding with the proposal's own argument sources where its
signature allows, so evidence.py can run them all on the same inputs.
"""

from __future__ import annotations

from itertools import permutations

from .binding import Proposal, binding_cdef, direct_proposal, method_source
from .candidates import argument_of, options_for
from .headers import Prototype
from .need import Need

MAX_SIBLINGS = 48
OTHER_CANDIDATES = 12  # differently shaped candidates, best ranked, with their own mapping
SIZE_WORDS = ("DIGEST_LENGTH", "LENGTH", "SIZE", "LEN", "BYTES")


class Binding:
    """One way to answer the message: a function, its argument sources, and the code."""

    __slots__ = ("proto", "proposal", "source", "cdef")

    def __init__(self, need: Need, proto: Prototype, proposal: Proposal) -> None:
        self.proto = proto
        self.proposal = proposal
        self.source = method_source(need, proto, proposal)
        self.cdef = binding_cdef(need, proto, proposal)

    @property
    def name(self) -> str:
        return self.proto.name

    @property
    def label(self) -> str:
        """`memchr(arg2, arg1, len(arg2))`: the function and where its parameters come from."""
        args = ", ".join(str(a) for a in self.proposal.args)
        return f"{self.proto.name}({args})"

    def spec(self, library: str) -> dict:
        return {"cdef": self.cdef, "library": library, "function": self.proto.name,
                "source": self.source}


def siblings(need: Need, primary: Binding, pool: list[Prototype], defined: dict[str, int],
             limit: int = MAX_SIBLINGS) -> list[Binding]:
    """The primary's look-alikes, closest first: its own arguments in another order,
    functions with the same parameter types, then other fitting candidates."""
    out: list[Binding] = []
    seen = {primary.label}

    def add(proto: Prototype, proposal: Proposal) -> None:
        try:
            binding = Binding(need, proto, proposal)
        except (ValueError, KeyError, IndexError):
            return
        if binding.label not in seen and len(out) < limit:
            seen.add(binding.label)
            out.append(binding)

    for args in reorderings(primary.proto, primary.proposal.args, need):
        add(primary.proto, _with(primary.proposal, primary.proto.name, args,
                                 primary.proposal.out_size))
    shape = _shape(primary.proto)
    same = [p for p in pool if p.name != primary.name and _shape(p) == shape]
    for proto in same:
        add(proto, _with(primary.proposal, proto.name, primary.proposal.args,
                         out_size_for(proto.name, defined, primary.proposal.out_size)))
    others = [p for p in pool if p.name != primary.name and _shape(p) != shape]
    for proto in others[:OTHER_CANDIDATES]:
        proposal = direct_proposal(proto, need)
        if proposal.out_size is not None:
            proposal.out_size = out_size_for(proto.name, defined, proposal.out_size)
        if _uses_every_argument(proposal, need):
            add(proto, proposal)
    return out


def reorderings(proto: Prototype, args: list, need: Need) -> list[list]:
    """The argument sources with the message's arguments moved among the parameters
    that can take them (`locate: 'b' in: 'abc'` as f(arg1, arg2) or f(arg2, arg1))."""
    slots = [i for i, a in enumerate(args) if isinstance(a, str) and a.startswith("arg")]
    if len(slots) < 2 or len(slots) > 4:
        return []
    options = options_for(proto, need)
    out = []
    for order in permutations([args[i] for i in slots]):
        moved = list(args)
        for i, source in zip(slots, order, strict=True):
            moved[i] = source
        ok = all(moved[i] in options[i] for i in slots)
        if ok and moved != list(args):
            out.append(moved)
    return out


def out_size_for(name: str, defined: dict[str, int], fallback: int | None) -> int | None:
    """A function's output size from the header's constants (SHA224 -> SHA224_DIGEST_LENGTH),
    else `fallback`."""
    stem = name.upper() + "_"
    for word in SIZE_WORDS:
        found = [v for k, v in defined.items() if k.startswith(stem) and k.endswith(word)]
        if len(found) == 1 and 0 < found[0] <= 1 << 20:
            return found[0]
    return fallback


def _shape(proto: Prototype) -> tuple:
    return tuple((p.ctype, p.array) for p in proto.params)


def _with(proposal: Proposal, function: str, args: list, out_size: int | None) -> Proposal:
    return Proposal(function, list(args), out_size, list(proposal.test_inputs),
                    proposal.expect)


def _uses_every_argument(proposal: Proposal, need: Need) -> bool:
    used = {argument_of(s) for s in proposal.args
            if isinstance(s, str) and not s.startswith("len(")}
    return used >= set(range(1, len(need.args) + 1))
