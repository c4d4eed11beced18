"""The sandbox policy, turned into a bubblewrap command line.

What the sandbox sees:

* every namespace unshared (mount, pid, net, ipc, uts, cgroup; user when not root):
  no network at all, not even the host's loopback;
* a read-only root made of: /usr (and the /bin, /lib* links or dirs of the host),
  the Python runtime that runs this code (prefix, base prefix, site-packages),
  /etc/ld.so.cache and /etc/alternatives (loader cache and update-alternatives
  symlinks, no secrets), and the caller's ``binds``; nothing else of the host:
  no /home, no /root contents, no /etc/shadow, no project or image files;
* a fresh, size-capped tmpfs at /tmp and at the working directory /sandbox;
  the rest of the tree is read-only (the root tmpfs is remounted read-only);
* a cleared environment plus PATH, LANG, HOME=/sandbox, TMPDIR=/tmp;
* a new session (no TIOCSTI into the caller's terminal), and death with its parent.

Who runs inside: as a normal user, bwrap builds an unprivileged user namespace
(``--unshare-all``, nested user namespaces disabled) and RLIMIT_NPROC, set inside
it, counts only the sandbox's processes. As root that does not work: the kernel
never applies RLIMIT_NPROC to uid 0 and bwrap would only map uid 0 into its user
namespace, so under root the sandbox skips the user namespace, drops every
capability and runs the program under ``setpriv`` as a fresh, unused uid chosen per
run (a process budget of its own, no files of its own anywhere on the host).
"""

from __future__ import annotations

import functools
import os
import site
import sys
from collections.abc import Iterable, Sequence

from .limits import Limits

WORKDIR = "/sandbox"
MAIN_SCRIPT = "main.py"
HOSTNAME = "sandbox"
SANDBOX_ENV: dict[str, str] = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": WORKDIR,
    "TMPDIR": "/tmp",
}
#: Harmless /etc entries: the dynamic loader cache and update-alternatives symlinks
#: (``cc``, ``awk``...). Nothing else of /etc exists inside.
ETC_PATHS = ("/etc/ld.so.cache", "/etc/alternatives")
#: Host top-level entries that hold system binaries and libraries.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: Under root, sandboxes run as SANDBOX_UID_BASE + random(SANDBOX_UID_SPAN): uids no
#: account or file on the host uses.
SANDBOX_UID_BASE = 0x70000000
SANDBOX_UID_SPAN = 1 << 20
PYTHON_FLAGS = ("-B", "-s")  # no .pyc writes, no user site-packages


def normalize_binds(binds: Iterable[str]) -> list[tuple[str, str]]:
    """Caller binds as (source, dest) pairs: "PATH" or "SRC:DEST", absolute, existing."""
    out: list[tuple[str, str]] = []
    for spec in binds:
        src, sep, dest = spec.partition(":")
        dest = dest if sep else src
        if not src or not dest:
            raise ValueError(f"bad bind {spec!r}: expected PATH or SRC:DEST")
        src = os.path.abspath(src)
        if not os.path.isabs(dest) or ".." in dest.split("/"):
            raise ValueError(f"bad bind {spec!r}: destination must be an absolute path")
        if not os.path.exists(src):
            raise ValueError(f"bind source does not exist: {src}")
        if dest in ("/", "/tmp", WORKDIR) or any(_under(dest, p) for p in ("/proc", "/dev")):
            raise ValueError(f"bad bind {spec!r}: cannot bind over /, /tmp, {WORKDIR}, /proc, /dev")
        out.append((src, os.path.normpath(dest)))
    return out


def library_binds(library: str, header_dir: str | None = None) -> list[str]:
    """Binds for one native library (and its headers): the path as given plus, when
    it is a symlink (libfoo.so -> libfoo.so.1.2), the file it resolves to."""
    paths = [os.path.abspath(library), os.path.realpath(library)]
    if header_dir:
        paths.append(os.path.abspath(header_dir))
    return list(dict.fromkeys(paths))


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


@functools.lru_cache(maxsize=1)
def system_args() -> tuple[str, ...]:
    """/usr read-only plus the host's /bin, /lib* as the same symlinks or dirs."""
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return tuple(args)


def _system_roots() -> list[str]:
    return [p for p in SYSTEM_DIRS if os.path.isdir(p) and not os.path.islink(p)]


@functools.lru_cache(maxsize=1)
def python_runtime_paths() -> tuple[str, ...]:
    """Directories the current interpreter needs: prefixes and site-packages.

    Paths inside /usr are dropped (already bound), as are paths nested in another."""
    candidates: set[str] = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              *site.getsitepackages(), os.path.dirname(sys.executable)):
        if p:
            candidates.add(os.path.abspath(p))
            candidates.add(os.path.realpath(p))
    return tuple(_minimize(candidates, covered=_system_roots()))


def _minimize(paths: Iterable[str], covered: Sequence[str]) -> list[str]:
    kept: list[str] = list(covered)
    out: list[str] = []
    for p in sorted(set(paths), key=lambda s: (s.count("/"), s)):
        if not os.path.exists(p) or any(_under(p, k) for k in kept):
            continue
        kept.append(p)
        out.append(p)
    return out


def _ro_bind_args(pairs: Iterable[tuple[str, str]], made: set[str]) -> list[str]:
    """``--ro-bind`` for each pair, creating missing parents as 0755 first (bwrap would
    copy the host's modes, and e.g. a 0700 /root would lock the sandbox user out)."""
    args: list[str] = []
    for src, dest in pairs:
        parts = dest.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/" + "/".join(parts[:i])
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", parent]
        args += ["--ro-bind", src, dest]
        made.add(dest)
    return args


@functools.lru_cache(maxsize=4)
def _static(as_root: bool) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str],
                                     tuple[str, ...]]:
    """The parts of the bwrap command line that are the same for every run (cached):
    namespaces and mounts before the tmpfs, the runtime binds after it (a venv may
    live under /tmp), the directories they create and the host paths they bind."""
    if as_root:
        ns = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try",
              # setpriv needs these three to drop to the sandbox uid; it then clears
              # every capability set, the bounding set included.
              "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
              "--cap-add", "CAP_SETPCAP"]
    else:
        ns = ["--unshare-all", "--unshare-user", "--disable-userns"]
    head = (*ns, "--die-with-parent", "--new-session", "--hostname", HOSTNAME,
            *system_args(), "--proc", "/proc", "--dev", "/dev")
    made = {*_system_roots(), "/proc", "/dev", "/tmp", WORKDIR}
    bound = [p for p in (*python_runtime_paths(), *ETC_PATHS) if os.path.exists(p)]
    runtime = tuple(_ro_bind_args([(p, p) for p in bound], made))
    return head, runtime, frozenset(made), (*_system_roots(), *bound)


def build_argv(
    *,
    bwrap: str,
    prlimit: str,
    setpriv: str | None,
    sandbox_uid: int | None,
    limits: Limits,
    command: Sequence[str],
    binds: Sequence[tuple[str, str]] = (),
    files: Sequence[tuple[int, str]] = (),
    env: dict[str, str] | None = None,
    status_fd: int | None = None,
) -> list[str]:
    """Full argv: bwrap [policy] -- [setpriv ...] prlimit [limits] -- command.

    ``files`` are (fd, relative path) pairs copied by bwrap into the working dir;
    ``sandbox_uid``/``setpriv`` are given only when running as root."""
    as_root = sandbox_uid is not None
    tmpfs_bytes = str(int(limits.tmpfs_mb * 1024 * 1024))
    head, runtime, made_static, bound = _static(as_root)
    made = set(made_static)
    argv = [bwrap, *head]
    argv += ["--perms", "1777", "--size", tmpfs_bytes, "--tmpfs", "/tmp"]
    argv += ["--perms", "0777" if as_root else "0755", "--size", tmpfs_bytes,
             "--tmpfs", WORKDIR]
    # binds after the tmpfs mounts, so that host paths under /tmp can be bound too
    argv += runtime
    extra = [(s, d) for s, d in binds if not (s == d and any(_under(d, b) for b in bound))]
    argv += _ro_bind_args(extra, made)
    for fd, rel in files:
        argv += ["--perms", "0666" if as_root else "0644", "--file", str(fd),
                 f"{WORKDIR}/{rel}"]
    argv += ["--remount-ro", "/", "--chdir", WORKDIR, "--clearenv"]
    for key, value in {**SANDBOX_ENV, **(env or {})}.items():
        argv += ["--setenv", key, value]
    if status_fd is not None:
        argv += ["--json-status-fd", str(status_fd)]
    argv.append("--")
    if as_root:
        if setpriv is None:
            raise ValueError("setpriv is required when running as root")
        argv += [setpriv, f"--reuid={sandbox_uid}", f"--regid={sandbox_uid}",
                 "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
    argv += [prlimit, *limits.prlimit_args(), "--", *command]
    return argv


def python_command(args: Sequence[str] = ()) -> list[str]:
    """How ``python_source`` is run: this very interpreter on WORKDIR/main.py."""
    return [sys.executable, *PYTHON_FLAGS, f"{WORKDIR}/{MAIN_SCRIPT}", *args]


def validate_relpath(name: str) -> str:
    """A file name for the working directory: relative, no '..', no empty parts."""
    parts = name.split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"bad sandbox file name {name!r}: use a relative path without '..'")
    return name


def validate_env(env: dict[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (env or {}).items():
        if not key or "=" in key or "\0" in key or "\0" in str(value):
            raise ValueError(f"bad environment variable name {key!r}")
        out[key] = str(value)
    return out


def describe(as_root: bool) -> dict[str, object]:
    """The policy as data, for ``check()`` and ``proto sandbox check``."""
    return {
        "namespaces": (["mount", "pid", "net", "ipc", "uts", "cgroup"]
                       + ([] if as_root else ["user"])),
        "network": "none (own network namespace, loopback only)",
        "identity": (f"random uid in [{SANDBOX_UID_BASE}, {SANDBOX_UID_BASE + SANDBOX_UID_SPAN})"
                     " via setpriv, no capabilities" if as_root
                     else "caller's uid inside an unprivileged user namespace"),
        "read_only_binds": [p for p in SYSTEM_DIRS if os.path.isdir(p) and not os.path.islink(p)]
        + list(python_runtime_paths()) + [p for p in ETC_PATHS if os.path.exists(p)],
        "symlinks": {p: os.readlink(p) for p in SYSTEM_DIRS if os.path.islink(p)},
        "tmpfs": ["/tmp", WORKDIR],
        "workdir": WORKDIR,
        "environment": dict(SANDBOX_ENV),
        "flags": ["--die-with-parent", "--new-session", "--clearenv", "--remount-ro /"],
        "python": sys.executable,
        "limits": Limits().to_dict(),
    }
