"""Where the image's learner methods reach into Python: the doesNotUnderstand: hook.

Learning takes seconds and runs a model and a sandbox, so it must not happen
inside the write transaction of the send that missed. The hook raises a
LearnRequest instead; the command aborts its transaction, learns outside any
transaction, installs the method in one new transaction, and sends the
original message again (see loop.py and actions.py).
"""

from __future__ import annotations

from ..errors import OutsideWork, UsageError
from ..world.objects import ProtoObject


class LearnRequest(OutsideWork):
    """Unwinds a send to the command, which learns and then runs the send again."""

    def __init__(self, receiver_oid: int, selector: str, args: tuple) -> None:
        super().__init__(selector)
        self.receiver_oid = receiver_oid
        self.selector = selector
        self.args = args


def bound_library(world, receiver: object) -> tuple[str, str] | None:
    """(header, library) when the receiver is bound to a C library."""
    if type(receiver) is not ProtoObject:
        return None
    values = []
    for name in ("header", "library"):
        found = world.find(receiver, name, set())
        value = found[1].value if found is not None else None
        if not isinstance(value, str) or not value:
            return None
        values.append(value)
    return values[0], values[1]


def on_not_understood(receiver: object, message, default):
    """Learn when allowed and the receiver is bound to a library; else the usual failure."""
    world = message_world(receiver)
    if world is None or not world.options.get("learn") or bound_library(world, receiver) is None:
        return default()
    raise LearnRequest(receiver.oid, message.selector, message.arguments)


def message_world(receiver: object):
    return receiver.world if type(receiver) is ProtoObject else None


def settings(world, receiver: ProtoObject) -> dict:
    """The learner settings the receiver inherits (model, sha256, attempts, temperature,
    verification budget, whether unverified bindings may be installed unasked)."""
    out = {}
    for name in ("model", "modelSha256", "maxAttempts", "temperature", "verifySeconds",
                 "acceptUnverified"):
        found = world.find(receiver, name, set())
        out[name] = found[1].value if found is not None else None
    return out


def backend_spec(override: str | None, conf: dict, on_stage=None) -> tuple[str, str, bool]:
    """(model path, server URL or scripted:FILE; expected sha256; whether the person chose
    it here): --model, then $PROTO_MODEL_URL (a model server this session shares), the
    learner's slot (the image's choice), the default model (assembled on first use)."""
    import os

    from .http_backend import URL_VAR, is_url

    chosen_here = override or os.environ.get(URL_VAR)
    spec = chosen_here or conf.get("model")
    if spec:
        return spec, "" if is_url(spec) else conf.get("modelSha256") or "", bool(chosen_here)
    from .modelfile import DEFAULT_SHA256, default_model_path

    return default_model_path(on_stage), DEFAULT_SHA256, False


def make_backend(override: str | None, conf: dict, on_stage=None):
    """The learner's backend; `on_stage(text)` hears of the slow first steps."""
    from .models import backend_for

    spec, sha, chosen_here = backend_spec(override, conf, on_stage)
    # an API key goes only to a server the person named, never to the image's choice
    backend = backend_for(spec, sha, conf.get("temperature") or 0.0, send_key=chosen_here)
    backend.on_stage = on_stage
    return backend


def _backend(world, receiver: ProtoObject):
    return make_backend(world.options.get("model"), settings(world, receiver))


def infer(receiver: object, prompt: object) -> str:
    """`learner infer: 'text'`: one free-text completion from the learner's model."""
    if not isinstance(prompt, str):
        raise UsageError("infer: takes a string")
    world = message_world(receiver)
    if world is None:
        raise UsageError("infer: is understood by objects that inherit from learner")
    backend = _backend(world, receiver)
    return backend.complete([{"role": "user", "content": prompt}], None, max_tokens=128)


def reflect_on(receiver: object, message) -> object:
    """A Message in, the model's proposal for it out (not verified, not installed)."""
    from ..world.message import Message
    from . import prompt as P
    from .binding import Proposal
    from .candidates import rank
    from .headers import macros, prototypes
    from .loop import constants_for
    from .need import Need

    world = message_world(receiver)
    if type(message) is not Message or world is None:
        raise UsageError("reflectOn: takes a Message, sent to a library object")
    bound = bound_library(world, receiver)
    if bound is None:
        raise UsageError("reflectOn: needs a receiver bound to a C library (header, library)")
    need = Need(message.selector, message.arguments, bound[0], bound[1])
    candidates = rank(prototypes(need.header), need)
    if not candidates:
        return None
    constants = constants_for(candidates, macros(need.header))
    answer = _backend(world, receiver).complete(P.messages(need, candidates, constants),
                                                P.schema(need, candidates))
    proposal = Proposal.parse(answer, {p.name: p for p in candidates}, need)
    return proposal.to_dict()


def request_for(path: str, node) -> tuple:
    """(LearnRequest, whether the receiver already understands it) for a parsed message
    send: its receiver and arguments evaluated in a read transaction."""
    from ..errors import UsageError
    from ..learn.hook import LearnRequest
    from ..world.evaluator import Evaluator
    from ..world.objects import ProtoObject

    def message(world):
        ev = Evaluator(world)
        target = ev.eval(node.receiver, {})
        if type(target) is not ProtoObject:
            raise UsageError(f"{world.describe(target)} is not an object bound to a library")
        args = tuple(ev.eval(a, {}) for a in node.args)
        known = world.find(target, node.selector, set()) is not None
        return LearnRequest(target.oid, node.selector, args), known

    from ..world import session

    return session.run(path, message, write=False)
