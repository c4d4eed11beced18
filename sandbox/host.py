"""What the host offers: the bubblewrap binary and the util-linux helpers.

Lookups are cached per (override) so that a run does not pay for PATH scans."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from .errors import INSTALL_HINT, SandboxUnavailable

#: Environment variable that overrides which bwrap is used (a path or a name on PATH).
BWRAP_ENV = "PROTO_SANDBOX_BWRAP"
#: Where helpers are searched: system directories only, never the caller's PATH.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def find_bwrap(override: str | None = None) -> str:
    """Absolute path of bwrap, or SandboxUnavailable naming the install command."""
    wanted = override or os.environ.get(BWRAP_ENV) or "bwrap"
    found = _which(wanted, os.environ.get("PATH", "") + os.pathsep + SYSTEM_PATH)
    if found is None:
        raise SandboxUnavailable(
            f"bubblewrap is not installed (no executable {wanted!r} found): {INSTALL_HINT}"
        )
    return found


def find_helper(name: str) -> str:
    """Absolute path of a util-linux helper (prlimit, setpriv) on the system PATH."""
    found = _which(name, SYSTEM_PATH)
    if found is None:
        raise SandboxUnavailable(
            f"{name} (util-linux) is not installed; it applies the sandbox limits: "
            "apt-get install -y util-linux"
        )
    return found


@functools.lru_cache(maxsize=8)
def _which(name: str, path: str) -> str | None:
    found = shutil.which(name, path=path)
    return os.path.abspath(found) if found else None


@functools.lru_cache(maxsize=8)
def bwrap_version(path: str) -> str | None:
    """``bwrap --version`` output (e.g. "bubblewrap 0.8.0"), None if it cannot run."""
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def running_as_root() -> bool:
    """Root needs a different policy: see policy.py (uid drop instead of a user namespace)."""
    return os.geteuid() == 0
