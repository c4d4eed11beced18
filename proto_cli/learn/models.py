"""Model backends: the local llama.cpp model (the default) and a scripted replay for tests.

A backend answers `complete(messages, schema) -> str`. The scripted backend
replays recorded answers in order; it exists to test the loop (success, the
correction path, giving up) and is named "scripted" wherever it appears, so it
is never mistaken for learning.
"""

from __future__ import annotations

import json
import os

from ..world.errors import UsageError
from .headers import cache_dir


class ScriptedBackend:
    """Replays recorded responses, one per call. Not a model: a test instrument."""

    name = "scripted"

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

    def complete(self, messages: list[dict], schema: dict | None = None,
                 max_tokens: int = 256) -> str:
        self.calls.append(messages)
        if not self.responses:
            raise UsageError("the scripted backend has no recorded response left")
        return self.responses.pop(0)


class LlamaBackend:
    """A GGUF model run by llama-cpp-python, output constrained by a JSON schema."""

    name = "llama.cpp"

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

    def _model(self):
        if self._llm is None:
            try:
                from llama_cpp import Llama, LlamaDiskCache
            except ImportError:
                raise UsageError(
                    "llama-cpp-python is not installed: pip install 'proto-image[model]'"
                ) from None
            self._llm = Llama(model_path=self.path, n_ctx=self.n_ctx, seed=self.seed,
                              n_threads=os.cpu_count() or 2, verbose=False)
            key = (self.sha256 or os.path.basename(self.path))[:16]
            self._llm.set_cache(LlamaDiskCache(os.path.join(cache_dir(), "kv", key)))
        return self._llm

    def complete(self, messages: list[dict], schema: dict | None = None,
                 max_tokens: int = 256) -> str:
        llm = self._model()
        kwargs: dict = {"messages": messages, "temperature": self.temperature,
                        "max_tokens": max_tokens, "seed": self.seed}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        out = llm.create_chat_completion(**kwargs)
        return out["choices"][0]["message"]["content"] or ""


def backend_for(spec: str, sha256: str = "", temperature: float = 0.0):
    """`scripted:FILE` for a replay, otherwise a GGUF path for llama.cpp."""
    if spec.startswith("scripted:"):
        return ScriptedBackend.from_file(spec[len("scripted:"):])
    return LlamaBackend(spec, sha256=sha256, temperature=temperature)
