"""Finding a shared library by path or soname, without loading it."""

from __future__ import annotations

import os
import subprocess

from ..world.errors import UsageError


def resolve_library(library: str) -> str:
    """The file a library name refers to: a path as given, or a soname via ldconfig."""
    if os.sep in library:
        if not os.path.isfile(library):
            raise UsageError(f"library {library} does not exist")
        return os.path.abspath(library)
    try:
        listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    for line in listing.splitlines():
        name, _, rest = line.strip().partition(" ")
        if name == library and "=>" in rest:
            return rest.split("=>", 1)[1].strip()
    raise UsageError(f"library {library} not found (give a path, or a soname ldconfig knows)")
