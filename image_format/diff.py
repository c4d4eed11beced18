"""Slot-level differences between two images, by object identity (oid).

The two images' records are walked in step, in key order (an object's records
are contiguous and sorted), comparing raw bytes; only the objects whose bytes
differ are decoded and compared slot by slot. Nothing is executed: values are
decoded by the safe codec, method sources compared as text.
"""

from __future__ import annotations

import difflib

from . import layout as L
from . import literals
from .canonical import KIND_WORDS, lobby_names, roots, split_record
from .codec import decode
from .errors import DecodeError


class SlotChange:
    __slots__ = ("name", "change", "kind", "old", "new", "old_meta", "new_meta", "source_diff")

    def __init__(self, name: str, change: str, kind: str, old: object = None,
                 new: object = None, old_meta: object = None, new_meta: object = None,
                 source_diff: list[str] | None = None) -> None:
        self.name = name
        self.change = change  # added, removed, changed
        self.kind = kind
        self.old = old
        self.new = new
        self.old_meta = old_meta
        self.new_meta = new_meta
        self.source_diff = source_diff

    def to_dict(self) -> dict:
        out: dict = {"slot": self.name, "change": self.change, "kind": self.kind}
        if self.change != "added":
            out["old"] = self.old
        if self.change != "removed":
            out["new"] = self.new
        if self.old_meta != self.new_meta:
            out["old_meta"], out["new_meta"] = self.old_meta, self.new_meta
        if self.source_diff:
            out["source_diff"] = "\n".join(self.source_diff)
        return out


class ObjectChange:
    __slots__ = ("oid", "name", "change", "old_parents", "new_parents", "slots")

    def __init__(self, oid: int, name: str | None, change: str) -> None:
        self.oid = oid
        self.name = name
        self.change = change  # added, removed, changed
        self.old_parents: object = None
        self.new_parents: object = None
        self.slots: list[SlotChange] = []

    @property
    def parents_changed(self) -> bool:
        return self.change == "changed" and self.old_parents != self.new_parents

    def to_dict(self) -> dict:
        out: dict = {"oid": self.oid, "name": self.name, "change": self.change}
        if self.parents_changed:
            out["parents"] = {"old": self.old_parents, "new": self.new_parents}
        out["slots"] = [s.to_dict() for s in self.slots]
        return out


class ImageDiff:
    def __init__(self, a: str, b: str) -> None:
        self.a = a
        self.b = b
        self.roots: list[dict] = []
        self.objects: list[ObjectChange] = []

    @property
    def equal(self) -> bool:
        return not self.objects and not self.roots

    def stat(self) -> dict:
        count = {"added": 0, "removed": 0, "changed": 0}
        slots = {"added": 0, "removed": 0, "changed": 0}
        for obj in self.objects:
            count[obj.change] += 1
            for s in obj.slots:
                slots[s.change] += 1
        return {"objects": count, "slots": slots, "roots": len(self.roots),
                "parents": sum(o.parents_changed for o in self.objects)}

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "equal": self.equal, "stat": self.stat(),
                "roots": self.roots, "objects": [o.to_dict() for o in self.objects]}


def diff(txn_a, txn_b, a: str = "a", b: str = "b") -> ImageDiff:
    out = ImageDiff(a, b)
    roots_a, roots_b = roots(txn_a), roots(txn_b)
    for name in sorted(set(roots_a) | set(roots_b)):
        if roots_a.get(name) != roots_b.get(name):
            out.roots.append({"root": name, "old": roots_a.get(name), "new": roots_b.get(name)})
    changed = _changed_oids(txn_a, txn_b)
    if not changed:
        return out
    names_a, names_b = lobby_names(txn_a, changed), lobby_names(txn_b, changed)
    for oid in sorted(changed):
        old = _records(txn_a, oid)
        new = _records(txn_b, oid)
        name = names_b.get(oid) or names_a.get(oid)
        if "" not in old and "" not in new and not old and not new:
            continue
        change = "added" if not old else "removed" if not new else "changed"
        obj = ObjectChange(oid, name, change)
        obj.old_parents = _parents(old.get(""))
        obj.new_parents = _parents(new.get(""))
        for slot in sorted((set(old) | set(new)) - {""}):
            before, after = old.get(slot), new.get(slot)
            if before == after:
                continue
            obj.slots.append(_slot_change(slot, before, after))
        out.objects.append(obj)
    return out


def _changed_oids(txn_a, txn_b) -> set[int]:
    """Objects with any record that differs, found by a merge walk over raw bytes."""
    changed: set[int] = set()
    it_a, it_b = txn_a.records(), txn_b.records()
    ka, va = next(it_a, (None, None))
    kb, vb = next(it_b, (None, None))
    while ka is not None or kb is not None:
        if ka == kb:
            if va != vb:
                changed.add(int.from_bytes(ka[:L.OID_BYTES], "big"))
            ka, va = next(it_a, (None, None))
            kb, vb = next(it_b, (None, None))
        elif kb is None or (ka is not None and ka < kb):
            changed.add(int.from_bytes(ka[:L.OID_BYTES], "big"))
            ka, va = next(it_a, (None, None))
        else:
            changed.add(int.from_bytes(kb[:L.OID_BYTES], "big"))
            kb, vb = next(it_b, (None, None))
    return changed


def _records(txn, oid: int) -> dict[str, bytes]:
    return {key[L.OID_BYTES:].decode("utf-8", "replace"): bytes(record)
            for key, record in txn.object_range(oid)}


def _parents(record: bytes | None) -> object:
    if record is None:
        return None
    try:
        header = decode(record)
    except DecodeError:
        return "<corrupt header>"
    parents = header.get("parents") if hasattr(header, "get") else None
    if isinstance(parents, tuple) and all(type(p) is str for p in parents):
        return list(parents)
    if parents is None:
        return None
    try:  # a damaged header: shown as its literal, never passed through raw
        return literals.write(parents)
    except literals.LiteralError:
        return repr(parents)


def _decoded(record: bytes | None) -> tuple[str, object, object]:
    if record is None:
        return "", None, None
    try:
        return split_record(record)
    except DecodeError as exc:
        return "?", f"<corrupt record: {exc}>", None


def _slot_change(name: str, before: bytes | None, after: bytes | None) -> SlotChange:
    kind_a, old, old_meta = _decoded(before)
    kind_b, new, new_meta = _decoded(after)
    change = "added" if before is None else "removed" if after is None else "changed"
    kind = KIND_WORDS.get(kind_b or kind_a, "?")
    if kind_a and kind_b and kind_a != kind_b:
        kind = f"{KIND_WORDS.get(kind_a, '?')} -> {KIND_WORDS.get(kind_b, '?')}"
    source_diff = None
    if isinstance(old, str) and isinstance(new, str) and L.METHOD in (kind_a, kind_b):
        source_diff = list(difflib.unified_diff(old.split("\n"), new.split("\n"),
                                                f"a/{name}", f"b/{name}", lineterm=""))
    return SlotChange(name, change, kind, _shown(old, kind_a), _shown(new, kind_b),
                      _shown(old_meta, "d"), _shown(new_meta, "d"), source_diff)


def _shown(value: object, kind: str) -> object:
    """Values as their literal text (JSON-safe); method sources as the text itself."""
    if value is None and not kind:
        return None
    if kind == L.METHOD and isinstance(value, str):
        return value
    try:
        return literals.write(value)
    except literals.LiteralError:
        return repr(value)
