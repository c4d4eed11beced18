"""Model backends: the local llama.cpp model (the default) and a scripted replay for tests.

A backend answers `complete(messages, schema) -> str`. The scripted backend
replays recorded answers in order; it exists to test the loop (success, the
correction path, giving up) and is named "scripted" wherever it appears, so it
is never mistaken for learning.
"""

from __future__ import annotations

import json
import os

from image_format.files import cache_home, write_whole

from ..errors import UsageError
from .constrain import compile_schema


class ScriptedBackend:
    """Replays recorded responses, one per call. Not a model: a test instrument. A
    question for an oracle alone takes the next response only if that is an oracle
    (`{"oracle": ...}`); otherwise it is answered null, as by a model with none."""

    name = "scripted"
    on_stage = None

    def __init__(self, responses: list[str], source: str = "inline") -> None:
        self.responses = list(responses)
        self.source = source
        self.calls: list[list[dict]] = []
        self.sha256 = "scripted"
        self.path = f"scripted:{source}"

    @classmethod
    def from_file(cls, path: str) -> ScriptedBackend:
        """A JSON list of responses (strings, or objects serialised as the model would)."""
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read scripted responses {path}: {exc}") from None
        if not isinstance(data, list):
            raise UsageError(f"scripted responses {path}: expected a JSON list")
        return cls([r if isinstance(r, str) else json.dumps(r) for r in data], path)

    def warm_up(self) -> None:
        """Nothing to load."""

    def complete(self, messages: list[dict], schema: dict | None = None,
                 max_tokens: int = 256, temperature: float | None = None) -> str:
        self.calls.append(messages)
        if _asks_oracle_only(schema) and not self._next_is_oracle():
            return '{"oracle":null}'  # no oracle was recorded for this question
        if not self.responses:
            raise UsageError("the scripted backend has no recorded response left")
        return self.responses.pop(0)

    def _next_is_oracle(self) -> bool:
        """Whether the next recorded response answers an oracle-only question."""
        try:
            data = json.loads(self.responses[0]) if self.responses else None
        except ValueError:
            return False
        return isinstance(data, dict) and set(data) == {"oracle"}


def _asks_oracle_only(schema: dict | None) -> bool:
    return isinstance(schema, dict) and set(schema.get("properties", {})) == {"oracle"}


class LlamaBackend:
    """A GGUF model run by llama-cpp-python, output constrained by a JSON schema."""

    name = "llama.cpp"
    on_stage = None  # progress for the slow first steps: `on_stage(text)`

    def __init__(self, path: str, sha256: str = "", n_ctx: int = 4096, seed: int = 0,
                 temperature: float = 0.0) -> None:
        if not os.path.isfile(path):
            raise UsageError(f"model file not found: {path}")
        self.path = path
        self.sha256 = sha256
        self.n_ctx = n_ctx
        self.seed = seed
        self.temperature = temperature
        self._llm = None
        self._loading = None
        self._load_error: BaseException | None = None
        self._decoder = None  # decoding.Decoder for the loaded model
        self._format = None  # the model's chat template, compiled once

    def warm_up(self) -> None:
        """Start loading the model in a thread (llama.cpp releases the GIL while it loads)."""
        import threading

        def load() -> None:
            try:
                self._load()
            except BaseException as exc:  # noqa: BLE001 - re-raised by _model()
                self._load_error = exc

        self._loading = threading.Thread(target=load, daemon=True)
        self._loading.start()

    def _model(self):
        if self._loading is not None:
            self._loading.join()
            self._loading = None
            if self._load_error is not None:
                raise self._load_error
        return self._load()

    def _load(self):
        if self._llm is None:
            from . import llama_adapter

            try:
                self._llm = llama_adapter.load(self.path, self.n_ctx, self.seed)
            except ImportError:
                raise UsageError(
                    "llama-cpp-python is not installed: pip install 'proto-image[model]'"
                ) from None
        return self._llm

    def complete(self, messages: list[dict], schema: dict | None = None,
                 max_tokens: int = 256, temperature: float | None = None) -> str:
        llm = self._model()
        if len(messages) > 1:
            self._reuse_prefix(llm, messages)
        temp = self.temperature if temperature is None else max(self.temperature, temperature)
        if schema is not None:
            return self._constrained(llm, messages, compile_schema(schema), temp, max_tokens)
        out = llm.create_chat_completion(messages=messages, temperature=temp,
                                         max_tokens=max_tokens, seed=self.seed)
        return out["choices"][0]["message"]["content"] or ""

    def _constrained(self, llm, messages: list[dict], node, temperature: float,
                     max_tokens: int) -> str:
        """Decode an answer the automaton accepts (decoding.py), after the prompt."""
        import numpy as np

        from .decoding import Decoder

        logits = self._feed(llm, self._chat_tokens(llm, messages))
        if self._decoder is None or self._decoder.llm is not llm:
            self._decoder = Decoder(llm)
        rng = np.random.default_rng(self.seed + len(messages))
        return self._decoder.answer(logits, node, temperature, rng, max_tokens)

    def _formatter(self, llm):
        if self._format is None:
            from .llama_adapter import chat_formatter

            self._format = chat_formatter(llm)
        return self._format

    def _chat_tokens(self, llm, messages: list[dict]) -> list[int]:
        fmt = self._formatter(llm)
        if fmt is None:
            raise UsageError(f"the model has no usable chat template: {llm.model_path}")
        text = fmt(messages=messages).prompt
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    @staticmethod
    def _feed(llm, tokens: list[int]):
        """Evaluate the prompt, reusing the longest prefix the context already holds; the
        logits after its last token."""
        from . import llama_adapter as A

        n = 0
        for a, b in zip(A.held(llm), tokens, strict=False):
            if a != b:
                break
            n += 1
        n = min(n, len(tokens) - 1)  # the last prompt token is evaluated for its logits
        A.forget_after(llm, n)
        (logits,) = A.decode(llm, tokens[n:])
        return logits

    # -- the fixed prompt prefix, evaluated once per machine and reused by every process
    def _reuse_prefix(self, llm, messages: list[dict]) -> None:
        """Load (or compute and save) the model state after everything but the last turn."""
        if llm.n_tokens:
            return  # this process already holds an evaluated prefix; llama.cpp reuses it
        import hashlib

        from . import llama_adapter as A

        prefix = messages[:-1]
        tokens = self._prefix_tokens(llm, messages)
        if not tokens:
            return
        key = hashlib.sha256(json.dumps([self.sha256 or self.path, self.n_ctx, prefix,
                                         tokens]).encode()).hexdigest()[:32]
        path = os.path.join(cache_home(), "prefix", f"{key}.state")
        try:
            with open(path, "rb") as f:
                if A.restore_state(llm, f.read(), tokens):
                    return
        except OSError:
            pass
        if self.on_stage is not None:
            self.on_stage(f"evaluating the prompt's fixed part, {len(tokens)} tokens (once "
                          "per machine and model)")
        A.restart(llm, tokens)
        try:
            write_whole(path, A.save_state(llm))
            _prune(os.path.dirname(path), keep=KEEP_PREFIX_STATES)
        except OSError:
            pass  # no cache: only slower

    def _prefix_tokens(self, llm, messages: list[dict]) -> list[int]:
        """Tokens shared by any prompt ending in a different last user turn."""
        fmt = self._formatter(llm)
        if fmt is None:
            return []
        lists = []
        for last in ("\u0001", "\u0002"):
            text = fmt(messages=[*messages[:-1], {"role": "user", "content": last}]).prompt
            lists.append(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        n = 0
        for a, b in zip(*lists, strict=False):
            if a != b:
                break
            n += 1
        return lists[0][:n]


KEEP_PREFIX_STATES = 4  # each is ~20 MB; a new prompt or model makes a new one


def _prune(folder: str, keep: int) -> None:
    """Keep the most recently written prefix states only."""
    states = sorted((e for e in os.scandir(folder) if e.name.endswith(".state")),
                    key=lambda e: e.stat().st_mtime, reverse=True)
    for entry in states[keep:]:
        os.unlink(entry.path)


def backend_for(spec: str, sha256: str = "", temperature: float = 0.0, send_key: bool = True):
    """`scripted:FILE` for a replay, `http(s)://HOST:PORT/v1` for a model server,
    otherwise a GGUF path for llama.cpp."""
    if spec.startswith("scripted:"):
        return ScriptedBackend.from_file(spec[len("scripted:"):])
    from .http_backend import HttpBackend, is_url

    if is_url(spec):
        return HttpBackend(spec, temperature=temperature, send_key=send_key)
    return LlamaBackend(spec, sha256=sha256, temperature=temperature)
