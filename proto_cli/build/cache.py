"""The build cache: the image after each step, by step key; and named tags.

A step's key is SHA-512 over its parent step's key, its directive text and the
content of every file it reads (as squeaker does), so a key names one exact
history. Results live under `$XDG_CACHE_HOME/proto/build/` (default
`~/.cache/proto/build/`): `steps/KEY.image` with `steps/KEY.json` (the sha256 the
file had when stored, checked on every use), and `tags/NAME.json` naming a key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time

from image_format.files import cache_home, file_sha256, replace_whole, write_whole

from ..errors import UsageError, cannot_write


def root() -> str:
    return os.path.join(cache_home(), "build")


def step_key(parent: str, text: str, contents: list[bytes]) -> str:
    h = hashlib.sha512()
    for part in (parent.encode(), text.encode("utf-8")):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    for data in contents:
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def step_path(key: str) -> str:
    return os.path.join(root(), "steps", key[:64] + ".image")


def lookup(key: str) -> str | None:
    """The cached result of step `key`, if it is still the file that was stored: a
    recipe's own code runs on the host (METHOD + SEND) and can rewrite files in the
    cache; a step whose bytes changed is built again, not served."""
    path = step_path(key)
    try:
        with open(_entry_path(path), encoding="utf-8") as f:
            expected = json.load(f).get("sha256")
        if not isinstance(expected, str) or file_sha256(path) != expected:
            raise ValueError("changed")
    except (OSError, ValueError, AttributeError, RecursionError):
        _drop(path)
        return None
    os.utime(path)  # last use, for `proto cache gc`
    return path


def store(key: str, image) -> str:
    """Keep a compact copy of the open image as the result of step `key`, with the
    sha256 it must still have when it is used."""
    path = step_path(key)
    digest = []

    def fill(tmp: str) -> None:
        image.env.copy(tmp, compact=True)
        digest.append(file_sha256(tmp))
        write_whole(_entry_path(path), json.dumps({"key": key, "sha256": digest[0]}))

    try:
        replace_whole(path, fill)
    except OSError:
        return ""  # no cache: only slower next time
    return path


def _entry_path(step: str) -> str:
    return step[: -len(".image")] + ".json"


def _drop(step: str) -> None:
    for name in (step, _entry_path(step)):
        with contextlib.suppress(OSError):
            os.unlink(name)


def tag(name: str, key: str, recipe: str, digest: str) -> None:
    _check_tag(name)
    folder = os.path.join(root(), "tags")
    os.makedirs(folder, exist_ok=True)
    entry = {"name": name, "key": key, "squeakerfile": os.path.abspath(recipe),
             "digest": digest, "built": int(time.time())}

    target = os.path.join(folder, name + ".json")
    try:
        write_whole(target, json.dumps(entry, indent=1))
    except OSError as exc:
        raise cannot_write(target, exc) from None


def tags() -> list[dict]:
    folder = os.path.join(root(), "tags")
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                entry = json.load(f)
        except (OSError, ValueError):
            continue
        entry["cached"] = os.path.isfile(step_path(entry.get("key", "")))
        out.append(entry)
    return out


def tagged(name: str) -> dict | None:
    _check_tag(name)
    try:
        with open(os.path.join(root(), "tags", name + ".json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def gc(keep_days: float, everything: bool = False) -> tuple[int, int]:
    """Remove cached steps unused for `keep_days` (all with `everything`), except tagged
    results; answers (files removed, bytes freed)."""
    keep = {step_path(t["key"]) for t in tags() if "key" in t}
    folder = os.path.join(root(), "steps")
    cutoff = time.time() - keep_days * 86400
    removed = freed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0, 0
    for entry in entries:
        if entry.path in keep or not entry.name.endswith(".image"):
            continue
        stat = entry.stat()
        if everything or stat.st_mtime < cutoff:
            _drop(entry.path)
            removed += 1
            freed += stat.st_size
    return removed, freed


def copy_out(source: str, output: str) -> None:
    """The result at `output`, whole or not at all."""
    try:
        replace_whole(output, lambda tmp: shutil.copyfile(source, tmp))
    except OSError as exc:
        raise cannot_write(output, exc) from None


def valid_tag(name: str) -> bool:
    return bool(name) and name[0] != "." and all(ch.isalnum() or ch in "._-:" for ch in name)


def _check_tag(name: str) -> None:
    if not valid_tag(name):
        raise UsageError(f"bad tag {name!r}: use letters, digits, '.', '_', '-' and ':'")
