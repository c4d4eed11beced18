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

    def warm_up(self) -> None:
        """Nothing to load."""

    def complete(self, messages: list[dict], schema: dict | None = None,
                 max_tokens: int = 256, temperature: float | None = None) -> str:
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
        self._loading = None
        self._load_error: BaseException | None = None

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
            try:
                from llama_cpp import Llama
            except ImportError:
                raise UsageError(
                    "llama-cpp-python is not installed: pip install 'proto-image[model]'"
                ) from None
            self._llm = Llama(model_path=self.path, n_ctx=self.n_ctx, seed=self.seed,
                              n_threads=os.cpu_count() or 2, verbose=False)
        return self._llm

    def complete(self, messages: list[dict], schema: dict | None = None,
                 max_tokens: int = 256, temperature: float | None = None) -> str:
        llm = self._model()
        if len(messages) > 1:
            self._reuse_prefix(llm, messages)
        temp = self.temperature if temperature is None else max(self.temperature, temperature)
        kwargs: dict = {"messages": messages, "temperature": temp,
                        "max_tokens": max_tokens, "seed": self.seed}
        if schema is not None:
            kwargs["grammar"] = self._grammar(schema)
        out = llm.create_chat_completion(**kwargs)
        return out["choices"][0]["message"]["content"] or ""


    @staticmethod
    def _grammar(schema: dict):
        """The schema as a llama.cpp grammar, with fractions cut to 6 digits: Qwen spends a
        token per digit, and a test's expected value needs no more (it is compared with a
        1e-3 relative tolerance)."""
        from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

        gbnf = json_schema_to_gbnf(json.dumps(schema))
        short = "decimal-part ::= [0-9] " + "([0-9] " * 5 + ")?" * 5
        lines = [short if line.startswith("decimal-part ::=") else line
                 for line in gbnf.splitlines()]
        return LlamaGrammar.from_string("\n".join(lines), verbose=False)

    # -- the fixed prompt prefix, evaluated once per machine and reused by every process
    def _reuse_prefix(self, llm, messages: list[dict]) -> None:
        """Load (or compute and save) the model state after everything but the last turn."""
        if llm.n_tokens:
            return  # this process already holds an evaluated prefix; llama.cpp reuses it
        import hashlib

        prefix = messages[:-1]
        tokens = self._prefix_tokens(llm, messages)
        if not tokens:
            return
        key = hashlib.sha256(json.dumps([self.sha256 or self.path, self.n_ctx, prefix,
                                         tokens]).encode()).hexdigest()[:32]
        path = os.path.join(cache_dir(), "prefix", f"{key}.state")
        if self._load_state(llm, path, tokens):
            return
        llm.reset()
        llm.eval(tokens)
        self._save_state(llm, path, tokens)

    @staticmethod
    def _prefix_tokens(llm, messages: list[dict]) -> list[int]:
        """Tokens shared by any prompt ending in a different last user turn."""
        try:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = llm.metadata["tokenizer.chat_template"]
            eos = llm._model.token_get_text(llm.token_eos())
            bos = llm._model.token_get_text(llm.token_bos())
            fmt = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        except Exception:
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

    @staticmethod
    def _load_state(llm, path: str, tokens: list[int]) -> bool:
        import ctypes

        import llama_cpp

        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return False
        size = len(data)
        buf = (ctypes.c_uint8 * size).from_buffer_copy(data)
        if llama_cpp.llama_state_set_data(llm._ctx.ctx, buf, size) != size:
            llm.reset()
            return False
        llm.input_ids[: len(tokens)] = tokens
        llm.n_tokens = len(tokens)
        return True

    @staticmethod
    def _save_state(llm, path: str, tokens: list[int]) -> None:
        import ctypes

        import llama_cpp

        size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
        buf = (ctypes.c_uint8 * int(size))()
        n = llama_cpp.llama_state_get_data(llm._ctx.ctx, buf, size)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(bytes(buf)[: int(n)])
            os.replace(tmp, path)
            _prune(os.path.dirname(path), keep=KEEP_PREFIX_STATES)
        except OSError:
            pass  # no cache: only slower


KEEP_PREFIX_STATES = 4  # each is ~20 MB; a new prompt or model makes a new one


def _prune(folder: str, keep: int) -> None:
    """Keep the most recently written prefix states only."""
    states = sorted((e for e in os.scandir(folder) if e.name.endswith(".state")),
                    key=lambda e: e.stat().st_mtime, reverse=True)
    for entry in states[keep:]:
        os.unlink(entry.path)


def backend_for(spec: str, sha256: str = "", temperature: float = 0.0):
    """`scripted:FILE` for a replay, otherwise a GGUF path for llama.cpp."""
    if spec.startswith("scripted:"):
        return ScriptedBackend.from_file(spec[len("scripted:"):])
    return LlamaBackend(spec, sha256=sha256, temperature=temperature)
