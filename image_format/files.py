"""Files beside an image: its LMDB lock file, and temporaries a killed process left."""

from __future__ import annotations

import os

from .errors import ImageError

READER_TABLE = 8192  # bytes of LMDB's lock file for its default 126 reader slots


def reserve_lock(image: str, shown: str | None = None) -> None:
    """Give a new lock file real blocks before LMDB maps it.

    LMDB sizes a new lock file with ftruncate and writes it through mmap; on a
    full disk the first store into that hole is a SIGBUS that kills the process.
    Allocating the blocks first turns that into a plain ENOSPC.
    """
    lock = image + "-lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        return  # it exists (someone else reserves it), or LMDB will say why it cannot
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        os.posix_fallocate(fd, 0, -(-READER_TABLE // page) * page)
    except OSError as exc:
        os.close(fd)
        unlink(lock)
        raise ImageError(f"{shown or image}: cannot create its lock file: {exc.strerror}"
                         ) from None
    os.close(fd)


def real(path: str) -> str:
    """The file a path names, through symlinks and `..`: what its lock file, snapshots
    and temporaries are named after, so that every name for one image shares them."""
    return os.path.realpath(path)


def temporary(path: str) -> str:
    """The name a file is built under before it is renamed to `path`."""
    return f"{path}.tmp-{os.getpid()}"


def sweep(folder: str, stem: str = "") -> None:
    """Remove temporaries (`STEM*.tmp-PID`, and their `-lock`) whose process is gone."""
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return
    for name in names:
        if not name.startswith(stem):
            continue
        _, sep, pid = name.removesuffix("-lock").rpartition(".tmp-")
        if sep and pid.isdigit() and not alive(int(pid)):
            unlink(os.path.join(folder, name))


def alive(pid: int) -> bool:
    """True unless no process `pid` exists (a process we may not signal lives)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # OverflowError: not a pid at all; leave the name alone
    return True


def unlink(path: str) -> None:
    try:  # noqa: SIM105 - contextlib costs ~4 ms of every command's start-up
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_whole(path: str, data: bytes | str, sync: bool = False) -> None:
    """`data` appears at `path` whole or not at all: written under a temporary name in
    the same folder (made if missing), then renamed. OSError is the caller's to judge."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = temporary(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        unlink(tmp)
