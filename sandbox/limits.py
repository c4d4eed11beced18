"""Resource limits for one sandboxed run.

Limits are applied inside the sandbox by ``prlimit`` (util-linux) right before the
untrusted program is exec'd, so they bind the program and everything it forks but
not bubblewrap's own setup; see ``policy.py`` for why that placement matters for
RLIMIT_NPROC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-run budget. Every field has its own verdict ``kind`` when exceeded.

    cpu_s       CPU seconds (RLIMIT_CPU: SIGXCPU at cpu_s, SIGKILL one second later) -> ``cpu``
    memory_mb   address space (RLIMIT_AS); allocations beyond it fail -> ``memory``
    processes   processes/threads of the sandbox user (RLIMIT_NPROC) -> ``processes``
    file_mb     largest file the program may write (RLIMIT_FSIZE) -> ``file-size``
    wall_s      wall clock; the whole process tree is killed at the deadline -> ``timeout``
    output_kb   bytes kept per stream (stdout, stderr); more kills the run -> ``output-limit``
    tmpfs_mb    size of each fresh tmpfs (/tmp and the working directory)
    """

    cpu_s: int = 10
    memory_mb: int = 1024
    processes: int = 64
    file_mb: int = 16
    wall_s: float = 20.0
    output_kb: int = 256
    tmpfs_mb: int = 64

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive number, got {value!r}")
        if self.processes < 2:
            raise ValueError("Limits.processes must be at least 2 (the program plus one child)")

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

    def to_dict(self) -> dict[str, float]:
        return asdict(self)
