"""What the host offers: the bubblewrap binary and the util-linux helpers.

Lookups are cached per (override) so that a run does not pay for PATH scans."""

from __future__ import annotations

import functools
import os
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
    import shutil  # only on the first lookup: cached

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


#: Oldest bubblewrap with every option the policy uses (--disable-userns is 0.8.0).
MIN_BWRAP = (0, 8, 0)


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """(0, 8, 0) from "bubblewrap 0.8.0"; None if there is no version number."""
    for word in (text or "").split():
        parts = word.split(".")
        if len(parts) >= 2 and all(p.isdigit() for p in parts):
            return tuple(int(p) for p in parts)
    return None


def require_supported(path: str) -> None:
    """SandboxUnavailable if this bwrap is too old for the policy's options."""
    version = parse_version(bwrap_version(path))
    if version is not None and version < MIN_BWRAP:
        wanted = ".".join(map(str, MIN_BWRAP))
        raise SandboxUnavailable(
            f"bubblewrap {'.'.join(map(str, version))} at {path} is too old; the sandbox "
            f"needs >= {wanted}: {INSTALL_HINT} (Debian 12 / Ubuntu 24.04 or newer)"
        )


def running_as_root() -> bool:
    """Root needs a different policy: see policy.py (uid drop instead of a user namespace)."""
    return os.geteuid() == 0


def probe_namespaces(bwrap: str, *, user: bool = False) -> str | None:
    """None if ``bwrap --unshare-all [--unshare-user] ... true`` works, else its error.

    The cheapest real test: documentation of sysctls varies by distribution, an
    actual attempt does not."""
    true = find_helper("true")
    flags = ["--unshare-all", *(["--unshare-user"] if user else [])]
    try:
        res = subprocess.run(
            [bwrap, *flags, "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc",
             "--dev", "/dev", "--", true],
            capture_output=True, text=True, timeout=30, env={}, check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if res.returncode == 0:
        return None
    return (res.stderr.strip() or f"exit status {res.returncode}").splitlines()[0]
