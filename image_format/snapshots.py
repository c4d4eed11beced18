"""Named snapshots of an image, kept next to it in `IMAGE.snapshots/`.

A snapshot is a compact copy made by LMDB itself inside one read transaction
(`Environment.copy(compact=True, txn=...)`), so it is one consistent state
even while another process writes. Its content digest is computed from the
copy the first time the snapshot is listed, and kept in `NAME.json`. Files are
written under a temporary name and renamed into place: a crash leaves either no
snapshot or a whole one. Restore copies the snapshot beside the image and
renames it over the image (atomic on POSIX), while holding the image's write
lock so no proto writer is mid-transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil

from . import canonical
from .clock import now
from .errors import ImageError
from .files import fsync, real, sweep, temporary, unlink, write_whole
from .probe import probe
from .store import Image

SUFFIX = ".snapshots"
RESERVED = {"list", "restore", "delete", "take"}


def folder(image_path: str) -> str:
    """Beside the real file: every name for one image (a symlink) has the same snapshots."""
    return real(os.fspath(image_path)) + SUFFIX


def check_name(name: str) -> str:
    ok = (0 < len(name) <= 100 and name[0].isalnum()
          and all(ch.isalnum() or ch in "._-" for ch in name))
    if not ok or name in RESERVED:
        raise ImageError(f"bad snapshot name {name!r}: use letters, digits, '.', '_' and '-'"
                         f" (not {', '.join(sorted(RESERVED))})")
    return name


def path_of(image_path: str, name: str) -> str:
    return os.path.join(folder(image_path), check_name(name) + ".image")


def take(image_path: str, name: str, *, replace: bool = False) -> dict:
    """Copy the image's current state to snapshot `name`; its listing entry."""
    target = path_of(image_path, name)
    if os.path.exists(target) and not replace:
        raise ImageError(f"snapshot {name} already exists (delete it first)")
    image = Image(image_path, readonly=True)  # not an image: no folder left behind
    tmp = temporary(target)
    try:
        os.makedirs(folder(image_path), exist_ok=True)
        sweep(folder(image_path))
        unlink(tmp)
        with image.read() as txn:
            image.copy_to(tmp, txn)
        fsync(tmp)
        entry = {"name": name, "created": now(), "size": os.path.getsize(tmp),
                 "digest": None, "image": os.path.abspath(image_path)}
        _write_json(target[: -len(".image")] + ".json", entry)
        os.replace(tmp, target)
        _fsync_dir(folder(image_path))
        return entry
    except OSError as exc:
        raise ImageError(f"cannot take snapshot {name}: {exc.strerror or exc}") from None
    except ImageError as exc:
        raise ImageError(f"cannot take snapshot {name}: {exc}") from None
    finally:
        image.close()
        unlink(tmp)


def entries(image_path: str) -> list[dict]:
    """Snapshots of the image, oldest first."""
    where = folder(image_path)
    try:
        names = sorted(n[: -len(".image")] for n in os.listdir(where) if n.endswith(".image"))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        path = os.path.join(where, name + ".image")
        try:
            with open(os.path.join(where, name + ".json"), encoding="utf-8") as f:
                entry = json.load(f)
        except (OSError, ValueError):
            entry = {"name": name, "created": int(os.path.getmtime(path)), "digest": None}
        if not entry.get("digest"):
            entry["digest"] = _digest_of(path)
            with contextlib.suppress(OSError):  # only a cache: listing works without it
                _write_json(os.path.join(where, name + ".json"),
                            {k: v for k, v in entry.items() if k != "path"})
        entry["size"] = os.path.getsize(path)
        entry["path"] = path
        out.append(entry)
    out.sort(key=lambda e: (e.get("created") or 0, e["name"]))
    return out


def _digest_of(path: str) -> str | None:
    """The snapshot's content digest, computed when first listed (a snapshot must be
    as cheap as a copy; the digest costs as much as an export)."""
    try:
        image = Image(path, readonly=True)
    except ImageError:
        return None
    try:
        with image.read() as txn:
            return canonical.digest(txn)
    finally:
        image.close()


def restore(image_path: str, name: str) -> dict:
    """Make snapshot `name` the image again: all of it, or (after a crash) none of it."""
    source = path_of(image_path, name)
    if not os.path.isfile(source):
        raise ImageError(f"no snapshot named {name}")
    probe(source)
    shown, image_path = image_path, real(image_path)  # a symlink stays one: its file changes
    sweep(os.path.dirname(image_path), os.path.basename(image_path) + ".tmp-")
    tmp = temporary(image_path)
    try:
        image = Image(image_path) if os.path.exists(image_path) else None
    except ImageError:
        image = None  # a damaged image is what a restore is for: no lock to take
    try:
        with contextlib.ExitStack() as hold:
            if image is not None:
                hold.callback(image.close)
                hold.enter_context(image.exclusive())  # no proto writer, by any name
                hold.callback(image.env.begin(write=True).abort)  # nor an LMDB one
            shutil.copyfile(source, tmp)
            fsync(tmp)
            os.replace(tmp, image_path)
            _fsync_dir(os.path.dirname(os.path.abspath(image_path)))
    except OSError as exc:
        raise ImageError(f"cannot restore snapshot {name}: {exc.strerror or exc}") from None
    finally:
        unlink(tmp)
    return {"name": name, "image": shown}


def delete(image_path: str, name: str) -> None:
    target = path_of(image_path, name)
    if not os.path.exists(target):
        raise ImageError(f"no snapshot named {name}")
    os.unlink(target)
    unlink(target[: -len(".image")] + ".json")


def _write_json(path: str, data: dict) -> None:
    write_whole(path, json.dumps(data, indent=1, sort_keys=True), sync=True)


def _fsync_dir(path: str) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot sync a directory
        fsync(path)

