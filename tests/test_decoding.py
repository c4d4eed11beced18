"""The constrained decoder's mechanics, against a stand-in language model.

The stand-in is no model: a table of token texts and a rule for its logits (it
prefers the longest token that continues a target text). It checks what the
decoder does with forced text (fed in a batch but its last token, which the model
picks; no model at all for the text that ends the answer),
not what a model would answer: the real model's tests are marked `model`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from proto_cli.learn import decoding
from proto_cli.learn import llama_adapter as A
from proto_cli.learn.constrain import compile_schema

VOCAB = ['{"', "oracle", '":', '":"', '":null', '":[', '":["', "null", '","', '"]}', '],"',
         "},", '},"', "}", "]", "[", '"', ",", ":", "{", "test", "inputs", "expect",
         "function", "args", "arg", "1", "2", "0", ".", "5", "sin", "sinh", "math", ".sin",
         "(arg", ")", ')","', "h", "s", "i", "n", "a", "r", "g", "m", "t", "(", "e", "o",
         "c", "l", "u", "x", "p", "f", "\u2581"]


class StandIn:
    """Token texts, a greedy longest-match tokenizer, and logits that favour the longest
    token continuing `target` (and otherwise the order of VOCAB)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.history: list[int] = []
        self.n_tokens = 0
        self.decodes: list[tuple[int, int]] = []  # (tokens, outputs) per decode call

    def tokenize(self, data: bytes, add_bos: bool = False, special: bool = False) -> list[int]:
        text, out = data.decode(), []
        while text:
            best = max((i for i, t in enumerate(VOCAB) if text.startswith(t)),
                       key=lambda i: len(VOCAB[i]))
            out.append(best)
            text = text[len(VOCAB[best]):]
        return out

    def detokenize(self, tokens: list[int]) -> bytes:
        return "".join(VOCAB[t] for t in tokens).encode()

    def logits_after(self, tokens: list[int]) -> np.ndarray:
        written = "".join(VOCAB[t] for t in tokens)
        rest = self.target[len(written):] if self.target.startswith(written) else ""
        return np.array([len(t) * 10.0 if rest.startswith(t) else -float(i)
                         for i, t in enumerate(VOCAB)], dtype=np.float32)


@pytest.fixture
def stand_in(monkeypatch):
    def decode(llm, tokens, outputs=1):
        llm.history = llm.history[: llm.n_tokens] + list(tokens)
        llm.n_tokens = len(llm.history)
        llm.decodes.append((len(tokens), outputs))
        n = len(llm.history)
        return [llm.logits_after(llm.history[: n - k]) for k in range(outputs - 1, -1, -1)]

    monkeypatch.setattr(A, "decode", decode)
    return StandIn


SCHEMA = {"type": "object", "properties": {
    "oracle": {"anyOf": [{"type": "string", "maxLength": 40}, {"type": "null"}]},
    "function": {"enum": ["sin", "sinh"]},
    "args": {"type": "array", "prefixItems": [{"enum": ["arg1", "arg2"]}]}}}


def run(target: str) -> tuple[str, StandIn]:
    llm = StandIn(target)
    (logits,) = A.decode(llm, [])  # the prompt: nothing held yet
    llm.decodes.clear()
    text = decoding.Decoder(llm).answer(logits, compile_schema(SCHEMA), 0.0,
                                        np.random.default_rng(0), 100)
    return text, llm


@pytest.mark.parametrize("target", [
    '{"oracle":"math.sin(arg1)","function":"sin","args":["arg1"]}',
    '{"oracle":null,"function":"sinh","args":["arg2"]}',
])
def test_the_answer_is_what_the_model_would_write_alone(stand_in, target):
    text, _ = run(target)
    assert text == target
    assert json.loads(text)


def test_forced_text_goes_in_one_batch_and_the_model_picks_its_last_token(stand_in):
    # Forced `{"oracle":` tokenizes to `{"`, `oracle`, `":`; the last is left to the model,
    # which writes `":"` (a string follows): a spelling forcing `":` would have broken.
    text, llm = run('{"oracle":"math.sin(arg1)","function":"sin","args":["arg1"]}')
    assert llm.decodes[0] == (2, 1)  # `{"`, `oracle` in one batch, logits after it only
    assert llm.decodes[1] == (1, 1)  # the model's own `":"`
    assert llm.history[2] == VOCAB.index('":"')
    assert text.startswith('{"oracle":"math')


def test_forced_text_that_ends_the_answer_costs_no_decode(stand_in):
    text, llm = run('{"oracle":null,"function":"sin","args":["arg1"]}')
    assert text.endswith('"arg1"]}')
    # The model chose `1` (arg1 or arg2); the `"]}` that must follow was never decoded.
    assert "".join(VOCAB[t] for t in llm.history).endswith('arg1')
