"""Everything proto needs from llama-cpp-python beyond its public API, in one place.

proto decodes its own way (learn/decoding.py): forced text fed in batches, a
forced token checked against the model's own choice, a fixed prompt prefix
saved once per machine and restored in every process. llama-cpp-python's public
`Llama` does not offer those, so this module reaches into its internals: the
context and batch objects, the token history, llama.cpp's state functions and
the default model parameters. They are private and move between releases;
pyproject bounds the version, and tests/test_llama_adapter.py fails loudly, naming
what moved, when a release changes one of them.
"""

from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager

#: What this module touches, checked by `missing()` (and its test) so that a release
#: which moved one is named, not met as an AttributeError in the middle of a learn.
LLAMA_ATTRIBUTES = ("_ctx", "_batch", "_model", "input_ids", "n_tokens", "n_batch",
                    "tokenize", "detokenize", "reset", "eval", "metadata")
MODULE_FUNCTIONS = ("llama_state_get_size", "llama_state_get_data", "llama_state_set_data",
                    "llama_get_logits_ith", "llama_model_default_params")


def missing(llm=None) -> list[str]:
    """The internals this adapter uses that the installed llama-cpp-python lacks."""
    import llama_cpp

    gone = [f"llama_cpp.{name}" for name in MODULE_FUNCTIONS if not hasattr(llama_cpp, name)]
    if not hasattr(llama_cpp.llama_model_default_params(), "use_extra_bufts"):
        gone.append("llama_model_params.use_extra_bufts")
    if llm is not None:
        gone += [f"Llama.{name}" for name in LLAMA_ATTRIBUTES if not hasattr(llm, name)]
        for owner, names in (("_ctx", ("ctx", "decode", "kv_cache_seq_rm", "get_logits_ith")),
                             ("_batch", ("batch", "set_batch")), ("_model", ("token_get_text",))):
            gone += [f"Llama.{owner}.{n}" for n in names
                     if not hasattr(getattr(llm, owner, None), n)]
    return gone


def load(path: str, n_ctx: int, seed: int):
    """The model, its weights read from the mapped file (see `mapped_weights`)."""
    from llama_cpp import Llama

    with mapped_weights():
        return Llama(model_path=path, n_ctx=n_ctx, seed=seed,
                     n_threads=os.cpu_count() or 2, verbose=False)


@contextmanager
def mapped_weights():
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


def chat_formatter(llm):
    """The model's own chat template (GGUF metadata), as llama-cpp-python renders it;
    None when the model has none it can render."""
    try:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = llm.metadata["tokenizer.chat_template"]
        eos = llm._model.token_get_text(llm.token_eos())
        bos = llm._model.token_get_text(llm.token_bos())
        return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
    except Exception:
        return None


def held(llm) -> list[int]:
    """The tokens whose evaluation the context holds, in order."""
    return llm.input_ids[: llm.n_tokens].tolist()


def forget_after(llm, n: int) -> None:
    """Keep the first `n` held tokens; the next decode overwrites the rest."""
    llm.n_tokens = min(n, llm.n_tokens)


def decode(llm, tokens: list[int], outputs: int = 1) -> list:
    """Evaluate `tokens` after the held ones; the logits (numpy rows, copied) after each
    of the last `outputs` of them, in order. Only those rows are computed: the
    output layer is a sixth of this model's work per token."""
    import numpy as np

    ctx, batch = llm._ctx, llm._batch
    ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
    n_vocab = llm.n_vocab()
    first_output = len(tokens) - outputs
    rows = []
    for start in range(0, len(tokens), llm.n_batch):
        chunk = tokens[start:start + llm.n_batch]
        n_past = llm.n_tokens
        batch.set_batch(batch=chunk, n_past=n_past, logits_all=False)
        wanted = [i for i in range(len(chunk)) if start + i >= first_output]
        for i in range(len(chunk)):
            batch.batch.logits[i] = i in wanted
        ctx.decode(batch)
        llm.input_ids[n_past:n_past + len(chunk)] = chunk
        llm.n_tokens = n_past + len(chunk)
        for i in wanted:
            pointer = ctx.get_logits_ith(i)
            rows.append(np.ctypeslib.as_array(pointer, shape=(n_vocab,)).copy())
    return rows


def restart(llm, tokens: list[int]) -> None:
    """Evaluate `tokens` from an empty context."""
    llm.reset()
    decode(llm, tokens)


def save_state(llm) -> bytes:
    """The context's evaluated state, as llama.cpp serialises it."""
    import llama_cpp

    size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
    buf = (ctypes.c_uint8 * int(size))()
    n = llama_cpp.llama_state_get_data(llm._ctx.ctx, buf, size)
    return bytes(buf)[: int(n)]


def restore_state(llm, data: bytes, tokens: list[int]) -> bool:
    """Put back a state `save_state` made after evaluating `tokens`; False (and an empty
    context) when llama.cpp does not take it."""
    import llama_cpp

    size = len(data)
    buf = (ctypes.c_uint8 * size).from_buffer_copy(data)
    if llama_cpp.llama_state_set_data(llm._ctx.ctx, buf, size) != size:
        llm.reset()
        return False
    llm.input_ids[: len(tokens)] = tokens
    llm.n_tokens = len(tokens)
    return True
