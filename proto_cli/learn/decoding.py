"""Decoding an answer the schema's automaton (constrain.py) accepts, a token at a time
where the model chooses and in batches where it cannot.

llama.cpp's grammar sampler checks every token of a 150k vocabulary at every step;
here the decoder asks only the most likely tokens, best first, so a greedy pick is
the grammar's pick. Text the automaton forces (JSON keys, the rest of a name once it
is unique) goes to the model in one batch, all but its last token: the model picks
that one itself. Forced text that ends the answer needs no model at all: whatever
token the model picked, the automaton allows only those characters.

Checking the last forced token in the same batch as the others (so saving a step)
was tried and dropped: a batch one token longer gives slightly different logits, and
on the dev set that flipped a near-tie into a worse answer for no measurable gain.
"""

from __future__ import annotations

from . import llama_adapter as A
from .constrain import DEAD

PICK_WIDTH = 48  # tokens checked against the automaton before looking at the whole vocabulary


class Decoder:
    """One loaded model's constrained decoding; caches each token's text."""

    def __init__(self, llm) -> None:
        self.llm = llm
        self._texts: dict[int, str] = {}

    def answer(self, logits, node, temperature: float, rng, max_tokens: int) -> str:
        """The answer after a prompt whose last logits are `logits`."""
        llm = self.llm
        out: list[str] = []
        for _ in range(max_tokens):
            forced = node.forced()
            if forced:
                after = node.derive_text(forced)
                if after is not DEAD and after.finished:
                    out.append(forced)  # the answer's end: every token would spell this
                    break
                step = self._forced(forced, node)
                if step is not None:
                    text, node, logits = step
                    out.append(text)
            if node.finished:
                break
            token, node = self.pick(logits, node, temperature, rng)
            if token is None:
                break
            out.append(self.text(token))
            if node.finished:
                break  # the answer is complete: what the model makes of it is not needed
            (logits,) = A.decode(llm, [token])
        return "".join(out)

    def _forced(self, forced: str, node):
        """Feed the tokens of forced text but the last: (the text fed, the automaton after
        it, the logits that follow), or None when the text is one token. The model picks
        the last token itself, so it can merge the forced text with what follows (`":["`
        is one token; forcing `[` alone would be a spelling the model never saw)."""
        llm = self.llm
        tokens = llm.tokenize(forced.encode("utf-8"), add_bos=False, special=False)[:-1]
        if not tokens:
            return None
        text = "".join(self.text(t) for t in tokens)
        after = node.derive_text(text)
        if after is DEAD:
            return None
        (logits,) = A.decode(llm, tokens)
        return text, after, logits

    def pick(self, logits, node, temperature: float, rng):
        """(token, automaton after it) for the best allowed token, or one sampled among
        the allowed above temperature 0; (None, node) if none is allowed."""
        import numpy as np

        allowed: list[tuple[int, object]] = []
        for width in (PICK_WIDTH, len(logits)):
            order = np.argpartition(-logits, width - 1)[:width] if width < len(logits) \
                else np.arange(len(logits))
            order = order[np.argsort(-logits[order], kind="stable")]
            for token in order.tolist():
                text = self.text(token)
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

    def text(self, token: int) -> str:
        out = self._texts.get(token)
        if out is None:
            out = self._texts[token] = self.llm.detokenize([token]).decode(
                "utf-8", errors="replace")
        return out
