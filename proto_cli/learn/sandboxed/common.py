"""What both sandbox harnesses share: the spec file, answers as JSON, and a learned
method's function made from its source with the host API's foreign names.

Runs inside the sandbox: imports only the standard library and the shipped runtime.
"""

import json
import os

SANDBOX = "/sandbox"


def unbytes(d):
    return bytes.fromhex(d["$bytes"]) if set(d) == {"$bytes"} else d


def read_spec(name):
    """The spec, read and removed: the nonce leaves the file system before C code runs."""
    path = os.path.join(SANDBOX, name)
    with open(path) as f:
        data = json.loads(f.read(), object_hook=unbytes)
    os.unlink(path)
    return data


def enc(v):
    if isinstance(v, bytes):
        return {"$hex": v.hex()}
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return {"$float": repr(v)}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return {"$foreign": type(v).__name__}


def learned_function(source, names, label):
    """The one function `source` defines, compiled with `names` (the host API's foreign
    names, host_api.FOREIGN) as its globals, as the image gives them."""
    import proto_cli.learn.runtime as runtime

    ns = {name: getattr(runtime, name) for name in names}
    given = dict(ns)
    exec(compile(source, label, "exec"), ns)
    return [v for k, v in ns.items()
            if callable(v) and not k.startswith("__") and given.get(k) is not v][0]
