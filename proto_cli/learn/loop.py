"""The tool-making loop: propose -> verify in the sandbox -> correct -> install.

Runs outside any transaction: the context is read in a read transaction, the
model and the sandbox run with no lock held, and the verified method is
installed in one write transaction of its own.
"""

from __future__ import annotations

import json
import os
import time

from image_format import clock
from image_format.files import cache_home

from ..errors import ProtoError, UsageError
from ..world import session
from ..world.objects import METHOD
from . import prompt as P
from . import trial as T
from .binding import MAX_ANSWER, Proposal, ProposalError, direct_proposal
from .candidates import converters, rank, words
from .docs import docs_for
from .elf import exported_functions
from .evidence import Decision, decide
from .headers import constants, prototypes
from .hook import LearnRequest, bound_library, make_backend, settings
from .libraries import resolve_library
from .need import Need, literal
from .siblings import Binding
from .verify import Check, clean, verify

RETRY_TEMPERATURE = 0.35
#: Wall-clock (and CPU) seconds for one verification; an object (or the learner) with a
#: `verifySeconds` slot holding a number in (0, 600] overrides it.
VERIFY_SECONDS = 20.0


class LearnFailed(ProtoError):
    """No verified binding within the attempts; the transcript says why."""


class LearnAbstained(LearnFailed):
    """A binding ran, but nothing decided that it is the one the message means: it was
    not installed. Saying so is the honest answer; a wrong method would answer
    confidently from then on."""


class Learned:
    """A binding that passed the gate, ready to install, with its provenance and the
    evidence it rests on (`evidence["kind"]`: oracle, value, direct, or unverified)."""

    def __init__(self, need: Need, function: str, source: str, proposal: Proposal,
                 attempts: int, seconds: float, model: str, model_sha256: str,
                 prompt_sha256: str, check: Check, transcript: list[dict],
                 evidence: dict | None = None) -> None:
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
        self.evidence = evidence or {"kind": "unverified"}

    @property
    def verified(self) -> bool:
        return self.evidence.get("kind") != "unverified"

    def provenance(self) -> dict:
        return {
            "learned": True, "function": self.function, "library": self.need.library,
            "header": self.need.header, "model": model_label(self.model),
            "model_sha256": self.model_sha256,
            "prompt_sha256": self.prompt_sha256, "attempts": self.attempts,
            "test": {"inputs": list(self.proposal.test_inputs), "expect": self.proposal.expect},
            "evidence": self.evidence,
            "timestamp": clock.now(),
        }


def model_label(path: str) -> str:
    """The model's file name (not where this machine keeps it), the scripted backend
    still named as such: `scripted:answers.json`."""
    kind, sep, rest = path.partition(":")
    if sep and kind == "scripted":
        return f"scripted:{os.path.basename(rest)}"
    if " via http" in path:  # a model server's: its model id and endpoint (http_backend)
        return path
    return os.path.basename(path) if os.sep in path else path


def constants_for(candidates: list, defined: dict, selector: str = "") -> list[str]:
    """The header constants worth showing: buffer sizes named after a candidate that
    fills one (SHA512_...), and those named with the selector's words (a version's
    value: FOO_VERSION), which an oracle may use."""
    stems = {p.name.upper() for p in candidates if any(
        q.pointer == 1 and not q.const and not q.array for q in p.params)}
    sizes = [k for k, v in sorted(defined.items()) if type(v) is int
             and any(k.startswith(stem + "_") for stem in stems)][:12]
    wanted = [w for w in words(selector) if len(w) >= 3]
    scored = []
    for name, value in defined.items():
        if name in sizes or value == "":
            continue
        parts = [p.lower() for p in name.split("_") if len(p) >= 3]
        hits = sum(any(p.startswith(w) or w.startswith(p) for p in parts) for w in wanted)
        if hits:
            scored.append((-hits, len(name), name))
    named = [n for _, _, n in sorted(scored)[:MAX_NAMED_CONSTANTS]]
    return [f"{k} = {_constant(defined[k])}" for k in sizes + named]


MAX_NAMED_CONSTANTS = 6


def _constant(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def ranked(need: Need) -> tuple[list, list]:
    """(the candidates the prompt shows, every exported function that can take the
    message), best first, from one parse of the header; the need learns the header's
    converters, so arguments can go through them. The second list is the pool a
    proposal's siblings come from."""
    protos = exported(prototypes(need.header), need.library)
    need.converters = converters(protos)
    docs = documentation(need, protos)
    return rank(protos, need, docs=docs), rank(protos, need, limit=10_000, docs=docs)


def candidates_for(need: Need) -> list:
    return ranked(need)[0]


def fitting(need: Need) -> list:
    return ranked(need)[1]


def documentation(need: Need, protos: list) -> dict[str, str]:
    """One documented line per function, where the system has one (docs.py; cached)."""
    return {} if need.direct else docs_for(need.header, [p.name for p in protos])


def exported(protos: list, library: str) -> list:
    """The prototypes whose functions the library defines (a header declares more: zlib.h
    brings in unistd.h). All of them when the library's symbols cannot be read."""
    names = exported_functions(resolve_library(library))
    return protos if names is None else [p for p in protos if p.name in names]


def propose_and_verify(need: Need, candidates: list, backend, attempts: int,
                       progress=None, wall_s: float = VERIFY_SECONDS,
                       pool: list | None = None) -> Learned:
    """Ask, try, weigh the evidence, feed failures back; a Learned (verified, or marked
    unverified for the caller to refuse or have approved), LearnAbstained when the
    evidence cannot decide, or LearnFailed after `attempts`. Each sandbox run ends
    within `wall_s`, however the binding misbehaves."""
    start = time.monotonic()
    transcript: list[dict] = []
    if need.direct:
        return _direct(need, candidates[0], start, wall_s, progress)
    pool = pool if pool is not None else fitting(need)
    defined = constants(need.header)
    docs = documentation(need, pool)
    shown_constants = constants_for(candidates, defined, need.selector)
    msgs = P.messages(need, candidates, shown_constants, docs)
    prompt_sha = P.prompt_hash(msgs)

    memo: list = []

    def ask_oracle() -> str | None:
        """The message's oracle alone, asked apart from any choice of function: once a
        learn, since it depends on the message only."""
        if not memo:
            question, oracle_schema = P.oracle_question(msgs[:-1], need, shown_constants)
            reply = backend.complete(question, oracle_schema, temperature=0.0)
            try:
                value = json.loads(reply).get("oracle") if len(reply) < MAX_ANSWER else None
            except (ValueError, TypeError, AttributeError):
                value = None
            memo.append(value if isinstance(value, str) else None)
        return memo[0]

    schema = P.schema(need, candidates)
    by_name = {p.name: p for p in candidates}
    last = ""
    seen: set[str] = set()
    failures: dict[str, int] = {}
    pending: Learned | None = None  # an unverified binding, while evidence is asked for
    undecided = ""  # why the last proposal's evidence could not choose between candidates
    shown: list = []  # (inputs, answer) pairs told to the model: their copies prove nothing
    for attempt in range(1, attempts + 1):
        _say(progress, attempt, attempts, "asking the model")
        # Retries sample a little more freely, so a model stuck on one answer can leave it.
        asked = time.monotonic()
        answer = backend.complete(msgs, schema, temperature=RETRY_TEMPERATURE * (attempt - 1))
        # What is kept of an answer (transcript, next prompt) is bounded whatever it was.
        kept = answer[:MAX_ANSWER] if isinstance(answer, str) else repr(answer)[:MAX_ANSWER]
        entry: dict = {"attempt": attempt, "answer": kept,
                       "model_s": round(time.monotonic() - asked, 3)}
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
        _say(progress, attempt, attempts, f"trying {proto.name} and its look-alikes in the sandbox")
        verdict, found = _weigh(need, Binding(need, proto, proposal), pool, defined, wall_s,
                                docs, entry, shown, ask_oracle)
        if verdict in ("install", "unverified"):
            learned = Learned(need, found.name, found.source, found.proposal, attempt,
                              time.monotonic() - start, backend.path, backend.sha256,
                              prompt_sha, entry.pop("_check"), transcript, entry["evidence"])
            if verdict == "install" or pending is not None or attempt == attempts:
                return learned  # an unverified one after evidence was asked for: the caller's
            pending = learned
            last = _unchecked(found.label)
            msgs = msgs + P.correction(kept, last)
            continue  # the function is not at fault: no strike against it
        last = found
        if pending is not None and pending.function == proto.name:
            pending = None  # evidence has since spoken against it: no longer "unchecked"
        if verdict == "ambiguous":
            undecided = found
            msgs = msgs + P.correction(kept, last)
            continue  # not the function's fault either
        undecided = ""
        failed_test = proto.name if entry["check"]["kind"] in ("assertion", "oracle") else ""
        msgs = msgs + P.correction(kept, last, repeated, failed_test)
        failures[proto.name] = failures.get(proto.name, 0) + 1
        if (repeated or failures[proto.name] >= 2) and len(by_name) > 1:
            # A function that keeps failing leaves the schema: the next answer must differ.
            candidates = [p for p in candidates if p.name != proto.name]
            by_name = {p.name: p for p in candidates}
            schema = P.schema(need, candidates)
    if pending is not None:
        return pending
    if undecided:
        raise _abstained(need, transcript, undecided.partition(": ")[2])
    raise _failed(need, transcript, last)


def _weigh(need: Need, primary: Binding, pool: list, defined: dict, wall_s: float,
           docs: dict[str, str], entry: dict, shown: list,
           ask_oracle=None) -> tuple[str, object]:
    """One proposal through the sandbox and the evidence: ("install" | "unverified",
    the Binding), or ("reject" | "ambiguous", the feedback for the model). The
    transcript entry gets the gate's check, the decision, and what a Learned needs."""
    tried = time.monotonic()
    trial = T.run(need, primary, pool, defined, wall_s, docs, list(shown))
    entry["trial_s"] = round(time.monotonic() - tried, 3)
    entry["check"] = trial.check.to_dict()
    if not trial.check.ok:
        return "reject", trial.check.feedback()
    decision = decide(trial.case)
    if decision.kind != "install" and not trial.case.oracle_usable and ask_oracle is not None:
        # No usable oracle came with the proposal: ask for one alone, and weigh again.
        oracle = ask_oracle()
        entry["asked_oracle"] = oracle
        if oracle:
            primary.proposal.oracle = oracle
            again = T.run(need, primary, pool, defined, wall_s, docs, list(shown))
            if again.check.ok and again.case.oracle_usable:
                trial, decision = again, decide(again.case)
                if decision.kind == "install" and decision.chosen != 0:
                    # Asked apart from the proposal, it may confirm the model's function,
                    # not replace it: say what it agreed with instead.
                    other = trial.bindings[decision.chosen].label
                    decision = Decision("reject", feedback=(
                        f"oracle (stage oracle): an oracle for the message, {oracle}, agrees "
                        f"with {other}, not with {primary.label}"))
    shown += decision.shown
    entry["decision"] = {"kind": decision.kind, "evidence": decision.evidence,
                         "feedback": decision.feedback}
    if decision.kind in ("install", "unverified"):
        chosen = trial.bindings[decision.chosen]
        check = trial.check if chosen is primary else T.gate(need, chosen, wall_s)
        if check.ok:
            entry["_check"], entry["evidence"] = check, decision.evidence
            return decision.kind, chosen
        decision = Decision("reject", feedback=check.feedback())
    head, _, message = decision.feedback.partition(": ")
    kind, _, stage = head.partition(" (stage ")
    entry["check"] = {**trial.check.to_dict(), "ok": False, "kind": kind,
                      "message": clean(message), "stage": stage.rstrip(")")}
    return ("ambiguous" if decision.kind == "ambiguous" else "reject"), decision.feedback


def _unchecked(label: str) -> str:
    return (f"unchecked (stage evidence): nothing checked {label}: there is no oracle and no "
            "expected value. Give an oracle (a Python expression) or an expected value you "
            "are sure of, for the function that does what the message asks; null only if "
            "Python has no such computation and you cannot know the value")


def _direct(need: Need, proto, start: float, wall_s: float, progress) -> Learned:
    """`call_c_NAME:`: the person named the function; it must only pass the gate."""
    proposal = direct_proposal(proto, need)
    binding = Binding(need, proto, proposal)
    _say(progress, 1, 1, f"verifying {proto.name} in the sandbox")
    check = verify(binding.source, binding.cdef, need.library, proposal, list(need.args),
                   wall_s)
    transcript = [{"proposal": proposal.to_dict(), "check": check.to_dict()}]
    if check.ok:
        return Learned(need, proto.name, binding.source, proposal, 1, time.monotonic() - start,
                       "none (call_c_)", "", "", check, transcript, {"kind": "direct"})
    raise _failed(need, transcript, check.feedback())


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


def _abstained(need: Need, transcript: list[dict], why: str) -> LearnAbstained:
    path = save_transcript(need, transcript)
    where = f"; transcript: {path}" if path else ""
    return LearnAbstained(f"{need.selector} not installed: {clean(why)}{where}")


def save_transcript(need: Need, transcript: list[dict]) -> str | None:
    """A new file per failed learn: two failing in the same second (or two processes)
    must not overwrite the transcript the other one's error line points to."""
    folder = os.path.join(cache_home(), "transcripts")
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
        return bound, settings(world, receiver), world.describe(receiver), \
            world.name_of(receiver)

    (header, library), conf, label, name = session.run(path, context, write=False)
    need = Need(request.selector, request.args, header, library, label)
    backend = None
    if not need.direct:
        backend = make_backend(model, conf, getattr(progress, "stage", None))
        backend.warm_up()  # load the model while the header is parsed and ranked
    candidates, pool = ranked(need)
    if not candidates:
        wanted = f"named {need.direct}" if need.direct else "that fits these arguments"
        raise LearnFailed(f"{header} declares no function {wanted} that {library} exports "
                          f"for {need.selector}")
    attempts = conf.get("maxAttempts")
    attempts = attempts if isinstance(attempts, int) and 0 < attempts <= 20 else 3
    learned = propose_and_verify(need, candidates, backend, attempts, progress,
                                 verify_seconds(conf.get("verifySeconds")), pool)
    if not learned.verified:
        if review is not None:
            if not review(learned):
                raise LearnAbstained(f"{need.selector} not installed: the unverified binding "
                                     f"{learned.function}() was not approved")
            learned.evidence["kind"] = "approved-unverified"
        elif conf.get("acceptUnverified") is True:
            learned.evidence["kind"] = "accepted-unverified"
        else:
            raise LearnAbstained(unverified_message(learned, name))
    elif review is not None and not review(learned):
        raise LearnFailed(f"the binding for {need.selector} was not accepted at review")
    install(path, request, learned)
    return learned


def unverified_message(learned: Learned, receiver: str | None) -> str:
    """One line: the best candidate, why nothing verified it, and the exact commands that
    install it anyway or bind the function directly (arguments that would not paste as
    typed, or would make the line long, are left as ARG1...: the line stays one line)."""
    need = learned.need
    who = receiver or "RECEIVER"
    literals = [_shell_word(literal(a)) for a in need.args]
    if sum(len(w) for w in literals) > MAX_SHOWN_ARGS or not all(w.isprintable()
                                                               for w in literals):
        literals = [f"ARG{i}" for i in range(1, len(need.args) + 1)]
    message = " ".join(_interleave(need.selector, literals))
    direct = [f"call_c_{learned.function}" + (":" if need.args else "")]
    for i, word in enumerate(literals):
        direct += (["with:"] if i else []) + [word]
    return clean(f"{need.selector} not installed: the best candidate, {learned.function}() in "
                 f"{need.library}, is unverified (the model gave no expected value and no "
                 f"oracle, so nothing checked its answer); to install it anyway: proto learn "
                 f"--approve {who} {message}; or bind the function yourself: proto send {who} "
                 f"{' '.join(direct)}", limit=1000)


MAX_SHOWN_ARGS = 200


def _interleave(selector: str, words: list[str]) -> list[str]:
    """A message as the shell words `proto send` reads: keywords and argument words."""
    parts = selector.split(":")
    if len(parts) == 1:
        return [selector, *words]
    out = []
    for part, word in zip(parts[:-1], words, strict=False):
        out += [f"{part}:", word]
    return out


def _shell_word(word: str) -> str:
    """A word quoted for a POSIX shell only when it must be."""
    import shlex

    return word if word and all(c.isalnum() or c in "-_.:+/#@" for c in word) \
        else shlex.quote(word)


def install(path: str, request: LearnRequest, learned: Learned) -> None:
    """Put the verified method into the image in one write transaction."""

    def work(world):
        receiver = world.object(request.receiver_oid)
        if not world.exists(receiver):
            raise UsageError("the receiver disappeared while learning")
        world.put_slot(receiver, request.selector, learned.source, METHOD,
                       learned.provenance())

    session.run(path, work)
