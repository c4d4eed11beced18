"""What a learned method imports when it runs: cached cffi libraries and marshalling.

Kept tiny and free of other proto imports: the same file is copied into the
sandbox so a binding is verified with exactly the code it will run with.
Foreign values (pointers) live only in the process; they are never stored.
"""

from __future__ import annotations

_LIBS: dict = {}
_FFIS: dict = {}


def declared(cdef: str):
    """An FFI with `cdef` parsed, cached: parsing is most of what binding costs (~25 ms
    with pycparser), and a confined call's child inherits what its parent parsed."""
    ffi = _FFIS.get(cdef)
    if ffi is None:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef(cdef)
        _FFIS[cdef] = ffi
    return ffi


def bind(library: str, cdef: str):
    """(ffi, lib) for a shared library and the declarations it is used with."""
    key = (library, cdef)
    hit = _LIBS.get(key)
    if hit is None:
        ffi = declared(cdef)
        hit = _LIBS[key] = (ffi, ffi.dlopen(library))
    return hit


def data(value: object) -> bytes:
    """A string or bytes argument as the bytes C will read (UTF-8 for strings)."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise TypeError(f"expected a string or bytes, got {kind(value)}")


def cbuf(ffi, ctype: str, value: object, nullable: bool = False):
    """A NUL-terminated copy of a string or bytes argument, typed as `ctype` points to;
    NULL for nil only where the binding was learned (and verified) with nil there
    (`check_version(NULL)`): elsewhere a function may not survive NULL (a length function)."""
    if value is None and nullable:
        return ffi.NULL
    raw = data(value)
    return ffi.new(f"{ctype}[]", raw + b"\0")


def integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {kind(value)}")
    return value


def real(value: object) -> float:
    t = type(value)
    if t.__name__ == "Fraction" and t.__module__ == "fractions":
        return float(value)  # an exact fraction reaches C as a double (a Smalltalk asFloat)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {kind(value)}")
    return float(value)


def kind(value: object) -> str:
    """A value's kind as the image's language says it (nil, not NoneType)."""
    names = {type(None): "nil", bool: "a boolean", int: "an integer", float: "a float",
             str: "a string", bytes: "bytes", list: "a list", tuple: "a list"}
    return names.get(type(value), "an object")


def text(ffi, pointer) -> str | None:
    """A returned `char *` as a string (None for NULL)."""
    if pointer == ffi.NULL:
        return None
    return ffi.string(pointer).decode("utf-8", "replace")


class Foreign:
    """A C pointer returned to the world: usable in this process only, never stored."""

    __slots__ = ("pointer", "ctype")

    def __init__(self, pointer, ctype: str) -> None:
        self.pointer = pointer
        self.ctype = ctype

    def proto_print(self) -> str:
        return f"a foreign {self.ctype}"
