"""A memory limit for one sandbox's whole process tree: a cgroup v2 child cgroup.

RLIMIT_AS binds each process alone; 64 processes of 256 MB each hold 16 GB. A cgroup
counts them together. For each run, ``Group.create`` makes a leaf cgroup
``proto-sandbox-PID-RANDOM`` under this process's own cgroup (or under the cgroup
named by ``PROTO_SANDBOX_CGROUP``, for a host that delegates one), with
``memory.max`` set to the run's budget and ``memory.swap.max`` to 0 where swap is
accounted. bubblewrap is moved into it before it starts (``enter``, run between fork
and exec), so every process of the sandbox is born inside. ``close`` kills whatever
is left and removes the cgroup; a cgroup whose owner was killed outright is removed by
the next run (``sweep``).

It works only where the kernel lets us: a cgroup2 hierarchy with the memory
controller (not a hybrid host where memory is bound to cgroup v1), a parent cgroup
whose ``cgroup.subtree_control`` has, or can be given, ``memory`` (a non-root cgroup
holding processes cannot: cgroup v2 forbids "internal processes"), and the right to
create a child there. ``Group.create`` raises ``Unavailable`` with the reason
otherwise, and the runner divides the budget among processes instead (see
``Limits.per_process``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time

PREFIX = "proto-sandbox-"
#: A directory whose children proto may create (a delegated cgroup v2 cgroup).
PARENT_ENV = "PROTO_SANDBOX_CGROUP"
#: How long close() waits for the killed processes to leave before giving up (the
#: next run's sweep then removes the cgroup).
CLOSE_S = 5.0


class Unavailable(Exception):
    """No cgroup memory limit here; the message says why."""


def _unescape(field: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as \\ooo."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def cgroup2_mounts(mountinfo: str) -> list[tuple[str, str]]:
    """(mount point, root within the hierarchy) of every cgroup2 mount."""
    found = []
    for line in mountinfo.splitlines():
        head, sep, tail = line.partition(" - ")
        fields = head.split()
        if sep and tail.split()[:1] == ["cgroup2"] and len(fields) >= 5:
            found.append((_unescape(fields[4]), _unescape(fields[3])))
    return found


def own_paths(proc_cgroup: str) -> tuple[str | None, bool]:
    """(this process's cgroup v2 path, whether a cgroup v1 hierarchy has memory)."""
    v2, v1_memory = None, False
    for line in proc_cgroup.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":
            v2 = path
        elif "memory" in controllers.split(","):
            v1_memory = True
    return v2, v1_memory


def locate(mountinfo: str, proc_cgroup: str) -> str:
    """The directory of this process's cgroup v2 cgroup; Unavailable if none."""
    mounts = cgroup2_mounts(mountinfo)
    path, v1_memory = own_paths(proc_cgroup)
    v1 = " (the memory controller is bound to a cgroup v1 hierarchy)" if v1_memory else ""
    if not mounts:
        raise Unavailable(f"no cgroup2 file system is mounted{v1}")
    if path is None:
        raise Unavailable(f"this process is in no cgroup v2 cgroup{v1}")
    path = path.removesuffix(" (deleted)")
    for point, root in mounts:
        if root == "/" or path == root or path.startswith(root.rstrip("/") + "/"):
            rel = path[len(root.rstrip("/")):] if root != "/" else path
            directory = os.path.normpath(point + "/" + rel.lstrip("/"))
            if os.path.isdir(directory):
                return directory
    raise Unavailable(f"this process's cgroup {path} is not visible under the cgroup2 "
                      f"mount{'s' if len(mounts) > 1 else ''} "
                      f"{', '.join(p for p, _ in mounts)}{v1}")


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as fh:
        return fh.read()


def _write(path: str, text: str) -> None:
    """Write to an existing control file (never create one: a plain directory is
    not a cgroup, and must not be mistaken for one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def parent() -> str:
    """The cgroup under which sandbox cgroups are made, with ``memory`` enabled for
    its children; Unavailable (with the reason) if there is none."""
    override = os.environ.get(PARENT_ENV)
    if override:
        directory = os.path.abspath(override)
        where = f"{PARENT_ENV}={override}"
    else:
        try:
            directory = locate(_read("/proc/self/mountinfo"), _read("/proc/self/cgroup"))
        except OSError as exc:
            raise Unavailable(f"cannot read this process's cgroup: {exc}") from None
        where = f"this process's cgroup {directory}"
    try:
        controllers = _read(os.path.join(directory, "cgroup.controllers")).split()
        enabled = _read(os.path.join(directory, "cgroup.subtree_control")).split()
    except OSError as exc:
        raise Unavailable(f"{where} is not a cgroup v2 cgroup ({exc.strerror or exc})") from None
    if "memory" not in controllers:
        try:
            _, v1_memory = own_paths(_read("/proc/self/cgroup"))
        except OSError:
            v1_memory = False
        offered = f"{where} offers only: {' '.join(controllers) or 'none'}"
        if v1_memory:
            raise Unavailable(f"the memory controller is bound to a cgroup v1 hierarchy, "
                              f"not to cgroup v2 ({offered})")
        raise Unavailable(f"the memory controller is not available in cgroup v2 ({offered})")
    if "memory" not in enabled:
        try:
            _write(os.path.join(directory, "cgroup.subtree_control"), "+memory")
        except OSError as exc:
            why = ("it holds processes, and cgroup v2 lets only a cgroup without "
                   "processes share memory among children" if exc.errno == errno.EBUSY
                   else exc.strerror or str(exc))
            raise Unavailable(f"cannot enable the memory controller for the children of "
                              f"{where}: {why}") from None
    return directory


class Group:
    """One sandbox run's cgroup. ``enter`` runs in the child between fork and exec."""

    def __init__(self, path: str, procs_fd: int, limit_bytes: int, swap: bool) -> None:
        self.path = path
        self.procs_fd = procs_fd
        self.limit_bytes = limit_bytes
        self.swap_limited = swap

    @classmethod
    def create(cls, memory_mb: float) -> Group:
        """A fresh cgroup limited to ``memory_mb`` in all; Unavailable if impossible
        (then nothing is left behind)."""
        base = parent()
        sweep(base)
        path = os.path.join(base, f"{PREFIX}{os.getpid()}-{os.urandom(6).hex()}")
        try:
            os.mkdir(path, 0o755)
        except OSError as exc:
            raise Unavailable(f"cannot create a cgroup in {base}: "
                              f"{exc.strerror or exc}") from None
        limit = int(memory_mb * 1024 * 1024)
        try:
            _write(os.path.join(path, "memory.max"), str(limit))
            swap = os.path.exists(os.path.join(path, "memory.swap.max"))
            if swap:
                _write(os.path.join(path, "memory.swap.max"), "0")
            got = int(_read(os.path.join(path, "memory.max")).strip())  # in whole pages
            if not 0 < got <= limit:
                raise OSError(errno.EINVAL, f"memory.max reads {got}, not {limit}")
            procs_fd = os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
        except (OSError, ValueError) as exc:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            raise Unavailable(f"cannot set the memory limit of a cgroup in {base}: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
        return cls(path, procs_fd, limit, swap)

    def enter(self) -> None:
        """Move the calling process into the cgroup (``preexec_fn``: after fork, before
        exec; so bwrap and all it starts are born inside)."""
        os.write(self.procs_fd, b"0")

    def events(self) -> dict[str, int]:
        """memory.events counters (``oom_kill``: processes the limit killed)."""
        out: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for line in _read(os.path.join(self.path, "memory.events")).splitlines():
                key, _, value = line.partition(" ")
                if value.strip().isdigit():
                    out[key] = int(value)
        return out

    def peak_bytes(self) -> int | None:
        """The most the sandbox held at once (memory.peak, Linux 5.19+)."""
        try:
            return int(_read(os.path.join(self.path, "memory.peak")).strip())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Kill every process still inside and remove the cgroup."""
        if self.procs_fd >= 0:
            os.close(self.procs_fd)
            self.procs_fd = -1
        remove(self.path, wait_s=CLOSE_S)


def kill_all(path: str) -> None:
    """SIGKILL every process in the cgroup at ``path`` (cgroup.kill where there is one)."""
    try:
        _write(os.path.join(path, "cgroup.kill"), "1")
        return
    except OSError:
        pass
    with contextlib.suppress(OSError):
        for pid in _read(os.path.join(path, "cgroup.procs")).split():
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid), signal.SIGKILL)


def remove(path: str, wait_s: float = 0.0) -> bool:
    """Kill what is inside the cgroup and remove it; False if it is still there."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return False
        kill_all(path)
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def sweep(base: str) -> None:
    """Remove the cgroups of runs whose process is gone (killed outright: SIGKILL
    leaves no chance to clean up; bwrap's --die-with-parent has killed the sandbox)."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        pid, sep, rest = name.removeprefix(PREFIX).partition("-")
        if (name.startswith(PREFIX) and sep and rest and pid.isdigit()
                and int(pid) != os.getpid() and not _alive(int(pid))):
            remove(os.path.join(base, name))


def probe(memory_mb: float) -> dict[str, object]:
    """What ``proto sandbox check`` reports: can a run get a cgroup memory limit here?
    Really creates (and removes) one."""
    try:
        group = Group.create(memory_mb)
    except Unavailable as exc:
        return {"available": False, "parent": None, "swap_limited": False, "reason": str(exc)}
    try:
        return {"available": True, "parent": os.path.dirname(group.path),
                "swap_limited": group.swap_limited, "reason": None}
    finally:
        group.close()
