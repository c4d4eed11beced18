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

from ..world.errors import UsageError

URL_VAR = "PROTO_MODEL_URL"
KEY_VAR = "PROTO_MODEL_API_KEY"
MODEL_VAR = "PROTO_MODEL_ID"
TIMEOUT_VAR = "PROTO_MODEL_TIMEOUT"
DEFAULT_TIMEOUT = 120.0  # seconds for one completion: a cold server may load its model
MAX_BODY = 4 << 20  # an answer is a few hundred bytes; a server's reply is cut here


class ModelServerError(UsageError):
    """The model server could not be used: said in one line, exit 2."""


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def shown(url: str) -> str:
    """The endpoint as it may be printed and recorded: no user, password or query."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


class HttpBackend:
    """Chat completions from a model server, constrained by the answer's JSON schema."""

    name = "http"
    on_stage = None

    def __init__(self, url: str, temperature: float = 0.0, timeout: float | None = None) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"{url[:80]!r} is not a model server URL (http://HOST:PORT/v1)")
        self.url = url.rstrip("/")
        self.endpoint = shown(url)
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
        if self.ollama:
            return self._ollama_chat(messages, schema, max_tokens, temp)
        body = {"model": self.model_id, "messages": messages, "temperature": temp,
                "max_tokens": max_tokens, "seed": 0, "stream": False}
        if schema is not None:
            body["response_format"] = _response_format(self._dialect, schema)
        try:
            reply = self._request("/chat/completions", body)
        except _Refused as exc:
            if schema is None or self._dialect != "json_schema":
                raise ModelServerError(exc.args[0]) from None
            self._dialect = "json_object"  # llama-cpp-python's spelling of the same
            body["response_format"] = _response_format(self._dialect, schema)
            reply = self._request("/chat/completions", body, refused_is_final=True)
        content = _content(reply, self.endpoint)
        if schema is not None:
            try:
                json.loads(content)
            except ValueError:
                raise ModelServerError(f"model server {self.endpoint}: the answer is not the "
                                       "JSON its schema asks for (does the server support "
                                       "structured output?)") from None
        reported = reply.get("model") if isinstance(reply, dict) else None
        if isinstance(reported, str) and reported and reported != self.model_id:
            self.model_id = reported[:200]
        return content

    def _ollama_chat(self, messages: list[dict], schema: dict | None, max_tokens: int,
                     temperature: float) -> str:
        body = {"model": self.model_id, "messages": messages, "stream": False,
                "options": {"temperature": temperature, "seed": 0, "num_predict": max_tokens}}
        if schema is not None:
            body["format"] = schema
        reply = self._request("/chat", body, refused_is_final=True)
        try:
            content = reply["message"]["content"]
        except (KeyError, TypeError):
            raise ModelServerError(f"model server {self.endpoint}: the answer has no "
                                   "message.content") from None
        if not isinstance(content, str):
            raise ModelServerError(f"model server {self.endpoint}: the answer's content is "
                                   "not text")
        if schema is not None:
            try:
                json.loads(content)
            except ValueError:
                raise ModelServerError(f"model server {self.endpoint}: the answer is not the "
                                       "JSON its schema asks for") from None
        return content

    def _served_model(self) -> str:
        """The model the server serves (the first it lists), as provenance names it."""
        if self.ollama:  # /api/tags: each model's name and digest
            reply = self._request("/tags", None, refused_is_final=True)
            models = reply.get("models") if isinstance(reply, dict) else None
            if not isinstance(models, list) or not models or not isinstance(models[0], dict) \
                    or not isinstance(models[0].get("name"), str):
                raise ModelServerError(f"model server {self.endpoint}: /tags lists no model "
                                       f"(set {MODEL_VAR} to name one)")
            digest = models[0].get("digest")
            if isinstance(digest, str) and len(digest) == 64 \
                    and all(c in "0123456789abcdef" for c in digest.lower()):
                self.sha256 = digest.lower()
            return models[0]["name"][:200]
        reply = self._request("/models", None, refused_is_final=True)
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, list) or not data or not isinstance(data[0], dict) \
                or not isinstance(data[0].get("id"), str):
            raise ModelServerError(f"model server {self.endpoint}: /models lists no model "
                                   f"(set {MODEL_VAR} to name one)")
        if data[0].get("owned_by") == "me":  # llama-cpp-python's server: its own spelling
            self._dialect = "json_object"
        digest = data[0].get("digest") or data[0].get("sha256")
        if isinstance(digest, str) and all(c in "0123456789abcdef" for c in digest.lower()):
            self.sha256 = digest.lower()[:64]
        return data[0]["id"][:200]

    def _request(self, path: str, body: dict | None, refused_is_final: bool = False) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data,
                                         method="GET" if body is None else "POST")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        key = os.environ.get(KEY_VAR)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        where = f"model server {self.endpoint}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            # a refusal of the format's spelling (llama-cpp-python answers a 500 with its
            # validation error) may be met by the other spelling
            if not refused_is_final and exc.code in (400, 422, 500) \
                    and ("response_format" in detail or "json_schema" in detail):
                raise _Refused(f"{where}: {exc.code} {detail}") from None
            hint = " (check $PROTO_MODEL_API_KEY)" if exc.code in (401, 403) else ""
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
        except OSError as exc:
            raise ModelServerError(f"{where}: {_plain(exc)}") from None
        if len(raw) > MAX_BODY:
            raise ModelServerError(f"{where}: the answer is larger than {MAX_BODY >> 20} MiB")
        try:
            return json.loads(raw)
        except ValueError:
            raise ModelServerError(f"{where}: the answer is not JSON "
                                   f"({_excerpt(raw)})") from None


class _Refused(Exception):
    """A refusal of the response format: the server may spell it the other way."""


def _response_format(dialect: str, schema: dict) -> dict:
    if dialect == "json_schema":
        return {"type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    return {"type": "json_object", "schema": schema}


def _content(reply: object, endpoint: str) -> str:
    try:
        content = reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ModelServerError(f"model server {endpoint}: the answer has no "
                               "choices[0].message.content") from None
    if not isinstance(content, str):
        raise ModelServerError(f"model server {endpoint}: the answer's content is not text")
    return content


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The server's own error message, short: OpenAI's {"error": {"message": ...}}."""
    try:
        raw = exc.read(4096)
        data = json.loads(raw)
        message = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(message, dict):
            message = message.get("message") or message.get("detail") or message
        text = message if isinstance(message, str) else json.dumps(message)
    except (ValueError, OSError, AttributeError):
        text = exc.reason if isinstance(exc.reason, str) else ""
    return " ".join(str(text).split())[:160]


def _plain(reason: object) -> str:
    """An OS error as words, without Python's class names or errno brackets."""
    text = getattr(reason, "strerror", None) or str(reason)
    return " ".join(str(text).split())[:160]


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
