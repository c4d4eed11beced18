"""Output for people (rich, on a terminal), scripts (--json) and pipes (plain text)."""

from __future__ import annotations

import sys

from image_format.codec import MappingProxyType

from ..world.exact import is_fraction
from ..world.message import Message
from ..world.objects import ProtoObject
from .terminal import visible


def is_tty(stream=None) -> bool:
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def to_json(value: object, name_of=None, depth: int = 0) -> object:
    """A value as JSON: bytes {"$base64"}, objects {"$ref", "name"}, floats kept exact,
    ints past ~4300 digits {"$int": "0x..."}."""
    t = type(value)
    if t is int and value.bit_length() > 14000:  # past what Python prints in decimal
        from image_format.literals import int_text

        return {"$int": int_text(value)}
    if value is None or value is True or value is False or t is int or t is str:
        return value
    if t is float:
        if value != value or value in (float("inf"), float("-inf")):
            return {"$float": repr(value)}
        return value
    if t is bytes:
        import base64

        return {"$base64": base64.b64encode(value).decode("ascii")}
    if t is ProtoObject:
        return {"$ref": value.oid, "name": name_of(value) if name_of else None}
    if depth > 64:
        return {"$error": "nested too deeply"}
    if t is tuple or t is list:
        return [to_json(v, name_of, depth + 1) for v in value]
    if t is MappingProxyType or t is dict:
        if all(type(k) is str for k in value):
            return {k: to_json(v, name_of, depth + 1) for k, v in value.items()}
        return {"$map": [[to_json(k, name_of, depth + 1), to_json(v, name_of, depth + 1)]
                         for k, v in value.items()]}
    if t is Message:
        return {"$message": value.selector}
    if is_fraction(value):
        return {"$fraction": [value.numerator, value.denominator]}
    if t.__module__ == "image_format.values":
        if t.__name__ == "ProtoSet":
            return {"$set": [to_json(v, name_of, depth + 1) for v in value]}
        if t.__name__ == "StoredBlock":
            return {"$block": value.source, "captured": to_json(value.captured, name_of,
                                                                depth + 1)}
    if t.__name__ == "Block" and t.__module__ == "proto_cli.world.blocks":
        return {"$block": value.proto_print()}
    return {"$foreign": type(value).__name__}


def dump_json(obj: object) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


def print_inspection(info: dict) -> None:
    """Slots of one object: a rich table on a terminal, tab-separated lines otherwise."""
    title = visible(f"{info['name'] or 'object'} #{info['oid']}")
    rows = []
    for slot in info["slots"]:
        if slot["kind"] == "method":
            lines = slot["source"].strip().split("\n")
            shown = lines[0] + (f"  … ({len(lines)} lines)" if len(lines) > 1 else "")
        else:
            shown = slot["text"]
        rows.append((visible(slot["name"]), slot["kind"], visible(shown)))
    if not is_tty():
        print(title)
        for row in rows:
            print("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Text, not str: a value like '[/docs]' is data, never rich markup.
    table = Table(title=Text(title), title_justify="left")
    for column in ("slot", "kind", "value"):
        table.add_column(column)
    for name, kind, shown in rows:
        style = {"parent": "cyan", "method": "green"}.get(kind)
        table.add_row(Text(name), Text(kind), Text(shown), style=style)
    Console().print(table)


def print_methods(found: list[dict], with_source: bool) -> None:
    for m in found:
        prov = m["provenance"] or {}
        if m["learned"]:
            note = (f"learned: C {prov.get('function')}() in {prov.get('library')}, "
                    f"{prov.get('attempts')} attempt(s), model {prov.get('model')}; runs "
                    f"{m.get('runs', 'confined')}")
        else:
            note = "written"
        print(visible(f"{m['selector']}\t{note}"))
        if with_source:
            print("    " + visible(m["source"].rstrip(), newlines=True).replace("\n", "\n    "))
