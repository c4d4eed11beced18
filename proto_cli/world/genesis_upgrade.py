"""Bringing an image made by an earlier proto to this genesis and host API.

Only what proto itself wrote is rewritten, recognised by its exact text: a genesis
method's source as an earlier genesis copied it, and the import line the learner
wrote into every binding under host API 1. A method a person wrote, or changed,
is left as it is and listed, so that nobody's code is rewritten by a guess.
Nothing stored is run: sources are compared as text, and every change is made in
the caller's one write transaction, each slot's provenance kept byte for byte.
"""

from __future__ import annotations

from image_format import layout as L
from image_format.codec import decode_prefix, encode
from image_format.errors import ImageError

from ..errors import UsageError
from .genesis import GENESIS_VERSION, method_source
from .genesis_methods import REGISTRY
from .host_api import API_VERSION, problems
from .method_source import validate_source

#: Genesis 1's sources that genesis 2 replaced, verbatim, by the selector whose current
#: genesis source replaces them.
GENESIS_1 = {
    "def learn_on_miss(self, message):\n"
    "    from proto_cli.learn.hook import on_not_understood\n\n"
    "    return on_not_understood(self, message, lambda: resend(self, "
    "\"doesNotUnderstand:\", message))\n": ("learner", "doesNotUnderstand:"),
    "def infer(self, prompt):\n"
    "    from proto_cli.learn.hook import infer\n\n"
    "    return infer(self, prompt)\n": ("learner", "infer:"),
    "def reflect_on(self, message):\n"
    "    from proto_cli.learn.hook import reflect_on\n\n"
    "    return reflect_on(self, message)\n": ("learner", "reflectOn:"),
}
#: The line host API 1's learner wrote into each binding; API 2 injects these names.
RUNTIME_IMPORT_1 = ("    from proto_cli.learn.runtime import Foreign, bind, cbuf, data, integer, "
                    "real, text  # noqa: F401\n")


def binding_source(source: str) -> str:
    """A learned binding's source in this host API's form: API 1's import line gone when it
    is a statement of the function's body (never text inside a string), and the result
    still a method; otherwise the source as it was."""
    import ast

    if RUNTIME_IMPORT_1 not in source:
        return source
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source
    lines = source.split("\n")
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    statements = funcs[0].body if len(funcs) == 1 else []
    drop = [n.lineno for n in statements if isinstance(n, ast.ImportFrom)
            and n.module == "proto_cli.learn.runtime" and n.lineno == n.end_lineno
            and lines[n.lineno - 1] + "\n" == RUNTIME_IMPORT_1]
    if len(drop) != 1 or len(statements) < 2:
        return source
    new = "\n".join(line for number, line in enumerate(lines, 1) if number != drop[0])
    try:
        validate_source(new, "x:" * len(funcs[0].args.args[1:]) or "x")
    except UsageError:
        return source
    return new


class Upgrade:
    """What an upgrade changed and what it left for a person."""

    def __init__(self, genesis: int, api: int) -> None:
        self.was = {"genesis": genesis, "api": api}
        self.genesis_methods = 0
        self.bindings = 0
        self.left: list[tuple[int, str, str]] = []  # (oid, selector, why)
        self.changes: list[tuple[bytes, bytes]] = []
        self.records_versions = False  # the meta already says this genesis and API

    @property
    def changed(self) -> bool:
        return bool(self.changes) or not self.records_versions

    def to_dict(self) -> dict:
        return {"was": self.was, "now": {"genesis": GENESIS_VERSION, "api": API_VERSION},
                "genesis_methods": self.genesis_methods, "bindings": self.bindings,
                "left": [{"object": oid, "selector": sel, "why": why}
                         for oid, sel, why in self.left]}


def versions(txn) -> list[tuple[int | None, str]]:
    """For the genesis and then the host API record: (the version, 1 when there is no
    record, None when the record is damaged or no version; what is wrong, or '').
    Read by `upgrade` (which refuses) and `verify` (which reports and goes on)."""
    out = []
    for key, what, ours in ((L.K_GENESIS, "it began as genesis", GENESIS_VERSION),
                            (L.K_API, "its stored code is written to host API", API_VERSION)):
        name = key.decode()
        try:
            value = txn.get_meta(key)
        except (ImageError, ValueError):
            out.append((None, f"the image's {name} record is damaged"))
            continue
        if value is None:
            out.append((1, ""))
        elif type(value) is not int or value < 1:
            out.append((None, f"the image's {name} record, {shown(value)}, is not a version "
                              "this proto knows"))
        elif value > ours:
            out.append((value, f"{what} {shown(value)}; this proto has {ours}: use a newer "
                               "proto"))
        else:
            out.append((value, ""))
    return out


def recorded(txn) -> tuple[int, int]:
    """(genesis, host API) the image records; both 1 when it records none. A record that
    is no version (not a positive integer, or damaged) is refused, not guessed at."""
    (genesis, wrong_genesis), (api, wrong_api) = versions(txn)
    if genesis is None or api is None:
        raise UsageError(wrong_genesis if genesis is None else wrong_api)
    return genesis, api


def shown(value: object, limit: int = 60) -> str:
    """A recorded value in a message: short, whatever it is."""
    if type(value) is int and value.bit_length() > 64:
        return "a huge number"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def plan(txn) -> Upgrade:
    """What an upgrade would change, read only: the rewrites and the versions to record."""
    genesis, api = recorded(txn)
    if genesis > GENESIS_VERSION or api > API_VERSION:
        raise UsageError(f"the image was made by a newer proto (genesis {shown(genesis)}, "
                         f"host API {shown(api)}; this proto: genesis {GENESIS_VERSION}, API "
                         f"{API_VERSION})")
    report = Upgrade(genesis, api)
    report.records_versions = (txn.get_meta(L.K_GENESIS) == GENESIS_VERSION
                               and txn.get_meta(L.K_API) == API_VERSION)
    roots = txn.get_meta(L.K_ROOTS)
    learner = getattr(roots.get("learner"), "oid", None) if hasattr(roots, "get") else None
    for key, record in txn.records():
        oid, name = L.split_key(key)
        if not name or record[:1] != L.METHOD.encode():
            continue
        source, end = decode_prefix(record, None, 1)
        if type(source) is not str:
            continue
        meta = decode_prefix(record, None, end)[0] if end < len(record) else None
        new = source
        if oid == learner and GENESIS_1.get(source) == ("learner", name):
            new = _genesis_source("learner", name)
            report.genesis_methods += 1
        elif _learned(meta):
            new = binding_source(source)
            if new != source:
                report.bindings += 1
        for why in problems(new):
            report.left.append((oid, name, why))
        if new != source:
            report.changes.append((key, record[:1] + encode(new, None) + record[end:]))
    return report


def _genesis_source(holder: str, selector: str) -> str:
    """This genesis's source for one method (only those an upgrade puts back are read)."""
    return next(method_source(fn) for sel, fn in REGISTRY[holder] if sel == selector)


def _learned(meta: object) -> bool:
    get = getattr(meta, "get", None)
    return get is not None and bool(get("learned"))


def upgrade(txn) -> Upgrade:
    """Rewrite what earlier protos wrote, then record this genesis and API (in the
    caller's write transaction; the caller writes nothing when `plan` changes nothing)."""
    report = plan(txn)
    for key, record in report.changes:
        txn.put(key, record)
    if not report.records_versions:  # plan refused anything newer than this proto
        txn.put_meta(L.K_GENESIS, GENESIS_VERSION)
        txn.put_meta(L.K_API, API_VERSION)
    return report
