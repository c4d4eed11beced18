"""Learning through a model server (OpenAI-compatible HTTP), against the scripted
server (tests/scripted_server.py): a test instrument that replays answers, so these
test the HTTP backend and the loop over it, never a model's skill."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from proto_cli.learn.http_backend import HttpBackend, ModelServerError, shown

from .scripted_server import ScriptedServer
from .test_learn_loop import answer, tiny_image, tinylib  # noqa: F401 - fixtures

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


def test_a_completion_sends_the_schema_and_records_the_model():
    with ScriptedServer(['{"a": 1}'], model_id="qwen-test") as server:
        backend = HttpBackend(server.url)
        assert backend.complete([{"role": "user", "content": "q"}], SCHEMA) == '{"a": 1}'
        (request,) = server.requests
        assert request["response_format"]["type"] == "json_schema"
        assert request["response_format"]["json_schema"]["schema"] == SCHEMA
        assert request["model"] == "qwen-test" and request["seed"] == 0
        assert backend.path == f"qwen-test via {server.url}"


def test_llama_cpp_python_spelling_is_used_when_the_other_is_refused():
    with ScriptedServer(['{"a": 1}', '{"a": 2}'], mode="llama-cpp-python") as server:
        backend = HttpBackend(server.url)
        assert backend.complete([{"role": "user", "content": "q"}], SCHEMA) == '{"a": 1}'
        assert backend.complete([{"role": "user", "content": "q"}], SCHEMA) == '{"a": 2}'
        kinds = [r["response_format"]["type"] for r in server.requests]
        assert kinds == ["json_schema", "json_object", "json_object"]  # asked once
        assert server.requests[-1]["response_format"]["schema"] == SCHEMA


def test_ollamas_own_api_takes_the_schema_as_format_and_reports_a_digest():
    with ScriptedServer(['{"a": 1}'], model_id="qwen2.5-coder:7b") as server:
        backend = HttpBackend(server.url.replace("/v1", "/api"))
        assert backend.complete([{"role": "user", "content": "q"}], SCHEMA) == '{"a": 1}'
        (request,) = server.requests
        assert request["format"] == SCHEMA and request["options"]["seed"] == 0
        assert backend.sha256 == "ab" * 32 and backend.path.startswith("qwen2.5-coder:7b via")


def test_the_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROTO_MODEL_API_KEY", "sk-test")
    with ScriptedServer(['{"a": 1}']) as server:
        HttpBackend(server.url).complete([{"role": "user", "content": "q"}], SCHEMA)
        assert server.headers[0]["Authorization"] == "Bearer sk-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode, message", [
    ("500", "HTTP 500 model crashed"),
    ("401", r"HTTP 401 invalid api key \(check \$PROTO_MODEL_API_KEY\)"),
    ("not-json", "the answer is not JSON"),
    ("free-text", "not the JSON its schema asks for"),
    ("no-models", "/models lists no model"),
])
def test_each_server_failure_is_one_line(mode, message):
    with ScriptedServer(['{"a": 1}'], mode=mode) as server:
        with pytest.raises(ModelServerError, match=message) as err:
            HttpBackend(server.url).complete([{"role": "user", "content": "q"}], SCHEMA)
        assert "\n" not in str(err.value) and server.url in str(err.value)


def test_a_refused_connection_and_a_timeout_are_one_line(monkeypatch):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(ModelServerError, match="connection refused.*proto model serve"):
        HttpBackend(url).complete([{"role": "user", "content": "q"}], SCHEMA)
    monkeypatch.setenv("PROTO_MODEL_TIMEOUT", "0.3")
    with ScriptedServer(['{"a": 1}'], mode="slow", delay=2) as server, \
            pytest.raises(ModelServerError, match="no answer within 0.3 s"):
        HttpBackend(server.url).complete([{"role": "user", "content": "q"}], SCHEMA)


def test_credentials_in_the_url_are_never_shown():
    assert shown("http://user:secret@host:8080/v1/?key=x") == "http://host:8080/v1"
    with pytest.raises(Exception, match="not a model server URL"):
        HttpBackend("http:///v1")


@needs_bwrap
def test_learns_through_a_model_server_and_the_second_send_costs_nothing(tiny_image):  # noqa: F811
    first = answer("tiny_double", ["arg1"], [4.0], 2.0)  # the wrong function: fails its test
    right = answer("tiny_half", ["arg1"], [4.0], 2.0)
    with ScriptedServer([json.dumps(first), json.dumps(right)]) as server:
        r = tiny_image("send", "--json", "--model", server.url, "t", "halfOf:", "5.0")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["result"] == 2.5 and out["learned"] is True and out["attempts"] == 2
        assert len(server.requests) >= 2  # the correction went back over HTTP
        r = tiny_image("send", "--json", "--model", server.url, "t", "halfOf:", "9.0")
        assert json.loads(r.stdout) == {"result": 4.5, "learned": False}
    r = tiny_image("methods", "--json", "t")
    (learned,) = [m for m in json.loads(r.stdout) if m["selector"] == "halfOf:"]
    assert learned["provenance"]["model"] == f"scripted-model via {server.url}"


@needs_bwrap
def test_a_server_failure_while_learning_installs_nothing(tiny_image):  # noqa: F811
    with ScriptedServer([], mode="500") as server:
        r = tiny_image("send", "--model", server.url, "t", "halfOf:", "5.0",
                       env={"PROTO_MODEL_URL": ""})
        assert r.returncode == 2 and r.stderr.count("\n") == 1
        assert "HTTP 500" in r.stderr and "Traceback" not in r.stderr
    r = tiny_image("methods", "--json", "t")
    assert not [m for m in json.loads(r.stdout) if m["selector"] == "halfOf:"]


@needs_bwrap
def test_the_environment_names_the_server(tiny_image):  # noqa: F811
    right = answer("tiny_half", ["arg1"], [4.0], 2.0)
    with ScriptedServer([json.dumps(right)]) as server:
        r = tiny_image("send", "--json", "t", "halfOf:", "5.0",
                       env={"PROTO_MODEL_URL": server.url})
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["learned"] is True and server.requests


@needs_bwrap
def test_processes_learning_at_once_through_one_server_all_install(tiny_image, image_path):  # noqa: F811
    import os
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from .conftest import PROTO, ROOT

    answers = {"halfOf:": answer("tiny_half", ["arg1"], [4.0], 2.0),
               "doubleOf:": answer("tiny_double", ["arg1"], [4.0], 8.0),
               "plus:": answer("tiny_add", ["arg1", "arg2"], [2, 5], 7)}
    sends = {"halfOf:": ["halfOf:", "5.0"], "doubleOf:": ["doubleOf:", "1.5"],
             "plus:": ["plus:", "2", "and:", "3"]}
    with ScriptedServer([], by_selector=answers) as server:
        env = {**os.environ, "PROTO_IMAGE": image_path, "PROTO_MODEL_URL": server.url}

        def send(words):
            return subprocess.run([*PROTO, "send", "--json", "t", *words], capture_output=True,
                                  text=True, env=env, cwd=ROOT, timeout=120)

        with ThreadPoolExecutor(max_workers=3) as pool:
            done = list(pool.map(send, sends.values()))
    for r in done:
        assert r.returncode == 0, r.stderr
    assert [json.loads(r.stdout)["result"] for r in done] == [2.5, 3.0, 5]
    r = tiny_image("methods", "--json", "t")
    assert {m["selector"] for m in json.loads(r.stdout)} >= {"halfOf:", "doubleOf:", "plus:and:"}


def test_a_redirect_is_refused_and_the_key_goes_nowhere_else(monkeypatch):
    monkeypatch.setenv("PROTO_MODEL_API_KEY", "sk-secret")
    with ScriptedServer(['{"a": 1}']) as other, ScriptedServer([], mode="redirect") as server:
        server.redirect_to = other.url + "/chat/completions"
        with pytest.raises(ModelServerError, match="redirects to .*follows no redirect"):
            HttpBackend(server.url).complete([{"role": "user", "content": "q"}], SCHEMA)
        assert not other.requests and not other.headers


def test_a_server_that_drips_is_bounded_as_a_whole(monkeypatch):
    monkeypatch.setenv("PROTO_MODEL_TIMEOUT", "1")
    import time

    with ScriptedServer([], mode="drip") as server:
        start = time.monotonic()
        with pytest.raises(ModelServerError, match="no answer within 1 s"):
            HttpBackend(server.url).complete([{"role": "user", "content": "q"}], SCHEMA)
        assert time.monotonic() - start < 5


def test_a_deeply_nested_answer_and_bad_keys_and_urls_are_one_line(monkeypatch):
    with ScriptedServer([], mode="deep") as server:
        with pytest.raises(ModelServerError, match="not JSON"):
            HttpBackend(server.url).complete([{"role": "user", "content": "q"}], SCHEMA)
        monkeypatch.setenv("PROTO_MODEL_API_KEY", "sk-x\r\nX-Evil: 1")
        with pytest.raises(Exception, match="characters an HTTP header cannot carry") as err:
            HttpBackend(server.url).complete([{"role": "user", "content": "q"}], SCHEMA)
        assert "sk-x" not in str(err.value)
    for bad in ("http://127.0.0.1:99999/v1", "http://[::1/v1", "http://a b/v1"):
        with pytest.raises(Exception, match="not a model server URL"):
            HttpBackend(bad)
    with pytest.raises(Exception, match="no user or password"):
        HttpBackend("http://alice:pw@127.0.0.1:1/v1")
    assert shown("http://[::1]:8080/v1/") == "http://[::1]:8080/v1"


def test_a_server_cannot_dress_its_model_id_as_another_endpoint():
    with ScriptedServer(['{"a": 1}'], mode="evil-id") as server:
        backend = HttpBackend(server.url)
        backend.complete([{"role": "user", "content": "q"}], SCHEMA)
        assert "\x1b" not in backend.path and "trusted.example" not in backend.path


@needs_bwrap
def test_the_key_is_not_sent_to_a_server_the_image_names(tiny_image, image_path):  # noqa: F811
    right = answer("tiny_half", ["arg1"], [4.0], 2.0)
    with ScriptedServer([json.dumps(right)]) as server:
        assert tiny_image("eval", f"learner model: '{server.url}'").returncode == 0
        r = tiny_image("send", "--json", "t", "halfOf:", "5.0",
                       env={"PROTO_MODEL_URL": "", "PROTO_MODEL_API_KEY": "sk-team"})
        assert r.returncode == 0, r.stderr
        assert all("Authorization" not in h for h in server.headers)
