"""An image: one LMDB file, opened safely, changed only in whole transactions."""

from __future__ import annotations

import os

import lmdb

from . import layout as L
from .codec import decode, encode
from .errors import DamagedImage, ImageError, ReadOnlyImage
from .files import real, reserve_lock, sweep, temporary, unlink
from .probe import probe

TYPE_CHECKING = False  # importing typing costs ~5 ms of start-up; annotations are strings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import TypeVar

    T = TypeVar("T")

MIN_MAP = 1 << 30  # virtual address space only: LMDB files grow page by page
MAX_DBS = 4


class Txn:
    """One LMDB transaction with the image's key layout spelled out once."""

    __slots__ = ("raw", "meta", "slots", "write")

    def __init__(self, raw: lmdb.Transaction, meta, slots, write: bool) -> None:
        self.raw = raw
        self.meta = meta
        self.slots = slots
        self.write = write

    # -- meta
    def get_meta(self, key: bytes) -> object:
        data = self.raw.get(key, db=self.meta)
        return None if data is None else decode(data)

    def put_meta(self, key: bytes, value: object) -> None:
        self._check_write()
        self.raw.put(key, encode(value), db=self.meta)

    # -- objects and slots (raw records; the world decodes them)
    def get(self, key: bytes) -> bytes | None:
        return self.raw.get(key, db=self.slots)

    def put(self, key: bytes, record: bytes) -> None:
        self._check_write()
        self.raw.put(key, record, db=self.slots)

    def delete(self, key: bytes) -> bool:
        self._check_write()
        return self.raw.delete(key, db=self.slots)

    def object_range(self, oid: int) -> Iterator[tuple[bytes, bytes]]:
        """The header and slot records of one object, in key order."""
        prefix = L.object_key(oid)
        cur = self.raw.cursor(db=self.slots)
        if not cur.set_range(prefix):
            return
        for key, value in cur:
            if key[: L.OID_BYTES] != prefix:
                break
            yield key, value

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        """Every record of every object, in key order (a damaged B-tree raises
        DamagedImage where the walk breaks)."""
        return _walk(self.raw, self.slots)

    def meta_records(self) -> Iterator[tuple[bytes, bytes]]:
        """Every metadata record, in key order."""
        return _walk(self.raw, self.meta)

    def next_oid(self) -> int:
        oid = self.get_meta(L.K_NEXT_OID)
        if not isinstance(oid, int):
            raise ImageError("corrupt image: missing object counter")
        self.put_meta(L.K_NEXT_OID, oid + 1)
        return oid

    def _check_write(self) -> None:
        if not self.write:
            raise ReadOnlyImage("the image is read-only: this would change it")


class Image:
    """A proto image file. Use `read()` or `transact(fn)`; never hold a write open."""

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = os.fspath(path)  # as the person named it, for messages
        # LMDB's lock is the file named PATH-lock: two names for one image (a symlink, a
        # `..` path) would be two locks, and writers through them would not exclude each
        # other. The lock, like every file beside the image, follows the real path.
        self.file = real(self.path)
        st = probe(self.file)
        self.readonly = readonly or not writable(self.file, st)
        if not self.readonly and st.st_nlink > 1:
            raise ImageError(f"{self.path}: the image file has {st.st_nlink} hard links; "
                             "writers through different names would not exclude each "
                             "other, so proto will not change it (copy it to one name)")
        # The file itself, locked for every write transaction (flock: one lock per inode,
        # whatever the path, even through a bind mount or after a rename), and its
        # identity, checked under that lock: a restore may have replaced the file.
        self._inode_fd = -1
        if not self.readonly:
            self._inode_fd = os.open(self.file, os.O_RDONLY | os.O_CLOEXEC)
            self._identity = _identity(os.fstat(self._inode_fd))
        try:
            self.env = self._open(st.st_size)
        except BaseException:
            self._close_inode()
            raise
        try:  # noqa: SIM105 - contextlib costs start-up time
            # A process killed inside a read transaction keeps its reader slot; while
            # any other process holds the image open those slots pile up (pinning old
            # pages) until MDB_READERS_FULL. Every open clears the dead ones.
            self.env.reader_check()
        except lmdb.Error:
            pass  # opened without a lock file: there is no reader table
        try:
            self._meta = self.env.open_db(L.META_DB, create=False)
            self._slots = self.env.open_db(L.SLOTS_DB, create=False)
        except lmdb.NotFoundError:
            self.env.close()
            raise ImageError(f"{self.path}: an LMDB file, but not a proto image") from None
        except lmdb.Error as exc:
            self.env.close()
            raise ImageError(f"{self.path}: unreadable image: {exc}") from None
        self._check_format()

    @classmethod
    def create(cls, path: str | os.PathLike[str], populate: Callable[[Txn], object] | None = None
               ) -> None:
        """Write a new image file, with `populate(txn)` in the same first transaction.

        The file is built under a temporary name and renamed into place, so a
        crash never leaves a half-made image at `path`.
        """
        path = os.fspath(path)
        if os.path.lexists(path):
            raise ImageError(f"{path}: already exists (remove it or choose another name)")
        sweep(os.path.dirname(path), os.path.basename(path) + ".tmp-")
        tmp = temporary(path)
        reserve_lock(tmp, shown=path)
        try:
            env = lmdb.open(tmp, subdir=False, create=True, max_dbs=MAX_DBS, map_size=MIN_MAP)
        except lmdb.Error as exc:
            raise ImageError(f"{path}: cannot create image: {exc}") from None
        try:
            with env.begin(write=True) as raw:
                meta = env.open_db(L.META_DB, txn=raw)
                slots = env.open_db(L.SLOTS_DB, txn=raw)
                raw.put(L.K_FORMAT, L.FORMAT_NAME, db=meta)
                raw.put(L.K_VERSION, encode(L.FORMAT_VERSION), db=meta)
                raw.put(L.K_NEXT_OID, encode(1), db=meta)
                if populate is not None:
                    populate(Txn(raw, meta, slots, True))
            env.close()
            os.rename(tmp, path)
        except BaseException:
            env.close()
            unlink(tmp)
            raise
        finally:
            unlink(tmp + "-lock")

    def _open(self, size: int) -> lmdb.Environment:
        if not self.readonly:
            reserve_lock(self.file, shown=self.path)
        map_size = max(MIN_MAP, 1 << (2 * size).bit_length())
        try:
            return lmdb.open(
                self.file,
                subdir=False,
                create=False,
                readonly=self.readonly,
                max_dbs=MAX_DBS,
                map_size=map_size,
                readahead=False,
                lock=True,
            )
        except lmdb.ReadersFullError:
            raise ImageError(f"{self.path}: every reader slot is taken (126 processes have "
                             "it open, or died holding it while others still do); close "
                             "the programs using it and try again") from None
        except lmdb.Error as exc:
            if self.readonly:
                # A read-only file in a read-only directory cannot get a lock file;
                # reading without one is safe when nobody can write the file.
                try:
                    return lmdb.open(self.file, subdir=False, readonly=True, lock=False,
                                     max_dbs=MAX_DBS, map_size=map_size)
                except lmdb.Error:
                    pass
            raise ImageError(f"{self.path}: cannot open image: {exc}") from None

    def _check_format(self) -> None:
        with self.env.begin(db=self._meta) as raw:
            name = raw.get(L.K_FORMAT, db=self._meta)
            version = raw.get(L.K_VERSION, db=self._meta)
        if name != L.FORMAT_NAME or version is None:
            self.env.close()
            raise ImageError(f"{self.path}: an LMDB file, but not a proto image")
        try:
            number = decode(version)
        except ImageError:
            number = None
        if not isinstance(number, int):
            self.env.close()
            raise ImageError(f"{self.path}: corrupt format record")
        if number != L.FORMAT_VERSION:
            self.env.close()
            newer = "newer than" if number > L.FORMAT_VERSION else "not supported by"
            raise ImageError(
                f"{self.path}: image format {number} is {newer} this proto "
                f"(it reads format {L.FORMAT_VERSION})"
            )

    def read(self) -> _ReadContext:
        """A consistent read-only view (MVCC snapshot) for `with`."""
        return _ReadContext(self)

    def transact(self, fn: Callable[[Txn], T]) -> T:
        """Run `fn` in one write transaction: all of its changes commit, or none.

        `fn` may be run again from the start if the map must grow, so it must
        build everything it needs from the Txn it is given.
        """
        if self.readonly:
            raise ReadOnlyImage(f"{self.path}: image is read-only")
        with self.exclusive():
            while True:
                raw = self._begin(write=True)
                try:
                    result = fn(Txn(raw, self._meta, self._slots, True))
                    raw.commit()
                    return result
                except lmdb.MapFullError:
                    raw.abort()
                    self.env.set_mapsize(self.env.info()["map_size"] * 2)
                except lmdb.Error as exc:
                    raw.abort()
                    raise lmdb_failure(self.path, exc) from None
                except BaseException:
                    raw.abort()
                    raise

    def exclusive(self) -> _FileLock:
        """The image file locked against every other writer, whatever name it reached
        the file by; raises if the file at this path is no longer the one opened."""
        return _FileLock(self)

    def _close_inode(self) -> None:
        if self._inode_fd >= 0:
            os.close(self._inode_fd)
            self._inode_fd = -1

    def _begin(self, write: bool) -> lmdb.Transaction:
        for _ in range(3):
            try:
                return self.env.begin(write=write)
            except lmdb.MapResizedError:
                # Another process grew the map: adopt its size (0 means "current").
                self.env.set_mapsize(0)
            except lmdb.ReadonlyError:
                raise ReadOnlyImage(f"{self.path}: image is read-only") from None
        raise ImageError(f"{self.path}: the map keeps being resized; try again")

    def copy_to(self, target: str, txn: Txn) -> None:
        """A compact copy of the state `txn` sees, written to a new file `target`."""
        try:
            self.env.copy(target, compact=True, txn=txn.raw)
        except lmdb.Error as exc:
            raise ImageError(_reason(exc)) from None

    def close(self) -> None:
        self.env.close()
        self._close_inode()

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


class _FileLock:
    __slots__ = ("image",)

    def __init__(self, image: Image) -> None:
        self.image = image

    def __enter__(self) -> None:
        import fcntl

        image = self.image
        fcntl.flock(image._inode_fd, fcntl.LOCK_EX)
        try:
            now = _identity(os.stat(image.file))
        except OSError:
            now = None
        if now != image._identity:
            fcntl.flock(image._inode_fd, fcntl.LOCK_UN)
            raise ImageError(f"{image.path}: the image file was replaced or moved while "
                             "this command had it open (a snapshot restore?); nothing was "
                             "changed: run the command again")

    def __exit__(self, *exc: object) -> None:
        import fcntl

        fcntl.flock(self.image._inode_fd, fcntl.LOCK_UN)


class _ReadContext:
    __slots__ = ("image", "raw")

    def __init__(self, image: Image) -> None:
        self.image = image

    def __enter__(self) -> Txn:
        self.raw = self.image._begin(write=False)
        return Txn(self.raw, self.image._meta, self.image._slots, False)

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        self.raw.abort()
        if kind is not None and issubclass(kind, lmdb.Error):
            raise lmdb_failure(self.image.path, exc) from None


def lmdb_failure(path: str, exc: BaseException) -> ImageError:
    """An LMDB error as the one-line error a user sees; damage says how to look closer."""
    reason = _reason(exc)
    if isinstance(exc, lmdb.CorruptedError | lmdb.PageNotFoundError | lmdb.BadRslotError
                  | lmdb.InvalidError | lmdb.BadValsizeError):
        return DamagedImage(f"{path}: damaged image ({reason}); `proto verify` checks every "
                            "record")
    if isinstance(exc, lmdb.DiskError):
        return ImageError(f"{path}: disk error: {reason}")
    return ImageError(f"{path}: {reason}")


def _walk(raw: lmdb.Transaction, db) -> Iterator[tuple[bytes, bytes]]:
    cur = raw.cursor(db=db)
    try:
        if cur.first():
            yield from cur
    except lmdb.Error as exc:
        raise DamagedImage(f"the B-tree is damaged: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """LMDB's message without the name of the C function that failed."""
    return str(exc).split(": ", 1)[-1]


def writable(path: str, st: os.stat_result) -> bool:
    """Whether proto may change the file. A file with no write bit is read-only even
    to root (who could write it anyway): the mode is the owner's stated wish."""
    return bool(st.st_mode & 0o222) and os.access(path, os.W_OK)
