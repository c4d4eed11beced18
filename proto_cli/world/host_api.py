"""The contract between code stored in an image and the proto that runs it.

Images outlive the code that made them, so stored code (genesis methods, learned
bindings, a person's methods) must not name proto's internal modules. It talks to
the host through names injected into every method's environment (methods.py):

    send resend reflect lobby describe not_understood call_block
    ProtoError MessageNotUnderstood ProtoSet freeze find_key ABSENT
    is_fraction a_number exact fraction        the language's values
    primitive(name)                            a host service by name (below)
    Foreign bind cbuf data integer real text   calling C (FOREIGN)

`primitive(name)` answers a function the host registered under that name: the
learner's `doesNotUnderstand:` calls `primitive("learn.notUnderstood")`, so
renaming a module in `proto_cli/learn` breaks no image. The host registers
module paths (proto_cli/host.py); a module is imported only when its primitive is
first used, and this layer imports none of them.

API versions, recorded in each image's meta (`api`):
    1  before the contract: stored code imported proto_cli.learn.hook and
       proto_cli.learn.runtime by module path (still run; `proto upgrade` rewrites)
    2  the names above, and primitive()
"""

from __future__ import annotations

from ..errors import ProtoError

API_VERSION = 2
#: The names a learned binding calls C with; the foreign provider module defines them.
FOREIGN = ("Foreign", "bind", "cbuf", "data", "integer", "real", "text")
#: Module prefixes that are proto's internals: stored code that imports one depends on
#: a layout no version promises.
INTERNAL_MODULES = ("proto_cli", "image_format", "sandbox")

_primitives: dict[str, tuple[str, str]] = {}
_foreign: list[str] = []


def register(name: str, module: str, attribute: str) -> None:
    """The host offers `module.attribute` to stored code as `primitive(name)`."""
    _primitives[name] = (module, attribute)


def register_foreign(module: str) -> None:
    """The module that defines FOREIGN's names for learned bindings."""
    _foreign[:] = [module]


def primitive(name: object):
    """The host function registered as `name`; a ProtoError naming it when this proto
    has none (an image made for a newer proto)."""
    entry = _primitives.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ProtoError(f"this proto has no primitive {_short(repr(name))} (host API "
                         f"{API_VERSION}); "
                         "the image may need a newer proto")
    module, attribute = entry
    return getattr(_imported(module), attribute)


def foreign_module():
    """The registered foreign-call module (its `declared` parses C declarations), or None."""
    return _imported(_foreign[0]) if _foreign else None


def _imported(module: str):
    """The module by name, without importlib (whose import every `proto send` that
    compiles a method would pay: its start-up is measured)."""
    import sys

    __import__(module)
    return sys.modules[module]


def foreign_names() -> dict[str, object]:
    """FOREIGN's names from the registered provider (none registered: none)."""
    module = foreign_module()
    return {} if module is None else {name: getattr(module, name) for name in FOREIGN}


#: What `proto verify` adds to a problem of stored code proto wrote under host API 1.
UPGRADE_HINT = "(host API 1); `proto upgrade` rewrites what proto wrote this way"


def problems(source: str) -> list[str]:
    """What in a method's source needs an API this proto does not offer, read from its
    syntax tree (nothing of it runs): an import of proto's internal modules, or a
    primitive no host registered, written as proto writes them.

    A report, not a boundary: a Python method a person defined runs with all of
    Python in this process (and a learned one confined), so code that hides what it
    reaches for (`__import__`, a primitive kept in a variable) is not found here.
    """
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the source check says what is wrong with it
    found: list[str] = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for module in names:
            if module.split(".")[0] in INTERNAL_MODULES:
                found.append(f"imports proto's internal module {_short(module)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "primitive" and node.args \
                and isinstance(node.args[0], ast.Constant) \
                and node.args[0].value not in _primitives:
            found.append(f"calls primitive {_short(repr(node.args[0].value))}, which this "
                         f"proto (host API {API_VERSION}) does not have")
    return found


def hinted(why: str) -> str:
    """A problem as `proto verify` says it: an internal import comes with the way out."""
    return f"{why} {UPGRADE_HINT}" if why.startswith("imports proto's internal") else why


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
