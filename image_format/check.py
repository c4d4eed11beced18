"""Checking an image's structure without running any of its code.

Every record decodes; every object has its header; every reference (in slots,
metadata and roots) names an object that exists; parent slots hold objects and
agree with the header's parent order; no object inherits from itself; the
object counter is past every object; and every method source passes the
`method_check` the caller supplies (the world's parse-only validator).
"""

from __future__ import annotations

from collections.abc import Callable

from . import layout as L
from .canonical import refs_in, roots, split_record
from .codec import MappingProxyType, Ref, decode
from .errors import DamagedImage, DecodeError, ImageError


class Problem:
    __slots__ = ("oid", "slot", "message")

    def __init__(self, oid: int | None, slot: str | None, message: str) -> None:
        self.oid = oid
        self.slot = slot
        self.message = message

    def where(self) -> str:
        if self.oid is None:
            return self.slot or "image"  # a lock file's problems name its entry
        return f"@{self.oid}" + (f" {self.slot}" if self.slot else "")

    def to_dict(self) -> dict:
        return {"oid": self.oid, "slot": self.slot, "problem": self.message}


class Report:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.objects = 0
        self.slots = 0
        self.methods = 0

    def add(self, oid: int | None, slot: str | None, message: str) -> None:
        self.problems.append(Problem(oid, slot, message))

    @property
    def ok(self) -> bool:
        return not self.problems

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        report = cls()
        report.objects, report.slots, report.methods = (data["objects"], data["slots"],
                                                        data["methods"])
        for p in data["problems"]:
            report.add(p["oid"], p["slot"], p["problem"])
        return report

    def to_dict(self) -> dict:
        return {"ok": self.ok, "objects": self.objects, "slots": self.slots,
                "methods": self.methods, "problems": [p.to_dict() for p in self.problems]}


def check_file(path: str, method_check: Callable[[str, str], str | None] | None = None,
               image_check: Callable[[object], list[str]] | None = None) -> Report:
    """`check` of the image at `path`, walked in a forked child.

    LMDB trusts its pages: a damaged node offset or value size can make it read
    past the end of the file, which is a SIGBUS, not an error. In a child that
    kills only the child, and the damage becomes a finding. Errors that make the
    file no image at all (missing, truncated header) are raised as usual.
    """
    import json
    import os
    import signal

    from .store import Image

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        code = 3
        try:
            os.close(read_end)
            try:
                image = Image(path, readonly=True)
            except ImageError as exc:  # not an image at all: the usual one-line error
                answer = {"error": str(exc)}
            else:
                with image.read() as txn:
                    answer = check(txn, method_check, image_check).to_dict()
            with os.fdopen(write_end, "wb") as out:
                out.write(json.dumps(answer).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        answer = json.loads(data)
        if "error" in answer:
            raise ImageError(answer["error"])
        return Report.from_dict(answer)
    report = Report()
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        report.add(None, None, f"reading the file crashed LMDB ({name}): a damaged page "
                               "points outside the file")
    else:
        report.add(None, None, "the check failed before it could finish")
    return report


def check(txn, method_check: Callable[[str, str], str | None] | None = None,
          image_check: Callable[[object], list[str]] | None = None) -> Report:
    """`method_check(source, selector)` returns a problem or None, `image_check(txn)` the
    problems of the image as a whole (its recorded versions); neither may run code."""
    report = Report()
    for message in image_check(txn) if image_check is not None else ():
        report.add(None, None, message)
    headers: dict[int, tuple[str, ...]] = {}
    parent_slots: dict[int, dict[str, int]] = {}
    refs: list[tuple[int, str, int]] = []  # (from oid, slot, to oid)
    max_oid = 0
    try:
        max_oid = _walk_records(txn, report, headers, parent_slots, refs, method_check)
    except DamagedImage as exc:
        report.add(None, None, str(exc))
        return report  # LMDB has invalidated the transaction: nothing more can be read
    for oid, parents in headers.items():
        declared = parent_slots.get(oid, {})
        for name in parents:
            if name not in declared:
                report.add(oid, name, "the header lists a parent slot the object lacks")
        for name in declared:
            if name not in parents:
                report.add(oid, name, "parent slot missing from the header's parent order")
    for oid, name, target in refs:
        if target not in headers:
            report.add(oid, name, f"refers to @{target}, which does not exist")
    try:
        _check_meta(txn, report, headers, max_oid)
    except DamagedImage as exc:
        report.add(None, None, str(exc))
    _check_cycles(report, parent_slots)
    return report


def _walk_records(txn, report: Report, headers: dict, parent_slots: dict, refs: list,
                  method_check) -> int:
    """One pass over every record; answers the highest object id seen."""
    max_oid = 0
    previous = b""
    for key, record in txn.records():
        key = bytes(key)
        if key <= previous:
            # LMDB trusts its sort order: a key out of order is unreachable by lookup.
            report.add(None, None, f"records out of key order at {key[:24]!r} (damaged page)")
        previous = key
        if len(key) < L.OID_BYTES:
            report.add(None, None, f"malformed key {key!r}")
            continue
        oid = int.from_bytes(key[:L.OID_BYTES], "big")
        max_oid = max(max_oid, oid)
        try:
            name = key[L.OID_BYTES:].decode("utf-8")
        except UnicodeDecodeError:
            report.add(oid, None, "a slot name is not UTF-8")
            continue
        if not name:
            report.objects += 1
            headers[oid] = _header(report, oid, bytes(record))
            continue
        report.slots += 1
        if oid not in headers:
            report.add(oid, name, "slot of an object that has no header record")
        try:
            kind, value, meta = split_record(bytes(record))
        except DecodeError as exc:
            report.add(oid, name, f"corrupt record: {exc}")
            continue
        for target in refs_in(value) + refs_in(meta):
            refs.append((oid, name, target))
        if kind == L.PARENT:
            if isinstance(value, Ref):
                parent_slots.setdefault(oid, {})[name] = value.oid
            else:
                report.add(oid, name, "parent slot does not hold an object")
        elif kind == L.METHOD:
            report.methods += 1
            if not isinstance(value, str):
                report.add(oid, name, "method slot does not hold source text")
            elif method_check is not None:
                problem = method_check(value, name)
                if problem:
                    report.add(oid, name, problem)
            if meta is not None and not hasattr(meta, "items"):
                # `proto methods` reads a method's metadata as its provenance map
                report.add(oid, name, f"method provenance is {_a(meta)}, not a map")
        elif method_check is not None:
            for source in _block_sources(value):  # parsed like a method's, never run
                problem = method_check(source, None)
                if problem:
                    report.add(oid, name, f"stored block: {problem}")
    return max_oid


def _block_sources(value: object, depth: int = 0) -> list[str]:
    """The source text of every stored block in a decoded value."""
    t = type(value)
    if depth > 64:
        return []
    if t is tuple:
        return [s for v in value for s in _block_sources(v, depth + 1)]
    if t is MappingProxyType:
        return [s for k, v in value.items() for s in _block_sources(v, depth + 1)]
    if t.__module__ == "image_format.values":
        if t.__name__ == "StoredBlock":
            return [value.source, *_block_sources(value.captured, depth + 1)]
        return [s for v in value for s in _block_sources(v, depth + 1)]
    return []


def _a(value: object) -> str:
    """'a list', 'an integer': a decoded value's kind in the words of the language."""
    if isinstance(value, Ref):
        return "an object reference"
    if hasattr(value, "items"):
        return "a map"
    return {tuple: "a list", int: "an integer", str: "a string", bytes: "a byte array",
            float: "a float", bool: "a boolean", type(None): "nil"}.get(type(value), "a value")


def _header(report: Report, oid: int, record: bytes) -> tuple[str, ...]:
    try:
        header = decode(record)
    except DecodeError as exc:
        report.add(oid, None, f"corrupt header: {exc}")
        return ()
    parents = header.get("parents") if hasattr(header, "get") else None
    if not isinstance(parents, tuple):
        report.add(oid, None, "header has no parent list")
        return ()
    for name in parents:
        if not isinstance(name, str):
            report.add(oid, None, f"header's parent list holds {_a(name)}, not a slot name")
            return ()
    return parents


def _check_meta(txn, report: Report, headers: dict, max_oid: int) -> None:
    for key, record in txn.meta_records():
        if bytes(key) == L.K_FORMAT:
            continue  # raw bytes, checked when the image is opened
        try:
            decode(bytes(record))
        except DecodeError as exc:
            report.add(None, None, f"corrupt metadata {bytes(key)!r}: {exc}")
    try:
        next_oid = txn.get_meta(L.K_NEXT_OID)
    except DecodeError as exc:
        report.add(None, None, f"corrupt object counter: {exc}")
        next_oid = None
    if not isinstance(next_oid, int) or next_oid <= max_oid:
        report.add(None, None, f"object counter {next_oid!r} is not past the last object "
                               f"@{max_oid}")
    try:
        known = roots(txn)
        _check_roots(report, txn.get_meta(L.K_ROOTS))
    except DecodeError as exc:
        report.add(None, None, f"corrupt roots: {exc}")
        return
    if "lobby" not in known:
        report.add(None, None, "no lobby root")
    for name, oid in sorted(known.items()):
        if oid not in headers:
            report.add(None, None, f"root {name} refers to @{oid}, which does not exist")


def _check_roots(report: Report, stored: object) -> None:
    """The roots record maps names to object references; `roots()` skips what does not,
    which would hide it (the world refuses to open such an image)."""
    if stored is None:
        return  # no roots at all: reported as "no lobby root"
    if not hasattr(stored, "items"):
        report.add(None, None, f"the roots record is {_a(stored)}, not a map of names to "
                               "objects")
        return
    for name, ref in stored.items():
        if not isinstance(name, str):
            report.add(None, None, f"a root name is {_a(name)}, not a string")
        elif not isinstance(ref, Ref):
            report.add(None, None, f"root {name} is {_a(ref)}, not an object reference")


def _check_cycles(report: Report, parent_slots: dict[int, dict[str, int]]) -> None:
    """An object that inherits from itself (iterative DFS, white/grey/black)."""
    state: dict[int, int] = {}
    for start in sorted(parent_slots):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(parent_slots.get(start, {}).values())))]
        state[start] = 1
        while stack:
            oid, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[oid] = 2
                stack.pop()
                continue
            seen = state.get(child, 0)
            if seen == 1:
                cycle = [o for o, _ in stack][[o for o, _ in stack].index(child):]
                path = " -> ".join(f"@{o}" for o in [*cycle, child])
                report.add(child, None, f"parent cycle: {path}")
            elif seen == 0:
                state[child] = 1
                stack.append((child, iter(sorted(parent_slots.get(child, {}).values()))))
