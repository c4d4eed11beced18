"""The build's temporary work directory: named by its owner, swept once the owner is gone.

A build works in ``$TMPDIR/proto-build-PID-RANDOM``. A build killed outright (SIGKILL,
power loss) cannot remove it, so every build first removes the work directories of
builds whose process no longer exists: the convention of ``image_format.files.sweep``
for temporary files, applied to directories.

What is never removed: a directory whose process lives (or whose pid we may not
signal: another user's live process), anything that is not a real directory (a
symlink named like a work directory, planted to point at ``/home``, stays), a
directory another user owns, and a name without a pid (made before work directories
carried one: its owner cannot be told). The removal itself never follows a symlink
(``shutil.rmtree``'s descriptor-based walk; where the platform lacks it, nothing is
swept).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile

from image_format.files import alive

PREFIX = "proto-build-"


def prefix() -> str:
    """The ``tempfile`` prefix of this process's work directory: ``proto-build-PID-``."""
    return f"{PREFIX}{os.getpid()}-"


def owner(name: str) -> int | None:
    """The pid a work directory's name carries, or None if it is not one of ours."""
    if not name.startswith(PREFIX):
        return None
    pid, sep, rest = name[len(PREFIX):].partition("-")
    if not sep or not rest or not pid.isdigit() or pid.startswith("0"):
        return None
    return int(pid)


def sweep(folder: str | None = None) -> list[str]:
    """Remove the work directories in ``folder`` (default: the temporary directory)
    left by builds whose process is gone; answer the paths removed."""
    if not shutil.rmtree.avoids_symlink_attacks:
        return []
    folder = folder or tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    me, uid = os.getpid(), os.geteuid()
    removed = []
    for name in names:
        pid = owner(name)
        if pid is None or pid == me or alive(pid):
            continue
        path = os.path.join(folder, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid:
            continue  # a symlink, a file, or someone else's: never ours to remove
        # rmtree re-checks that what it opens is what lstat saw (no swap for a symlink)
        # and unlinks links inside instead of following them.
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            removed.append(path)
    return removed
