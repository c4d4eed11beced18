"""Finding a shared library by path, soname or short name, without loading it.

Short names resolve as `ctypes.util.find_library` and the linker's `-l` do: the
ldconfig cache first (`z` is libz.so.1, `bz2` is libbz2.so.1.0), and a soname given
without its last version parts (`libbz2.so.1`) is the one that extends it. What a
library object keeps is the runtime soname it resolved to, so learned bindings open the
same file the name meant when it was added.
"""

from __future__ import annotations

import os
import re
import subprocess

from ..errors import UsageError

_SONAME = re.compile(r"^lib(?P<stem>.+?)\.so(?P<version>(\.\d+)*)$")


def _cache() -> dict[str, str]:
    """soname -> path, from the ldconfig cache (this machine's, x86-64 or not: its own)."""
    try:
        listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    out: dict[str, str] = {}
    for line in listing.splitlines():
        name, _, rest = line.strip().partition(" ")
        if "=>" in rest and name not in out:
            out[name] = rest.split("=>", 1)[1].strip()
    return out


def _version(soname: str) -> tuple[int, ...]:
    match = _SONAME.match(soname)
    digits = match.group("version") if match else ""
    return tuple(int(d) for d in digits.split(".") if d)


def library_name(library: str) -> str:
    """The path, or the runtime soname, a library name refers to."""
    if os.sep in library:
        if not os.path.isfile(library):
            raise UsageError(f"library {library} does not exist")
        return os.path.abspath(library)
    cache = _cache()
    if library in cache and _version(library):
        return library
    # a soname short of its last version parts (or the dev name), else a linker's -l name
    if library.startswith("lib") and ".so" in library:
        stem = library
    elif library.startswith("lib") and (f"{library}.so" in cache or any(
            n.startswith(f"{library}.so.") for n in cache)):
        stem = f"{library}.so"  # `libz`: the lib prefix written out
    else:
        stem = f"lib{library}.so"
    found = [name for name in cache
             if name.startswith(stem + ".") and _SONAME.match(name)
             and name[len(stem) + 1:].replace(".", "").isdigit()]
    if found:
        return max(found, key=lambda n: (_version(n), -len(n)))
    for name in (library, f"lib{library}.so", f"{library}.so"):
        if name in cache:  # an unversioned soname only (libtcl8.6.so, a plugin)
            return name
    import difflib

    near = difflib.get_close_matches(library, list(cache), n=3, cutoff=0.5) or \
        difflib.get_close_matches(f"lib{library}.so", list(cache), n=3, cutoff=0.5)
    hint = f" (closest on this system: {', '.join(near)})" if near else \
        " (give a path, or a soname ldconfig knows)"
    raise UsageError(f"library {library} not found{hint}")


def resolve_library(library: str) -> str:
    """The file a library name refers to."""
    name = library_name(library)
    if os.sep in name:
        return name
    return _cache().get(name, name)
