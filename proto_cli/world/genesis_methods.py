"""The source of every method a new image starts with, grouped by traits object.

These functions are never called from here: `proto init` copies each one's
source text into a method slot of the image, where it can be inspected,
diffed and overridden like any user method. At run time a method sees the
names listed in methods.py (send, resend, reflect, describe, ...).
"""
# ruff: noqa: F821  (send, reflect, describe, not_understood are method-time names)

from __future__ import annotations

REGISTRY: dict[str, list[tuple[str, object]]] = {}


def on(traits: str, selector: str):
    def register(fn):
        REGISTRY.setdefault(traits, []).append((selector, fn))
        return fn

    return register


# -- traits object: what every value understands ---------------------------------
@on("object", "printString")
def print_string(self):
    if type(self) is int and self.bit_length() > 350_000:  # every digit, however many
        return send(self, "printString:", 10)
    return describe(self)


@on("object", "=")
def equal(self, other):
    return self is other or (type(self) is type(other) and self == other)


@on("object", "~=")
def not_equal(self, other):
    return not send(self, "=", other)


@on("object", "==")
def identical(self, other):
    # Objects are one object or not; a stored value (number, string, list) is immutable,
    # so its identity is its kind and value (as for Smalltalk's small integers).
    if type(self) is not type(other):
        return False
    if hasattr(self, "oid"):
        return self.oid == other.oid
    if type(self) in (list, dict) or getattr(self, "frozen", True) is False:
        return self is other  # a collection that can change is one object, as in Smalltalk
    if type(self) is tuple:  # item by item: #(1) is not #(true), though Python says equal
        return len(self) == len(other) and all(
            send(a, "==", b) is True for a, b in zip(self, other, strict=True))
    return self is other or self == other


@on("object", "~~")
def not_identical(self, other):
    return not send(self, "==", other)


@on("object", "hash")
def hash_value(self):
    # the same number in every process (Python's string hash changes with each one); equal
    # values hash alike (1 = 1.0, so both hash as 1)
    import zlib

    t = type(self)
    if self is None or t is bool:
        return {None: 0, True: 1, False: 2}[self]
    if t is int or t is float or is_fraction(self):
        return hash(self)  # Python's number hash is the same in every process: 1/2 = 0.5
    if t is str:
        return zlib.crc32(self.encode("utf-8", "surrogatepass"))
    if t is bytes:
        return zlib.crc32(self)
    if t in (tuple, list):
        h = len(self)
        for item in self:
            h = (h * 31 + send(item, "hash")) & 0x3FFF_FFFF
        return h
    if hasattr(self, "oid"):
        return self.oid
    if t in (dict, type(type.__dict__)):  # in any order, as = compares maps
        return sum(send(k, "hash") ^ send(v, "hash") for k, v in self.items()) & 0x3FFF_FFFF
    if type(self).__name__ == "ProtoSet":
        return sum(send(e, "hash") for e in self) & 0x3FFF_FFFF
    return len(describe(self))


@on("object", "value")
def value(self):
    return self


@on("object", "yourself")
def yourself(self):
    return self


@on("object", "isNil")
def is_nil(self):
    return False


@on("object", "notNil")
def not_nil(self):
    return True


@on("object", "ifNil:")
def if_nil(self, block):
    return self


@on("object", "ifNotNil:")
def if_not_nil(self, block):
    return send(block, "value:", self) if send(block, "numArgs") == 1 else send(block, "value")


@on("object", "ifNil:ifNotNil:")
def if_nil_if_not_nil(self, nil_block, block):
    return send(self, "ifNotNil:", block)


@on("object", "ifNotNil:ifNil:")
def if_not_nil_if_nil(self, block, nil_block):
    return send(self, "ifNotNil:", block)


@on("object", "isNumber")
def is_number(self):
    return type(self) in (int, float) or is_fraction(self)


@on("object", "isString")
def is_string(self):
    return type(self) is str


@on("object", "isInteger")
def is_integer(self):
    return type(self) is int


@on("object", "isFloat")
def is_float(self):
    return type(self) is float


@on("object", "asString")
def as_string(self):
    return send(self, "printString")


@on("object", "respondsTo:")
def responds_to(self, selector):
    if type(selector) is not str:
        raise ProtoError(f"respondsTo: {describe(selector)[:60]}: a selector is a string")
    return reflect(self).responds_to(selector)


@on("object", "perform:")
def perform(self, selector):
    if type(selector) is not str:
        raise ProtoError(f"perform: {describe(selector)[:60]}: a selector is a string")
    return send(self, selector)


@on("object", "perform:with:")
def perform_with(self, selector, argument):
    if type(selector) is not str:
        raise ProtoError(f"perform: {describe(selector)[:60]} with:: a selector is a string")
    return send(self, selector, argument)


@on("object", "perform:withArguments:")
def perform_with_arguments(self, selector, arguments):
    if type(selector) is not str or type(arguments) not in (tuple, list):
        raise ProtoError(f"perform: {describe(selector)[:60]} withArguments: "
                         f"{describe(arguments)[:60]}: a selector is a string, the arguments "
                         "a list")
    return send(self, selector, *arguments)


@on("object", "doesNotUnderstand:")
def does_not_understand(self, message):
    raise not_understood(message)


# -- traits clonable: objects with slots ------------------------------------------
@on("clonable", "clone")
def clone(self):
    return reflect(self).clone()


@on("clonable", "copy")
def copy(self):
    return reflect(self).clone()


@on("clonable", "addSlot:value:")
def add_slot_value(self, name, value):
    if type(name) is not str:
        raise ProtoError(f"addSlot: {describe(name)[:60]} value:: a slot name is a string")
    return reflect(self).add_slot(name, value)


@on("clonable", "setSlot:value:")
def set_slot_value(self, name, value):
    return reflect(self).set_slot(name, value)


@on("clonable", "removeSlot:")
def remove_slot(self, name):
    return reflect(self).remove_slot(name)


@on("clonable", "slotNames")
def slot_names(self):
    return reflect(self).slot_names()


@on("clonable", "define:as:")
def define_as(self, selector, source):
    return reflect(self).define(selector, source)


# -- traits number ----------------------------------------------------------------
@on("number", "+")
def plus(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} + {describe(other)[:60]}: "
                         "the argument is not a number")
    result = self + other
    return result if type(result) is int or type(result) is float else exact(result)


@on("number", "-")
def minus(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} - {describe(other)[:60]}: "
                         "the argument is not a number")
    result = self - other
    return result if type(result) is int or type(result) is float else exact(result)


@on("number", "*")
def times(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} * {describe(other)[:60]}: "
                         "the argument is not a number")
    result = self * other
    return result if type(result) is int or type(result) is float else exact(result)


@on("number", "/")
def divide(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} / {describe(other)[:60]}:"
                         " the argument is not a number")
    if other == 0:
        raise ProtoError(f"{describe(self)[:60]} / {describe(other)}: division by zero")
    if type(self) is int and type(other) is int:  # exact, as in Pharo: 4 / 3 is 4/3
        return fraction(self, other)
    return exact(self / other)


@on("number", "//")
def floor_divide(self, other):
    # the quotient rounded toward negative infinity, as in Smalltalk
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} // {describe(other)[:60]}: "
                         "the argument is not a number")
    if other == 0:
        raise ProtoError(f"{describe(self)[:60]} // {describe(other)}: division by zero")
    q = self // other
    if type(q) is float:  # an integer, as in Smalltalk (7.5 // 2 is 3)
        if q != q or q in (float("inf"), float("-inf")):
            raise ProtoError(f"{describe(self)[:60]} // {describe(other)[:60]}: not a finite "
                             "number")
        return int(q)
    return q


@on("number", "\\\\")
def modulo(self, other):
    # the remainder of //: it has the sign of the argument, as in Smalltalk
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} \\\\ {describe(other)[:60]}: "
                         "the argument is not a number")
    if other == 0:
        raise ProtoError(f"{describe(self)[:60]} \\\\ {describe(other)}: division by zero")
    return exact(self % other)


@on("number", "rem:")
def remainder(self, other):
    # the remainder of quo: (truncated toward zero): it has the receiver's sign
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} rem: {describe(other)[:60]}: "
                         "the argument is not a number")
    if other == 0:
        raise ProtoError(f"{describe(self)[:60]} rem: {describe(other)}: division by zero")
    return exact(self - other * send(self, "quo:", other))


@on("number", "quo:")
def quotient(self, other):
    # the quotient truncated toward zero
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} quo: {describe(other)[:60]}: "
                         "the argument is not a number")
    if other == 0:
        raise ProtoError(f"{describe(self)[:60]} quo: {describe(other)}: division by zero")
    if type(self) is not float and type(other) is not float:  # exact: integers, fractions
        q = abs(self) // abs(other)
        return q if (self < 0) == (other < 0) else -q
    q = self / other
    if q != q or q in (float("inf"), float("-inf")):
        raise ProtoError(f"{describe(self)[:60]} quo: {describe(other)[:60]}: not a finite "
                         "number")
    return int(q)


@on("number", "<")
def less(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} < {describe(other)[:60]}: "
                         "the argument is not a number")
    return self < other


@on("number", ">")
def greater(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} > {describe(other)[:60]}: "
                         "the argument is not a number")
    return self > other


@on("number", "<=")
def less_equal(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} <= {describe(other)[:60]}: "
                         "the argument is not a number")
    return self <= other


@on("number", ">=")
def greater_equal(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} >= {describe(other)[:60]}: "
                         "the argument is not a number")
    return self >= other


@on("number", "=")
def number_equal(self, other):
    return (type(other) in (int, float) or is_fraction(other)) and self == other


@on("number", "max:")
def maximum(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} max: {describe(other)[:60]}: "
                         "the argument is not a number")
    return max(self, other)


@on("number", "min:")
def minimum(self, other):
    if (type(other) not in (int, float) and not is_fraction(other)):
        raise ProtoError(f"{describe(self)[:60]} min: {describe(other)[:60]}: "
                         "the argument is not a number")
    return min(self, other)


@on("number", "between:and:")
def between_and(self, low, high):
    if not a_number(low) or not a_number(high):
        raise ProtoError(f"{describe(self)[:60]} between: {describe(low)[:60]} and: "
                         f"{describe(high)[:60]}: the arguments are not numbers")
    return low <= self <= high


@on("number", "abs")
def absolute(self):
    return exact(abs(self))


@on("number", "negated")
def negated(self):
    return exact(-self)


@on("number", "squared")
def squared(self):
    return exact(self * self)


@on("number", "sqrt")
def square_root(self):
    if self < 0:
        raise ProtoError(f"{describe(self)[:60]} sqrt: no real square root of a negative number")
    return self**0.5


@on("number", "raisedTo:")
def raised_to(self, power):
    if (type(power) not in (int, float) and not is_fraction(power)):
        raise ProtoError(f"{describe(self)[:60]} raisedTo: {describe(power)[:60]}: the argument is "
                         "not a number")
    if self == 0 and power < 0:
        raise ProtoError(f"{describe(self)[:60]} raisedTo: {describe(power)[:60]}:"
                         " division by zero")
    if type(power) is int and type(self) is not float:
        size = abs(power) * max(self.numerator.bit_length(), self.denominator.bit_length())
        if size > 10_000_000:  # as bitShift: and factorial, a bound a command can afford
            raise ProtoError(f"{describe(self)[:60]} raisedTo: {power}: the result would have "
                             "more than 3,000,000 digits")
        if power < 0:
            from fractions import Fraction  # exact, as in Pharo: 10 raisedTo: -1 is 1/10

            return exact(Fraction(self) ** power)
        return exact(self**power)
    result = self**power
    if type(result) is complex:
        raise ProtoError(f"{describe(self)[:60]} raisedTo: {describe(power)[:60]}: no real result")
    return result


@on("number", "asInteger")
def as_integer(self):
    # truncated toward zero, as in Smalltalk
    if self != self or self in (float("inf"), float("-inf")):
        raise ProtoError(f"{describe(self)[:60]} asInteger: not a finite number")
    return int(self)


@on("number", "asFloat")
def as_float(self):
    return float(self)


@on("number", "rounded")
def rounded(self):
    # half away from zero, as in Smalltalk (2.5 rounded is 3, -2.5 rounded is -3)
    if type(self) is int:
        return self
    if self != self or self in (float("inf"), float("-inf")):
        raise ProtoError(f"{describe(self)[:60]} rounded: not a finite number")
    import math

    whole = math.floor(abs(self))
    if abs(self) - whole >= 0.5:
        whole += 1
    return whole if self >= 0 else -whole


@on("number", "floor")
def floor(self):
    if self != self or self in (float("inf"), float("-inf")):
        raise ProtoError(f"{describe(self)} floor: not a finite number")
    return int(self // 1)


@on("number", "ceiling")
def ceiling(self):
    if self != self or self in (float("inf"), float("-inf")):
        raise ProtoError(f"{describe(self)} ceiling: not a finite number")
    return -int(-self // 1)


@on("number", "numerator")
def numerator(self):
    if type(self) is float:
        raise ProtoError(f"{describe(self)[:60]} numerator: a float is no fraction")
    return self.numerator


@on("number", "denominator")
def denominator(self):
    if type(self) is float:
        raise ProtoError(f"{describe(self)[:60]} denominator: a float is no fraction")
    return self.denominator


@on("number", "isFraction")
def is_fraction_number(self):
    return is_fraction(self)


@on("number", "reciprocal")
def reciprocal(self):
    return send(1, "/", self)


@on("number", "isZero")
def is_zero(self):
    return self == 0


@on("number", "even")
def even(self):
    return self % 2 == 0


@on("number", "odd")
def odd(self):
    return self % 2 == 1


@on("number", "to:do:")
def to_do(self, stop, block):
    if (type(stop) not in (int, float) and not is_fraction(stop)):
        raise ProtoError(f"{describe(self)[:60]} to: {describe(stop)[:60]} do:: the argument "
                         "is not a number")
    i = self
    while i <= stop:
        send(block, "value:", i)
        i += 1
    return self


@on("number", "sin")
def sine(self):
    import math

    return math.sin(self)


@on("number", "cos")
def cosine(self):
    import math

    return math.cos(self)


@on("number", "tan")
def tangent(self):
    import math

    return math.tan(self)


@on("number", "arcTan")
def arc_tangent(self):
    import math

    return math.atan(self)


@on("number", "exp")
def exponential(self):
    import math

    try:
        return math.exp(self)
    except OverflowError:
        raise ProtoError(f"{describe(self)[:60]} exp: too large for a float") from None


@on("number", "ln")
def natural_log(self):
    import math

    if self <= 0:
        raise ProtoError(f"{describe(self)[:60]} ln: defined for positive numbers only")
    return math.log(self)


@on("number", "log:")
def log_base(self, base):
    import math

    if not a_number(base) or base <= 0 or base == 1 or self <= 0:
        raise ProtoError(f"{describe(self)[:60]} log: {describe(base)[:60]}: defined for "
                         "positive numbers and a positive base other than 1")
    return math.log(self, base)


@on("number", "truncated")
def truncated(self):
    if self != self or self in (float("inf"), float("-inf")):
        raise ProtoError(f"{describe(self)} truncated: not a finite number")
    return int(self)


@on("number", "sign")
def sign(self):
    return (self > 0) - (self < 0)


@on("number", "negative")
def negative(self):
    return self < 0


@on("number", "positive")
def positive(self):
    return self >= 0


@on("number", "factorial")
def factorial(self):
    import math

    if type(self) is not int or self < 0 or self > 20000:
        raise ProtoError(f"{describe(self)[:60]} factorial: defined for integers from 0 to "
                         "20000 here")
    return math.factorial(self)


@on("number", "gcd:")
def gcd(self, other):
    import math

    if type(self) is not int or type(other) is not int:
        raise ProtoError(f"{describe(self)[:60]} gcd: {describe(other)[:60]}: integers only")
    return math.gcd(self, other)


@on("number", "lcm:")
def lcm(self, other):
    import math

    if type(self) is not int or type(other) is not int:
        raise ProtoError(f"{describe(self)[:60]} lcm: {describe(other)[:60]}: integers only")
    return math.lcm(self, other)


@on("number", "isPrime")
def is_prime(self):
    if type(self) is not int:
        return False
    if self < 2:
        return False
    if self < 4:
        return True
    if self % 2 == 0 or self % 3 == 0:
        return False
    if self.bit_length() > 64:
        raise ProtoError(f"{describe(self)[:60]} isPrime: larger than 64 bits")
    i = 5
    while i * i <= self:
        if self % i == 0 or self % (i + 2) == 0:
            return False
        i += 6
    return True


@on("number", "bitAnd:")
def bit_and(self, other):
    if type(self) is not int or type(other) is not int:
        raise ProtoError(f"{describe(self)[:60]} bitAnd: {describe(other)[:60]}: integers only")
    return self & other


@on("number", "bitOr:")
def bit_or(self, other):
    if type(self) is not int or type(other) is not int:
        raise ProtoError(f"{describe(self)[:60]} bitOr: {describe(other)[:60]}: integers only")
    return self | other


@on("number", "bitXor:")
def bit_xor(self, other):
    if type(self) is not int or type(other) is not int:
        raise ProtoError(f"{describe(self)[:60]} bitXor: {describe(other)[:60]}: integers only")
    return self ^ other


@on("number", "bitShift:")
def bit_shift(self, count):
    # left for a positive count, right for a negative one
    if type(self) is not int or type(count) is not int or count > 1_000_000:
        raise ProtoError(f"{describe(self)[:60]} bitShift: {describe(count)[:60]}: integers "
                         "only, shifting left at most 1000000 bits")
    return self << count if count >= 0 else self >> -count


@on("number", "<<")
def shift_left(self, count):
    return send(self, "bitShift:", count)


@on("number", ">>")
def shift_right(self, count):
    if type(count) is not int:
        raise ProtoError(f"{describe(self)[:60]} >> {describe(count)[:60]}: integers only")
    return send(self, "bitShift:", -count)


@on("number", "roundTo:")
def round_to(self, quantum):
    # the multiple of quantum nearest to the receiver, halves away from zero
    if (type(quantum) not in (int, float) and not is_fraction(quantum)) or quantum == 0:
        raise ProtoError(f"{describe(self)[:60]} roundTo: {describe(quantum)[:60]}: a "
                         "number other than 0")
    return exact(send(send(self, "/", quantum), "rounded") * quantum)


@on("number", "printString:")
def print_string_radix(self, radix):
    # the integer in base radix (2 to 36), as Pharo's printString: 16 is '1F'
    if type(self) is not int or type(radix) is not int or not 2 <= radix <= 36:
        raise ProtoError(f"{describe(self)[:60]} printString: {describe(radix)[:60]}: an "
                         "integer in a base from 2 to 36")
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n, out = abs(self), ""
    while True:
        n, d = divmod(n, radix)
        out = digits[d] + out
        if n == 0:
            break
    return ("-" if self < 0 else "") + out


@on("number", "printPaddedWith:to:")
def print_padded(self, pad, width):
    if type(pad) is not str or len(pad) != 1 or type(width) is not int:
        raise ProtoError(f"{describe(self)[:60]} printPaddedWith: {describe(pad)[:60]} to: "
                         f"{describe(width)[:60]}: a character and an integer")
    text = send(self, "printString")
    return pad * max(0, width - len(text)) + text


@on("number", "to:")
def to(self, stop):
    # an interval, as a list (0-based like every list): 1 to: 3 is {1. 2. 3}
    return send(self, "to:by:", stop, 1)


@on("number", "to:by:")
def to_by(self, stop, step):
    if not a_number(stop) or not a_number(step):
        raise ProtoError(f"{describe(self)[:60]} to: {describe(stop)[:60]} by: "
                         f"{describe(step)[:60]}: the arguments are not numbers")
    if step == 0:
        raise ProtoError(f"{describe(self)[:60]} to: {describe(stop)[:60]} by: 0: the step "
                         "is zero")
    for x in (self, stop, step):
        if x != x or x in (float("inf"), float("-inf")):
            raise ProtoError(f"{describe(self)[:60]} to: {describe(stop)[:60]} by: "
                             f"{describe(step)[:60]}: not finite numbers")
    if (stop - self) / step > 10_000_000:
        raise ProtoError(f"{describe(self)[:60]} to: {describe(stop)[:60]}: more than "
                         "10,000,000 items")
    # the values to:by:do: visits, added up the same way: `0 to: 1 by: 0.1` has as many
    # items as `0 to: 1 by: 0.1 do:` runs
    out, i = [], self
    while (i <= stop) if step > 0 else (i >= stop):
        out.append(exact(i))
        i += step
    return tuple(out)


@on("number", "to:by:do:")
def to_by_do(self, stop, step, block):
    if not a_number(stop) or not a_number(step):
        raise ProtoError(f"{describe(self)[:60]} to: {describe(stop)[:60]} by: "
                         f"{describe(step)[:60]} do:: the arguments are not numbers")
    if step == 0:
        raise ProtoError(f"{describe(self)[:60]} to: {describe(stop)[:60]} by: 0 do::"
                         " the step is zero")
    i = self
    while (i <= stop) if step > 0 else (i >= stop):
        send(block, "value:", i)
        i = exact(i + step)
    return self


@on("number", "downTo:do:")
def down_to_do(self, stop, block):
    return send(self, "to:by:do:", stop, -1, block)


@on("number", "timesRepeat:")
def times_repeat(self, block):
    if type(self) is not int:
        raise ProtoError(f"{describe(self)[:60]} timesRepeat:: the receiver is not an integer")
    for _ in range(self):
        send(block, "value")
    return self


# -- traits string ----------------------------------------------------------------
@on("string", "size")
def string_size(self):
    return len(self)


@on("string", "at:")
def string_at(self, index):
    # indices run from 0 to size - 1 (as in Self); no counting from the end
    if type(index) is not int:
        raise ProtoError(f"{describe(self)[:60]} at: {describe(index)[:60]}: an index is an "
                         "integer")
    if not 0 <= index < len(self):
        raise ProtoError(f"{describe(self)[:60]} at: {index}: index out of bounds "
                         f"(0..{len(self) - 1})" if self else
                         f"{describe(self)[:60]} at: {index}: it is empty")
    return self[index]


@on("string", ",")
def string_concat(self, other):
    if type(other) is not str:
        raise ProtoError(f"{describe(self)[:60]} , {describe(other)[:60]}: the argument is "
                         "not a string")
    if len(self) + len(other) > 100_000_000:
        raise ProtoError(f"{describe(self)[:40]} , ...: the string would be longer than "
                         "100,000,000 characters")
    return self + other


@on("string", "<")
def string_less(self, other):
    if type(other) is not str:
        raise ProtoError(f"{describe(self)[:60]} < {describe(other)[:60]}: the argument is not "
                         "a string")
    return self < other


@on("string", ">")
def string_greater(self, other):
    if type(other) is not str:
        raise ProtoError(f"{describe(self)[:60]} > {describe(other)[:60]}: the argument is not "
                         "a string")
    return self > other


@on("string", "<=")
def string_less_equal(self, other):
    if type(other) is not str:
        raise ProtoError(f"{describe(self)[:60]} <= {describe(other)[:60]}: the argument is "
                         "not a string")
    return self <= other


@on("string", ">=")
def string_greater_equal(self, other):
    if type(other) is not str:
        raise ProtoError(f"{describe(self)[:60]} >= {describe(other)[:60]}: the argument is "
                         "not a string")
    return self >= other


@on("string", "asUppercase")
def as_uppercase(self):
    return self.upper()


@on("string", "asLowercase")
def as_lowercase(self):
    return self.lower()


@on("string", "asBytes")
def string_as_bytes(self):
    return self.encode("utf-8")


@on("string", "asString")
def string_as_string(self):
    return self


@on("string", "asNumber")
def as_number(self):
    # a number as the language writes one (ASCII digits, a sign, a fraction, an
    # exponent), around spaces; else nil ('nan', '٣' and '4_2' are no numbers here)
    text = self.strip()
    body = text[1:] if text[:1] in ("-", "+") else text
    mantissa, e, exponent = body.lower().partition("e")
    whole, dot, fraction = mantissa.partition(".")

    def digits(part):
        return part != "" and all(c in "0123456789" for c in part)

    if not digits(whole) or (dot and not digits(fraction)):
        return None
    if e and not digits(exponent[1:] if exponent[:1] in "+-" else exponent):
        return None
    if len(whole) > 4000 or len(text) > 4100:
        raise ProtoError(f"{describe(self)[:60]} asNumber: more than 4000 digits")
    if dot or e:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ProtoError(f"{describe(self)[:60]} asNumber: too large for a float")
        return value
    return int(text)


@on("string", "reversed")
def string_reversed(self):
    return self[::-1]


@on("string", "includesSubstring:")
def includes_substring(self, other):
    if type(other) is not str:
        raise ProtoError(f"{describe(self)[:60]} includesSubstring: {describe(other)[:60]}: "
                         "the argument is not a string")
    return other in self


@on("string", "isEmpty")
def string_is_empty(self):
    return not self


@on("string", "asArray")
def string_as_array(self):
    # its characters, each a one-character string
    return list(self)


@on("string", "do:")
def string_do(self, block):
    for ch in self:
        send(block, "value:", ch)
    return self


@on("string", "reverseDo:")
def string_reverse_do(self, block):
    for ch in reversed(self):
        send(block, "value:", ch)
    return self


@on("string", "first")
def string_first(self):
    if not self:
        raise ProtoError("'' first: the string is empty")
    return self[0]


@on("string", "last")
def string_last(self):
    if not self:
        raise ProtoError("'' last: the string is empty")
    return self[-1]


@on("string", "includes:")
def string_includes(self, char):
    return type(char) is str and len(char) == 1 and char in self


@on("string", "collect:")
def string_collect(self, block):
    # a string when every answer is a character, as in Pharo; else a list
    out = [send(block, "value:", ch) for ch in self]
    if all(type(x) is str and len(x) == 1 for x in out):
        return "".join(out)
    return list(out)


@on("string", "select:")
def string_select(self, block):
    out = []
    for ch in self:
        answer = send(block, "value:", ch)
        if type(answer) is not bool:
            raise ProtoError(f"select: the block answered {describe(answer)[:60]}, not a boolean")
        if answer:
            out.append(ch)
    return "".join(out)


@on("string", "reject:")
def string_reject(self, block):
    out = []
    for ch in self:
        answer = send(block, "value:", ch)
        if type(answer) is not bool:
            raise ProtoError(f"reject: the block answered {describe(answer)[:60]}, not a boolean")
        if not answer:
            out.append(ch)
    return "".join(out)


@on("string", "detect:ifNone:")
def string_detect_if_none(self, block, none):
    for ch in self:
        answer = send(block, "value:", ch)
        if type(answer) is not bool:
            raise ProtoError(f"detect: the block answered {describe(answer)[:60]}, not a boolean")
        if answer:
            return ch
    return send(none, "value")


@on("string", "inject:into:")
def string_inject_into(self, initial, block):
    acc = initial
    for ch in self:
        acc = send(block, "value:value:", acc, ch)
    return acc


@on("string", "copyFrom:to:")
def string_copy_from_to(self, start, stop):
    # indices from 0, both ends included
    if type(start) is not int or type(stop) is not int:
        raise ProtoError(f"{describe(self)[:60]} copyFrom: {describe(start)[:60]} to: "
                         f"{describe(stop)[:60]}: indices are integers")
    if not (0 <= start <= stop + 1 and stop < len(self)):
        raise ProtoError(f"{describe(self)[:60]} copyFrom: {start} to: {stop}: index out of "
                         f"bounds (0..{len(self) - 1})")
    return self[start:stop + 1]


@on("string", "allButFirst")
def string_all_but_first(self):
    return self[1:]


@on("string", "allButLast")
def string_all_but_last(self):
    return self[:-1]


@on("string", "notEmpty")
def string_not_empty(self):
    return len(self) > 0


@on("string", "asSymbol")
def string_as_symbol(self):
    return self  # symbols are strings here


@on("string", "asInteger")
def string_as_integer(self):
    # the integer the text starts with (after spaces), or nil: '42abc' asInteger is 42
    text = self.lstrip()
    sign = -1 if text.startswith("-") else 1
    digits = text[1:] if text[:1] in "+-" and text[:1] else text
    n = 0
    while n < len(digits) and digits[n] in "0123456789":
        n += 1
    if n > 4000:
        raise ProtoError(f"{describe(self)[:60]} asInteger: more than 4000 digits")
    return sign * int(digits[:n]) if n else None


@on("string", "beginsWith:")
def string_begins_with(self, prefix):
    if type(prefix) is not str:
        raise ProtoError(f"{describe(self)[:60]} beginsWith: {describe(prefix)[:60]}: the "
                         "argument is not a string")
    return self.startswith(prefix)


@on("string", "endsWith:")
def string_ends_with(self, suffix):
    if type(suffix) is not str:
        raise ProtoError(f"{describe(self)[:60]} endsWith: {describe(suffix)[:60]}: the "
                         "argument is not a string")
    return self.endswith(suffix)


@on("string", "substrings")
def string_substrings(self):
    return list(self.split())


@on("string", "substrings:")
def string_substrings_by(self, separators):
    if type(separators) is not str:
        raise ProtoError(f"{describe(self)[:60]} substrings: {describe(separators)[:60]}: "
                         "the argument is not a string")
    out, word = [], ""
    for ch in self:
        if ch in separators:
            if word:
                out.append(word)
            word = ""
        else:
            word += ch
    if word:
        out.append(word)
    return list(out)


@on("string", "lines")
def string_lines(self):
    # lines end at CR, LF or CRLF; a final line end starts no empty line (as in Pharo)
    text = self.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return list(text.split("\n")) if self else []


@on("string", "trimBoth")
def string_trim_both(self):
    return self.strip()


@on("string", "copyReplaceAll:with:")
def string_copy_replace_all(self, old, new):
    if type(old) is not str or type(new) is not str or not old:
        raise ProtoError(f"{describe(self)[:60]} copyReplaceAll: {describe(old)[:60]} with: "
                         f"{describe(new)[:60]}: the arguments are strings, the first not "
                         "empty")
    return self.replace(old, new)


@on("string", "indexOf:")
def string_index_of(self, text):
    # from 0; -1 when absent; a character (one-character string) or a substring, as SOM's
    if type(text) is not str or not text:
        raise ProtoError(f"{describe(self)[:60]} indexOf: {describe(text)[:60]}: the "
                         "argument is not a character or string")
    return self.find(text)


@on("string", "occurrencesOf:")
def string_occurrences_of(self, char):
    if type(char) is not str or not char:
        raise ProtoError(f"{describe(self)[:60]} occurrencesOf: {describe(char)[:60]}: the "
                         "argument is not a string")
    return self.count(char)


@on("string", "format:")
def string_format(self, values):
    # '{0} and {1}' format: {'a'. 'b'}: each {n} replaced by the printString of item n
    if type(values) not in (tuple, list):
        raise ProtoError(f"{describe(self)[:60]} format: {describe(values)[:60]}: the "
                         "argument is not a list")
    out, i = [], 0
    while i < len(self):
        ch = self[i]
        end = self.find("}", i)
        if ch == "{" and end > i + 1 and all(c in "0123456789" for c in self[i + 1:end]):
            n = int(self[i + 1:end])
            if n >= len(values):
                raise ProtoError(f"{describe(self)[:60]} format: no item {n} in the list")
            item = values[n]
            out.append(item if type(item) is str else send(item, "printString"))
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# -- traits bytes -----------------------------------------------------------------
@on("bytes", "size")
def bytes_size(self):
    return len(self)


@on("bytes", "at:")
def bytes_at(self, index):
    # indices run from 0 to size - 1 (as in Self); no counting from the end
    if type(index) is not int:
        raise ProtoError(f"{describe(self)[:60]} at: {describe(index)[:60]}: an index is an "
                         "integer")
    if not 0 <= index < len(self):
        raise ProtoError(f"{describe(self)[:60]} at: {index}: index out of bounds "
                         f"(0..{len(self) - 1})" if self else
                         f"{describe(self)[:60]} at: {index}: it is empty")
    return self[index]


@on("bytes", ",")
def bytes_concat(self, other):
    if type(other) is not bytes:
        raise ProtoError(f"{describe(self)[:60]} , {describe(other)[:60]}: the argument is "
                         "not bytes")
    return self + other


@on("bytes", "asString")
def bytes_as_string(self):
    try:
        return self.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtoError(f"{describe(self)[:60]} asString: not UTF-8 text") from None


@on("bytes", "hex")
def bytes_hex(self):
    return self.hex()


@on("bytes", "isEmpty")
def bytes_is_empty(self):
    return not self


# -- traits list ------------------------------------------------------------------
@on("list", "size")
def list_size(self):
    return len(self)


@on("list", "at:")
def list_at(self, index):
    # indices run from 0 to size - 1 (as in Self); no counting from the end
    if type(index) is not int:
        raise ProtoError(f"{describe(self)[:60]} at: {describe(index)[:60]}: an index is an "
                         "integer")
    if not 0 <= index < len(self):
        raise ProtoError(f"{describe(self)[:60]} at: {index}: index out of bounds "
                         f"(0..{len(self) - 1})" if self else
                         f"{describe(self)[:60]} at: {index}: it is empty")
    return self[index]


@on("list", ",")
def list_concat(self, other):
    # a list joins a list; any other value is added at the end (SOM's `v , 3`)
    if type(other) not in (tuple, list):
        return [*self, other]
    if len(self) + len(other) > 10_000_000:
        raise ProtoError(f"{describe(self)[:40]} , ...: the list would have more than "
                         "10,000,000 items")
    return [*self, *other]


@on("list", "with:")
def list_with(self, item):
    return (*self, item)


@on("list", "first")
def list_first(self):
    if not self:
        raise ProtoError(f"{describe(self)[:60]} first: the list is empty")
    return self[0]


@on("list", "last")
def list_last(self):
    if not self:
        raise ProtoError(f"{describe(self)[:60]} last: the list is empty")
    return self[-1]


@on("list", "isEmpty")
def list_is_empty(self):
    return not self


@on("list", "includes:")
def list_includes(self, item):
    return any(send(x, "=", item) for x in self)


@on("list", "reversed")
def list_reversed(self):
    return list(reversed(self))


@on("list", "do:")
def list_do(self, block):
    for item in tuple(self):  # a snapshot: the block may add to a list
        send(block, "value:", item)
    return self


@on("list", "collect:")
def list_collect(self, block):
    return [send(block, "value:", item) for item in tuple(self)]


@on("list", "select:")
def list_select(self, block):
    out = []
    for item in tuple(self):  # a snapshot: the block may add to a list
        answer = send(block, "value:", item)
        if type(answer) is not bool:
            raise ProtoError(f"select: the block answered {describe(answer)[:60]}, not a boolean")
        if answer:
            out.append(item)
    return list(out)


@on("list", "inject:into:")
def list_inject_into(self, initial, block):
    acc = initial
    for item in tuple(self):  # a snapshot: the block may add to a list
        acc = send(block, "value:value:", acc, item)
    return acc


@on("list", "=")
def list_equal(self, other):
    # item by item, each by its own =: {true} is not {1}, {1} = {1.0} as 1 = 1.0
    if type(other) not in (tuple, list) or len(other) != len(self):
        return False
    return all(send(a, "=", b) is True for a, b in zip(self, other, strict=True))


@on("list", "notEmpty")
def list_not_empty(self):
    return len(self) > 0


@on("list", "reject:")
def list_reject(self, block):
    out = []
    for item in tuple(self):  # a snapshot: the block may add to a list
        answer = send(block, "value:", item)
        if type(answer) is not bool:
            raise ProtoError(f"reject: the block answered {describe(answer)[:60]}, not a boolean")
        if not answer:
            out.append(item)
    return list(out)


@on("list", "detect:ifNone:")
def list_detect_if_none(self, block, none):
    for item in tuple(self):  # a snapshot: the block may add to a list
        answer = send(block, "value:", item)
        if type(answer) is not bool:
            raise ProtoError(f"detect: the block answered {describe(answer)[:60]}, not a boolean")
        if answer:
            return item
    return send(none, "value")


@on("list", "anySatisfy:")
def list_any_satisfy(self, block):
    for item in tuple(self):  # a snapshot: the block may add to a list
        answer = send(block, "value:", item)
        if type(answer) is not bool:
            raise ProtoError(f"anySatisfy: the block answered {describe(answer)[:60]}, not a "
                             "boolean")
        if answer:
            return True
    return False


@on("list", "allSatisfy:")
def list_all_satisfy(self, block):
    for item in tuple(self):  # a snapshot: the block may add to a list
        answer = send(block, "value:", item)
        if type(answer) is not bool:
            raise ProtoError(f"allSatisfy: the block answered {describe(answer)[:60]}, not a "
                             "boolean")
        if not answer:
            return False
    return True


@on("list", "reverseDo:")
def list_reverse_do(self, block):
    for item in reversed(tuple(self)):
        send(block, "value:", item)
    return self


@on("list", "doWithIndex:")
def list_do_with_index(self, block):
    # the block gets each item and its index (from 0)
    for index, item in enumerate(tuple(self)):
        send(block, "value:value:", item, index)
    return self


@on("list", "keysAndValuesDo:")
def list_keys_and_values_do(self, block):
    for index, item in enumerate(tuple(self)):
        send(block, "value:value:", index, item)
    return self


@on("list", "with:collect:")
def list_with_collect(self, other, block):
    if type(other) not in (tuple, list) or len(other) != len(self):
        raise ProtoError(f"{describe(self)[:60]} with: {describe(other)[:60]} collect:: the "
                         "argument is not a list of the same size")
    return list(send(block, "value:value:", a, b) for a, b in zip(self, other, strict=True))


@on("list", "allButFirst")
def list_all_but_first(self):
    return list(self[1:])


@on("list", "allButLast")
def list_all_but_last(self):
    return list(self[:-1])


@on("list", "copyFrom:to:")
def list_copy_from_to(self, start, stop):
    # indices from 0, both ends included
    if type(start) is not int or type(stop) is not int:
        raise ProtoError(f"{describe(self)[:60]} copyFrom: {describe(start)[:60]} to: "
                         f"{describe(stop)[:60]}: indices are integers")
    if not (0 <= start <= stop + 1 and stop < len(self)):
        raise ProtoError(f"{describe(self)[:60]} copyFrom: {start} to: {stop}: index out of "
                         f"bounds (0..{len(self) - 1})")
    return list(self[start:stop + 1])


@on("list", "indexOf:")
def list_index_of(self, item):
    # from 0; -1 when absent
    for index, x in enumerate(self):
        if send(x, "=", item) is True:
            return index
    return -1


@on("list", "occurrencesOf:")
def list_occurrences_of(self, item):
    return sum(1 for x in self if send(x, "=", item) is True)


@on("list", "max")
def list_max(self):
    if not self:
        raise ProtoError(f"{describe(self)[:60]} max: the list is empty")
    best = self[0]
    for x in self[1:]:
        if send(x, ">", best) is True:
            best = x
    return best


@on("list", "min")
def list_min(self):
    if not self:
        raise ProtoError(f"{describe(self)[:60]} min: the list is empty")
    best = self[0]
    for x in self[1:]:
        if send(x, "<", best) is True:
            best = x
    return best


@on("list", "sum")
def list_sum(self):
    if not self:
        return 0
    total = self[0]
    for x in self[1:]:
        total = send(total, "+", x)
    return total


@on("list", "asSortedCollection")
def list_as_sorted(self):
    return send(list(self), "sort:", None)


@on("list", "sorted:")
def list_sorted(self, block):
    return send(list(self), "sort:", block)


@on("list", "sorted")
def list_sorted_default(self):
    return send(list(self), "sort:", None)


@on("list", "sort:")
def list_sort(self, block):
    if type(self) is not list:
        raise ProtoError(f"{describe(self)[:60]} sort:: a literal or stored list cannot be "
                         "sorted in place (`sorted:` or `asSortedCollection` answer a sorted "
                         "copy)")
    # sorted in place if the list can change, else a sorted copy; by a merge sort that keeps
    # the left item when the block says it comes first: stable for <= (as in Pharo)
    def before(a, b):
        answer = send(a, "<=", b) if block is None else send(block, "value:value:", a, b)
        if type(answer) is not bool:
            raise ProtoError(f"sort: the block answered {describe(answer)[:60]}, not a boolean")
        return answer

    items = list(self)
    width = 1
    while width < len(items):
        merged = []
        for start in range(0, len(items), 2 * width):
            left, right = items[start:start + width], items[start + width:start + 2 * width]
            i = j = 0
            while i < len(left) and j < len(right):
                if before(left[i], right[j]):
                    merged.append(left[i])
                    i += 1
                else:
                    merged.append(right[j])
                    j += 1
            merged += left[i:] + right[j:]
        items = merged
        width *= 2
    self[:] = items  # in place, as in Pharo (asSortedCollection and sorted: copy first)
    return self


# -- traits map -------------------------------------------------------------------
@on("map", "at:")
def map_at(self, key):
    # a missing key is an error, as in Pharo (SOM answers nil; at:ifAbsent: says what to do)
    found = find_key(self, key)
    if found is ABSENT:
        raise ProtoError(f"{describe(self)[:60]} at: {describe(key)[:60]}: key not found")
    return self[found]


@on("map", "at:ifAbsent:")
def map_at_if_absent(self, key, block):
    found = find_key(self, key)
    return send(block, "value") if found is ABSENT else self[found]


@on("map", "size")
def map_size(self):
    return len(self)


@on("map", "keys")
def map_keys(self):
    return list(self.keys())


@on("map", "values")
def map_values(self):
    return list(self.values())


@on("map", "includesKey:")
def map_includes_key(self, key):
    return find_key(self, key) is not ABSENT


@on("map", "copyAt:put:")
def map_copy_at_put(self, key, value):
    return {**self, key: value}


# -- traits nil, true, false ------------------------------------------------------
@on("nil", "isNil")
def nil_is_nil(self):
    return True


@on("nil", "notNil")
def nil_not_nil(self):
    return False


@on("nil", "ifNil:")
def nil_if_nil(self, block):
    return send(block, "value")


@on("nil", "ifNotNil:")
def nil_if_not_nil(self, block):
    return None


@on("nil", "ifNil:ifNotNil:")
def nil_if_nil_if_not_nil(self, nil_block, block):
    return send(nil_block, "value")


@on("nil", "ifNotNil:ifNil:")
def nil_if_not_nil_if_nil(self, block, nil_block):
    return send(nil_block, "value")


@on("true", "ifTrue:ifFalse:")
def true_if_true_if_false(self, then, otherwise):
    return send(then, "value")


@on("true", "ifFalse:ifTrue:")
def true_if_false_if_true(self, otherwise, then):
    return send(then, "value")


@on("true", "ifTrue:")
def true_if_true(self, then):
    return send(then, "value")


@on("true", "ifFalse:")
def true_if_false(self, otherwise):
    return None


@on("true", "and:")
def true_and(self, block):
    return send(block, "value")


@on("true", "or:")
def true_or(self, block):
    return True


@on("true", "not")
def true_not(self):
    return False


@on("true", "&")
def true_amp(self, other):
    return other


@on("true", "|")
def true_bar(self, other):
    return True


@on("false", "ifTrue:ifFalse:")
def false_if_true_if_false(self, then, otherwise):
    return send(otherwise, "value")


@on("false", "ifFalse:ifTrue:")
def false_if_false_if_true(self, otherwise, then):
    return send(otherwise, "value")


@on("false", "ifTrue:")
def false_if_true(self, then):
    return None


@on("false", "ifFalse:")
def false_if_false(self, otherwise):
    return send(otherwise, "value")


@on("false", "and:")
def false_and(self, block):
    return False


@on("false", "or:")
def false_or(self, block):
    return send(block, "value")


@on("false", "not")
def false_not(self):
    return True


@on("false", "&")
def false_amp(self, other):
    return False


@on("false", "|")
def false_bar(self, other):
    return other


# -- traits block -----------------------------------------------------------------
@on("block", "value")
def block_value(self):
    return call_block(self)


@on("block", "value:")
def block_value_1(self, a):
    return call_block(self, a)


@on("block", "value:value:")
def block_value_2(self, a, b):
    return call_block(self, a, b)


@on("block", "value:value:value:")
def block_value_3(self, a, b, c):
    return call_block(self, a, b, c)


@on("block", "numArgs")
def block_num_args(self):
    return call_block(self, arity=True)


@on("block", "whileTrue:")
def block_while_true(self, body):
    while True:
        condition = send(self, "value")
        if condition is not True and condition is not False:
            raise ProtoError(f"whileTrue:"
                             f" condition answered {describe(condition)[:60]}, not a boolean")
        if not condition:
            return None
        send(body, "value")


@on("block", "whileFalse:")
def block_while_false(self, body):
    while True:
        condition = send(self, "value")
        if condition is not True and condition is not False:
            raise ProtoError(f"whileFalse:"
                             f" condition answered {describe(condition)[:60]}, not a boolean")
        if condition:
            return None
        send(body, "value")


# -- traits message ---------------------------------------------------------------
@on("message", "selector")
def message_selector(self):
    return self.selector


@on("message", "arguments")
def message_arguments(self):
    return self.arguments


@on("message", "receiver")
def message_receiver(self):
    return self.receiver


@on("message", "sendTo:")
def message_send_to(self, receiver):
    return send(receiver, self.selector, *self.arguments)


# -- learner: intelligence as a prototype; objects get it by delegation ------------
@on("learner", "doesNotUnderstand:")
def learn_on_miss(self, message):
    return primitive("learn.notUnderstood")(
        self, message, lambda: resend(self, "doesNotUnderstand:", message))


@on("learner", "infer:")
def infer(self, prompt):
    return primitive("learn.infer")(self, prompt)


@on("learner", "reflectOn:")
def reflect_on(self, message):
    return primitive("learn.reflectOn")(self, message)
