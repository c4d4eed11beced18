"""The functions a shared library exports, read from its ELF dynamic symbol table.

A header pulls in other headers (zlib.h brings unistd.h), so its prototypes name
functions the library does not have. Reading `.dynsym` as bytes tells which
ones it does, without loading the library (no constructors run in proto's own
process).
"""

from __future__ import annotations

import struct

_FUNC_TYPES = (2, 10)  # STT_FUNC, STT_GNU_IFUNC
_BINDINGS = (1, 2)  # STB_GLOBAL, STB_WEAK
_SHT_DYNSYM = 11


def exported_functions(path: str) -> frozenset[str] | None:
    """Names of the functions the library defines; None when it is not a readable ELF."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        return _functions(data)
    except (OSError, struct.error, IndexError, ValueError):
        return None


def _functions(data: bytes) -> frozenset[str] | None:
    if data[:4] != b"\x7fELF":
        return None
    wide = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if wide:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
        section = end + "IIQQQQIIQQ"
        symbol, symsize = end + "IBBHQQ", 24
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
        section = end + "IIIIIIIIII"
        symbol, symsize = end + "IIIBBH", 16
    sections = [struct.unpack_from(section, data, shoff + i * shentsize) for i in range(shnum)]
    names: set[str] = set()
    for sec in sections:
        if sec[1] != _SHT_DYNSYM:
            continue
        offset, size, link = sec[4], sec[5], sec[6]
        strtab = sections[link][4]
        for i in range(1, size // symsize):
            fields = struct.unpack_from(symbol, data, offset + i * symsize)
            if wide:
                name_at, info, shndx = fields[0], fields[1], fields[3]
            else:
                name_at, info, shndx = fields[0], fields[3], fields[5]
            if shndx == 0 or info & 0xF not in _FUNC_TYPES or info >> 4 not in _BINDINGS:
                continue
            stop = data.index(b"\0", strtab + name_at)
            names.add(data[strtab + name_at:stop].decode("ascii", errors="replace"))
    return frozenset(names) if names else None
