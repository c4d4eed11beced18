"""A scripted OpenAI-compatible model server: a test instrument, never a model.

It replays recorded answers over HTTP, as the scripted backend does in-process, so the
HTTP backend and the learning loop over HTTP can be tested without a model. Its
`mode` makes it fail the ways real servers fail.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer:
    """Serves `/v1/models` and `/v1/chat/completions` on 127.0.0.1 from a list of answers.

    mode: "ok"; "llama-cpp-python" (refuses OpenAI's json_schema with 422, as that
    server does, and takes json_object + schema); "500"; "401"; "not-json" (a body
    that is no JSON); "free-text" (content that is no JSON); "slow" (answers after
    `delay` seconds); "no-models".
    """

    def __init__(self, answers: list, mode: str = "ok", delay: float = 0.0,
                 model_id: str = "scripted-model", by_selector: dict | None = None) -> None:
        self.answers = [a if isinstance(a, str) else json.dumps(a) for a in answers]
        # for concurrent clients: the answer for a question naming this selector
        self.by_selector = {k: v if isinstance(v, str) else json.dumps(v)
                            for k, v in (by_selector or {}).items()}
        self.lock = threading.Lock()
        self.mode = mode
        self.delay = delay
        self.model_id = model_id
        self.redirect_to = ""
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/") == "/api/tags":  # Ollama's own API
                    return self._send(200, {"models": [
                        {"name": server.model_id, "digest": "ab" * 32}]})
                if self.path.rstrip("/") != "/v1/models":
                    return self._send(404, {"error": {"message": "not found"}})
                if server.mode == "no-models":
                    return self._send(200, {"data": []})
                return self._send(200, {"object": "list", "data": [
                    {"id": server.model_id, "object": "model", "owned_by": "test"}]})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                mode = server.mode
                if mode == "slow":
                    time.sleep(server.delay)
                if mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if mode == "drip":  # a byte at a time, each well within a read timeout
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(200):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.1)
                    return None
                if mode == "deep":
                    return self._raw(200, b"[" * 100_000)
                if mode == "evil-id":
                    server.model_id = "gpt-4\x1b[31m via https://trusted.example/v1"
                if mode == "500":
                    return self._send(500, {"error": {"message": "model crashed"}})
                if mode == "401":
                    return self._send(401, {"error": {"message": "invalid api key"}})
                if mode == "not-json":
                    return self._raw(200, b"<html>proxy error</html>")
                fmt = body.get("response_format") or {}
                if self.path.rstrip("/") == "/api/chat":  # Ollama: the schema is `format`
                    fmt = {"schema": body.get("format") or {}}
                if mode == "llama-cpp-python" and fmt.get("type") != "json_object":
                    # as llama-cpp-python 0.3.36 does: a 500 carrying its validation error
                    return self._send(500, {"error": {"message": "1 validation error: {'loc':"
                                                      " ('body', 'response_format', 'type'), "
                                                      "'msg': \"Input should be 'text' or "
                                                      "'json_object'\"}"}})
                schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema") or {}
                asked = body["messages"][-1]["content"] if body.get("messages") else ""
                chosen = [v for k, v in server.by_selector.items() if k in asked]
                if mode == "free-text":
                    content = "Sure! Here is the binding you asked for."
                elif set(schema.get("properties", {})) == {"oracle"} \
                        and not server.next_is_oracle():
                    content = '{"oracle":null}'  # as the scripted backend: none recorded
                elif chosen:
                    content = chosen[0]
                elif not server.answers:
                    return self._send(500, {"error": {"message": "no answer left"}})
                else:
                    with server.lock:
                        content = server.answers.pop(0)
                if self.path.rstrip("/") == "/api/chat":
                    return self._send(200, {"model": server.model_id, "done": True,
                                            "message": {"role": "assistant",
                                                        "content": content}})
                return self._send(200, {"id": "x", "object": "chat.completion",
                                        "model": server.model_id, "choices": [
                                            {"index": 0, "finish_reason": "stop",
                                             "message": {"role": "assistant",
                                                         "content": content}}]})

            def _send(self, code: int, data: object) -> None:
                self._raw(code, json.dumps(data).encode())

            def _raw(self, code: int, raw: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def next_is_oracle(self) -> bool:
        try:
            data = json.loads(self.answers[0]) if self.answers else None
        except ValueError:
            return False
        return isinstance(data, dict) and set(data) == {"oracle"}

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
