"""Errors and warnings of the sandbox package."""

from __future__ import annotations

INSTALL_HINT = "apt-get install -y bubblewrap"
USERNS_HINT = (
    "allow user namespaces (e.g. `sysctl -w kernel.unprivileged_userns_clone=1`, "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or run the container "
    "with --privileged / an unconfined seccomp profile), or run as root"
)


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be used on this host; the message names the fix.

    Raised instead of ever running untrusted code unsandboxed (unless the caller
    explicitly passed ``allow_unsandboxed=True``)."""


class UnsandboxedWarning(UserWarning):
    """Emitted every time code runs WITHOUT the sandbox because of an explicit opt-out."""
