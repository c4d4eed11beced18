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

from ..errors import UsageError
from .genesis import GENESIS_VERSION, method_source
from .genesis_methods import REGISTRY
from .host_api import API_VERSION, UNRECORDED_API, problems

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
    """A learned binding's source in this host API's form (API 1's import line gone)."""
    return source.replace(RUNTIME_IMPORT_1, "", 1)


class Upgrade:
    """What an upgrade changed and what it left for a person."""

    def __init__(self, genesis: int, api: int) -> None:
        self.was = {"genesis": genesis, "api": api}
        self.genesis_methods = 0
        self.bindings = 0
        self.left: list[tuple[int, str, str]] = []  # (oid, selector, why)

    def to_dict(self) -> dict:
        return {"was": self.was, "now": {"genesis": GENESIS_VERSION, "api": API_VERSION},
                "genesis_methods": self.genesis_methods, "bindings": self.bindings,
                "left": [{"object": oid, "selector": sel, "why": why}
                         for oid, sel, why in self.left]}


def recorded(txn) -> tuple[int, int]:
    """(genesis, host API) the image records; both 1 when it records none."""
    genesis, api = txn.get_meta(L.K_GENESIS), txn.get_meta(L.K_API)
    return (genesis if type(genesis) is int else 1,
            api if type(api) is int else UNRECORDED_API)


def upgrade(txn) -> Upgrade:
    """Rewrite what earlier protos wrote, then record this genesis and API."""
    genesis, api = recorded(txn)
    if genesis > GENESIS_VERSION or api > API_VERSION:
        raise UsageError(f"the image was made by a newer proto (genesis {genesis}, host API "
                         f"{api}; this proto: genesis {GENESIS_VERSION}, API {API_VERSION})")
    report = Upgrade(genesis, api)
    current = {(holder, selector): method_source(fn)
               for holder, methods in REGISTRY.items() for selector, fn in methods}
    changes = []
    for key, record in txn.records():
        oid, name = L.split_key(key)
        if not name or record[:1] != L.METHOD.encode():
            continue
        source, end = decode_prefix(record, None, 1)
        if type(source) is not str:
            continue
        new = source
        if source in GENESIS_1:
            new = current[GENESIS_1[source]]
            report.genesis_methods += 1
        elif RUNTIME_IMPORT_1 in source:
            new = binding_source(source)
            report.bindings += 1
        for why in problems(new):
            report.left.append((oid, name, why.partition(" (host API")[0]))
        if new != source:
            changes.append((key, record[:1] + encode(new, None) + record[end:]))
    for key, record in changes:
        txn.put(key, record)
    txn.put_meta(L.K_GENESIS, max(genesis, GENESIS_VERSION))
    txn.put_meta(L.K_API, max(api, API_VERSION))
    return report
