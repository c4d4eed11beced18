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


def replace_whole(path: str, fill, sync: bool = False) -> None:
    """The one way proto writes a file: `fill(tmp)` writes it under a temporary name in
    the same folder (made if missing, swept by `sweep` if this process dies), and it
    becomes `path` by a rename only when `fill` returned. OSError is the caller's to
    judge: a cache that cannot be written is only slower; an output file is an error."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = temporary(path)
    try:
        unlink(tmp)
        fill(tmp)
        if sync:
            fsync(tmp)
        os.replace(tmp, path)
    finally:
        unlink(tmp)


def fsync(path: str) -> None:
    """The file's (or a folder's) contents on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_whole(path: str, data: bytes | str, sync: bool = False) -> None:
    """`data` (text as UTF-8) at `path`, whole or not at all (replace_whole)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def fill(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(payload)

    replace_whole(path, fill, sync)


def cache_home() -> str:
    """`$XDG_CACHE_HOME/proto` (default `~/.cache/proto`): the one root of proto's caches
    (headers/, docs/, models/, prefix/, transcripts/, build/)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "proto")


def file_sha256(path: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()
