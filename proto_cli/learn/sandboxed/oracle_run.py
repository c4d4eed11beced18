"""The oracle harness (learn/oracle.py ships it into the sandbox and runs main): the
model's Python expression evaluated on every probe, with only the modules, names and
builtins the spec allows, under the guard and a per-probe alarm.

Runs inside the sandbox: imports only the standard library and the guard beside it.
"""

import contextlib
import importlib
import json
import signal
import types


def unbytes(v):
    return bytes.fromhex(v["$bytes"]) if isinstance(v, dict) else v


class Namespace(types.SimpleNamespace):
    """A module's public names; one misspelt only in case (`Sqrt`) is found too,
    where no other name differs from it only in case."""

    def __getattr__(self, name):
        found = [k for k in vars(self) if k.lower() == name.lower()]
        if len(found) == 1:
            return vars(self)[found[0]]
        raise AttributeError(name)


class Late(Exception):
    pass


def late(*_):
    raise Late()


def enc(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$hex": bytes(v).hex()}
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return {"$float": repr(v)}
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 1 << 64:
        return {"$other": "a huge integer"}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return {"$other": type(v).__name__}


def scope_for(spec):
    """The names an oracle may use: allowed builtins, modules (public names only),
    aliases and the header's constants."""
    import builtins

    def namespace(module):
        out = Namespace()
        for key, value in vars(module).items():
            if not key.startswith("_") and not isinstance(value, types.ModuleType) \
                    and key not in spec["hidden"]:
                setattr(out, key, value)
        return out

    scope = {"__builtins__": {name: getattr(builtins, name, None)
                              for name in spec["builtins"]}}
    for dotted in spec["modules"]:
        try:
            module = importlib.import_module(dotted)
        except ImportError:
            continue
        head, *rest = dotted.split(".")
        if not rest:
            scope[head] = namespace(module)
            continue
        node = scope.setdefault(head, types.SimpleNamespace())
        for part in rest[:-1]:
            if not hasattr(node, part):
                setattr(node, part, types.SimpleNamespace())
            node = getattr(node, part)
        setattr(node, rest[-1], namespace(module))
    for alias, dotted in spec["aliases"].items():
        with contextlib.suppress(ImportError):
            scope[alias] = namespace(importlib.import_module(dotted))
    scope.update(spec["constants"])
    return scope


def main():
    with open("/sandbox/oracle.json") as f:
        spec = json.load(f)
    scope = scope_for(spec)
    code = compile(spec["expr"], "<oracle>", "eval")
    import guard
    guard.install(())  # no process, socket or file change from here on
    signal.signal(signal.SIGALRM, late)
    out = []
    for args in spec["probes"]:
        names = dict(scope)
        names.update({f"arg{i + 1}": unbytes(a) for i, a in enumerate(args)})
        signal.setitimer(signal.ITIMER_REAL, spec["seconds_each"])
        try:
            value = {"v": enc(eval(code, names))}
        except BaseException as exc:
            value = {"x": type(exc).__name__}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        text = json.dumps(value)
        out.append(value if len(text) < 65536 else {"x": "too large"})
    print(json.dumps(out))
