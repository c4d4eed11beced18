"""Message sending: delegation lookup, its cache, resend, and doesNotUnderstand:.

Lookup visits the receiver's own slots, then its parents depth-first in slot
order, each object at most once (so parent cycles end the search instead of
looping). `self` stays the original receiver throughout.

The cache lives on the object where lookup starts (the receiver, or the traits
object behind a number, string...) and maps a selector to what was found. All
caches are flushed whenever a slot is added or removed, a parent changes, or a
method is redefined: anything that could change what a lookup finds. (Those
are rare next to sends, so the hot path checks nothing but the cache itself.)
Changing a data slot's value flushes nothing, because the cache holds the slot
itself and reads its value at send time.
"""

from __future__ import annotations

from ..errors import MessageNotUnderstood, ProtoError, UsageError
from .message import Message, selector_arity
from .objects import ASSIGNABLE, METHOD, ProtoObject


class Dispatcher:
    """The send machinery of a World (mixed in; kept apart because it is the hot path)."""

    _cached: list
    _by_type: dict
    _guards: object

    def send(self, receiver: object, selector: str, args: tuple = ()) -> object:
        kind = type(receiver)
        if kind is ProtoObject:
            start = receiver
        else:
            start = self._by_type.get(kind) or self.behaviour(receiver)
        entry = start._cache.get(selector)
        if entry is None:
            entry = self._fill(start, selector)
            if entry is None:
                return self._not_understood(receiver, selector, args)
        try:
            return entry[0](receiver, *args)
        except ProtoError:
            raise
        except Exception as exc:
            if len(args) != entry[1]:
                raise self._arity_error(selector, entry[1], args) from None
            if not hasattr(exc, "proto_where"):
                exc.proto_where = self._where(entry[2], selector)
            raise
        except SystemExit as exc:  # a method may not end the command (nor fake success)
            raise ProtoError(f"{self._where(entry[2], selector)} tried to exit the process "
                             f"(exit status {exc.code!r})") from None

    def flush_caches(self) -> None:
        """Forget every lookup result: something that lookups depend on changed."""
        for obj in self._cached:
            obj._cache.clear()
        self._cached.clear()
        if self._guards is not None:  # compiled code's inline paths check again
            self._guards.stale()

    @staticmethod
    def _arity_error(selector: str, arity: int, args: tuple) -> UsageError:
        return UsageError(f"{selector} takes {arity} argument(s), {len(args)} given")

    def _where(self, holder: ProtoObject, selector: str) -> str:
        try:
            return f"method {selector} of {self.describe(holder)}"
        except Exception:
            return f"method {selector} of object #{holder.oid}"

    def _fill(self, start: ProtoObject, selector: str):
        found = self.find(start, selector, set())
        if found is None:
            return None
        entry = self._entry(selector, *found)
        if not start._cache:
            self._cached.append(start)
        start._cache[selector] = entry
        return entry

    def _entry(self, selector: str, holder: ProtoObject, slot, assigning: bool) -> tuple:
        """What a lookup found, as (callable, arity, holder): a send just calls it."""
        if assigning:
            return self._assigner(holder, selector[:-1]), 1, holder
        if slot.kind == METHOD:
            return self.compiled(holder, selector, slot), selector_arity(selector), holder
        return _reader(slot), 0, holder

    def ancestry(self, start: ProtoObject, visited: set):
        """The object and its ancestors, depth-first in parent order, each once."""
        stack = [start]
        while stack:
            obj = stack.pop()
            if obj.oid in visited:
                continue
            visited.add(obj.oid)
            yield obj
            stack.extend(reversed(self.parents(obj)))

    def _assigner(self, holder: ProtoObject, name: str):
        set_slot = self.set_slot

        def assign(receiver, value):
            set_slot(holder, name, value, assignment=True)
            return receiver

        return assign

    def find(self, start: ProtoObject, selector: str, visited: set):
        """(holder, slot, is_assignment) for `selector`, depth-first; None on a miss."""
        assign_name = None
        if selector.endswith(":") and selector.count(":") == 1:
            assign_name = selector[:-1]
        for obj in self.ancestry(start, visited):
            slot = self.slot(obj, selector)
            if slot is not None:
                return obj, slot, False
            if assign_name is not None:
                slot = self.slot(obj, assign_name)
                if slot is not None and slot.kind in ASSIGNABLE:
                    return obj, slot, True
        return None

    def resend(self, holder: ProtoObject, receiver: object, selector: str, args: tuple):
        """Self's resend: look `selector` up in the parents of the method's holder."""
        visited = {holder.oid}
        for parent in self.parents(holder):
            found = self.find(parent, selector, visited)
            if found is not None:
                return self._entry(selector, *found)[0](receiver, *args)
        return self._not_understood(receiver, selector, args)

    def _not_understood(self, receiver: object, selector: str, args: tuple):
        if selector == "doesNotUnderstand:" and args and type(args[0]) is Message:
            raise self.not_understood(args[0])
        return self.send(receiver, "doesNotUnderstand:", (Message(receiver, selector, args),))

    def not_understood(self, message: Message) -> MessageNotUnderstood:
        """The error the default doesNotUnderstand: raises, with near misses."""
        from difflib import get_close_matches

        known = self.selectors_of(message.receiver)
        near = get_close_matches(message.selector, sorted(known), n=3, cutoff=0.6)
        return MessageNotUnderstood(message, self.describe(message.receiver), near)

    def selectors_of(self, receiver: object) -> set[str]:
        """Every selector the receiver answers, own or inherited (for hints)."""
        start = receiver if type(receiver) is ProtoObject else self.behaviour(receiver)
        names: set[str] = set()
        for obj in self.ancestry(start, set()):
            for name, slot in self.slots(obj):
                names.add(name)
                if slot.kind in ASSIGNABLE:
                    names.add(name + ":")
        return names


def _reader(slot):
    def read(receiver):
        return slot.value

    return read
