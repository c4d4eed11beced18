"""The canonical text form of an image: deterministic, reviewable, and reversible.

    proto-image 1
    root lobby = @1
    ...
    object @5  # point
      header {"parents": ["parent"]}
      parent parent = @3
      data x = 3
      method printString
        | def printString(self):
        |     return "a point"
      meta printString = {"learned": true}

Objects come in oid order, slots in key order (the image's own order), root
names sorted; method sources are written verbatim, one `|` line per source line,
so a git diff of two exports shows the edited lines. The `# name` after an
object is the lobby name bound to it, for people; reading ignores it. Reading
an export gives an image whose export is byte-identical, and the SHA-256 of this
text is the image's content digest. Nothing here runs code from the image:
values are decoded by the safe codec and written as literals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from . import layout as L
from . import literals
from .codec import MappingProxyType, Ref, decode, decode_prefix, encode
from .errors import DecodeError, ImageError

MAGIC = f"proto-image {L.FORMAT_VERSION}"
KIND_WORDS = {L.DATA: "data", L.CONSTANT: "const", L.METHOD: "method", L.PARENT: "parent"}
WORD_KINDS = {v: k for k, v in KIND_WORDS.items()}
SOURCE_BAR = "|"
INDENT = "  "


class TextFormError(ImageError):
    """A text export that cannot be read back (with its line number)."""


def split_record(record: bytes) -> tuple[str, object, object]:
    """(kind, value, meta) of a slot record; meta is None when absent."""
    if not record:
        raise DecodeError("empty slot record")
    kind = chr(record[0])
    if kind not in KIND_WORDS:
        raise DecodeError(f"unknown slot kind {kind!r}")
    value, end = decode_prefix(record, None, 1)
    meta = None
    if end < len(record):
        meta, end = decode_prefix(record, None, end)
        if end != len(record):
            raise DecodeError("trailing bytes after a slot record")
    return kind, value, meta


def roots(txn) -> dict[str, int]:
    stored = txn.get_meta(L.K_ROOTS)
    if not hasattr(stored, "items"):
        return {}
    return {str(k): v.oid for k, v in stored.items() if isinstance(v, Ref)}


def lobby_names(txn, only: set[int] | None = None) -> dict[int, str]:
    """oid -> the name people know it by: a root's name, else the lobby slot bound to it.

    With `only`, just those objects are looked for, by comparing encoded bytes (no
    decoding): a diff of two 100,000-name lobbies names its few changed objects fast.
    """
    names: dict[int, str] = {}
    known = roots(txn)
    lobby = known.get("lobby")
    wanted = None if only is None else {encode(Ref(oid)): oid for oid in only}
    if lobby is not None:
        for key, record in txn.object_range(lobby):
            if record[:1] not in (b"d", b"c") or record[1:2] != b"r":
                continue
            name = bytes(key[L.OID_BYTES:]).decode("utf-8", "replace")
            if not name or name == "lobby":
                continue
            if wanted is not None:
                oid = wanted.get(bytes(record[1:]))
            else:
                try:
                    _, value, _ = split_record(bytes(record))
                except DecodeError:
                    continue
                oid = value.oid if isinstance(value, Ref) else None
            if oid is not None and oid not in names:
                names[oid] = name
    for name, oid in sorted(known.items()):
        if only is None or oid in only:
            names[oid] = name
    return names


def export_lines(txn) -> Iterator[str]:
    """The image as canonical text, line by line (each without its newline)."""
    yield MAGIC
    for name, oid in sorted(roots(txn).items()):
        yield f"root {_name(name)} = @{oid}"
    for key in sorted(k for k in _meta_keys(txn) if k not in _KNOWN_META):
        yield f"record {_name(key.decode('utf-8', 'replace'))} = " + \
            literals.write(txn.get_meta(key))
    names = lobby_names(txn)
    current = None
    for key, record in txn.records():
        oid, name = L.split_key(key)
        if oid != current:
            current = oid
            label = names.get(oid)
            if label and not label.isprintable():  # a newline in it would start a line
                label = literals.write(label)
            yield f"object @{oid}" + (f"  # {label}" if label else "")
        try:
            if not name:
                yield f"{INDENT}header {literals.write(decode(record))}"
                continue
            kind, value, meta = split_record(record)
        except DecodeError as exc:
            raise ImageError(f"object @{oid} slot {name!r}: corrupt record: {exc}") from None
        word = KIND_WORDS[kind]
        if kind == L.METHOD and isinstance(value, str):
            yield f"{INDENT}{word} {_name(name)}"
            for line in value.split("\n"):
                yield f"{INDENT}{INDENT}{SOURCE_BAR}" + (f" {line}" if line else "")
        else:
            yield f"{INDENT}{word} {_name(name)} = {literals.write(value)}"
        if meta is not None:
            yield f"{INDENT}meta {_name(name)} = {literals.write(meta)}"


_KNOWN_META = {L.K_FORMAT, L.K_VERSION, L.K_NEXT_OID, L.K_ROOTS}


def _meta_keys(txn) -> list[bytes]:
    cur = txn.raw.cursor(db=txn.meta)
    return [bytes(k) for k in cur.iternext(keys=True, values=False)]


def digest(txn) -> str:
    """SHA-256 of the canonical text: equal contents, equal digest, however made."""
    h = hashlib.sha256()
    for line in export_lines(txn):
        h.update(line.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


def _name(name: str) -> str:
    """Slot names are written bare unless they could be misread."""
    if name and all(ch.isalnum() or ch in "_:*+-/<>=~!@%&?,\\" for ch in name) \
            and name != "=" and not name.startswith("#"):
        return name
    return literals.write(name)


# -- reading ---------------------------------------------------------------------------

class Parsed:
    """The records an export describes, ready to write into a new image."""

    def __init__(self) -> None:
        self.roots: dict[str, int] = {}
        self.meta: list[tuple[bytes, bytes]] = []
        self.records: list[tuple[bytes, bytes]] = []
        self.max_oid = 0

    def populate(self, txn) -> None:
        """Write everything in the (one) transaction that creates the image."""
        txn.put_meta(L.K_ROOTS, {k: Ref(v) for k, v in sorted(self.roots.items())})
        for key, data in self.meta:
            txn.raw.put(key, data, db=txn.meta)
        for key, record in self.records:
            txn.put(key, record)
        txn.put_meta(L.K_NEXT_OID, self.max_oid + 1)


def parse(lines: Iterable[str], source: str = "<export>") -> Parsed:
    out = Parsed()
    it = iter(enumerate(lines, 1))
    oid: int | None = None
    pending: tuple[int, str, str, object] | None = None  # (line, name, kind, value)
    first = True
    seen: set[bytes] = set()

    def fail(number: int, message: str) -> TextFormError:
        return TextFormError(f"{source}:{number}: {message}")

    def flush(meta: object = None, has_meta: bool = False) -> None:
        nonlocal pending
        if pending is None:
            return
        number, name, kind, value = pending
        key = L.slot_key(oid, name)
        if key in seen:
            raise fail(number, f"slot {name!r} appears twice in object @{oid}")
        seen.add(key)
        try:
            record = kind.encode() + encode(value) + (encode(meta) if has_meta else b"")
        except ImageError as exc:
            raise fail(number, str(exc)) from None
        out.records.append((key, record))
        _note_refs(out, value)
        pending = None

    carry: tuple[int, str] | None = None
    while True:
        if carry is not None:
            line_no, line = carry
            carry = None
        else:
            step = next(it, None)
            if step is None:
                break
            line_no, line = step
        line = line.rstrip("\n")
        if first:
            if line != MAGIC:
                raise fail(line_no, f"not a proto text export (expected {MAGIC!r})")
            first = False
            continue
        stripped = line.strip()
        if not stripped:
            continue
        try:
            if line.startswith("root "):
                name, value = _assignment(stripped[5:])
                if not isinstance(value, Ref):
                    raise fail(line_no, "a root must be an object reference (@N)")
                out.roots[name] = value.oid
                _note_refs(out, value)
            elif line.startswith("record "):
                name, value = _assignment(stripped[7:])
                out.meta.append((name.encode("utf-8"), encode(value)))
            elif line.startswith("object @"):
                flush()
                word = stripped[len("object @"):].split("#", 1)[0].strip()
                if not word.isdigit() or len(word) > 21 or not 0 < int(word) <= literals.MAX_OID:
                    raise fail(line_no, f"bad object id {word[:30]!r}")
                oid = int(word)
                out.max_oid = max(out.max_oid, oid)
            elif line.startswith(INDENT) and oid is not None:
                word, _, rest = stripped.partition(" ")
                if word == "header":
                    flush()
                    key = L.object_key(oid)
                    if key in seen:
                        raise fail(line_no, f"object @{oid} has two headers")
                    seen.add(key)
                    value = literals.read(rest)
                    out.records.append((key, encode(value)))
                    _note_refs(out, value)
                elif word == "meta":
                    name, value = _assignment(rest)
                    if pending is None or pending[1] != name:
                        raise fail(line_no, f"meta for {name!r} does not follow its slot")
                    flush(value, True)
                elif word in WORD_KINDS:
                    flush()
                    kind = WORD_KINDS[word]
                    name = _read_name(rest)
                    if kind == L.METHOD and not rest[len(_name(name)):].strip():
                        body, carry = _source(it)
                        pending = (line_no, name, kind, body)
                    else:
                        name, value = _assignment(rest)
                        pending = (line_no, name, kind, value)
                else:
                    raise fail(line_no, f"unknown line {stripped[:30]!r}")
            else:
                raise fail(line_no, f"unexpected line {stripped[:30]!r}")
        except literals.LiteralError as exc:
            raise fail(line_no, str(exc)) from None
    if first:
        raise fail(1, "empty file: not a proto text export")
    flush()
    return out


def _source(it) -> tuple[str, tuple[int, str] | None]:
    """The `|` lines of a method body; the first line after them is handed back."""
    lines: list[str] = []
    for number, line in it:
        text = line.rstrip("\n")
        body = text.lstrip(" ")
        if not body.startswith(SOURCE_BAR) or len(text) - len(body) != 2 * len(INDENT):
            return "\n".join(lines), (number, line)
        body = body[1:]
        lines.append(body[1:] if body.startswith(" ") else body)
    return "\n".join(lines), None


def _assignment(text: str) -> tuple[str, object]:
    name = _read_name(text)
    rest = text[len(_name(name)):].lstrip(" ")
    if not rest.startswith("="):
        raise literals.LiteralError(f"expected '=' after {name!r}")
    return name, literals.read(rest[1:].strip())


def _read_name(text: str) -> str:
    if text.startswith('"'):
        value, _ = literals.read_prefix(text, 0)
        if not isinstance(value, str):
            raise literals.LiteralError("a name must be text")
        return value
    name = text.split(" ", 1)[0]
    if not name:
        raise literals.LiteralError("a name is missing")
    return name


def refs_in(value: object) -> list[int]:
    """The object ids a decoded value refers to, at any depth."""
    if isinstance(value, Ref):
        return [value.oid]
    t = type(value)
    if t is tuple or t is list:
        return [oid for item in value for oid in refs_in(item)]
    if t is MappingProxyType or t is dict:
        return [oid for k, v in value.items() for oid in refs_in(k) + refs_in(v)]
    if t.__module__ == "image_format.values":  # a set's elements, a block's captured values
        inner = value.elements if t.__name__ == "ProtoSet" else value.captured
        return refs_in(inner)
    return []


def _note_refs(out: Parsed, value: object) -> None:
    out.max_oid = max([out.max_oid, *refs_in(value)])
