"""The world: a lazily loaded, in-memory view of an image inside one transaction.

A World lives exactly as long as its transaction. Objects are materialised on
first reference and their slots on first lookup; every change is written to
the transaction at once, so committing it (or not) is the only decision left.
"""

from __future__ import annotations

from image_format import layout as L
from image_format.codec import MappingProxyType, decode, decode_prefix, encode
from image_format.errors import DecodeError, EncodeError, ImageError

from ..errors import SlotError, UsageError
from .blocks import Block as _Block
from .blocks import revive, storable
from .lookup import Dispatcher
from .message import Message, is_valid_selector
from .objects import CONSTANT, DATA, METHOD, PARENT, ProtoObject, Slot
from .printing import describe
from .records import check_slot, corrupt_slot, parent_names_from, roots_from

_MISSING = object()
LOBBY_ROOTS = ("lobby", "traits", "genesis", "learner", "cLibrary")
_SCALARS = (int, float, str, bytes, bool, type(None))
#: Values whose printString genesis answers by describing them (intrinsics.py's flags).
_PLAIN_PRINT = {int: "PRINT_number", float: "PRINT_number", str: "PRINT_string",
                type(None): "PRINT_nil"}


class World(Dispatcher):
    """Objects of one image, seen through one transaction."""

    def __init__(self, txn, *, roots: dict[str, int] | None = None) -> None:
        self.txn = txn
        self._cached: list[ProtoObject] = []
        self.options: dict = {}  # per command: e.g. {"learn": True, "model": PATH}
        self.objects: dict[int, ProtoObject] = {}
        self._compiled: dict = {}
        self._env: dict | None = None
        self._names: dict[int, str | None] = {}
        if roots is None:
            roots = roots_from(txn.get_meta(L.K_ROOTS))
        self.roots = roots
        self._behaviours: dict = {}
        self._by_type: dict = {}  # a value's type -> its traits object (bool aside)
        self._revived: dict = {}  # id(StoredBlock) -> (it, its live Block), blocks.revive
        self._compiled_env: dict | None = None  # globals of compiled code (evaluator.py)
        self._guards = None  # its inline paths' flags (intrinsics.Guards)

    # -- identity
    def object(self, oid: int) -> ProtoObject:
        obj = self.objects.get(oid)
        if obj is None:
            obj = self.objects[oid] = ProtoObject(oid, self)
        return obj

    def root(self, name: str) -> ProtoObject:
        try:
            return self.object(self.roots[name])
        except KeyError:
            raise ImageError(f"the image has no root {name!r} (its roots record is "
                             "incomplete; `proto verify` lists every problem)") from None

    @property
    def lobby(self) -> ProtoObject:
        return self.object(self.roots["lobby"])

    def exists(self, obj: ProtoObject) -> bool:
        return self.txn.get(L.object_key(obj.oid)) is not None

    def behaviour(self, value: object) -> ProtoObject:
        """The traits object that answers messages for a non-object value."""
        if value is True:
            key = "true"
        elif value is False:
            key = "false"
        else:
            key = _TRAITS_OF.get(type(value)) or _late_traits(type(value))
        obj = self._behaviours.get(key)
        if obj is None:
            if key not in self.roots and key == "set":  # an image made before sets
                key = "object"
            obj = self._behaviours[key] = self.root(key)
        if type(value) is not bool:  # True and False answer differently; one type
            self._by_type[type(value)] = obj
        return obj

    # -- reading slots
    def slot(self, obj: ProtoObject, name: str) -> Slot | None:
        found = obj._slots.get(name, _MISSING)
        if found is _MISSING:
            if not name:  # the key of the object's header record, never a slot
                return None
            record = self.txn.get(L.slot_key(obj.oid, name))
            found = None if record is None else self._decode_slot(record, obj, name)
            obj._slots[name] = found
        return found

    def _decode_slot(self, record: bytes, obj: ProtoObject, name: str) -> Slot:
        if not record:
            raise corrupt_slot(obj.oid, name, "an empty record")
        kind = chr(record[0])
        if kind not in L.KINDS:
            raise corrupt_slot(obj.oid, name, f"unknown slot kind {kind!r}")
        try:
            value, end = decode_prefix(record, self.object, 1)
            meta = decode(record, None, end) if end < len(record) else None
        except DecodeError as exc:
            raise corrupt_slot(obj.oid, name, str(exc)) from None
        check_slot(obj.oid, name, kind, value)
        return Slot(kind, value, meta)

    def slots(self, obj: ProtoObject) -> list[tuple[str, Slot]]:
        """All slots of an object in name order (one range read; fills the slot cache)."""
        out = []
        for key, record in self.txn.object_range(obj.oid):
            name = L.slot_name(key)
            if not name:
                continue
            slot = obj._slots.get(name)
            if slot is None:
                slot = obj._slots[name] = self._decode_slot(record, obj, name)
            out.append((name, slot))
        return out

    def parent_names(self, obj: ProtoObject) -> tuple:
        if obj._parents is None:
            obj._parents = parent_names_from(self.txn.get(L.object_key(obj.oid)), obj.oid)
        return obj._parents

    def parents(self, obj: ProtoObject) -> list[ProtoObject]:
        out = []
        for name in self.parent_names(obj):
            slot = self.slot(obj, name)
            if slot is not None and slot.kind == PARENT and type(slot.value) is ProtoObject:
                out.append(slot.value)
        return out

    # -- changing slots
    def new_object(self) -> ProtoObject:
        obj = self.object(self.txn.next_oid())
        obj._parents = ()
        self.txn.put(L.object_key(obj.oid), encode({"parents": ()}))
        return obj

    def put_slot(
        self, obj: ProtoObject, name: str, value: object, kind: str = DATA, meta: object = None
    ) -> None:
        """Add or replace a slot of `obj` (Self's _AddSlots: for one slot)."""
        if type(obj) is not ProtoObject:
            raise SlotError(f"{self.describe(obj)} is not an object and has no slots")
        check_slot_name(name, kind)
        if kind == PARENT and type(value) is not ProtoObject:
            raise SlotError(f"parent slot {name}* must hold an object, not {self.describe(value)}")
        if kind == METHOD and type(value) is not str:
            raise SlotError(f"method slot {name} must hold source text")
        live = None
        try:
            record = kind.encode() + encode(value, _ref_of)
        except EncodeError:
            # a block: kept as its source and captured values
            live = value if type(value) is _Block else None
            value = storable(value)
            try:
                record = kind.encode() + encode(value, _ref_of)
            except EncodeError as again:
                raise SlotError(f"cannot store in slot {name}: {again}") from None
        try:
            if meta is not None:
                record += encode(meta, _ref_of)
        except EncodeError as exc:
            raise SlotError(f"cannot store in slot {name}: {exc}") from None
        if live is not None:
            value = live  # the rest of this command sees the live block, over live variables
        elif type(value) not in _SCALARS and type(value) is not ProtoObject:
            value = decode_prefix(record, self.object, 1)[0]  # freeze lists and maps
        old = self._replaced(obj, name)
        self.txn.put(L.slot_key(obj.oid, name), record)
        if old is not None and old.kind == kind and kind in (DATA, CONSTANT):
            old.value = value
            old.meta = meta
        else:
            obj._slots[name] = Slot(kind, value, meta)
            self.flush_caches()
        was_parent = old is not None and old.kind == PARENT
        if (kind == PARENT) != was_parent:
            names = [n for n in self.parent_names(obj) if n != name]
            if kind == PARENT:
                names.append(name)
            self._write_parents(obj, names)

    def set_slot(self, obj: ProtoObject, name: str, value: object, assignment: bool = False):
        """Change the value of an existing data or parent slot."""
        slot = self.slot(obj, name) if type(obj) is ProtoObject else None
        if slot is None:
            raise SlotError(
                f"{self.describe(obj)} has no slot {name} (addSlot:value: adds one)"
            )
        if slot.kind not in (DATA, PARENT) and not (slot.kind == CONSTANT and not assignment):
            raise SlotError(f"slot {name} of {self.describe(obj)} is a {L.KINDS[slot.kind]} slot")
        self.put_slot(obj, name, value, slot.kind, slot.meta)

    def remove_slot(self, obj: ProtoObject, name: str) -> None:
        slot = self._replaced(obj, name) if type(obj) is ProtoObject else None
        if slot is None:
            raise SlotError(f"{self.describe(obj)} has no slot {name}")
        self.txn.delete(L.slot_key(obj.oid, name))
        obj._slots[name] = None
        self.flush_caches()
        if slot.kind == PARENT:
            self._write_parents(obj, [n for n in self.parent_names(obj) if n != name])

    def _replaced(self, obj: ProtoObject, name: str) -> Slot | None:
        """The slot a change replaces or removes. A corrupt one stands in by its kind byte
        alone (it was never cached), so defining or removing the slot repairs it."""
        try:
            return self.slot(obj, name)
        except DecodeError:
            record = self.txn.get(L.slot_key(obj.oid, name))
            return Slot(chr(record[0]) if record else "", None)

    def _write_parents(self, obj: ProtoObject, names: list[str]) -> None:
        obj._parents = tuple(names)
        self.txn.put(L.object_key(obj.oid), encode({"parents": obj._parents}))
        self.flush_caches()

    def clone(self, obj: object) -> object:
        """A shallow copy with a new identity (values are immutable, so that is enough)."""
        if type(obj) is not ProtoObject:
            return obj
        records = list(self.txn.object_range(obj.oid))
        if not records:
            raise SlotError(f"object #{obj.oid} does not exist in this image")
        new = self.object(self.txn.next_oid())
        prefix = L.object_key(new.oid)
        for key, record in records:
            self.txn.put(prefix + key[L.OID_BYTES :], record)
        return new

    # -- names and printing (never runs image code)
    def name_of(self, obj: ProtoObject) -> str | None:
        """The lobby name bound to `obj`, if any (for people, not for identity)."""
        if obj.oid in self._names:
            return self._names[obj.oid]
        if not self._names:
            for root, oid in self.roots.items():
                self._names[oid] = root if root in LOBBY_ROOTS else f"traits {root}"
            if obj.oid in self._names:
                return self._names[obj.oid]
        wanted = encode(obj, _ref_of)
        name = None
        for key, record in self.txn.object_range(self.roots["lobby"]):
            if record[1:] == wanted and chr(record[0]) in (DATA, CONSTANT):
                name = L.slot_name(key)
                if name != "lobby" or obj.oid == self.roots["lobby"]:
                    break
        self._names[obj.oid] = name
        return name

    def call_block(self, block, *args, arity: bool = False):
        """Run a block (live, or revived from a slot) with args; or its argument count."""
        if type(block) is _Block and not arity:  # the hot path: a loop's body
            return block(*args)
        live = block if type(block) is _Block else revive(self, block)
        return len(live.params) if arity else live(*args)

    def describe(self, value: object) -> str:
        return describe(value, self.name_of)

    def print_string(self, value: object) -> str:
        """The receiver's own printString (a send: image code may override it). For a
        number, string, nil or boolean whose printString is still genesis's, that is its
        description: no method is compiled to say so (start-up)."""
        kind = type(value)
        flag = _PLAIN_PRINT.get(kind) if kind is not bool else \
            ("PRINT_true" if value else "PRINT_false")
        if flag is not None and not (kind is int and value.bit_length() > 350_000):
            from .evaluator import compiled_env

            compiled_env(self)
            if self._guards.check(flag):
                return describe(value, self.name_of)
        text = self.send(value, "printString")
        return text if type(text) is str else describe(text, self.name_of)

    # -- methods
    def compiled(self, holder: ProtoObject, selector: str, slot: Slot):
        key = (holder.oid, selector)
        hit = self._compiled.get(key)
        if hit is not None and hit[0] is slot.value:
            return hit[1]
        from .methods import compile_method, confined_method, runs_confined

        if runs_confined(slot.meta):
            fn = confined_method(self, holder, selector, slot.value,
                                 self._where(holder, selector), slot.meta)
        else:
            fn = compile_method(self, holder, selector, slot.value)
        self._compiled[key] = (slot.value, fn)
        return fn


def _ref_of(value: object) -> int | None:
    return value.oid if type(value) is ProtoObject else None


MAX_NAME_BYTES = 400  # LMDB keys hold 511 bytes: the object id and the name


def check_slot_name(name: str, kind: str) -> None:
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise UsageError(f"{name[:40]!r}... is too long for a slot name (at most "
                         f"{MAX_NAME_BYTES} bytes)")
    if kind == METHOD:
        if not is_valid_selector(name):
            raise UsageError(f"{name!r} is not a valid selector")
    elif not is_valid_selector(name) or ":" in name or not (name[0].isalpha() or name[0] == "_"):
        raise UsageError(f"{name!r} is not a valid slot name")


def _traits_table() -> dict:
    return {
        int: "number",
        float: "number",
        str: "string",
        bytes: "bytes",
        tuple: "list",
        list: "list",
        MappingProxyType: "map",
        dict: "map",
        type(None): "nil",
        Message: "message",
        _Block: "block",
    }


_TRAITS_OF = _traits_table()


def _late_traits(t: type) -> str:
    """The traits of a value kind imported only when met (fractions, sets, stored
    blocks: see image_format/values.py), remembered once seen."""
    key = {("fractions", "Fraction"): "number", ("image_format.values", "ProtoSet"): "set",
           ("image_format.values", "StoredBlock"): "block"}.get((t.__module__, t.__name__),
                                                                "object")
    _TRAITS_OF[t] = key
    return key
