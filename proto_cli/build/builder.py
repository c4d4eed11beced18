"""`proto build`: an image from a Squeakerfile, step by step, cached and reproducible.

Each step starts from a copy of the previous step's image, runs its directive
(one transaction each), and leaves a compact copy in the cache under its key.
Object ids come from the image's own counter and every timestamp from
SOURCE_DATE_EPOCH (0 when unset), so the same Squeakerfile gives the same
`proto digest` wherever and however often it is built, from cache or not. The
output is written under a temporary name and renamed: a failed build leaves no
output image, never a half-built one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from image_format import clock
from image_format.errors import ImageError
from image_format.store import Image

from ..errors import ProtoError, UsageError
from ..world import session
from . import cache
from .directives import Context, apply, files_read
from .learning import Lock, lock_key
from .recipe import RecipeError, Step, parse


class Built:
    def __init__(self, output: str, digest: str, steps: list[dict], key: str) -> None:
        self.output = output
        self.digest = digest
        self.steps = steps
        self.key = key

    def to_dict(self) -> dict:
        return {"output": self.output, "digest": self.digest, "key": self.key[:64],
                "steps": self.steps}


def build(recipe: str, output: str, *, use_cache: bool = True, tag: str | None = None,
          relearn: bool = False, model: str | None = None, report=None,
          progress=None, outside: bool = False) -> Built:
    try:
        with open(recipe, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {recipe}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{recipe}: not UTF-8 text") from None
    steps = parse(text, os.path.basename(recipe) or recipe)
    folder = os.path.dirname(os.path.abspath(recipe))
    lock_path = os.path.abspath(recipe) + ".lock"
    try:
        lock = Lock(lock_path)
    except RecursionError:  # json.load of `[[[[...`: Lock catches only OSError, ValueError
        raise UsageError(f"{lock_path}: unreadable lock file: nested too deeply") from None
    ctx = Context(folder, lock, relearn=relearn, model=model, progress=progress,
                  outside=outside)
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(out_dir):
        raise UsageError(f"cannot write {output}: no folder {out_dir}")
    from .workdir import prefix, sweep  # work dirs of killed builds: see workdir.py
    sweep()
    with _build_clock(), tempfile.TemporaryDirectory(prefix=prefix()) as work:
        current, key, done = _run(steps, ctx, work, use_cache, report)
        cache.copy_out(current, output)
    lock.save()
    digest = _digest(output)
    if tag:
        cache.tag(tag, key, recipe, digest)
    return Built(output, digest, done, key)


def _run(steps: list[Step], ctx: Context, work: str, use_cache: bool, report):
    current = ""
    key = ""
    done: list[dict] = []
    for number, step in enumerate(steps, 1):
        parent, key = key, _key(step, key, ctx)
        label = f"[{number}/{len(steps)}] {step.text.splitlines()[0]}"
        cached = cache.lookup(key) if use_cache and key else None
        if cached:
            current = cached
            done.append({"step": number, "directive": step.directive, "cached": True})
            _say(report, label, "CACHED")
            continue
        start = time.monotonic()
        path = os.path.join(work, f"step{number}.image")
        try:
            if step.directive == "FROM":
                _start(step, path, ctx)
            else:
                shutil.copyfile(current, path)
                apply(path, step, ctx)
        except RecipeError:
            raise
        except (ProtoError, ImageError) as exc:
            raise step.error(str(exc)) from None
        except OSError as exc:
            raise step.error(exc.strerror or str(exc)) from None
        except Exception as exc:  # a method run by SEND/EVAL raised
            where = getattr(exc, "proto_where", None)
            raise step.error(f"{where or 'step'} failed: {type(exc).__name__}: {exc}") from None
        if not key:  # a LEARN that learned: its result is named by what it learned
            key = _key(step, parent, ctx, learned=True)
        with Image(path) as image:
            cache.store(key, image)
        current = path
        seconds = time.monotonic() - start
        done.append({"step": number, "directive": step.directive, "cached": False,
                     "seconds": round(seconds, 3)})
        _say(report, label, f"{seconds:.2f}s")
    return current, key, done


def _key(step: Step, parent: str, ctx: Context, learned: bool = False) -> str:
    """The step's cache key; "" for a LEARN that must learn (no lock entry, or
    --relearn). Its key is known only once it has learned: the lock entry, which names
    the model's sha256 and the binding, so a step learned by one model is never served
    for a build with another, and a relearn never finds an earlier relearn."""
    contents = [ctx.read(step, name) for name in files_read(step)]
    if step.directive == "FROM":
        contents.append(_base_identity(step, ctx))
    if step.directive == "LEARN":
        entry = ctx.lock.entry_text(lock_key(step))
        if not entry or (ctx.relearn and not learned):
            return ""
        contents.append(entry.encode())
    return cache.step_key(parent, step.text, contents)


def _base_identity(step: Step, ctx: Context) -> bytes:
    """What FROM starts from: the genesis code, an image file's bytes, or a tag's key."""
    base = step.words[0]
    if base == "scratch":
        from ..world import genesis, genesis_methods

        parts = []
        for module in (genesis, genesis_methods):
            with open(module.__file__, "rb") as f:
                parts.append(f.read())
        return b"scratch\0" + b"\0".join(parts)
    if os.path.isfile(ctx.path(base, confined=False)):
        return ctx.read(step, base, confined=False)
    found = cache.tagged(base) if cache.valid_tag(base) else None
    if found is None:
        raise step.error(f"FROM {base}: not 'scratch', an image file, or a built tag")
    return b"tag\0" + found["key"].encode()


def _start(step: Step, path: str, ctx: Context) -> None:
    base = step.words[0]
    if base == "scratch":
        session.create(path)
        return
    source = ctx.path(base, confined=False)
    if not os.path.isfile(source):
        found = cache.tagged(base)
        source = cache.lookup(found["key"]) if found else None
        if not source:
            raise step.error(f"FROM {base}: the tag's image is no longer in the cache "
                             "(build it again)")
    shutil.copyfile(source, path)
    try:
        Image(path, readonly=True).close()  # a file that is not a proto image fails here
    except ImageError as exc:  # named as written, not as the working copy in a temp folder
        raise step.error(str(exc).replace(path, base)) from None


def _digest(path: str) -> str:
    from image_format.canonical import digest

    with Image(path, readonly=True) as image, image.read() as txn:
        return digest(txn)


def _build_clock():
    """Timestamps written during the build come from SOURCE_DATE_EPOCH (0 if unset)."""
    return clock.fixed(clock.source_date_epoch(0))


def _say(report, label: str, status: str) -> None:
    if report is not None:
        report(label, status)
