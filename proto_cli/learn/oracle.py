"""Reference oracles: the model's Python expression for what a message computes.

A small coder model writes `math.acos(arg1)` or `hashlib.sha1(arg1.encode()).digest()`
far more reliably than it computes their values, so a proposal may carry such an
expression and the expected values are *computed*, on the message's arguments and
on generated ones (probes.py), then compared with what each candidate binding
answers (evidence.py).

An oracle is model output: it is checked here by its syntax tree only (no code of
it runs in this process), then evaluated in the sandbox. The allow-list of modules
keeps an honest oracle independent of the C code it judges (no ctypes, no cffi, no
imports, no names with underscores, no members that fetch attributes by name); it is
no wall against a hostile one. The wall is the sandbox and the seccomp guard the
oracle runs under (no process, no network, no file change): a hostile oracle can
only compute wrong values, and the model's own values prove nothing alone anyway.
An oracle that does not evaluate is no evidence; one that disagrees with every
candidate proves nothing against them either (evidence.py decides that).
"""

from __future__ import annotations

import ast
import json

#: Standard-library modules an oracle may use: they implement what C libraries do.
MODULES = ("math", "cmath", "zlib", "binascii", "hashlib", "struct", "uuid", "fnmatch",
           "unicodedata", "string", "sqlite3", "calendar", "base64",
           "statistics", "fractions", "bz2", "lzma", "ipaddress", "html",
           "colorsys", "datetime", "textwrap", "xml.parsers.expat", "urllib.parse",
           "curses.ascii")
#: Other names for a module: C's <ctype.h> classification, as Python has it for ASCII,
#: and a submodule by its own name, as `from xml.parsers import expat` gives it.
ALIASES = {"ctype": "curses.ascii"} | {m.rsplit(".", 1)[1]: m for m in MODULES if "." in m}
#: Module members left out: they reach attributes or files by a name in a string
#: (`Formatter().get_field('0.__class__')`), around the syntax check's rule on underscores.
HIDDEN = ("Formatter", "attrgetter", "methodcaller", "open", "connect", "load", "loads",
          "dump", "dumps")
#: Builtins that compute; nothing that reads files, imports, or reaches attributes by name.
BUILTINS = ("abs", "all", "any", "bin", "bool", "bytearray", "bytes", "chr", "dict", "divmod",
            "enumerate", "filter", "float", "format", "frozenset", "hex", "int", "len", "list",
            "map", "max", "min", "oct", "ord", "pow", "range", "repr", "reversed", "round",
            "set", "sorted", "str", "sum", "tuple", "zip", "isinstance")
MAX_CHARS = 400
MAX_NODES = 200

_NODES = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call,
    ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List,
    ast.Set, ast.Dict, ast.keyword, ast.ListComp, ast.SetComp, ast.GeneratorExp,
    ast.DictComp, ast.comprehension, ast.JoinedStr, ast.FormattedValue, ast.Load, ast.Store,
    ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)


class OracleError(ValueError):
    """An oracle that is not an allowed expression: it is ignored, not evaluated."""


def roots() -> set[str]:
    """The top-level names the modules are reached by (`xml` for xml.parsers.expat)."""
    return {m.split(".")[0] for m in MODULES} | set(ALIASES)


def check(expr: object, arity: int, constants: dict | None = None) -> str | None:
    """The expression, stripped, if it is one allowed oracle over arg1..argN; None when
    the model gave none. OracleError says why one is refused."""
    if expr is None:
        return None
    if not isinstance(expr, str):
        raise OracleError("an oracle is a Python expression in a string")
    text = expr.strip()
    if not text or text.lower() in ("null", "none"):
        return None
    if len(text) > MAX_CHARS:
        raise OracleError(f"the oracle is longer than {MAX_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise OracleError("the oracle is not a Python expression") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise OracleError("the oracle is too large")
    bound = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    known = {f"arg{i}" for i in range(1, arity + 1)} | roots() | set(BUILTINS) | bound
    known |= set(constants or ())
    for node in nodes:
        if not isinstance(node, _NODES):
            raise OracleError(f"the oracle may not use {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id not in known:
            raise OracleError(f"the oracle uses an unknown name {node.id!r}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise OracleError("the oracle may not use names starting with _")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise OracleError("the oracle may not use names starting with _")
    return text




OUTSIDE = object()  # the oracle raised for this input: outside the function's domain


def evaluate(expr: str, probes: list[tuple], constants: dict | None = None,
             wall_s: float = 10.0) -> list | None:
    """The oracle's value for each probe (OUTSIDE where it raised), computed in the
    sandbox; None when it could not be evaluated at all."""
    from sandbox import Limits, SandboxUnavailable, run

    from .verify import launcher, sandbox_files

    spec = {"expr": expr, "modules": list(MODULES), "aliases": ALIASES, "hidden": HIDDEN,
            "builtins": list(BUILTINS),
            "constants": constants or {}, "seconds_each": 0.5,
            "probes": [[{"$bytes": a.hex()} if isinstance(a, bytes) else a for a in p]
                       for p in probes]}
    try:
        verdict = run(python_source=launcher("oracle_run"),
                      files={**sandbox_files(), "oracle.json": json.dumps(spec)},
                      limits=Limits(wall_s=wall_s, cpu_s=int(wall_s), memory_mb=1024,
                                    processes=4, output_kb=4096))
    except SandboxUnavailable:
        return None
    if verdict.kind != "none" or verdict.stdout_truncated:
        return None
    try:
        rows = json.loads(verdict.stdout.strip().splitlines()[-1])
        if not isinstance(rows, list) or len(rows) != len(probes):
            return None
        return [decode(r["v"]) if isinstance(r, dict) and "v" in r else OUTSIDE for r in rows]
    except (ValueError, IndexError, TypeError, RecursionError):
        return None  # whatever the sandbox printed, it is no list of values


class Other:
    """A value C cannot answer (a list, an object): never agrees with a candidate."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"


def decode(value: object) -> object:
    """A result as the sandbox's JSON carries it (harnesses share the encoding); what
    does not decode is an Other, never an error here."""
    if isinstance(value, dict):
        try:
            if "$hex" in value:
                return bytes.fromhex(value["$hex"])
            if "$float" in value:
                return float(value["$float"])
        except (ValueError, TypeError):
            return Other("undecodable")
        return Other(str(value.get("$other") or value.get("$foreign") or "other")[:40])
    if isinstance(value, list | dict):
        return Other("list")
    return value
