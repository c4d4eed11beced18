"""Check a file's LMDB header before mapping it.

LMDB trusts its file: an empty file is silently initialised (changing it), and
a truncated one is mapped past its end, where the first read is a SIGBUS. So an
image is probed first, by reading its two meta pages as plain bytes.
"""

from __future__ import annotations

import os
import stat

from .errors import ImageError

MAGIC = 0xBEEFC0DE
DATA_VERSION = 1
_PAGE_HEADER = 16
# MDB_meta: magic u32, version u32, address ptr, mapsize size_t,
# dbs[2] (48 bytes each; dbs[0].md_pad holds the page size), last_pg, txnid.
_PSIZE_OFFSET = _PAGE_HEADER + 24
_TAIL_OFFSET = _PAGE_HEADER + 8 + 8 + 8 + 96
_NEED = _TAIL_OFFSET + 16


def _u(data: bytes, offset: int, size: int) -> int:
    return int.from_bytes(data[offset : offset + size], "little")


def probe(path: str) -> os.stat_result:
    """Raise ImageError unless `path` is a whole, readable LMDB data file; answers its
    stat, taken after the header was read (so its size covers every committed page)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such image (create one with `proto init {path}`)") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read image: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageError(f"{path}: is a directory, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(f"{path}: not a regular file")
    if st.st_size == 0:
        raise ImageError(f"{path}: empty file, not an image")
    try:
        with open(path, "rb") as f:
            head = f.read(_NEED)
            if len(head) < _NEED:
                raise ImageError(f"{path}: truncated or not an image (too short)")
            magic, version = _u(head, _PAGE_HEADER, 4), _u(head, _PAGE_HEADER + 4, 4)
            psize = _u(head, _PSIZE_OFFSET, 4)
            if magic != MAGIC:
                raise ImageError(f"{path}: not an image (not an LMDB data file)")
            if version != DATA_VERSION:
                raise ImageError(f"{path}: unsupported LMDB data version {version}")
            if psize < 512 or psize > 65536 or psize & (psize - 1):
                raise ImageError(f"{path}: corrupt image header (page size {psize})")
            f.seek(psize)
            second = f.read(_NEED)
            # The size is read after the meta pages: a writer grows the file before it
            # writes the meta page that counts the new pages, so this order never sees
            # a committed page count larger than the file (the other order could).
            st = os.fstat(f.fileno())
    except PermissionError:
        raise ImageError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read image: {exc.strerror}") from None
    metas = [(_u(head, _TAIL_OFFSET, 8), _u(head, _TAIL_OFFSET + 8, 8))]
    if len(second) == len(head) and _u(second, _PAGE_HEADER, 4) == MAGIC:
        metas.append((_u(second, _TAIL_OFFSET, 8), _u(second, _TAIL_OFFSET + 8, 8)))
    last_pg, _txnid = max(metas, key=lambda m: m[1])
    if (last_pg + 1) * psize > st.st_size:
        raise ImageError(
            f"{path}: truncated image ({st.st_size} bytes, its header needs "
            f"{(last_pg + 1) * psize})"
        )
    return st
