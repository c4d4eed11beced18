"""Library objects in the lobby: a header and a shared library, delegating to cLibrary
(whose learner learns their methods). Added, listed and removed each in one
transaction; listing reads slots and runs nothing.
"""

from __future__ import annotations

import os

from ..errors import UsageError
from ..world import session


def lib_add(image: str | None, name: str, header: str, library: str) -> str:
    """A library object in the lobby: header + shared library, delegating to cLibrary."""
    from ..learn.headers import preprocess
    from ..learn.libraries import library_name
    from ..world.objects import DATA, PARENT
    from ..world.world import check_slot_name

    path = session.image_path(image)
    check_slot_name(name, DATA)
    preprocess(header)  # fails early, with cpp's message, for a header that is not there
    resolved = library_name(library)
    if os.sep not in library:  # a short name or soname: the runtime soname it means
        library = resolved

    def work(world) -> str:
        lobby = world.lobby
        if world.slot(lobby, name) is not None:
            from ..errors import UsageError

            raise UsageError(f"the lobby already has a slot {name}")
        obj = world.new_object()
        world.put_slot(obj, "parent", world.root("cLibrary"), PARENT)
        world.put_slot(obj, "header", header, DATA)
        world.put_slot(obj, "library", library, DATA)
        world.put_slot(lobby, name, obj, DATA)
        return f"{name}: {library} with {header}"

    return session.run(path, work)



def lib_list(image: str | None) -> list[dict]:
    """The lobby's library objects: header, library, how many methods they learned (read
    only: slots are read, no method runs)."""
    from ..world.objects import METHOD, PARENT, ProtoObject
    from ..world.records import provenance

    path = session.image_path(image)

    def work(world) -> list[dict]:
        library_root = world.root("cLibrary")
        out = []
        for name, slot in world.slots(world.lobby):
            obj = slot.value
            if type(obj) is not ProtoObject or obj is library_root:
                continue
            parents = [s.value for _, s in world.slots(obj) if s.kind == PARENT]
            if library_root not in parents:
                continue
            own = dict(world.slots(obj))
            learned = sum(1 for sel, s in own.items() if s.kind == METHOD
                          and (provenance(obj.oid, sel, s.meta) or {}).get("learned"))
            header, lib = own.get("header"), own.get("library")

            def text(slot) -> str | None:  # a hand-made image may hold anything there
                if slot is None:
                    return None
                return slot.value if type(slot.value) is str else world.describe(slot.value)

            out.append({"name": name, "header": text(header), "library": text(lib),
                        "learned": learned})
        return out

    return session.run(path, work, write=False)



def lib_remove(image: str | None, name: str) -> str:
    """Take a library object out of the lobby (its learned methods go with it)."""
    path = session.image_path(image)

    def work(world) -> str:
        from ..world.objects import PARENT, ProtoObject

        slot = world.slot(world.lobby, name)
        obj = slot.value if slot is not None else None
        if type(obj) is not ProtoObject or world.root("cLibrary") not in [
                s.value for _, s in world.slots(obj) if s.kind == PARENT]:
            raise UsageError(f"{name} is not a library object in the lobby "
                             "(`proto lib list` shows them)")
        world.remove_slot(world.lobby, name)
        return f"removed {name}"

    return session.run(path, work)
