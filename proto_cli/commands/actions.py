"""The work behind each command, free of any CLI framework.

Both the Typer app and the fast `send` path call these, so a command means the
same thing however it was parsed. Each runs in one transaction and returns
the text to print; nothing is printed before the transaction has committed.
"""

from __future__ import annotations

from ..world import session

MAX_LEARNS = 4  # learns one command may trigger (a learned method may miss in turn)


def _answer(world, value: object, as_json: bool) -> object:
    """What to print for a result: its printString, or its JSON form (made in the txn)."""
    from ..world.values import checked_answer

    value = checked_answer(value)
    if as_json:
        from ..output.render import to_json

        return to_json(value, world.name_of)
    return world.print_string(value)


def _finish(answer: object, learned: list, as_json: bool) -> str:
    if not as_json:
        return answer  # type: ignore[return-value]
    from ..output.render import dump_json

    out: dict = {"result": answer, "learned": bool(learned)}
    if learned:
        out["attempts"] = sum(x.attempts for x in learned)
        out["function"] = learned[-1].function
        out["evidence"] = learned[-1].evidence.get("kind")
        out["seconds"] = round(sum(x.seconds for x in learned), 3)
    return dump_json(out)


def _run_learning(path: str, work, options: dict, progress=None, review=None) -> tuple:
    """Run `work`; on a LearnRequest, learn outside the transaction, install, run again."""
    from ..errors import OutsideWork  # already loaded: a send imports no learn code

    learned: list = []
    while True:
        try:
            return session.run(path, work, options=options), learned
        except OutsideWork as caught:
            request = caught
        if len(learned) >= MAX_LEARNS:
            from ..errors import ProtoError

            raise ProtoError(f"gave up after learning {MAX_LEARNS} methods in one command")
        from ..learn.loop import learn

        learned.append(learn(path, request, model=options.get("model"), progress=progress,
                             review=review))


def send(image: str | None, receiver: str, words: list[str], as_json: bool = False,
         learn: bool = True, model: str | None = None, progress=None, review=None) -> str:
    from ..world.shell import send_words

    path = session.image_path(image)
    answer, learned = _run_learning(
        path, lambda w: _answer(w, send_words(w, receiver, words), as_json),
        {"learn": learn, "model": model}, progress, review)
    return _finish(answer, learned, as_json)


def evaluate(image: str | None, source: str, as_json: bool = False, learn: bool = True,
             model: str | None = None, progress=None) -> str:
    from ..world.shell import evaluate as run_source

    path = session.image_path(image)
    answer, learned = _run_learning(path, lambda w: _answer(w, run_source(w, source), as_json),
                                    {"learn": learn, "model": model}, progress)
    return _finish(answer, learned, as_json)


def learn(image: str | None, receiver: str, words: list[str], *, relearn: bool = False,
          as_json: bool = False, model: str | None = None, progress=None, review=None) -> str:
    """Learn the method for a message explicitly, install it, then send the message."""
    from ..errors import UsageError
    from ..learn.hook import request_for as learn_request
    from ..learn.loop import learn as learn_method
    from ..world.evaluator import Evaluator
    from ..world.syntax import parse_words

    path = session.image_path(image)
    node = parse_words(receiver, words)
    request, known = learn_request(path, node)
    if known and not relearn:
        raise UsageError(f"{receiver} already understands {node.selector} (--relearn to replace)")
    learned = [learn_method(path, request, model=model, progress=progress, review=review)]
    answer = session.run(path, lambda w: _answer(w, Evaluator(w).eval(node, {}), as_json))
    return _finish(answer, learned, as_json)


def methods(image: str | None, target: str) -> list[dict]:
    """An object's own method slots with their provenance (no method runs)."""
    from ..output.render import to_json
    from ..world.objects import METHOD
    from ..world.records import provenance
    from ..world.shell import resolve

    path = session.image_path(image)

    def work(world) -> list[dict]:
        obj = resolve(world, target)
        out = []
        for name, slot in world.slots(obj):
            if slot.kind == METHOD:
                meta = provenance(obj.oid, name, slot.meta)
                meta = to_json(meta, world.name_of) if meta is not None else None
                out.append({"selector": name, "learned": bool(meta and meta.get("learned")),
                            "runs": _runs(slot.meta), "provenance": meta,
                            "source": slot.value})
        return out

    return session.run(path, work, write=False)


def _runs(meta: object) -> str:
    """How a method runs: `confined` (learned), `trusted` (learned, reviewed) or
    `in-process` (written), by the rule the world runs it by."""
    from ..world.methods import runs_confined

    if runs_confined(meta):
        return "confined"
    get = getattr(meta, "get", None)
    return "trusted" if get is not None and get("learned") else "in-process"


def init(path: str) -> str:
    session.create(path)
    return f"created {path}"


def define(image: str | None, target: str, selector: str, source: str) -> str:
    from ..world.shell import define as define_method

    path = session.image_path(image)

    def work(world) -> str:
        obj = define_method(world, target, selector, source)
        return f"defined {selector} on {world.describe(obj)}"

    return session.run(path, work)


def trust(image: str | None, target: str, selector: str, undo: bool = False) -> str:
    """Mark a learned method trusted (it then runs in-process, not confined), or not."""
    from image_format.codec import MappingProxyType

    from ..errors import UsageError
    from ..world.objects import METHOD
    from ..world.shell import resolve

    path = session.image_path(image)

    def work(world) -> str:
        obj = resolve(world, target)
        slot = world.slot(obj, selector)
        meta = getattr(slot, "meta", None) if slot is not None else None
        if slot is None or slot.kind != METHOD or not hasattr(meta, "get") \
                or meta.get("learned") is not True:
            raise UsageError(f"{target} has no learned method {selector} (only learned "
                             "methods run confined)")
        changed = {k: v for k, v in meta.items() if k != "trusted"}
        if not undo:
            changed["trusted"] = True
        world.put_slot(obj, selector, slot.value, METHOD, MappingProxyType(changed))
        where = world.describe(obj)
        return (f"{selector} of {where} runs confined again" if undo else
                f"{selector} of {where} is trusted: it runs in this process, unconfined")

    return session.run(path, work)


def inspect(image: str | None, target: str) -> dict:
    """One object's slots, JSON-ready, each value also as text (no method runs)."""
    from ..output.render import to_json
    from ..world.shell import inspect_object, resolve

    path = session.image_path(image)

    def work(world) -> dict:
        info = inspect_object(world, resolve(world, target))
        for slot in info["slots"]:
            if "value" in slot:
                slot["text"] = world.describe(slot["value"])
                slot["value"] = to_json(slot["value"], world.name_of)
            if "meta" in slot:
                slot["meta"] = to_json(slot["meta"], world.name_of)
        return info

    return session.run(path, work, write=False)
