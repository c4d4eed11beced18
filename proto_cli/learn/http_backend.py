"""Model servers: the learner asks any OpenAI-compatible chat completions endpoint
(`http://HOST:PORT/v1`): `proto model serve`, llama.cpp's `llama-server`, vLLM, Ollama;
or Ollama's own API (`http://HOST:11434/api`), which takes the schema as `format` and
reports each model's digest.

The prompt is the one the in-process model gets, and the answer's JSON schema goes to
the server as its structured-output constraint (`response_format`). Servers spell it
two ways: OpenAI's `json_schema` (llama-server, vLLM, Ollama) and llama-cpp-python's
`json_object` with a `schema`; a server that refuses the first gets the second, once
per process. An API key comes from $PROTO_MODEL_API_KEY (never from the image, never
stored). Every way a server can fail (refused, timed out, 4xx/5xx, an answer that is
not JSON) is one line naming the endpoint, exit 2; nothing is installed.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request

from ..errors import UsageError

URL_VAR = "PROTO_MODEL_URL"
KEY_VAR = "PROTO_MODEL_API_KEY"
MODEL_VAR = "PROTO_MODEL_ID"
TIMEOUT_VAR = "PROTO_MODEL_TIMEOUT"
DEFAULT_TIMEOUT = 120.0  # seconds for one completion: a cold server may load its model
MAX_BODY = 4 << 20  # an answer is a few hundred bytes; a server's reply is cut here


class ModelServerError(UsageError):
    """The model server could not be used: said in one line, exit 2."""


def is_url(spec: str) -> bool:
    return spec[:8].lower().startswith(("http://", "https://"))


def shown(url: str) -> str:
    """The endpoint as it may be printed and recorded: no user, password or query."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return _printable(url[:80])
    if ":" in host:
        host = f"[{host}]"
    if port:
        host = f"{host}:{port}"
    return _printable(urllib.parse.urlunsplit((parts.scheme.lower(), host,
                                               parts.path.rstrip("/"), "", "")))


class HttpBackend:
    """Chat completions from a model server, constrained by the answer's JSON schema."""

    name = "http"
    on_stage = None

    def __init__(self, url: str, temperature: float = 0.0, timeout: float | None = None,
                 send_key: bool = True) -> None:
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018 - raises for a port out of range or not a number
        except ValueError:
            raise UsageError(f"{_printable(url[:80])!r} is not a model server URL "
                             "(http://HOST:PORT/v1)") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname \
                or any(c.isspace() or not c.isprintable() for c in url):
            raise UsageError(f"{_printable(url[:80])!r} is not a model server URL "
                             "(http://HOST:PORT/v1)")
        if parts.username or parts.password:
            raise UsageError("a model server URL carries no user or password: proto sends "
                             f"${KEY_VAR} as a bearer token instead")
        self.base = parts._replace(scheme=parts.scheme.lower(), path=parts.path.rstrip("/"),
                                   fragment="")
        self.url = self.base.geturl()
        self.endpoint = shown(url)
        # The key goes only where the person pointed learning (--model, $PROTO_MODEL_URL),
        # never to a server an image's learner slot names.
        self.send_key = send_key
        self.loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        self.temperature = temperature
        self.timeout = timeout if timeout is not None else _timeout()
        self.model_id = os.environ.get(MODEL_VAR) or None
        self.sha256 = ""  # the server's digest of its model, where it reports one
        # Ollama's own API (`http://HOST:11434/api`) takes the schema as `format`
        self.ollama = parts.path.rstrip("/").endswith("/api")
        self._dialect = "json_schema"

    @property
    def path(self) -> str:
        """What provenance records as the model: its id on the server, and the server."""
        return f"{self.model_id or 'unknown model'} via {self.endpoint}"

    def warm_up(self) -> None:
        """Nothing to load here: the server holds the model."""

    def complete(self, messages: list[dict], schema: dict | None = None,
                 max_tokens: int = 256, temperature: float | None = None) -> str:
        if self.model_id is None:
            self.model_id = self._served_model()
        temp = self.temperature if temperature is None else max(self.temperature, temperature)
        reply = self._chat(messages, schema, max_tokens, temp)
        content = _content(reply, self.endpoint, self.ollama)
        if schema is not None:
            try:
                json.loads(content)
            except (ValueError, RecursionError):
                raise ModelServerError(f"model server {self.endpoint}: the answer is not the "
                                       "JSON its schema asks for (does the server support "
                                       "structured output?)") from None
        reported = reply.get("model") if isinstance(reply, dict) else None
        if _model_name(reported) and reported != self.model_id:
            self.model_id = reported
        return content

    def _chat(self, messages: list[dict], schema: dict | None, max_tokens: int,
              temperature: float) -> dict:
        """The server's reply to one chat: Ollama's own API, or OpenAI's."""
        if self.ollama:
            body = {"model": self.model_id, "messages": messages, "stream": False,
                    "options": {"temperature": temperature, "seed": 0,
                                "num_predict": max_tokens}}
            if schema is not None:
                body["format"] = schema
            return self._request("/chat", body, refused_is_final=True)
        body = {"model": self.model_id, "messages": messages, "temperature": temperature,
                "max_tokens": max_tokens, "seed": 0, "stream": False}
        if schema is not None:
            body["response_format"] = _response_format(self._dialect, schema)
        try:
            return self._request("/chat/completions", body)
        except _Refused as exc:
            if schema is None or self._dialect != "json_schema":
                raise ModelServerError(exc.args[0]) from None
            self._dialect = "json_object"  # llama-cpp-python's spelling of the same
            body["response_format"] = _response_format(self._dialect, schema)
            return self._request("/chat/completions", body, refused_is_final=True)

    def _served_model(self) -> str:
        """The model the server serves (the first it lists), as provenance names it."""
        if self.ollama:  # /api/tags: each model's name and digest
            first = self._first_listed("/tags", "models", "name")
            digest = first.get("digest")
        else:
            first = self._first_listed("/models", "data", "id")
            if first.get("owned_by") == "me":  # llama-cpp-python's server: its own spelling
                self._dialect = "json_object"
            digest = first.get("digest") or first.get("sha256")
        if _sha256(digest):
            self.sha256 = digest.lower()
        return _model_name(first["name" if self.ollama else "id"]) or "unnamed model"

    def _first_listed(self, path: str, key: str, name_key: str) -> dict:
        """The first entry of the server's model listing, which must name a model."""
        reply = self._request(path, None, refused_is_final=True)
        items = reply.get(key) if isinstance(reply, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict) \
                or not isinstance(items[0].get(name_key), str):
            raise ModelServerError(f"model server {self.endpoint}: {path} lists no model "
                                   f"(set {MODEL_VAR} to name one)")
        return items[0]

    def _request(self, path: str, body: dict | None, refused_is_final: bool = False) -> dict:
        """One exchange with the server, bounded as a whole by the timeout (urllib's own
        bounds each read only: a server dripping a byte at a time would never end)."""
        import threading

        box: list = []

        def exchange() -> None:
            try:
                box.append(("ok", self._exchange(path, body, refused_is_final)))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                box.append(("error", exc))

        worker = threading.Thread(target=exchange, daemon=True)
        worker.start()
        worker.join(self.timeout + 1)
        if not box:  # abandoned: the process ends soon, and the socket with it
            raise ModelServerError(f"model server {self.endpoint}: no answer within "
                                   f"{self.timeout:g} s (${TIMEOUT_VAR} sets the limit)")
        kind, value = box[0]
        if kind == "error":
            raise value
        return value

    def _exchange(self, path: str, body: dict | None, refused_is_final: bool) -> dict:
        import http.client

        data = None if body is None else json.dumps(body).encode()
        url = self.base._replace(path=self.base.path + path).geturl()
        request = urllib.request.Request(url, data=data,
                                         method="GET" if body is None else "POST")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        key = os.environ.get(KEY_VAR)
        if key and self.send_key:
            if not all(" " <= c <= "~" for c in key):
                raise UsageError(f"${KEY_VAR} holds characters an HTTP header cannot carry")
            request.add_header("Authorization", f"Bearer {key}")
        where = f"model server {self.endpoint}"
        handlers = [_NoRedirects()]
        if self.loopback:  # a server on this machine: not through $http_proxy
            handlers.append(urllib.request.ProxyHandler({}))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                raw = response.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307, 308):
                target = _printable(str(exc.headers.get("Location", ""))[:80])
                raise ModelServerError(f"{where}: the server redirects to {target!r}; proto "
                                       "follows no redirect (give that URL)") from None
            detail = _error_detail(exc)
            # a refusal of the format's spelling (llama-cpp-python answers a 500 with its
            # validation error) may be met by the other spelling
            if not refused_is_final and exc.code in (400, 422, 500) \
                    and ("response_format" in detail or "json_schema" in detail):
                raise _Refused(f"{where}: {exc.code} {detail}") from None
            hint = ""
            if exc.code in (401, 403):
                hint = f" (check ${KEY_VAR})" if self.send_key else \
                    (f" (the URL is the image's learner slot: proto sends ${KEY_VAR} only "
                     f"to --model or ${URL_VAR})")
            raise ModelServerError(f"{where}: HTTP {exc.code} {detail}{hint}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                raise ModelServerError(f"{where}: no answer within {self.timeout:g} s "
                                       f"(${TIMEOUT_VAR} sets the limit)") from None
            if isinstance(reason, ConnectionRefusedError):
                raise ModelServerError(f"{where}: connection refused (is the server "
                                       "running? `proto model serve` starts one)") from None
            raise ModelServerError(f"{where}: {_plain(reason)}") from None
        except TimeoutError:
            raise ModelServerError(f"{where}: no answer within {self.timeout:g} s "
                                   f"(${TIMEOUT_VAR} sets the limit)") from None
        except (http.client.HTTPException, ValueError):  # a status line, header or chunk
            raise ModelServerError(f"{where}: the answer is not well-formed HTTP") from None
        except OSError as exc:
            raise ModelServerError(f"{where}: {_plain(exc)}") from None
        if len(raw) > MAX_BODY:
            raise ModelServerError(f"{where}: the answer is larger than {MAX_BODY >> 20} MiB")
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise ModelServerError(f"{where}: the answer is not JSON "
                                   f"({_excerpt(raw)})") from None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the error it is: following one would carry the key (and
    the prompt) to wherever the server points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913
        return None


class _Refused(Exception):
    """A refusal of the response format: the server may spell it the other way."""


def _response_format(dialect: str, schema: dict) -> dict:
    if dialect == "json_schema":
        return {"type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    return {"type": "json_object", "schema": schema}


def _content(reply: object, endpoint: str, ollama: bool) -> str:
    where = "message.content" if ollama else "choices[0].message.content"
    try:
        content = reply["message"]["content"] if ollama else \
            reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ModelServerError(f"model server {endpoint}: the answer has no {where}") \
            from None
    if not isinstance(content, str):
        raise ModelServerError(f"model server {endpoint}: the answer's content is not text")
    return content


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The server's own error message, short: OpenAI's {"error": {"message": ...}}."""
    try:
        raw = exc.read(4096)
        data = json.loads(raw) if len(raw) < 4096 else raw.decode("utf-8", "replace")
        message = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(message, dict):
            message = message.get("message") or message.get("detail") or message
        text = message if isinstance(message, str) else json.dumps(message)
    except (ValueError, OSError, AttributeError, RecursionError):
        text = exc.reason if isinstance(exc.reason, str) else ""
    return _printable(" ".join(str(text).split())[:160])


def _printable(text: str) -> str:
    """Text a server sent, safe for a terminal: control characters shown as `?`."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _model_name(value: object) -> str | None:
    """A model id fit for provenance: printable, short, not posing as an endpoint."""
    if not isinstance(value, str) or not value or len(value) > 200 or " via " in value \
            or not value.isprintable():
        return None
    return value


def _sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and \
        all(c in "0123456789abcdef" for c in value.lower())


def _plain(reason: object) -> str:
    """An OS error as words, without Python's class names or errno brackets."""
    text = getattr(reason, "strerror", None) or str(reason)
    return _printable(" ".join(str(text).split())[:160])


def _excerpt(raw: bytes) -> str:
    text = raw[:60].decode("utf-8", "replace")
    return repr(text) + ("..." if len(raw) > 60 else "")


def _timeout() -> float:
    text = os.environ.get(TIMEOUT_VAR)
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"${TIMEOUT_VAR}={text[:20]!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise UsageError(f"${TIMEOUT_VAR} must be between 0 and 3600 seconds")
    return value
