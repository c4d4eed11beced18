"""Shell completion of what an image holds: lobby names for a receiver or an inspect
path, and the selectors a receiver understands. Read from slots only (no method runs),
in one read transaction; any trouble completes nothing rather than printing an error
into the user's shell."""

from __future__ import annotations

import os


def _image(ctx) -> str | None:
    while ctx is not None:
        found = (ctx.params or {}).get("image")
        if found:
            return found
        ctx = ctx.parent
    return os.environ.get("PROTO_IMAGE")


def _read(ctx, work) -> list[str]:
    from ..world import session

    path = _image(ctx)
    if not path or not os.path.isfile(path):
        return []
    try:
        return session.run(path, work, write=False)
    except Exception:  # noqa: BLE001 - completion must never disturb the shell
        return []


def lobby_names(ctx, incomplete: str) -> list[str]:
    def work(world) -> list[str]:
        return sorted(name for name, _ in world.slots(world.lobby) if name.startswith(incomplete))

    return _read(ctx, work)


def selectors(ctx, incomplete: str) -> list[str]:
    """Selector parts the receiver understands: its slots and its parents', by name."""
    receiver = (ctx.params or {}).get("receiver")
    if not receiver:
        return []
    typed = list((ctx.params or {}).get("words") or [])
    if typed and typed[-1] == incomplete:
        typed = typed[:-1]  # the word being completed is not typed yet

    def work(world) -> list[str]:
        from ..world.objects import METHOD, PARENT, ProtoObject
        from ..world.syntax import Lit, parse

        slot = world.slot(world.lobby, receiver)
        if slot is not None:
            start = slot.value
        else:
            try:
                (node,) = parse(receiver)
            except Exception:  # noqa: BLE001 - not a literal: nothing to complete
                return []
            if type(node) is not Lit:
                return []
            start = node.value
        obj = start if type(start) is ProtoObject else world.behaviour(start)
        found: set[str] = set()
        seen: set[int] = set()
        todo = [obj]
        while todo and len(seen) < 200:
            current = todo.pop()
            if current.oid in seen:
                continue
            seen.add(current.oid)
            for name, slot in world.slots(current):
                if slot.kind == PARENT:
                    if type(slot.value) is ProtoObject:
                        todo.append(slot.value)
                    continue
                found.add(name)
                if slot.kind != METHOD and type(current) is ProtoObject and current is obj:
                    found.add(name + ":")
        return sorted(w for w in _next_words(found, typed) if w.startswith(incomplete))

    return _read(ctx, work)


def _next_words(selectors: set[str], typed: list[str]) -> set[str]:
    """The words that may come next: after the receiver a unary or binary selector or a
    keyword's first part; after `at: 1` the parts that may follow `at:`."""
    if not typed:
        return {sel.split(":")[0] + ":" if ":" in sel else sel for sel in selectors}
    if len(typed) % 2:  # the word after a keyword part is its argument: nothing to offer
        return set()
    parts = typed[0::2]
    prefix = "".join(parts)
    out = set()
    for sel in selectors:
        if ":" in sel and sel.startswith(prefix) and len(sel) > len(prefix):
            out.add(sel[len(prefix):].split(":")[0] + ":")
    return out
