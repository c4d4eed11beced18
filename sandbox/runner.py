"""``run()``: spawn a program inside bubblewrap and judge what it did."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence

from . import cgroup, host, policy
from .errors import USERNS_HINT, SandboxUnavailable, UnsandboxedWarning
from .limits import Limits
from .supervise import Outcome, supervise
from .verdict import Verdict, classify


def run(
    argv: Sequence[str] | None = None,
    *,
    python_source: str | None = None,
    files: Mapping[str, bytes | str] | None = None,
    binds: Sequence[str] = (),
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
    allow_unsandboxed: bool = False,
    bwrap: str | None = None,
) -> Verdict:
    """Run ``argv`` (or ``python_source`` with this interpreter, ``argv`` then being
    its arguments) in a fresh sandbox and return the Verdict.

    ``files`` are written into the working directory (a fresh tmpfs, /sandbox);
    ``binds`` are extra host paths mounted read-only ("PATH" or "SRC:DEST");
    ``env`` is added to the minimal environment. Raises SandboxUnavailable when
    bubblewrap is missing or cannot create its namespaces, unless
    ``allow_unsandboxed`` is set: then the program runs WITHOUT isolation (limits,
    deadline and output caps still apply) and an UnsandboxedWarning is emitted.
    ValueError for a bad invocation."""
    limits = limits or Limits()
    command = _command(argv, python_source)
    file_map = _files(files, python_source)
    bind_pairs = policy.normalize_binds(binds)
    extra_env = policy.validate_env(dict(env) if env else None)
    try:
        bwrap_path = host.find_bwrap(bwrap)
        host.require_supported(bwrap_path)
        prlimit = host.find_helper("prlimit")
        setpriv = host.find_helper("setpriv") if host.running_as_root() else None
        verdict = _run_sandboxed(bwrap_path, prlimit, setpriv, command, file_map, bind_pairs,
                                 extra_env, limits)
    except SandboxUnavailable as exc:
        if not allow_unsandboxed:
            raise
        warnings.warn(
            f"RUNNING UNSANDBOXED (explicit opt-out): {exc}", UnsandboxedWarning, stacklevel=2
        )
        return _run_unsandboxed(command, file_map, extra_env, limits)
    return verdict


def _command(argv: Sequence[str] | None, python_source: str | None) -> list[str]:
    if python_source is not None:
        return policy.python_command(list(argv or ()))
    if not argv:
        raise ValueError("nothing to run: give argv or python_source")
    return [str(a) for a in argv]


def _files(files: Mapping[str, bytes | str] | None, source: str | None) -> dict[str, bytes]:
    out = {
        policy.validate_relpath(name): data.encode() if isinstance(data, str) else bytes(data)
        for name, data in (files or {}).items()
    }
    if source is not None:
        if policy.MAIN_SCRIPT in out:
            raise ValueError(f"{policy.MAIN_SCRIPT!r} is reserved for python_source")
        out[policy.MAIN_SCRIPT] = source.encode()
    return out


def _memfd(name: str, data: bytes) -> int:
    """A non-inheritable in-memory file holding ``data`` (bwrap copies it in)."""
    fd = os.memfd_create(name.replace("/", "_")[:200], os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _Tree:
    """Kills the sandbox's whole process tree: the pid-namespace init (its death
    makes the kernel kill every process in the namespace), then bwrap itself."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.init_pidfd: int | None = None

    def learn(self, out: Outcome) -> None:
        if self.init_pidfd is not None:
            return
        for doc in out.status_docs:
            pid = doc.get("child-pid")
            if isinstance(pid, int) and pid > 1:
                self.init_pidfd = _pidfd_of_child(pid, self.proc.pid)
                return

    def kill(self, out: Outcome) -> None:
        self.kill_namespace(out)
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)

    def kill_namespace(self, out: Outcome) -> None:
        """Also used once bwrap exits: bwrap leaves as soon as the program's status
        is known, but its init would keep any background process alive (even one
        that closed its pipes). The run ends with its program: nothing outlives it."""
        self.learn(out)
        if self.init_pidfd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.init_pidfd, signal.SIGKILL)

    def close(self) -> None:
        if self.init_pidfd is not None:
            os.close(self.init_pidfd)
            self.init_pidfd = None


def _pidfd_of_child(pid: int, parent: int) -> int | None:
    """A pidfd for ``pid`` if it is still ``parent``'s child (so never a reused pid)."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        ppid = -1
    if ppid != parent:
        os.close(fd)
        return None
    return fd


def _run_sandboxed(
    bwrap: str,
    prlimit: str,
    setpriv: str | None,
    command: list[str],
    files: dict[str, bytes],
    binds: list[tuple[str, str]],
    env: dict[str, str],
    limits: Limits,
) -> Verdict:
    fds: list[int] = []
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    try:
        file_fds = []
        for name, data in files.items():
            fd = _memfd(name, data)
            fds.append(fd)
            file_fds.append((fd, name))
        uid = (policy.SANDBOX_UID_BASE
               + int.from_bytes(os.urandom(4), "little") % policy.SANDBOX_UID_SPAN
               if setpriv is not None else None)
        group, enforced = _memory_scope(limits)
        try:
            argv = policy.build_argv(
                bwrap=bwrap, prlimit=prlimit, setpriv=setpriv, sandbox_uid=uid,
                limits=enforced, command=command, binds=binds, files=file_fds, env=env,
                status_fd=status_w,
            )
            started = time.monotonic()
            proc = _spawn(argv, [status_w, *fds], group)
            if proc is None:  # could not enter the cgroup: divide the budget instead
                group.close()  # type: ignore[union-attr]
                group, enforced = None, limits.per_process()
                argv = policy.build_argv(
                    bwrap=bwrap, prlimit=prlimit, setpriv=setpriv, sandbox_uid=uid,
                    limits=enforced, command=command, binds=binds, files=file_fds,
                    env=env, status_fd=status_w,
                )
                started = time.monotonic()
                proc = _spawn(argv, [status_w, *fds], None)
            assert proc is not None
        except BaseException:
            if group is not None:
                group.close()
            raise
        os.close(status_w)
        status_w = -1
        for fd in fds:
            os.close(fd)
        fds.clear()
        tree = _Tree(proc)
        oom_kills = 0
        try:
            out = supervise(proc, limits=limits, started=started, kill=tree.kill,
                            status_fd=status_r, on_status=tree.learn,
                            on_exit=tree.kill_namespace)
        finally:
            tree.close()
            _close_pipes(proc)
            if group is not None:
                oom_kills = group.events().get("oom_kill", 0)
                group.close()  # whatever is left is killed, then the cgroup removed
    finally:
        for fd in (status_r, status_w, *fds):
            if fd >= 0:
                os.close(fd)
    verdict = _verdict(out, enforced, sandboxed=True, asked=limits,
                       in_cgroup=group is not None)
    if oom_kills and verdict.kind in ("signal", "exit", "cpu", "memory"):
        verdict.kind = "memory"
        verdict.detail = (f"the sandbox's processes together reached its "
                          f"{limits.memory_mb:g} MB (cgroup memory.max): the kernel killed "
                          f"{oom_kills} of them")
    elif group is None and verdict.kind in ("memory", "processes"):
        verdict.detail += (f" (no cgroup memory limit here: the sandbox's "
                           f"{limits.memory_mb:g} MB is divided among {enforced.processes} "
                           f"processes)")
    if verdict.kind == "sandbox-error":
        _raise_if_unusable(bwrap)
    return verdict


def _memory_scope(limits: Limits) -> tuple[cgroup.Group | None, Limits]:
    """A cgroup holding the whole sandbox to ``memory_mb`` where the host allows one
    (each process may then use all of it), else the budget divided among processes."""
    try:
        return cgroup.Group.create(limits.memory_mb), limits
    except cgroup.Unavailable:
        return None, limits.per_process()


def _spawn(argv: list[str], pass_fds: list[int],
           group: cgroup.Group | None) -> subprocess.Popen[bytes] | None:
    """Start bwrap (inside ``group``, if given); None if it could not enter the group."""
    try:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=pass_fds, env={}, close_fds=True,
            preexec_fn=group.enter if group is not None else None,
        )
    except subprocess.SubprocessError:  # only preexec_fn raises this: cgroup.procs refused
        if group is None:
            raise
        return None
    except OSError as exc:
        raise SandboxUnavailable(f"cannot start bubblewrap ({argv[0]}): {exc}") from exc


def _raise_if_unusable(bwrap: str) -> None:
    """After a setup failure: if bwrap cannot even create namespaces for ``true``,
    the host refuses them; say so with the fix instead of a per-run error."""
    probe = host.probe_namespaces(bwrap)
    if probe is not None:
        raise SandboxUnavailable(
            f"bubblewrap cannot create its namespaces here ({probe}); {USERNS_HINT}"
        )


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _verdict(out: Outcome, limits: Limits, *, sandboxed: bool, asked: Limits | None = None,
             in_cgroup: bool = False) -> Verdict:
    """``limits`` are those enforced (they name the limit a failure hit); the verdict
    reports those ``asked`` plus how memory was held: ``process_memory_mb`` and
    ``process_limit`` (RLIMIT_AS, RLIMIT_NPROC) and ``cgroup_memory_mb`` (the whole
    sandbox's cgroup limit, 0 when the host allows none)."""
    kind, code, sig, detail = classify(
        wait_status=out.wait_status, killed_for=out.killed_for, duration_s=out.duration_s,
        stderr=bytes(out.stderr), limits=limits, sandboxed=sandboxed,
    )
    asked = asked or limits
    report = {**asked.to_dict(), "process_memory_mb": round(limits.memory_mb, 1),
              "process_limit": limits.processes,
              "cgroup_memory_mb": asked.memory_mb if in_cgroup else 0}
    return Verdict(
        status="ok" if kind == "none" else "failed",
        kind=kind,
        exit_code=code,
        signal=sig,
        stdout=out.stdout.decode("utf-8", "replace"),
        stderr=out.stderr.decode("utf-8", "replace"),
        stdout_truncated=out.stdout_truncated,
        stderr_truncated=out.stderr_truncated,
        duration_s=round(out.duration_s, 6),
        sandboxed=sandboxed,
        detail=detail,
        limits=report,
    )


def _run_unsandboxed(
    command: list[str], files: dict[str, bytes], env: dict[str, str], limits: Limits
) -> Verdict:
    """The explicit opt-out: no isolation at all, only rlimits, deadline and caps,
    in a throw-away working directory with a cleared environment."""
    print(
        "WARNING: running WITHOUT a sandbox (explicit opt-out); the program can read and "
        "write everything this user can.",
        file=sys.stderr,
    )
    import tempfile

    with tempfile.TemporaryDirectory(prefix="proto-unsandboxed-") as work:
        for name, data in files.items():
            path = os.path.join(work, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)
        script = f"{policy.WORKDIR}/{policy.MAIN_SCRIPT}"
        if policy.MAIN_SCRIPT in files and script in command:
            at = command.index(script)
            command = [*command[:at], os.path.join(work, policy.MAIN_SCRIPT), *command[at + 1 :]]
        run_env = {**policy.SANDBOX_ENV, "HOME": work, "TMPDIR": work, **env}
        started = time.monotonic()
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=work, env=run_env, start_new_session=True,
            preexec_fn=_rlimit_setter(limits),
        )

        def kill(_: Outcome) -> None:
            _killpg(proc.pid)

        try:
            out = supervise(proc, limits=limits, started=started, kill=kill)
        finally:
            _killpg(proc.pid)  # leftovers of the session: never outlive the run
            _close_pipes(proc)
    return _verdict(out, limits, sandboxed=False)


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _rlimit_setter(limits: Limits) -> Callable[[], None]:
    """rlimits for the unsandboxed child. RLIMIT_NPROC is left out: outside a
    namespace it would count every process of this user (and never binds root)."""
    import resource

    cpu = int(limits.cpu_s)
    table = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (int(limits.memory_mb) << 20,) * 2),
        (resource.RLIMIT_FSIZE, (int(limits.file_mb) << 20,) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
    ]

    def apply() -> None:
        for which, value in table:
            resource.setrlimit(which, value)

    return apply
