"""The tool-making loop: propose -> verify in the sandbox -> correct -> install.

Runs outside any transaction: the context is read in a read transaction, the
model and the sandbox run with no lock held, and the verified method is
installed in one write transaction of its own.
"""

from __future__ import annotations

import json
import os
import time

from .. import session
from ..world.errors import ProtoError, UsageError
from ..world.objects import METHOD
from . import prompt as P
from .binding import (
    MAX_ANSWER,
    Proposal,
    ProposalError,
    binding_cdef,
    direct_proposal,
    method_source,
)
from .candidates import converters, rank
from .elf import exported_functions
from .headers import cache_dir, macros, prototypes
from .hook import LearnRequest, bound_library, make_backend, settings
from .libraries import resolve_library
from .need import Need
from .verify import Check, clean, verify

RETRY_TEMPERATURE = 0.35
#: Wall-clock (and CPU) seconds for one verification; an object (or the learner) with a
#: `verifySeconds` slot holding a number in (0, 600] overrides it.
VERIFY_SECONDS = 20.0


class LearnFailed(ProtoError):
    """No verified binding within the attempts; the transcript says why."""


class Learned:
    """A verified binding, ready to install, with its provenance."""

    def __init__(self, need: Need, function: str, source: str, proposal: Proposal,
                 attempts: int, seconds: float, model: str, model_sha256: str,
                 prompt_sha256: str, check: Check, transcript: list[dict]) -> None:
        self.need = need
        self.function = function
        self.source = source
        self.proposal = proposal
        self.attempts = attempts
        self.seconds = seconds
        self.model = model
        self.model_sha256 = model_sha256
        self.prompt_sha256 = prompt_sha256
        self.check = check
        self.transcript = transcript

    def provenance(self) -> dict:
        stamp = os.environ.get("SOURCE_DATE_EPOCH")
        return {
            "learned": True, "function": self.function, "library": self.need.library,
            "header": self.need.header, "model": model_label(self.model),
            "model_sha256": self.model_sha256,
            "prompt_sha256": self.prompt_sha256, "attempts": self.attempts,
            "test": {"inputs": list(self.proposal.test_inputs), "expect": self.proposal.expect},
            "timestamp": int(stamp) if stamp and stamp.isdigit() else int(time.time()),
        }


def model_label(path: str) -> str:
    """The model's file name (not where this machine keeps it), the scripted backend
    still named as such: `scripted:answers.json`."""
    kind, sep, rest = path.partition(":")
    if sep and kind == "scripted":
        return f"scripted:{os.path.basename(rest)}"
    return os.path.basename(path) if os.sep in path else path


def constants_for(candidates: list, defined: dict[str, int]) -> list[str]:
    """Integer macros named after a candidate that needs a buffer size (SHA512_...)."""
    stems = {p.name.upper() for p in candidates if any(
        q.pointer == 1 and not q.const and not q.array for q in p.params)}
    picked = [f"{k} = {v}" for k, v in sorted(defined.items())
              if any(k.startswith(stem + "_") for stem in stems)]
    return picked[:12]


def candidates_for(need: Need) -> list:
    """The header's functions that the library exports, ranked for the need (which learns
    the header's converters, so arguments can go through them)."""
    protos = exported(prototypes(need.header), need.library)
    need.converters = converters(protos)
    return rank(protos, need)


def exported(protos: list, library: str) -> list:
    """The prototypes whose functions the library defines (a header declares more: zlib.h
    brings in unistd.h). All of them when the library's symbols cannot be read."""
    names = exported_functions(resolve_library(library))
    return protos if names is None else [p for p in protos if p.name in names]


def propose_and_verify(need: Need, candidates: list, backend, attempts: int,
                       progress=None, wall_s: float = VERIFY_SECONDS) -> Learned:
    """Ask, verify, feed failures back; a Learned or LearnFailed after `attempts`. Each
    verification ends within `wall_s`, however the binding misbehaves."""
    by_name = {p.name: p for p in candidates}
    start = time.monotonic()
    transcript: list[dict] = []
    if need.direct:
        proto = candidates[0]
        proposal = direct_proposal(proto, need)
        source = method_source(need, proto, proposal)
        _say(progress, 1, 1, f"verifying {proto.name} in the sandbox")
        check = verify(source, binding_cdef(need, proto, proposal), need.library, proposal,
                       list(need.args), wall_s)
        transcript.append({"proposal": proposal.to_dict(), "check": check.to_dict()})
        if check.ok:
            return Learned(need, proto.name, source, proposal, 1, time.monotonic() - start,
                           "none (call_c_)", "", "", check, transcript)
        raise _failed(need, transcript, check.feedback())
    msgs = P.messages(need, candidates, constants_for(candidates, macros(need.header)))
    prompt_sha = P.prompt_hash(msgs)
    schema = P.schema(need, candidates)
    last = ""
    seen: set[str] = set()
    failures: dict[str, int] = {}
    for attempt in range(1, attempts + 1):
        _say(progress, attempt, attempts, "asking the model")
        # Retries sample a little more freely, so a model stuck on one answer can leave it.
        answer = backend.complete(msgs, schema, temperature=RETRY_TEMPERATURE * (attempt - 1))
        # What is kept of an answer (transcript, next prompt) is bounded whatever it was.
        kept = answer[:MAX_ANSWER] if isinstance(answer, str) else repr(answer)[:MAX_ANSWER]
        entry: dict = {"attempt": attempt, "answer": kept}
        transcript.append(entry)
        repeated = kept in seen
        seen.add(kept)
        try:
            proposal = Proposal.parse(answer, by_name, need)
        except ProposalError as exc:
            last = f"proposal: {exc}"
            entry["check"] = {"ok": False, "kind": "proposal", "message": str(exc)}
            msgs = msgs + P.correction(kept, last, repeated)
            continue
        proto = by_name[proposal.function]
        source = method_source(need, proto, proposal)
        _say(progress, attempt, attempts, f"verifying {proto.name} in the sandbox")
        check = verify(source, binding_cdef(need, proto, proposal), need.library, proposal,
                       list(need.args), wall_s)
        entry["check"] = check.to_dict()
        if check.ok:
            return Learned(need, proto.name, source, proposal, attempt,
                           time.monotonic() - start, backend.path, backend.sha256, prompt_sha,
                           check, transcript)
        last = check.feedback()
        test_failed = proto.name if check.kind == "assertion" else ""
        msgs = msgs + P.correction(kept, last, repeated, test_failed)
        failures[proto.name] = failures.get(proto.name, 0) + 1
        if (repeated or failures[proto.name] >= 2) and len(by_name) > 1:
            # A function that keeps failing leaves the schema: the next answer must differ.
            candidates = [p for p in candidates if p.name != proto.name]
            by_name = {p.name: p for p in candidates}
            schema = P.schema(need, candidates)
    raise _failed(need, transcript, last)


def verify_seconds(value: object) -> float:
    """The verification budget a `verifySeconds` slot asks for, or the default."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 600:
        return float(value)
    return VERIFY_SECONDS


def _say(progress, attempt: int, total: int, what: str) -> None:
    if progress is not None:
        progress(attempt, total, what)


def _failed(need: Need, transcript: list[dict], last: str) -> LearnFailed:
    path = save_transcript(need, transcript)
    where = f"; transcript: {path}" if path else ""
    tries = len(transcript)
    return LearnFailed(
        f"could not learn {need.selector} from {need.header} after {tries} attempt(s): "
        f"{clean(last)}{where}"
    )


def save_transcript(need: Need, transcript: list[dict]) -> str | None:
    """A new file per failed learn: two failing in the same second (or two processes)
    must not overwrite the transcript the other one's error line points to."""
    folder = os.path.join(cache_dir(), "transcripts")
    stem = "".join(c if c.isascii() and c.isalnum() else "_" for c in need.selector)[:80]
    name = f"{int(time.time())}-{stem}-{os.urandom(3).hex()}.json"
    try:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name)
        with open(path, "x", encoding="utf-8") as f:
            json.dump({"selector": need.selector, "header": need.header,
                       "library": need.library, "attempts": transcript}, f, indent=1,
                      default=repr)
        return path
    except OSError:
        return None


def learn(path: str, request: LearnRequest, *, model: str | None = None, progress=None,
          review=None) -> Learned:
    """Learn the method a LearnRequest asks for and install it (one write transaction)."""

    def context(world):
        receiver = world.object(request.receiver_oid)
        bound = bound_library(world, receiver)
        if bound is None:
            raise UsageError(f"{world.describe(receiver)} is not bound to a C library")
        return bound, settings(world, receiver), world.describe(receiver)

    (header, library), conf, label = session.run(path, context, write=False)
    need = Need(request.selector, request.args, header, library, label)
    backend = None
    if not need.direct:
        backend = make_backend(model, conf)
        backend.warm_up()  # load the model while the header is parsed and ranked
    candidates = candidates_for(need)
    if not candidates:
        wanted = f"named {need.direct}" if need.direct else "that fits these arguments"
        raise LearnFailed(f"{header} declares no function {wanted} that {library} exports "
                          f"for {need.selector}")
    attempts = conf.get("maxAttempts")
    attempts = attempts if isinstance(attempts, int) and 0 < attempts <= 20 else 3
    learned = propose_and_verify(need, candidates, backend, attempts, progress,
                                 verify_seconds(conf.get("verifySeconds")))
    if review is not None and not review(learned):
        raise LearnFailed(f"the binding for {need.selector} was not accepted at review")
    install(path, request, learned)
    return learned


def install(path: str, request: LearnRequest, learned: Learned) -> None:
    """Put the verified method into the image in one write transaction."""

    def work(world):
        receiver = world.object(request.receiver_oid)
        if not world.exists(receiver):
            raise UsageError("the receiver disappeared while learning")
        world.put_slot(receiver, request.selector, learned.source, METHOD,
                       learned.provenance())

    session.run(path, work)
