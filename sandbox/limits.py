"""Resource limits for one sandboxed run.

Limits are applied inside the sandbox by ``prlimit`` (util-linux) right before the
untrusted program is exec'd, so they bind the program and everything it forks but
not bubblewrap's own setup; see ``policy.py`` for why that placement matters for
RLIMIT_NPROC.
"""

from __future__ import annotations

MB = 1024 * 1024
#: Without a cgroup, the least address space one process gets when memory_mb is
#: divided among processes (Limits.per_process).
MIN_PROCESS_MB = 128
#: Field names and defaults, in order (plain class, not a dataclass: importing
#: dataclasses costs more than this whole package).
DEFAULTS: dict[str, float] = {
    "cpu_s": 10,
    "memory_mb": 1024,
    "processes": 64,
    "file_mb": 16,
    "wall_s": 20.0,
    "output_kb": 256,
    "tmpfs_mb": 64,
}


class Limits:
    """Per-run budget, immutable. Every field has its own verdict ``kind`` when exceeded.

    cpu_s       CPU seconds (RLIMIT_CPU: SIGXCPU at cpu_s, SIGKILL one second later) -> ``cpu``
    memory_mb   memory of the whole sandbox: a cgroup's memory.max where the host allows
                one (the kernel kills a process at the limit), and RLIMIT_AS per
                process (allocations beyond it fail) -> ``memory``; without a cgroup
                the budget is divided among the processes (``per_process``)
    processes   processes/threads of the sandbox user (RLIMIT_NPROC) -> ``processes``
    file_mb     largest file the program may write (RLIMIT_FSIZE) -> ``file-size``
    wall_s      wall clock; the whole process tree is killed at the deadline -> ``timeout``
    output_kb   bytes kept per stream (stdout, stderr); more kills the run -> ``output-limit``
    tmpfs_mb    size of each fresh tmpfs (/tmp and the working directory)
    """

    __slots__ = tuple(DEFAULTS)
    cpu_s: int
    memory_mb: int
    processes: int
    file_mb: int
    wall_s: float
    output_kb: int
    tmpfs_mb: int

    def __init__(
        self,
        cpu_s: int = 10,
        memory_mb: int = 1024,
        processes: int = 64,
        file_mb: int = 16,
        wall_s: float = 20.0,
        output_kb: int = 256,
        tmpfs_mb: int = 64,
    ) -> None:
        values = {"cpu_s": cpu_s, "memory_mb": memory_mb, "processes": processes,
                  "file_mb": file_mb, "wall_s": wall_s, "output_kb": output_kb,
                  "tmpfs_mb": tmpfs_mb}
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")
            object.__setattr__(self, name, value)
        if processes < 2:
            raise ValueError("Limits.processes must be at least 2 (the program plus one child)")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Limits is immutable; use replace()")

    def replace(self, **changes: float) -> Limits:
        return Limits(**{**self.to_dict(), **changes})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in DEFAULTS}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Limits) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().values()))

    def __repr__(self) -> str:
        return "Limits(" + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")"

    def per_process(self) -> Limits:
        """These limits with ``memory_mb`` held by the sandbox as a whole, for a host
        without a cgroup memory limit: RLIMIT_AS binds each process alone, so the
        process count times the address space of each must stay within memory_mb.
        The count is memory_mb // MIN_PROCESS_MB (room for an interpreter, its
        libraries and a thread), at most ``processes`` and at least 2; each process
        gets memory_mb / count. The default 1024 MB becomes 8 processes x 128 MB;
        256 MB, 2 x 128 MB; 100 MB, 2 x 50 MB.
        (Address space overstates what a process holds, so the sum really held is
        lower still.)"""
        count = max(2, min(int(self.processes), int(self.memory_mb // MIN_PROCESS_MB)))
        return self.replace(memory_mb=self.memory_mb / count, processes=count)

    @property
    def output_bytes(self) -> int:
        return int(self.output_kb * 1024)

    def prlimit_args(self) -> list[str]:
        """Options for ``prlimit`` (soft:hard). Core dumps are disabled: a crash must
        not write a core file or wake a host-side core handler."""
        cpu = int(self.cpu_s)
        mem = int(self.memory_mb * MB)
        fsize = int(self.file_mb * MB)
        return [
            f"--cpu={cpu}:{cpu + 1}",
            f"--as={mem}:{mem}",
            f"--nproc={int(self.processes)}:{int(self.processes)}",
            f"--fsize={fsize}:{fsize}",
            "--core=0:0",
        ]
