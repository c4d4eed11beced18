"""Whole-image work: snapshots, diff, export/import, digest, verify.

None of this runs code stored in an image: it reads records through the safe
codec (image_format), and method sources are only ever parsed.
"""

from __future__ import annotations

import os
import sys

from image_format import canonical, check, snapshots
from image_format import diff as diffing
from image_format.errors import ImageError
from image_format.files import replace_whole
from image_format.store import Image

from ..errors import UsageError, cannot_write
from ..world import host_api
from ..world.session import image_path


def resolve(spec: str, current: str | None) -> str:
    """An image path as given, else a snapshot name of the current image."""
    if os.path.exists(spec):
        return spec
    if current:
        try:
            candidate = snapshots.path_of(current, spec)
        except ImageError:
            candidate = ""
        if candidate and os.path.isfile(candidate):
            return candidate
    where = f" and no snapshot of {current} has that name" if current else ""
    raise UsageError(f"{spec}: no such image file{where}")


def take_snapshot(image: str | None, name: str) -> dict:
    return snapshots.take(image_path(image), name)


def list_snapshots(image: str | None) -> list[dict]:
    path = image_path(image)
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such image")
    return snapshots.entries(path)


def restore_snapshot(image: str | None, name: str) -> dict:
    return snapshots.restore(image_path(image), name)


def delete_snapshot(image: str | None, name: str) -> None:
    snapshots.delete(image_path(image), name)


def diff(image: str | None, a: str, b: str) -> diffing.ImageDiff:
    current = image or os.environ.get("PROTO_IMAGE")
    path_a, path_b = resolve(a, current), resolve(b, current)
    first = Image(path_a, readonly=True)
    try:
        if os.path.samefile(path_a, path_b):
            with first.read() as txn:
                return diffing.diff(txn, txn, a, b)
        second = Image(path_b, readonly=True)
        try:
            with first.read() as txn_a, second.read() as txn_b:
                return diffing.diff(txn_a, txn_b, a, b)
        finally:
            second.close()
    finally:
        first.close()


def export(image: str | None, output: str | None) -> str | None:
    """Write the canonical text to `output` (atomically) or stdout."""
    path = image_path(image)
    img = Image(path, readonly=True)
    try:
        with img.read() as txn:
            lines = canonical.export_lines(txn)
            if output in (None, "-"):
                out = sys.stdout
                for line in lines:
                    out.write(line + "\n")
                return None

            def fill(tmp: str) -> None:
                with open(tmp, "w", encoding="utf-8", errors="surrogatepass") as f:
                    for line in lines:
                        f.write(line + "\n")

            try:
                replace_whole(output, fill)
            except OSError as exc:
                raise cannot_write(output, exc) from None
            return output
    finally:
        img.close()


def import_text(source: str, output: str) -> str:
    """Build a new image from a text export, in one transaction."""
    try:
        # Lines end at "\n" only: a method's "\r" is part of its source, as exported.
        if source == "-":
            import io

            stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8",
                                     errors="surrogatepass", newline="\n")
            parsed = canonical.parse(stdin, "<stdin>")
        else:
            with open(source, encoding="utf-8", errors="surrogatepass", newline="\n") as f:
                parsed = canonical.parse(f, source)
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text") from None
    Image.create(output, parsed.populate)
    return output


def digest(image: str | None) -> str:
    img = Image(image_path(image), readonly=True)
    try:
        with img.read() as txn:
            return canonical.digest(txn)
    finally:
        img.close()


def verify(image: str | None) -> check.Report:
    """An image's problems, or a Squeakerfile.lock's: nothing stored is run."""
    from ..build.learning import Lock
    from ..world.method_source import validate_source

    if image and Lock.is_lock(image):
        lock, report = Lock(image), check.Report()
        report.methods = len(lock.entries)
        for key, why in lock.problems():
            report.add(None, key, why)
        return report

    def method_check(source: str, selector: str | None) -> str | None:
        """A method's source, or a stored block's (selector None): parsed, never run."""
        try:
            if selector is None:
                from ..world.language_methods import block_of

                block_of(source, None)
            else:
                validate_source(source, selector)  # ast only: parses, never runs
        except UsageError as exc:
            return str(exc)
        found = host_api.problems(source) if selector is not None else []
        return "; ".join(host_api.hinted(why) for why in found) or None

    return check.check_file(image_path(image), method_check, api_check)


class LockUpgrade:
    def __init__(self, path: str, bindings: int, left: list[tuple[str, str]]) -> None:
        self.path, self.bindings, self.left = path, bindings, left

    def to_dict(self) -> dict:
        return {"lock": self.path, "bindings": self.bindings,
                "left": [{"entry": key, "why": why} for key, why in self.left]}


def upgrade(image: str | None):
    """Rewrite what earlier protos wrote into the image, in one write transaction (or
    into a Squeakerfile.lock, replaced whole)."""
    from ..build.learning import Lock
    from ..world import session
    from ..world.genesis_upgrade import plan
    from ..world.genesis_upgrade import upgrade as rewrite

    if image and Lock.is_lock(image):
        lock = Lock(image)
        changed = lock.upgrade()
        lock.save()
        return LockUpgrade(image, changed, lock.problems())

    path = image_path(image)
    # Read first: an image with nothing to rewrite is not written at all (nor refused
    # for being read-only).
    planned = session.run(path, lambda world: plan(world.txn), write=False)
    if not planned.changed:
        return planned
    return session.run(path, lambda world: rewrite(world.txn))


def api_check(txn) -> list[str]:
    """An image whose recorded host API or genesis is newer than this proto's, or is no
    version at all; a damaged record is named, and the rest of the check goes on."""
    from ..world.genesis_upgrade import versions

    return [wrong for _, wrong in versions(txn) if wrong]
