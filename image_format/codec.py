"""The safe, self-describing value encoding of an image.

Every value is a one-byte tag followed by its payload. Decoding is a pure
function over bytes: it never imports, evaluates or unpickles anything, so an
image can be inspected, diffed and verified without trusting its author.

Tags:
    N nil   T true   F false
    i int   (zigzag varint; arbitrary precision)
    f float (8 bytes, IEEE 754 big-endian)
    s str   (varint length, UTF-8)       b bytes (varint length, raw)
    l list  (varint count, values)       m map (varint count, key/value pairs)
    r ref   (varint object id)
    q fraction (zigzag varint numerator, varint denominator > 1, in lowest terms)
    S set   (varint count, values; the order they were added)
    k block (a string: its source text; a map: the values it captured)
    D pickled (varint length, bytes) -- carried for images that hold one; decode()
            returns it as an opaque Pickled wrapper and never loads it.

Lists decode to tuples and maps to read-only mappings: values in slots are
immutable, so a change to a slot is always an explicit slot write.
"""

from __future__ import annotations

from .errors import DecodeError, EncodeError

# Spelled without importing `types` and `struct`: both cost start-up time that
# every `proto send` pays, and floats are rare in slots.
MappingProxyType = type(type.__dict__)
MAX_DEPTH = 64
MAX_OID = (1 << 64) - 1  # object ids are 8-byte keys (layout.OID_BYTES)


def _f64():
    from struct import Struct

    global _F64
    _F64 = Struct(">d")
    return _F64


_F64 = None


class Ref:
    """A reference to an object by its id, as stored in an image."""

    __slots__ = ("oid",)

    def __init__(self, oid: int) -> None:
        self.oid = oid

    def __eq__(self, other: object) -> bool:
        return type(other) is Ref and other.oid == self.oid

    def __hash__(self) -> int:
        return hash(("ref", self.oid))

    def __repr__(self) -> str:
        return f"Ref({self.oid})"


class Pickled:
    """An opaque, never-loaded pickled payload: carried for an image that holds one."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        return type(other) is Pickled and other.data == self.data

    def __hash__(self) -> int:
        return hash(("pickled", self.data))

    def __repr__(self) -> str:
        return f"Pickled({len(self.data)} bytes)"


def _varint(n: int, out: bytearray) -> None:
    if n >> 64:
        _long_varint(n, out)
        return
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _long_varint(n: int, out: bytearray) -> None:
    """A big int's varint in linear time (`n >>= 7` on a huge int is quadratic).

    Its bytes are taken 7 at a time: 56 bits, exactly eight 7-bit groups.
    """
    groups = (n.bit_length() + 6) // 7
    raw = n.to_bytes((groups + 7) // 8 * 7, "little")
    data = bytearray()
    for i in range(0, len(raw), 7):
        chunk = int.from_bytes(raw[i : i + 7], "little")
        data += bytes(((chunk >> s) & 0x7F) | 0x80 for s in range(0, 56, 7))
    del data[groups:]
    data[-1] &= 0x7F
    out += data


def _encode(value: object, out: bytearray, depth: int, ref_of) -> None:
    t = type(value)
    if value is None:
        out += b"N"
    elif value is True:
        out += b"T"
    elif value is False:
        out += b"F"
    elif t is int:
        out += b"i"
        _varint((value << 1) if value >= 0 else ((-value << 1) - 1), out)
    elif t is float:
        out += b"f"
        out += (_F64 or _f64()).pack(value)
    elif t is str:
        data = value.encode("utf-8", "surrogatepass")
        out += b"s"
        _varint(len(data), out)
        out += data
    elif t is bytes or t is bytearray or t is memoryview:
        data = bytes(value)
        out += b"b"
        _varint(len(data), out)
        out += data
    elif t is Ref:
        if type(value.oid) is not int or not 0 <= value.oid <= MAX_OID:
            raise EncodeError(f"object id {value.oid!r} is out of range")
        out += b"r"
        _varint(value.oid, out)
    elif t is Pickled:
        out += b"D"
        _varint(len(value.data), out)
        out += value.data
    elif depth >= MAX_DEPTH:
        raise EncodeError(f"value nests deeper than {MAX_DEPTH} levels")
    elif t is list or t is tuple:
        out += b"l"
        _varint(len(value), out)
        for item in value:
            _encode(item, out, depth + 1, ref_of)
    elif t is dict or t is MappingProxyType:
        out += b"m"
        _varint(len(value), out)
        for key, item in value.items():
            _encode(key, out, depth + 1, ref_of)
            _encode(item, out, depth + 1, ref_of)
    elif t.__module__ in LATE_MODULES:
        _encode_late(value, out, depth, ref_of)
    else:
        oid = ref_of(value) if ref_of is not None else None
        if oid is None:
            raise EncodeError(f"a {type(value).__name__} cannot be stored in an image")
        out += b"r"
        _varint(oid, out)


# Fractions, sets and blocks (values.py) are imported only once one is met: `fractions`
# alone costs a `proto send` more start-up than the rest of the codec.
LATE_MODULES = frozenset({"fractions", "image_format.values"})


def _encode_late(value: object, out: bytearray, depth: int, ref_of) -> None:
    from fractions import Fraction

    from .values import ProtoSet, StoredBlock

    t = type(value)
    if t is Fraction and value.denominator == 1:  # whole: the integer it is
        _encode(value.numerator, out, depth, ref_of)
    elif t is Fraction:
        out += b"q"
        n = value.numerator
        _varint((n << 1) if n >= 0 else ((-n << 1) - 1), out)
        _varint(value.denominator, out)
    elif t is ProtoSet:
        out += b"S"
        _varint(len(value), out)
        for item in value:
            _encode(item, out, depth + 1, ref_of)
    elif t is StoredBlock:
        out += b"k"
        _encode(value.source, out, depth + 1, ref_of)
        _encode(value.captured, out, depth + 1, ref_of)
    else:
        raise EncodeError(f"a {t.__name__} cannot be stored in an image")


def encode(value: object, ref_of=None) -> bytes:
    """Encode a value; `ref_of(obj) -> oid | None` maps live objects to references."""
    out = bytearray()
    _encode(value, out, 0, ref_of)
    return bytes(out)


class _Reader:
    __slots__ = ("buf", "pos", "ref")

    def __init__(self, buf: bytes, ref) -> None:
        self.buf = buf
        self.pos = 0
        self.ref = ref

    def varint(self) -> int:
        buf, pos, shift, n = self.buf, self.pos, 0, 0
        while True:
            if pos >= len(buf):
                raise DecodeError("truncated value")
            byte = buf[pos]
            pos += 1
            n |= (byte & 0x7F) << shift
            if byte < 0x80:
                self.pos = pos
                return n
            shift += 7
            if shift > 63:
                return self.long_varint()

    def long_varint(self) -> int:
        """A varint of any length (a big int) in linear time; the buffer bounds it."""
        buf, start = self.buf, self.pos
        end = start
        while True:
            if end >= len(buf):
                raise DecodeError("truncated value")
            if buf[end] < 0x80:
                break
            end += 1
        self.pos = end + 1
        groups = bytes(buf[start : end + 1])
        raw = bytearray()
        for i in range(0, len(groups), 8):
            chunk = 0
            for k, byte in enumerate(groups[i : i + 8]):
                chunk |= (byte & 0x7F) << (7 * k)
            raw += chunk.to_bytes(7, "little")
        return int.from_bytes(raw, "little")

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            raise DecodeError("truncated value")
        data = self.buf[self.pos : end]
        self.pos = end
        return data

    def value(self, depth: int) -> object:
        if self.pos >= len(self.buf):
            raise DecodeError("truncated value")
        tag = self.buf[self.pos]
        self.pos += 1
        if tag == 0x69:  # i
            z = self.varint()
            return (z >> 1) if not z & 1 else -((z + 1) >> 1)
        if tag == 0x73:  # s
            try:
                return str(self.take(self.varint()), "utf-8", "surrogatepass")  # any buffer
            except UnicodeDecodeError as exc:
                raise DecodeError("invalid UTF-8 in a string") from exc
        if tag == 0x4E:  # N
            return None
        if tag == 0x54:  # T
            return True
        if tag == 0x46:  # F
            return False
        if tag == 0x66:  # f
            return (_F64 or _f64()).unpack(self.take(8))[0]
        if tag == 0x62:  # b
            return bytes(self.take(self.varint()))
        if tag == 0x72:  # r
            oid = self.varint()
            if oid > MAX_OID:
                raise DecodeError("object id out of range")
            return self.ref(oid) if self.ref is not None else Ref(oid)
        if tag == 0x44:  # D
            return Pickled(bytes(self.take(self.varint())))
        if depth >= MAX_DEPTH:
            raise DecodeError(f"value nests deeper than {MAX_DEPTH} levels")
        if tag == 0x6C:  # l
            count = self.varint()
            if count > len(self.buf) - self.pos:
                raise DecodeError("list longer than its record")
            return tuple(self.value(depth + 1) for _ in range(count))
        if tag == 0x6D:  # m
            count = self.varint()
            if count * 2 > len(self.buf) - self.pos:
                raise DecodeError("map longer than its record")
            out: dict = {}
            for _ in range(count):
                key = self.value(depth + 1)
                try:
                    out[key] = self.value(depth + 1)
                except TypeError as exc:
                    raise DecodeError("unhashable map key") from exc
            if len(out) != count:  # also true and 1, false and 0: one key to Python
                raise DecodeError("a map holding one key twice")
            return MappingProxyType(out)
        if tag in (0x71, 0x53, 0x6B):  # q S k
            return self.late(tag, depth)
        raise DecodeError(f"unknown value tag {tag:#04x}")

    def late(self, tag: int, depth: int) -> object:
        from fractions import Fraction

        from .values import ProtoSet, StoredBlock, captured_ok

        if tag == 0x71:  # q
            n = self.varint()
            d = self.varint()
            if d < 2:
                raise DecodeError("a fraction's denominator is 2 or more")
            value = Fraction((n >> 1) if not n & 1 else -((n + 1) >> 1), d)
            if value.denominator != d:
                raise DecodeError("a fraction not in lowest terms")
            return value
        if tag == 0x53:  # S
            count = self.varint()
            if count > len(self.buf) - self.pos:
                raise DecodeError("set longer than its record")
            items = [self.value(depth + 1) for _ in range(count)]
            try:
                value = ProtoSet(items, frozen=True)
            except TypeError as exc:
                raise DecodeError("unhashable set element") from exc
            if len(value) != count:
                raise DecodeError("a set holding one value twice")
            return value
        source = self.value(depth + 1)
        captured = self.value(depth + 1)
        if type(source) is not str or type(captured) is not MappingProxyType \
                or not captured_ok(captured):
            raise DecodeError("a block is its source text and a map of captured variable "
                              "names")
        return StoredBlock(source, captured)


def decode(data: bytes, ref=None, start: int = 0) -> object:
    """Decode one value that fills `data[start:]`; `ref(oid)` makes references live."""
    value, end = decode_prefix(data, ref, start)
    if end != len(data):
        raise DecodeError("trailing bytes after value")
    return value


def decode_prefix(data: bytes, ref=None, start: int = 0) -> tuple[object, int]:
    """Decode the value at `data[start:]`; return it and where it ends."""
    reader = _Reader(data, ref)
    reader.pos = start
    try:
        return reader.value(0), reader.pos
    except RecursionError:
        raise DecodeError("value nests too deeply") from None
