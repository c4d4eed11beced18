"""Model backends: the local llama.cpp model (the default) and a scripted replay for tests.

A backend answers `complete(messages, schema) -> str`. The scripted backend
replays recorded answers in order; it exists to test the loop (success, the
correction path, giving up) and is named "scripted" wherever it appears, so it
is never mistaken for learning.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager

from ..world.errors import UsageError
from .constrain import DEAD, compile_schema
from .headers import cache_dir


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
        self._texts: dict[int, str] = {}
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
            try:
                from llama_cpp import Llama
            except ImportError:
                raise UsageError(
                    "llama-cpp-python is not installed: pip install 'proto-image[model]'"
                ) from None
            with _weights_mapped():
                self._llm = Llama(model_path=self.path, n_ctx=self.n_ctx, seed=self.seed,
                                  n_threads=os.cpu_count() or 2, verbose=False)
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
        """Decode an answer the automaton accepts: forced characters go to the model in one
        batch, and each free step takes the likeliest allowed token (or samples among the
        allowed when the temperature is above 0)."""
        import numpy as np

        self._feed(llm, self._chat_tokens(llm, messages))
        rng = np.random.default_rng(self.seed + len(messages))
        out = bytearray()
        n_vocab = llm.n_vocab()
        for _ in range(max_tokens):
            forced, text, after = self._forced_tokens(llm, node)
            if forced:
                out += text.encode("utf-8")
                node = after
                llm.eval(forced)
                continue
            if node.finished:
                break
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,))
            token, node = self._pick(llm, logits, node, temperature, rng)
            if token is None:
                break
            out += self._token_bytes(llm, token)
            if node.finished:
                break  # the answer is complete: what the model makes of it is not needed
            llm.eval([token])
        return out.decode("utf-8", errors="replace")

    def _forced_tokens(self, llm, node) -> tuple[list[int], str, object]:
        """(tokens, their text, the automaton after them) for the characters the answer
        must go on with, less the last token: the model picks that one itself, so it can
        merge the forced text with what follows (`":["` is one token; forcing `[` alone
        would be a spelling the model never saw). No tokens when nothing is forced."""
        forced = node.forced()
        if not forced:
            return [], "", node
        tokens = llm.tokenize(forced.encode("utf-8"), add_bos=False, special=False)[:-1]
        text = "".join(self._token_text(llm, t) for t in tokens)
        after = node.derive_text(text)
        return (tokens, text, after) if tokens and after is not DEAD else ([], "", node)

    def _pick(self, llm, logits, node, temperature: float, rng):
        """(token, automaton after it) for the best allowed token; (None, node) if none."""
        import numpy as np

        allowed: list[tuple[int, object]] = []
        for width in (PICK_WIDTH, len(logits)):
            order = np.argpartition(-logits, width - 1)[:width] if width < len(logits) \
                else np.arange(len(logits))
            order = order[np.argsort(-logits[order], kind="stable")]
            for token in order.tolist():
                text = self._token_text(llm, token)
                if not text:
                    continue
                after = node.derive_text(text)
                if after is DEAD:
                    continue
                if temperature <= 0:
                    return token, after
                allowed.append((token, after))
            if allowed:
                break
        if not allowed:
            return None, node
        scores = np.array([logits[t] for t, _ in allowed], dtype=np.float64) / temperature
        weights = np.exp(scores - scores.max())
        choice = int(rng.choice(len(allowed), p=weights / weights.sum()))
        return allowed[choice]

    def _token_bytes(self, llm, token: int) -> bytes:
        return llm.detokenize([token])

    def _token_text(self, llm, token: int) -> str:
        text = self._texts.get(token)
        if text is None:
            text = self._texts[token] = self._token_bytes(llm, token).decode(
                "utf-8", errors="replace")
        return text

    def _formatter(self, llm):
        if self._format is None:
            self._format = _formatter(llm)
        return self._format

    def _chat_tokens(self, llm, messages: list[dict]) -> list[int]:
        fmt = self._formatter(llm)
        if fmt is None:
            raise UsageError(f"the model has no usable chat template: {llm.model_path}")
        text = fmt(messages=messages).prompt
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    @staticmethod
    def _feed(llm, tokens: list[int]) -> None:
        """Evaluate the prompt, reusing the longest prefix the context already holds."""
        held = llm.input_ids[: llm.n_tokens].tolist()
        n = 0
        for a, b in zip(held, tokens, strict=False):
            if a != b:
                break
            n += 1
        n = min(n, len(tokens) - 1)  # the last prompt token is evaluated for its logits
        llm.n_tokens = n
        llm.eval(tokens[n:])

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
        if self.on_stage is not None:
            self.on_stage(f"evaluating the prompt's fixed part, {len(tokens)} tokens (once "
                          "per machine and model)")
        llm.reset()
        llm.eval(tokens)
        self._save_state(llm, path, tokens)

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


PICK_WIDTH = 48  # tokens checked against the automaton before looking at the whole vocabulary
KEEP_PREFIX_STATES = 4  # each is ~20 MB; a new prompt or model makes a new one


@contextmanager
def _weights_mapped():
    """Load the weights straight from the mapped file, not repacked into fresh memory.

    Repacking Q4_K for AVX2 took 0.6 s of a 1.1 s load here and gained ~5 ms per
    generated token: a learn generates some 15 tokens, so a cold process is faster
    without it, and the page cache is shared between processes. llama-cpp-python
    has no argument for this, so its default model parameters are adjusted while
    the model loads.
    """
    defaults = map_weights()
    try:
        yield
    finally:
        import llama_cpp.llama as module

        module.llama_cpp.llama_model_default_params = defaults


def map_weights():
    """From now on, llama-cpp-python loads models mapped, not repacked (the server's
    process keeps it so); answers the default parameters it replaced."""
    import llama_cpp.llama as module

    defaults = module.llama_cpp.llama_model_default_params

    def params():
        out = defaults()
        if hasattr(out, "use_extra_bufts"):
            out.use_extra_bufts = False
        return out

    module.llama_cpp.llama_model_default_params = params
    return defaults


def _formatter(llm):
    """The model's own chat template (GGUF metadata), as llama-cpp-python renders it."""
    try:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = llm.metadata["tokenizer.chat_template"]
        eos = llm._model.token_get_text(llm.token_eos())
        bos = llm._model.token_get_text(llm.token_bos())
        return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
    except Exception:
        return None


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
