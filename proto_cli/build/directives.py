"""What each Squeakerfile directive does to the image being built.

Every directive but LEARN is one write transaction on the step's working image,
through the same world functions the shell commands use. Nothing here learns
implicitly: a SEND that is not understood fails the build; LEARN is the one
directive that learns, and it replays `Squeakerfile.lock` when it can.
"""

from __future__ import annotations

import os
import stat

from ..errors import UsageError
from ..world import session
from ..world.objects import DATA
from ..world.world import check_slot_name
from .recipe import Step

LABELS = b"labels"


class Context:
    """What a step may read besides the image: the recipe's folder, the lock, options."""

    def __init__(self, folder: str, lock, relearn: bool = False, model: str | None = None,
                 progress=None, outside: bool = False) -> None:
        self.folder = folder
        self.lock = lock
        self.relearn = relearn
        self.model = model
        self.progress = progress
        #: RESOURCE and METHOD FILE may read outside the recipe's folder (--allow-outside)
        self.outside = outside

    def path(self, name: str, confined: bool = True) -> str:
        """Where a file a step names is. A recipe is someone else's code: what it embeds
        comes from its own folder (the build context), symlinks resolved, unless the
        person building widened it; `../../etc/shadow` or /proc/self/environ do not."""
        where = name if os.path.isabs(name) else os.path.join(self.folder, name)
        if not confined or self.outside:
            return where
        real, home = os.path.realpath(where), os.path.realpath(self.folder)
        if os.path.commonpath([real, home]) != home:
            raise UsageError(f"{name}: outside the recipe's folder {self.folder} (build "
                             "with --allow-outside to read it anyway)")
        return real

    def read(self, step: Step, name: str, confined: bool = True) -> bytes:
        """A regular file's bytes: a FIFO would block the build, /dev/zero never end."""
        try:
            where = self.path(name, confined)
        except UsageError as exc:
            raise step.error(str(exc)) from None
        except ValueError:  # an embedded NUL
            raise step.error(f"cannot read {name!r}: not a file name") from None
        try:
            fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise step.error(f"cannot read {name}: {exc.strerror or exc}") from None
        except ValueError:  # an embedded NUL
            raise step.error(f"cannot read {name!r}: not a file name") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise step.error(f"cannot read {name}: not a regular file")
        with os.fdopen(fd, "rb") as f:
            try:
                return f.read()
            except OSError as exc:
                raise step.error(f"cannot read {name}: {exc.strerror or exc}") from None


def files_read(step: Step) -> list[str]:
    """The files a step reads: their contents are part of its cache key."""
    if step.directive == "METHOD" and step.body is None:
        return [step.words[2]]
    if step.directive == "RESOURCE":
        return [step.words[1]]
    return []


def apply(image: str, step: Step, ctx: Context) -> None:
    """Run one directive (FROM is the builder's) on the working image."""
    handler = HANDLERS[step.directive]
    handler(image, step, ctx)


def _object(image: str, step: Step, ctx: Context) -> None:
    name = step.words[0]
    proto = step.words[1] if len(step.words) > 1 else "genesis"
    _name_ok(step, name)

    def work(world):
        from ..world.shell import resolve

        made = world.clone(resolve(world, proto))
        world.put_slot(world.lobby, name, made, DATA)

    session.run(image, work)


def _slot(image: str, step: Step, ctx: Context) -> None:
    target, name = step.words[0], step.words[1]
    _name_ok(step, name)
    _evaluate(image, step, f"({target}) addSlot: '{name}' value: ({step.rest(2)})")


def _parent(image: str, step: Step, ctx: Context) -> None:
    target, name = step.words[0], step.words[1]
    _name_ok(step, name)
    _evaluate(image, step, f"({target}) addSlot: '{name}*' value: ({step.rest(2)})")


def _method(image: str, step: Step, ctx: Context) -> None:
    target, selector = step.words[0], step.words[1]
    if step.body is not None:
        source = step.body
    else:
        try:
            source = ctx.read(step, step.words[2]).decode("utf-8")
        except UnicodeDecodeError:
            raise step.error(f"{step.words[2]} is not UTF-8 text") from None

    def work(world):
        from ..world.shell import define

        define(world, target, selector, source)

    session.run(image, work)


def _send(image: str, step: Step, ctx: Context) -> None:
    _evaluate(image, step, step.rest(0))


def _library(image: str, step: Step, ctx: Context) -> None:
    from ..learn.library_objects import lib_add

    name, header, library = step.words
    lib_add(image, name, header, library)


def _resource(image: str, step: Step, ctx: Context) -> None:
    name, path = step.words
    _name_ok(step, name)
    data = ctx.read(step, path)
    session.run(image, lambda world: world.put_slot(world.lobby, name, data, DATA))


def _label(image: str, step: Step, ctx: Context) -> None:
    key, value = step.words[0], step.rest(1)

    def work(world):
        labels = dict(world.txn.get_meta(LABELS) or {})
        labels[key] = value
        world.txn.put_meta(LABELS, dict(sorted(labels.items())))

    session.run(image, work)


def _learn(image: str, step: Step, ctx: Context) -> None:
    from .learning import learn_step

    learn_step(image, step, ctx)


def _evaluate(image: str, step: Step, source: str) -> None:
    from ..world.shell import evaluate

    session.run(image, lambda world: evaluate(world, source), options={"learn": False})


def _name_ok(step: Step, name: str) -> None:
    try:
        check_slot_name(name, DATA)
    except UsageError as exc:
        raise step.error(str(exc)) from None


HANDLERS = {"OBJECT": _object, "SLOT": _slot, "PARENT": _parent, "METHOD": _method,
            "SEND": _send, "EVAL": _send, "LIBRARY": _library, "LEARN": _learn,
            "RESOURCE": _resource, "LABEL": _label}
