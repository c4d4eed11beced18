"""Genesis methods for the messages a SOM user sends that Pharo spells another way or
lacks (`length`, `charAt:`, `contains:`, `doIndexes:`, `%`, `&&`, `,` on any object)
and the lobby's `Integer`, `Float` (also `Double`) for `fromString:` and constants.

Where SOM and Pharo give the same message different meanings, the Pharo meaning is
kept elsewhere and not redefined here (README: the deliberate differences). Indices
run from 0 here as everywhere in proto. Like genesis_methods.py, these functions are
never called from here: their source is copied into method slots of a new image.
"""
# ruff: noqa: F821  (send, describe, ProtoSet are method-time names)

from __future__ import annotations

from .genesis_methods import on


# -- lists -----------------------------------------------------------------------------
@on("list", "length")
def list_length(self):
    return len(self)


@on("list", "contains:")
def list_contains(self, item):
    return send(self, "includes:", item)


@on("list", "doIndexes:")
def list_do_indexes(self, block):
    # each index, from 0
    for index in range(len(self)):
        send(block, "value:", index)
    return self


@on("list", "from:to:do:")
def list_from_to_do(self, start, stop, block):
    # indices from 0, both ends included
    if type(start) is not int or type(stop) is not int:
        raise ProtoError(f"from: {describe(start)[:30]} to: {describe(stop)[:30]} do:: indices "
                         "are integers")
    if start <= stop and not (start >= 0 and stop < len(self)):
        raise ProtoError(f"{describe(self)[:60]} from: {start} to: {stop} do:: index out of "
                         f"bounds (0..{len(self) - 1})")
    for index in range(start, stop + 1):
        send(block, "value:", self[index])
    return self


@on("list", "putAll:")
def list_put_all(self, value):
    # every element becomes `value value` (a block is run once for each), as SOM's putAll:
    for index in range(len(self)):
        send(self, "at:put:", index, send(value, "value"))
    return self


@on("list", "average")
def list_average(self):
    if not self:
        raise ProtoError(f"{describe(self)[:60]} average: the list is empty")
    return send(send(self, "sum"), "/", len(self))


@on("list", "copyFrom:")
def list_copy_from(self, start):
    if type(start) is not int:
        raise ProtoError(f"copyFrom: {describe(start)[:60]}: an index is an integer")
    if not 0 <= start <= len(self):
        raise ProtoError(f"{describe(self)[:60]} copyFrom: {start}: index out of bounds "
                         f"(0..{len(self) - 1})")
    return list(self[start:])


@on("list", "extendedWith:")
def list_extended_with(self, item):
    return [*self, item]


@on("list", "prependedWith:")
def list_prepended_with(self, item):
    return [item, *self]


@on("list", "lastIndexOf:")
def list_last_index_of(self, item):
    # from 0; -1 when absent
    for index in range(len(self) - 1, -1, -1):
        if send(self[index], "=", item) is True:
            return index
    return -1


@on("list", "union:")
def list_union(self, other):
    out = ProtoSet()
    send(out, "addAll:", self)
    send(out, "addAll:", other)
    return out


@on("list", "join:")
def list_join(self, joiner):
    # nil for an empty list; else each element joined by `+` with the joiner, as SOM does
    result = None
    for index, item in enumerate(self):
        result = item if index == 0 else send(send(result, "+", joiner), "+", item)
    return result


@on("list", "replaceFrom:to:with:startingAt:")
def list_replace_from(self, start, stop, other, from_index):
    if type(start) is not int or type(stop) is not int or type(from_index) is not int:
        raise ProtoError("replaceFrom:to:with:startingAt:: indices are integers")
    if type(other) not in (tuple, list):
        raise ProtoError(f"replaceFrom:to:with: {describe(other)[:60]} startingAt:: the "
                         "argument is not a list")
    count = stop - start + 1
    if count < 0 or start < 0 or stop >= len(self) or from_index < 0 \
            or from_index + count > len(other):
        raise ProtoError(f"replaceFrom: {start} to: {stop} with: ... startingAt: {from_index}:"
                         f" index out of bounds (0..{len(self) - 1})")
    for offset in range(count):
        send(self, "at:put:", start + offset, other[from_index + offset])
    return self


@on("list", "appendAll:")
def list_append_all(self, items):
    return send(self, "addAll:", items)


@on("list", "remove")
def list_remove_last_one(self):
    return send(self, "removeLast")


@on("list", "capacity")
def list_capacity(self):
    return len(self)


# -- maps and sets ----------------------------------------------------------------------
@on("map", "containsKey:")
def map_contains_key(self, key):
    return send(self, "includesKey:", key)


@on("set", "contains:")
def set_contains(self, item):
    return item in self


@on("set", "-")
def set_minus(self, other):
    return ProtoSet(item for item in self if send(other, "includes:", item) is not True)


@on("set", "first")
def set_first(self):
    for item in self:
        return item
    raise ProtoError(f"{describe(self)[:60]} first: the set is empty")


# -- any object ----------------------------------------------------------------------------
@on("object", ",")
def object_comma(self, item):
    # a new list of the two, as SOM's `1, 2, 3` makes a Vector
    return [self, item]


@on("object", "<>")
def object_not_equal_som(self, other):
    return send(self, "~=", other)


# -- numbers --------------------------------------------------------------------------------
@on("number", "%")
def number_modulo_som(self, other):
    # SOM's %: the floored modulo for integers (as \\), C's fmod for floats
    if type(self) is float or type(other) is float:
        if type(other) not in (int, float) and not is_fraction(other):
            raise ProtoError(f"{describe(self)[:60]} % {describe(other)[:60]}: the argument is "
                             "not a number")
        if other == 0:
            raise ProtoError(f"{describe(self)[:60]} % 0: division by zero")
        import math

        return math.fmod(self, other)
    return send(self, "\\\\", other)


@on("number", "&")
def number_and_bits(self, other):
    return send(self, "bitAnd:", other)


@on("number", "|")
def number_or_bits(self, other):
    return send(self, "bitOr:", other)


@on("number", ">>>")
def number_unsigned_shift(self, count):
    # a logical shift of the integer's 64-bit two's complement form, as SOM's >>>
    if type(self) is not int or type(count) is not int or count < 0:
        raise ProtoError(f"{describe(self)[:60]} >>> {describe(count)[:60]}: an integer "
                         "shifted by an integer >= 0")
    return (self & 0xFFFF_FFFF_FFFF_FFFF) >> count


@on("number", "as32BitUnsignedValue")
def number_as_32_unsigned(self):
    if type(self) is not int:
        raise ProtoError(f"{describe(self)[:60]} as32BitUnsignedValue: not an integer")
    return self & 0xFFFF_FFFF


@on("number", "as32BitSignedValue")
def number_as_32_signed(self):
    if type(self) is not int:
        raise ProtoError(f"{describe(self)[:60]} as32BitSignedValue: not an integer")
    low = self & 0xFFFF_FFFF
    return low - (1 << 32) if low >= 1 << 31 else low


@on("number", "asDouble")
def number_as_double(self):
    return send(self, "asFloat")


@on("number", "round")
def number_round(self):
    return send(self, "rounded")


@on("number", "hashcode")
def number_hashcode(self):
    return send(self, "hash")


# -- booleans -------------------------------------------------------------------------------
@on("true", "&&")
def true_and_and(self, other):
    return send(other, "value")


@on("false", "&&")
def false_and_and(self, other):
    return False


@on("true", "||")
def true_or_or(self, other):
    return True


@on("false", "||")
def false_or_or(self, other):
    return send(other, "value")


# -- strings ---------------------------------------------------------------------------------
@on("string", "length")
def string_length(self):
    return len(self)


@on("string", "+")
def string_plus(self, other):
    # SOM's concatenation: the argument's text (a string, or what asString answers)
    if type(other) is not str:
        other = send(other, "asString")
        if type(other) is not str:
            raise ProtoError(f"{describe(self)[:60]} + ...: the argument has no text")
    return self + other


@on("string", "charAt:")
def string_char_at(self, index):
    return send(self, "at:", index)


@on("string", "primSubstringFrom:to:")
def string_prim_substring(self, start, stop):
    return send(self, "copyFrom:to:", start, stop)


@on("string", "substringFrom:to:")
def string_substring(self, start, stop):
    return send(self, "copyFrom:to:", start, stop)


@on("string", "isDigits")
def string_is_digits(self):
    return len(self) > 0 and all("0" <= c <= "9" for c in self)


@on("string", "isLetters")
def string_is_letters(self):
    return len(self) > 0 and self.isalpha()


@on("string", "isWhiteSpace")
def string_is_white_space(self):
    return len(self) > 0 and all(c in " \t\n\r\f\v" for c in self)


@on("string", "hashcode")
def string_hashcode(self):
    return send(self, "hash")


@on("string", "indexOf:startingAt:")
def string_index_of_starting_at(self, text, start):
    # from 0; -1 when absent
    if type(text) is not str or type(start) is not int:
        raise ProtoError(f"indexOf: {describe(text)[:40]} startingAt: {describe(start)[:20]}: "
                         "a string and an index")
    if not 0 <= start <= len(self):
        raise ProtoError(f"{describe(self)[:60]} indexOf:startingAt: {start}: index out of "
                         f"bounds (0..{len(self) - 1})")
    return self.find(text, start) if text else -1


@on("string", "split:")
def string_split(self, separator):
    # every piece, the empty ones between two separators too (substrings: drops those)
    if type(separator) is not str or not separator:
        raise ProtoError(f"split: {describe(separator)[:60]}: the separator is a non-empty "
                         "string")
    return list(self.split(separator))


# -- lobby Integer and Float (Double) ---------------------------------------------------------
@on("Integer", "fromString:")
def integer_from_string(self, text):
    if type(text) is not str:
        raise ProtoError(f"Integer fromString: {describe(text)[:60]}: the argument is not a "
                         "string")
    return send(text, "asInteger")


@on("Float", "fromString:")
def float_from_string(self, text):
    if type(text) is not str:
        raise ProtoError(f"Float fromString: {describe(text)[:60]}: the argument is not a "
                         "string")
    return send(send(text, "asNumber"), "asFloat")


@on("Float", "infinity")
def float_infinity(self):
    return float("inf")


@on("Float", "PositiveInfinity")
def float_positive_infinity(self):
    return float("inf")


@on("Float", "nan")
def float_nan(self):
    return float("nan")


@on("Float", "pi")
def float_pi(self):
    return 3.141592653589793


@on("Float", "e")
def float_e(self):
    return 2.718281828459045


# -- lobby Character: characters are one-character strings ------------------------------
@on("Character", "value:")
def character_value(self, code):
    if type(code) is not int or not 0 <= code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ProtoError(f"Character value: {describe(code)[:60]}: a code point is an integer "
                         "from 0 to 1114111, not a surrogate (55296 to 57343)")
    return chr(code)


@on("number", "asCharacter")
def number_as_character(self):
    return send(lobby.send("Character"), "value:", self)


@on("string", "charCode")
def string_char_code(self):
    # a character is a one-character string: its code point (Pharo's asInteger of $a)
    if len(self) != 1:
        raise ProtoError(f"{describe(self)[:60]} charCode: not one character")
    return ord(self)


@on("string", "codePoint")
def string_code_point(self):
    return send(self, "charCode")


@on("Character", "cr")
def character_cr(self):
    return "\r"


@on("Character", "lf")
def character_lf(self):
    return "\n"


@on("Character", "tab")
def character_tab(self):
    return "\t"


@on("Character", "space")
def character_space(self):
    return " "


@on("Character", "backspace")
def character_backspace(self):
    return "\b"


@on("Character", "newPage")
def character_new_page(self):
    return "\f"


@on("Character", "null")
def character_null(self):
    return "\0"
