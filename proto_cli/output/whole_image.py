"""Output of the whole-image commands: diff, verify, snapshot listings."""

from __future__ import annotations

import time

from .render import is_tty, visible

SIGN = {"added": "+", "removed": "-", "changed": "~"}
STYLE = {"added": "green", "removed": "red", "changed": "yellow"}


def diff_lines(d, stat: bool = False) -> list[tuple[str, str]]:
    """(style, text) lines; style is a rich style name or ''."""
    out: list[tuple[str, str]] = []
    s = d.stat()
    if stat:
        for obj in d.objects:
            label = f"@{obj.oid}" + (f" {obj.name}" if obj.name else "")
            n = len(obj.slots)
            extra = ", parents" if obj.parents_changed else ""
            out.append((STYLE[obj.change],
                        f"{SIGN[obj.change]} {label} | {n} slot{'s' * (n != 1)}{extra}"))
        o, sl = s["objects"], s["slots"]
        out.append(("bold", f"{o['changed']} object(s) changed, {o['added']} added, "
                            f"{o['removed']} removed; {sl['changed']} slot(s) changed, "
                            f"{sl['added']} added, {sl['removed']} removed"
                            + (f"; {s['roots']} root(s) changed" if s["roots"] else "")))
        return out
    out.append(("bold", f"--- {d.a}"))
    out.append(("bold", f"+++ {d.b}"))
    for root in d.roots:
        old = "-" if root["old"] is None else f"@{root['old']}"
        new = "-" if root["new"] is None else f"@{root['new']}"
        out.append(("yellow", f"~ root {root['root']}: {old} -> {new}"))
    for obj in d.objects:
        label = f"@{obj.oid}" + (f"  ({obj.name})" if obj.name else "")
        out.append((STYLE[obj.change] + " bold", f"{SIGN[obj.change]} object {label}"))
        if obj.parents_changed:
            out.append(("yellow", f"    ~ parents: {obj.old_parents} -> {obj.new_parents}"))
        for slot in obj.slots:
            out.extend(_slot_lines(slot))
    return out


def _slot_lines(slot) -> list[tuple[str, str]]:
    sign, style = SIGN[slot.change], STYLE[slot.change]
    head = f"    {sign} {slot.kind} {slot.name}"
    if slot.source_diff:
        lines = [(style, head)]
        for line in slot.source_diff:
            kind = "green" if line.startswith("+") else "red" if line.startswith("-") else \
                "cyan" if line.startswith("@@") else ""
            lines.append((kind, f"        {line}"))
        return lines
    whole = slot.new if slot.change == "added" else slot.old
    if slot.kind == "method" and slot.change != "changed" and isinstance(whole, str):
        # A source is shown whole, line by line: a cut line hides what it does.
        return [(style, head)] + [(style, f"        {sign} {line}")
                                  for line in whole.split("\n")]
    if slot.change == "added":
        lines = [(style, f"{head} = {_one_line(slot.new)}")]
    elif slot.change == "removed":
        lines = [(style, f"{head} = {_one_line(slot.old)}")]
    else:
        lines = [(style, f"{head}: {_one_line(slot.old)} -> {_one_line(slot.new)}")]
    if slot.old_meta != slot.new_meta and slot.change == "changed":
        lines.append(("yellow", f"        meta: {slot.old_meta} -> {slot.new_meta}"))
    return lines


def _one_line(value: object, limit: int = 120) -> str:
    text = str(value).replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_lines(lines: list[tuple[str, str]]) -> None:
    """(style, text) lines, with the image's control characters made visible."""
    lines = [(style, visible(text)) for style, text in lines]
    if is_tty():
        from rich.console import Console
        from rich.text import Text

        console = Console(highlight=False)
        for style, text in lines:
            console.print(Text(text, style=style or ""), soft_wrap=True)
    else:
        for _, text in lines:
            print(text)


def upgrade_lines(done, path: str) -> list[tuple[str, str]]:
    data = done.to_dict()
    if "lock" in data:
        head = f"{path}: rewrote {data['bindings']} learned binding(s)"
        left = [f"{x['entry']}: {x['why']}" for x in data["left"]]
    else:
        was, now = data["was"], data["now"]
        if was == now and not data["genesis_methods"] and not data["bindings"]:
            head = (f"{path}: already genesis {now['genesis']}, host API {now['api']}; "
                    "nothing to rewrite")
        else:
            head = (f"{path}: genesis {was['genesis']} -> {now['genesis']}, host API "
                    f"{was['api']} -> {now['api']}; rewrote {data['genesis_methods']} "
                    f"genesis method(s) and {data['bindings']} learned binding(s)")
        left = [f"@{x['object']} {x['selector']}: left as written: {x['why']}"
                for x in data["left"]]
    return [("green", head)] + [("yellow", line) for line in left]


def verify_lines(report, path: str) -> list[tuple[str, str]]:
    counts = (f"{report.objects} objects, {report.slots} slots, {report.methods} method "
              "sources parsed")
    if report.ok:
        return [("green", f"{path}: ok ({counts})")]
    lines = [("red", f"{p.where()}: {p.message}") for p in report.problems]
    lines.append(("bold red", f"{path}: {len(report.problems)} problem(s) ({counts})"))
    return lines


def print_snapshots(entries: list[dict]) -> None:
    """A listing's sidecar files are data anyone may have written: shown as text."""
    rows = [tuple(visible(str(x)) for x in (
        e.get("name"), _when(e.get("created")), _size(e.get("size", 0)),
        str(e.get("digest") or "?")[:16])) for e in entries]
    if not is_tty():
        for row in rows:
            print("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("name", "taken", "size", "digest (sha256)")
    for row in rows:
        table.add_row(*(Text(x) for x in row))
    Console().print(table if rows else "no snapshots")


def _when(stamp: object) -> str:
    if not isinstance(stamp, int):
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stamp)) + "Z"


def _size(n: object) -> str:
    if not isinstance(n, int | float) or isinstance(n, bool):
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
