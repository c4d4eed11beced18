"""LEARN: learn a method during a build, or replay it from `Squeakerfile.lock`.

The lock records what was learned (function, binding source, test, model sha,
prompt hash: the whole provenance) as the exact slot the image received, so a
rebuild with the lock installs the same method with the same provenance
without loading a model, and the image's digest does not change.
"""

from __future__ import annotations

import json
import os

from image_format import literals
from image_format.codec import MappingProxyType
from image_format.files import write_whole

from ..errors import UsageError, cannot_write
from ..world import session
from ..world.genesis_upgrade import binding_source
from ..world.objects import METHOD
from .recipe import Step

LOCK_VERSION = 1


class Lock:
    """`Squeakerfile.lock`: one entry per LEARN directive, keyed by its text."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.entries: dict[str, dict] = {}
        self.extra: dict = {}  # top-level keys this proto does not use: kept as they were
        self.changed = False
        try:
            data = _read_json(path)
        except FileNotFoundError:
            return
        except (OSError, ValueError, RecursionError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
                "not JSON" if not isinstance(exc, RecursionError) else "nested too deeply"
            raise UsageError(f"{path}: unreadable lock file: {why}") from None
        learned = (data.get("learned") or {}) if isinstance(data, dict) else None
        if not isinstance(learned, dict) or type(data.get("version")) is not int \
                or data["version"] != LOCK_VERSION \
                or not all(isinstance(k, str) and isinstance(v, dict) for k, v in learned.items()):
            raise UsageError(f"{path}: not a proto lock file (version {LOCK_VERSION})")
        self.entries = dict(learned)
        self.extra = {k: v for k, v in data.items() if k not in ("version", "about", "learned")}

    @staticmethod
    def is_lock(path: str) -> bool:
        """Whether the path is a regular file of JSON text (a lock), not an LMDB image. Only
        a regular file is opened: a FIFO or a device would block or never end."""
        import stat

        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return False
            with open(path, "rb") as f:
                return f.read(64).lstrip()[:1] == b"{"
        except OSError:
            return False

    def problems(self) -> list[tuple[str, str]]:
        """(entry, problem) for each entry whose source is no method, or needs an API
        this proto does not have; parsed, never run."""
        from ..world import host_api
        from ..world.method_source import validate_source

        out = []
        for key, entry in sorted(self.entries.items()):  # each a dict (__init__, put)
            source = entry.get("source")
            if not isinstance(source, str) or not isinstance(entry.get("selector"), str):
                out.append((key, "the entry has no selector and source"))
                continue
            try:
                validate_source(source, entry["selector"])
            except UsageError as exc:
                out.append((key, str(exc)))
                continue
            out += [(key, host_api.hinted(why)) for why in host_api.problems(source)]
        return out

    def upgrade(self) -> int:
        """Rewrite entries written under an earlier host API; how many changed."""
        changed = 0
        for entry in self.entries.values():
            source = entry.get("source")
            new = binding_source(source) if isinstance(source, str) else source
            if new != source:
                entry["source"] = new
                changed += 1
        self.changed = self.changed or bool(changed)
        return changed

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def put(self, key: str, entry: dict) -> None:
        self.entries[key] = entry
        self.changed = True

    def entry_text(self, key: str) -> str:
        """The entry as it is hashed into the step's cache key."""
        entry = self.entries.get(key)
        return json.dumps(entry, sort_keys=True) if entry else ""

    def save(self) -> None:
        if not self.changed:
            return
        data = {"version": LOCK_VERSION,
                "about": "What LEARN directives learned; proto build replays it without a "
                         "model. Delete an entry (or build with --relearn) to learn again.",
                **self.extra, "learned": dict(sorted(self.entries.items()))}
        # Through a symlink, the file it names is replaced; a file without write
        # permission is not rewritten (as an image is not), whoever runs proto.
        target = os.path.realpath(self.path)
        if os.path.exists(target) and not os.stat(target).st_mode & 0o222:
            raise UsageError(f"{self.path}: the lock file is read-only")
        try:
            write_whole(target, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise cannot_write(self.path, exc) from None
        self.changed = False


MAX_LOCK_BYTES = 64 << 20  # a lock holds method sources: far less than this


def _read_json(path: str) -> object:
    """The file's JSON, read up to MAX_LOCK_BYTES (a larger file is no lock)."""
    with open(path, "rb") as f:
        data = f.read(MAX_LOCK_BYTES + 1)
    if len(data) > MAX_LOCK_BYTES:
        raise ValueError("too large")
    return json.loads(data.decode("utf-8"))


def lock_key(step: Step) -> str:
    return step.text.split("\n", 1)[0].strip()


def learn_step(image: str, step: Step, ctx) -> None:
    from ..learn.hook import request_for as learn_request
    from ..world.syntax import Send, parse

    receiver, message = step.words[0], step.rest(1)
    try:
        nodes = parse(f"{receiver} {message}")
    except UsageError as exc:
        raise step.error(str(exc)) from None
    if len(nodes) != 1 or not isinstance(nodes[0], Send):
        raise step.error("LEARN takes a receiver and one message: LEARN m cubeRootOf: 27")
    node = nodes[0]
    request, _ = learn_request(image, node)
    key = lock_key(step)
    entry = None if ctx.relearn else ctx.lock.get(key)
    if entry is not None:
        _replay(image, request.receiver_oid, node.selector, entry, step)
        return
    from ..learn.loop import learn

    learned = learn(image, request, model=ctx.model, progress=ctx.progress)
    ctx.lock.put(key, {"selector": node.selector, "function": learned.function,
                       "source": learned.source,
                       "provenance": literals.write(learned.provenance())})


def _replay(image: str, oid: int, selector: str, entry: dict, step: Step) -> None:
    if entry.get("selector") != selector or not isinstance(entry.get("source"), str):
        raise step.error("the lock's entry for this LEARN does not match it "
                         "(build with --relearn)")
    try:
        meta = literals.read(entry.get("provenance") or "nil")
    except literals.LiteralError as exc:
        raise step.error(f"the lock's provenance is damaged: {exc}") from None
    if not hasattr(meta, "items"):
        raise step.error("the lock's provenance is not a map (build with --relearn)")
    # What a lock replays is learned code whatever the lock says: it runs confined. Trust
    # is given by a person to one image's method (`proto trust`), never by a lock file.
    meta = MappingProxyType({**{k: v for k, v in meta.items() if k != "trusted"},
                             "learned": True})

    # A lock written under host API 1 imports proto's modules: replayed in this API's form.
    source = binding_source(entry["source"])

    def work(world):
        from ..world.method_source import validate_source

        validate_source(source, selector)
        world.put_slot(world.object(oid), selector, source, METHOD, meta)

    session.run(image, work)
