"""``check()``: can this host run the sandbox, and with which policy?"""

from __future__ import annotations

from . import host, policy
from .errors import INSTALL_HINT, USERNS_HINT, SandboxUnavailable
from .limits import Limits


def check(*, bwrap: str | None = None) -> dict[str, object]:
    """A report as plain data. ``usable`` is True only if a real policy run of
    ``true`` succeeded; ``error`` and ``fix`` say what to do otherwise."""
    as_root = host.running_as_root()
    report: dict[str, object] = {
        "usable": False,
        "bwrap": {"path": None, "version": None},
        "namespaces": {"ok": False, "error": None},
        "user_namespaces": {"ok": False, "error": None, "needed": not as_root},
        "helpers": {},
        "mode": "root: no user namespace, setpriv to a random uid" if as_root
        else "user namespace",
        "probe": None,
        "policy": policy.describe(as_root),
        "memory": memory_mode(),
        "error": None,
        "fix": None,
    }
    try:
        path = host.find_bwrap(bwrap)
    except SandboxUnavailable as exc:
        report.update(error=str(exc), fix=INSTALL_HINT)
        return report
    report["bwrap"] = {"path": path, "version": host.bwrap_version(path)}
    try:
        host.require_supported(path)
    except SandboxUnavailable as exc:
        report.update(error=str(exc), fix=INSTALL_HINT)
        return report

    helpers: dict[str, str | None] = {}
    for name in ("prlimit", *(["setpriv"] if as_root else []), "true"):
        try:
            helpers[name] = host.find_helper(name)
        except SandboxUnavailable as exc:
            helpers[name] = None
            report.update(error=str(exc), fix="apt-get install -y util-linux")
    report["helpers"] = helpers
    if report["error"]:
        return report

    ns_error = host.probe_namespaces(path)
    report["namespaces"] = {"ok": ns_error is None, "error": ns_error}
    user_error = host.probe_namespaces(path, user=True)
    report["user_namespaces"] = {"ok": user_error is None, "error": user_error,
                                 "needed": not as_root}
    if ns_error is not None or (user_error is not None and not as_root):
        report.update(error=f"bubblewrap cannot create namespaces: {ns_error or user_error}",
                      fix=USERNS_HINT)
        return report

    from .runner import run  # local: check() is also used before anything runs

    try:
        verdict = run(["true"], bwrap=path, limits=Limits(wall_s=15))
    except (SandboxUnavailable, ValueError) as exc:
        report.update(error=str(exc), fix=USERNS_HINT)
        return report
    report["probe"] = {"status": verdict.status, "kind": verdict.kind,
                       "duration_s": verdict.duration_s, "stderr": verdict.stderr[-500:]}
    if verdict.ok:
        report["usable"] = True
    else:
        report["error"] = f"the policy probe failed: {verdict.kind}: {verdict.stderr.strip()}"
    return report


def memory_mode(limits: Limits | None = None) -> dict[str, object]:
    """How ``memory_mb`` is held on this host, found by really creating a cgroup:
    ``cgroup`` (one cgroup v2 memory.max for the whole sandbox, and RLIMIT_AS per
    process) or ``per-process`` (no cgroup: RLIMIT_AS per process, the budget divided
    among processes so that their sum stays within it; ``reason`` says why)."""
    from . import cgroup

    limits = limits or Limits()
    found = cgroup.probe(limits.memory_mb)
    split = limits if found["available"] else limits.per_process()
    return {
        "mode": "cgroup" if found["available"] else "per-process",
        "cgroup_parent": found["parent"],
        "swap_limited": found["swap_limited"],
        "reason": found["reason"],
        "memory_mb": limits.memory_mb,
        "process_memory_mb": round(split.memory_mb, 1),
        "processes": split.processes,
    }
