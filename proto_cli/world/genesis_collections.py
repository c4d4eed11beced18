"""Genesis methods of collections that change in place, and the lobby objects that
make them: `Array new: 5`, `Vector new`, `Dictionary new`, `Set new`.

A collection made in eval (by these, by `{...}` or by `copy`) lives in memory and
changes in place, as in Smalltalk. A literal (`#(1 2)`) and a value read from a slot
are immutable: an image is a database of values, and a slot changes only by an
explicit, transactional `setSlot:value:`; storing a collection stores a copy.
Like genesis_methods.py, these functions are never called from here: their source
is copied into method slots of a new image.
"""
# ruff: noqa: F821  (send, describe, freeze, ProtoSet are method-time names)

from __future__ import annotations

from .genesis_methods import on


# -- lobby Array, Vector: lists that change ---------------------------------------
@on("Array", "new")
def array_new(self):
    return []


@on("Array", "new:")
def array_new_size(self, size):
    if type(size) is not int or size < 0:
        raise ProtoError(f"Array new: {describe(size)[:60]}: a size is an integer >= 0")
    if size > 10_000_000:
        raise ProtoError(f"Array new: {size}: too large (at most 10,000,000 elements)")
    return [None] * size


@on("Array", "new:withAll:")
def array_new_with_all(self, size, value):
    if type(size) is not int or size < 0:
        raise ProtoError(f"Array new: {describe(size)[:60]} withAll:: a size is an integer >= 0")
    if size > 10_000_000:
        raise ProtoError(f"Array new: {size} withAll:: too large (at most 10,000,000 elements)")
    # each element is `value value`: a block is run once for each, as SOM's new:withAll:
    # (any other value answers itself to `value`)
    return [send(value, "value") for _ in range(size)]


@on("Array", "with:")
def array_with(self, a):
    return [a]


@on("Array", "with:with:")
def array_with_with(self, a, b):
    return [a, b]


@on("Array", "with:with:with:")
def array_with_3(self, a, b, c):
    return [a, b, c]


@on("Array", "withAll:")
def array_with_all(self, items):
    if type(items) not in (tuple, list) and type(items).__name__ != "ProtoSet":
        raise ProtoError(f"withAll: {describe(items)[:60]}: the argument is not a collection")
    return list(items)


@on("Vector", "new")
def vector_new(self):
    return []


@on("Vector", "new:")
def vector_new_capacity(self, capacity):
    # a growable list starts empty whatever its capacity, as SOM's Vector new: does
    if type(capacity) is not int or capacity < 0:
        raise ProtoError(f"Vector new: {describe(capacity)[:60]}: a capacity is an integer "
                         ">= 0")
    return []


@on("Vector", "with:")
def vector_with(self, a):
    return [a]


@on("Vector", "withAll:")
def vector_with_all(self, items):
    if type(items) not in (tuple, list) and type(items).__name__ != "ProtoSet":
        raise ProtoError(f"withAll: {describe(items)[:60]}: the argument is not a collection")
    return list(items)


# -- traits list: changing a list in place ----------------------------------------
@on("list", "at:put:")
def list_at_put(self, index, value):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} at: {describe(index)[:20]} put:: a literal "
                         "or stored list cannot change (`copy` answers one that can)")
    if type(index) is not int:
        raise ProtoError(f"{describe(self)[:60]} at: {describe(index)[:60]} put:: an index is "
                         "an integer")
    if not 0 <= index < len(self):
        raise ProtoError(f"{describe(self)[:60]} at: {index} put:: index out of bounds "
                         f"(0..{len(self) - 1})" if self else
                         f"{describe(self)[:60]} at: {index} put:: it is empty")
    self[index] = value
    return value


@on("list", "copy")
def list_copy(self):
    return list(self)


@on("list", "add:")
def list_add(self, item):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} add:: a literal or stored list cannot grow "
                         "(`copy` answers one that can)")
    self.append(item)
    return item


@on("list", "append:")
def list_append(self, item):
    return send(self, "add:", item)


@on("list", "addLast:")
def list_add_last(self, item):
    return send(self, "add:", item)


@on("list", "addFirst:")
def list_add_first(self, item):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} addFirst:: a literal or stored list cannot "
                         "grow (`copy` answers one that can)")
    self.insert(0, item)
    return item


@on("list", "addAll:")
def list_add_all(self, items):
    if type(items) not in (tuple, list) and type(items).__name__ != "ProtoSet":
        raise ProtoError(f"addAll: {describe(items)[:60]}: the argument is not a collection")
    for item in tuple(items):
        send(self, "add:", item)
    return items


@on("list", "removeFirst")
def list_remove_first(self):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} removeFirst: a literal or stored list cannot "
                         "change (`copy` answers one that can)")
    if not self:
        raise ProtoError("removeFirst: the list is empty")
    return self.pop(0)


@on("list", "removeLast")
def list_remove_last(self):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} removeLast: a literal or stored list cannot "
                         "change (`copy` answers one that can)")
    if not self:
        raise ProtoError("removeLast: the list is empty")
    return self.pop()


@on("list", "remove:ifAbsent:")
def list_remove_if_absent(self, item, block):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} remove:: a literal or stored list cannot "
                         "change (`copy` answers one that can)")
    for index, x in enumerate(self):
        if send(x, "=", item) is True:
            del self[index]
            return x
    return send(block, "value")


@on("list", "remove:")
def list_remove(self, item):
    # ABSENT answers itself to `value`, as any value does: found or not in one pass
    found = send(self, "remove:ifAbsent:", item, ABSENT)
    if found is ABSENT:
        raise ProtoError(f"{describe(self)[:60]} remove: {describe(item)[:60]}: not found")
    return found


@on("list", "removeAll")
def list_remove_all(self):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} removeAll: a literal or stored list cannot "
                         "change (`copy` answers one that can)")
    self.clear()
    return self


@on("list", "atAllPut:")
def list_at_all_put(self, value):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} atAllPut:: a literal or stored list cannot "
                         "change (`copy` answers one that can)")
    self[:] = [value] * len(self)
    return self


@on("list", "sort")
def list_sort_in_place(self):
    return send(self, "sort:", None)


@on("list", "asSet")
def list_as_set(self):
    return ProtoSet(self)


@on("list", "asArray")
def list_as_array(self):
    return list(self)


@on("list", "isArray")
def list_is_array(self):
    return True


# -- lobby Dictionary; traits map: changing a map in place -------------------------
@on("Dictionary", "new")
def dictionary_new(self):
    return {}


@on("Dictionary", "new:")
def dictionary_new_capacity(self, capacity):
    if type(capacity) is not int or capacity < 0:
        raise ProtoError(f"Dictionary new: {describe(capacity)[:60]}: a capacity is an "
                         "integer >= 0")
    return {}


@on("map", "at:put:")
def map_at_put(self, key, value):
    if type(self) is not dict:
        raise ProtoError(f"{describe(self)[:60]} at: {describe(key)[:20]} put:: a stored map "
                         "cannot change (`copy` answers one that can)")
    try:
        frozen = freeze(key)
        held = frozen in self
    except TypeError:
        raise ProtoError(f"at: {describe(key)[:60]} put:: a map cannot be a key") from None
    if held and find_key(self, frozen) is ABSENT:  # Python would take true for 1
        raise ProtoError(f"at: {describe(key)[:60]} put:: this map holds a key it cannot "
                         "keep apart from this one (true and 1, false and 0 share a place); "
                         "use another key")
    self[frozen] = value
    return value


@on("map", "copy")
def map_copy(self):
    return dict(self)


@on("map", "removeKey:ifAbsent:")
def map_remove_key_if_absent(self, key, block):
    if type(self) is not dict:
        raise ProtoError(f"{describe(self)[:60]} removeKey:: a stored map cannot change "
                         "(`copy` answers one that can)")
    found = find_key(self, key)
    return send(block, "value") if found is ABSENT else self.pop(found)


@on("map", "removeKey:")
def map_remove_key(self, key):
    if send(self, "includesKey:", key):
        return send(self, "removeKey:ifAbsent:", key, None)
    raise ProtoError(f"removeKey: {describe(key)[:60]}: key not found")


@on("map", "at:ifAbsentPut:")
def map_at_if_absent_put(self, key, block):
    if send(self, "includesKey:", key):
        return send(self, "at:", key)
    return send(self, "at:put:", key, send(block, "value"))


@on("map", "keysAndValuesDo:")
def map_keys_and_values_do(self, block):
    for key, value in tuple(self.items()):
        send(block, "value:value:", key, value)
    return self


@on("map", "keysDo:")
def map_keys_do(self, block):
    for key in tuple(self.keys()):
        send(block, "value:", key)
    return self


@on("map", "valuesDo:")
def map_values_do(self, block):
    for value in tuple(self.values()):
        send(block, "value:", value)
    return self


@on("map", "do:")
def map_do(self, block):
    return send(self, "valuesDo:", block)


@on("map", "isEmpty")
def map_is_empty(self):
    return len(self) == 0


@on("map", "notEmpty")
def map_not_empty(self):
    return len(self) > 0


@on("map", "includes:")
def map_includes(self, value):
    return any(send(v, "=", value) is True for v in self.values())


@on("map", "keyAtValue:")
def map_key_at_value(self, value):
    for key, v in self.items():
        if send(v, "=", value) is True:
            return key
    return None


@on("map", "=")
def map_equal(self, other):
    if type(other) not in (dict, type(type.__dict__)) or len(other) != len(self):
        return False
    return all(key in other and send(value, "=", other[key]) is True
               for key, value in self.items())


# -- lobby Set; traits set ---------------------------------------------------------
@on("Set", "new")
def set_new(self):
    return ProtoSet()


@on("Set", "new:")
def set_new_capacity(self, capacity):
    if type(capacity) is not int or capacity < 0:
        raise ProtoError(f"Set new: {describe(capacity)[:60]}: a capacity is an integer >= 0")
    return ProtoSet()


@on("Set", "withAll:")
def set_with_all(self, items):
    if type(items) not in (tuple, list) and type(items) is not ProtoSet:
        raise ProtoError(f"withAll: {describe(items)[:60]}: the argument is not a collection")
    try:
        return ProtoSet(items)
    except TypeError:
        raise ProtoError("withAll: a map cannot be a set element") from None


@on("set", "add:")
def set_add(self, item):
    if self.frozen:
        raise ProtoError(f"{describe(self)[:60]} add:: a stored set cannot change (`copy` "
                         "answers one that can)")
    try:
        self.add(item)
    except TypeError:
        raise ProtoError(f"add: {describe(item)[:60]}: a map cannot be a set element") from None
    return item


@on("set", "addAll:")
def set_add_all(self, items):
    if type(items) not in (tuple, list) and type(items) is not ProtoSet:
        raise ProtoError(f"addAll: {describe(items)[:60]}: the argument is not a collection")
    for item in tuple(items):
        send(self, "add:", item)
    return items


@on("set", "remove:ifAbsent:")
def set_remove_if_absent(self, item, block):
    if self.frozen:
        raise ProtoError(f"{describe(self)[:60]} remove:: a stored set cannot change (`copy` "
                         "answers one that can)")
    try:
        found = self.discard(item)
    except TypeError:
        found = False
    return item if found else send(block, "value")


@on("set", "remove:")
def set_remove(self, item):
    if item in self:
        return send(self, "remove:ifAbsent:", item, None)
    raise ProtoError(f"{describe(self)[:60]} remove: {describe(item)[:60]}: not found")


@on("set", "includes:")
def set_includes(self, item):
    return item in self


@on("set", "size")
def set_size(self):
    return len(self)


@on("set", "isEmpty")
def set_is_empty(self):
    return len(self) == 0


@on("set", "notEmpty")
def set_not_empty(self):
    return len(self) > 0


@on("set", "copy")
def set_copy(self):
    return ProtoSet(self)


@on("set", "do:")
def set_do(self, block):
    for item in self:
        send(block, "value:", item)
    return self


@on("set", "collect:")
def set_collect(self, block):
    out = ProtoSet()
    for item in self:
        out.add(send(block, "value:", item))
    return out


@on("set", "select:")
def set_select(self, block):
    return ProtoSet(item for item in self if send(block, "value:", item) is True)


@on("set", "reject:")
def set_reject(self, block):
    return ProtoSet(item for item in self if send(block, "value:", item) is False)


@on("set", "detect:ifNone:")
def set_detect_if_none(self, block, none):
    return send(tuple(self), "detect:ifNone:", block, none)


@on("set", "inject:into:")
def set_inject_into(self, initial, block):
    return send(tuple(self), "inject:into:", initial, block)


@on("set", "asArray")
def set_as_array(self):
    return list(self)


@on("set", "asSet")
def set_as_set(self):
    return ProtoSet(self)


@on("set", "=")
def set_equal(self, other):
    return type(other) is ProtoSet and self == other


@on("set", "union:")
def set_union(self, other):
    out = ProtoSet(self)
    send(out, "addAll:", other)
    return out


@on("set", "intersection:")
def set_intersection(self, other):
    return ProtoSet(item for item in self if send(other, "includes:", item) is True)
