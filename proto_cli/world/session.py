"""Opening the image a command names and running one unit of work on it."""

from __future__ import annotations

import gc
import os

from image_format.errors import ReadOnlyImage
from image_format.store import Image

from ..errors import UsageError
from .world import World

ENV_VAR = "PROTO_IMAGE"


def image_path(option: str | None) -> str:
    path = option or os.environ.get(ENV_VAR)
    if not path:
        raise UsageError(f"no image: pass -i/--image PATH or set {ENV_VAR}")
    return path


def run(path: str, work, *, write: bool = True, options: dict | None = None):
    """Run `work(world)` in one transaction: a write commits all of it or nothing. On a
    deep stack (deep.py): the transaction begins, runs and ends on that one thread."""
    from . import deep

    return deep.run(_run, path, work, write, options)


def _run(path: str, work, write: bool, options: dict | None):
    image = Image(path, readonly=not write)

    def in_world(txn):
        if not gc.isenabled():  # main's fast path started without the collector
            if not gc.get_freeze_count():  # once a process: what start-up made lives on,
                gc.freeze()  # and collections look past it
            gc.enable()
        world = World(txn)
        if options:
            world.options.update(options)
        return work(world)

    try:
        if write and not image.readonly:
            return image.transact(in_world)
        # A read-only image still answers every message that changes nothing; the
        # first change raises ReadOnlyImage, and there is nothing to roll back.
        with image.read() as txn:
            try:
                return in_world(txn)
            except ReadOnlyImage:
                if not write:
                    raise
                raise ReadOnlyImage(f"{path}: the image file is read-only and this would "
                                    "change it") from None
    finally:
        image.close()


def create(path: str) -> None:
    """A new image holding the genesis world, written in one transaction."""
    from .genesis import create_genesis

    Image.create(path, create_genesis)
