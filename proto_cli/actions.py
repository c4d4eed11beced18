"""The work behind each command, free of any CLI framework.

Both the Typer app and the fast `send` path call these, so a command means the
same thing however it was parsed. Each runs in one transaction and returns
the text to print; nothing is printed before the transaction has committed.
"""

from __future__ import annotations

from . import session


def _answer(world, value: object, as_json: bool) -> str:
    if as_json:
        from .render import dump_json, to_json

        return dump_json({"result": to_json(value, world.name_of), "learned": False})
    return world.print_string(value)


def send(image: str | None, receiver: str, words: list[str], as_json: bool = False) -> str:
    from .world.shell import send_words

    path = session.image_path(image)
    return session.run(path, lambda w: _answer(w, send_words(w, receiver, words), as_json))


def evaluate(image: str | None, source: str, as_json: bool = False) -> str:
    from .world.shell import evaluate as run_source

    path = session.image_path(image)
    return session.run(path, lambda w: _answer(w, run_source(w, source), as_json))


def init(path: str) -> str:
    session.create(path)
    return f"created {path}"


def define(image: str | None, target: str, selector: str, source: str) -> str:
    from .world.shell import define as define_method

    path = session.image_path(image)

    def work(world) -> str:
        obj = define_method(world, target, selector, source)
        return f"defined {selector} on {world.describe(obj)}"

    return session.run(path, work)


def inspect(image: str | None, target: str) -> dict:
    """One object's slots, JSON-ready, each value also as text (no method runs)."""
    from .render import to_json
    from .world.shell import inspect_object, resolve

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
