"""Generated inputs: the message's arguments, varied, to tell look-alike functions apart.

One test input tells little: `isalpha` and `isalnum` agree on 'a', `rint` and
`round` on 2.4, `tan` and `atan` on 0. A reference oracle (oracle.py) is evaluated
on many inputs of the message's own kinds, and every candidate binding is run on
the same ones, so agreement means something. The inputs keep the shape of the
message's arguments where a shape matters (a hex string stays hex, a UUID stays a
UUID, a small integer stays a character code) and add the boundaries and cases
where functions differ: zero, negatives, halves, empty strings, case, pieces of
the other arguments (for "find this in that").

Deterministic: the same message gives the same probes, so a learn can be replayed.
"""

from __future__ import annotations

import hashlib
import random
import string

LIMIT = 24  # generated inputs besides the message's own and the test's

FLOATS = (0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.5, -2.5, 2.0, -2.0, 3.0, 0.1, 0.25, 0.75, 0.9,
          -0.9, 3.7, -3.7, 10.0, 100.0, 1e-5, 0.3, -1.5, 7.25)
INTS = (0, 1, 2, -1, 3, 5, 7, 10, 16, 100, 255, 1000, -7, 42)
#: One character code of each class C's <ctype.h> tells apart (control, space, digit,
#: hex letter, other letter, punctuation, both cases).
CHAR_CODES = (0, 9, 10, 32, 33, 35, 47, 48, 53, 57, 58, 64, 65, 70, 71, 77, 90, 91, 95, 96,
              97, 102, 103, 109, 122, 123, 126, 127)
WORDS = ("", "a", "Hello, World", "abc", "ABC", "123", "x y", "hello")


def probes(args: tuple, kinds: tuple, test_inputs: list | tuple | None = None,
           limit: int = LIMIT) -> list[tuple]:
    """The message's arguments first, the test's inputs second (if other), then up to
    `limit` generated tuples, without repeats."""
    out: list[tuple] = []
    seen: set = set()

    def add(values: tuple) -> None:
        k = key(values)
        if k not in seen:
            seen.add(k)
            out.append(values)

    add(tuple(args))
    if test_inputs is not None and len(test_inputs) == len(args):
        add(tuple(test_inputs))
    if not args:
        return out
    rng = random.Random(hashlib.sha256(repr((args, kinds)).encode()).digest())
    pools = [_pool(i, a, k, args, kinds, test_inputs, rng) for i, (a, k) in
             enumerate(zip(args, kinds, strict=True))]
    if any(not pool for pool in pools):
        return out
    wanted = len(out) + limit
    # First walk every pool in step (each value of each argument is met), then mix.
    longest = max(len(pool) for pool in pools)
    for j in range(longest * 2):
        if len(out) >= wanted:
            break
        if j < longest:
            values = tuple(pool[(j + i) % len(pool)] for i, pool in enumerate(pools))
        else:
            values = tuple(rng.choice(pool) for pool in pools)
        add(values)
    return out


def key(values: tuple | list) -> tuple:
    """Inputs as one comparable value: 1, 1.0 and True are different inputs to C."""
    return tuple((type(v).__name__, v) for v in values)


def _pool(index: int, value: object, kind: str, args: tuple, kinds: tuple,
          test_inputs, rng: random.Random) -> list:
    others = [a for i, a in enumerate(args) if i != index]
    if test_inputs is not None and len(test_inputs) == len(args):
        others.append(test_inputs[index])
    if kind == "float":
        return _floats(float(value), rng)
    if kind == "int":
        return _ints(int(value), [a for a in others if isinstance(a, int)], rng)
    if kind == "bool":
        return [True, False]
    if kind == "str":
        return _strings(value, [a for a in others if isinstance(a, str)], rng)
    if kind == "bytes":
        texts = _strings(value.decode("latin-1"),
                         [a.decode("latin-1") for a in others if isinstance(a, bytes)], rng)
        # Case changes may leave latin-1 ('\xff'.upper() is U+0178): such texts are dropped.
        return [t.encode("latin-1") for t in texts if all(ord(c) < 256 for c in t)] + \
            [b"\x00\xff", bytes(range(1, 9))]
    if kind == "nil":
        return [None]
    return [value]  # a pointer lives only in this process: the message's own


def _floats(v: float, rng: random.Random) -> list[float]:
    pool = [v, -v, v / 2, v * 2, v + 1, *FLOATS]
    pool += [round(rng.uniform(-10, 10), 3) for _ in range(4)]
    return _unique([x for x in pool if x == x])


def _ints(v: int, others: list[int], rng: random.Random) -> list[int]:
    if 0 <= v <= 127:  # a character code, a count or a small flag: stay small
        pool = [v, v + 1, max(v - 1, 0), *CHAR_CODES, 1, 2, 3, 4, 5, 6, 8]
        return _unique(pool + [x for x in others if 0 <= x <= 127])
    if abs(v) >= 1 << 16:  # a checksum, a hash, a large count: values of its size
        width = min(max(v.bit_length(), 17), 64)
        low = -(1 << (width - 1)) if v < 0 else 0
        high = (1 << (width - 1)) - 1 if v < 0 else (1 << width) - 1
        pool = [v, v + 1, v - 1, 0, 1] + [rng.randint(low, high) for _ in range(12)]
        return _unique(pool)
    pool = [v, v + 1, v - 1, -v, v // 2, v * 2, *INTS]
    pool += [rng.randint(-abs(v) * 2 - 10, abs(v) * 2 + 10) for _ in range(4)]
    return _unique(pool + others)


def _strings(s: str, others: list[str], rng: random.Random) -> list[str]:
    pool = [s]
    pool += [_mutate(s, rng) for _ in range(5)] + [_zeroed(s)] if s else []
    pool += [s.upper(), s.lower(), s.swapcase(), s + s, s[1:], s[:-1],
             s[: len(s) // 2], s[len(s) // 2:], s[1:-1]]
    for other in others:  # one argument's pieces as another: "find this in that"
        pool += [other, other[1:], other[:-1], other[: max(len(other) // 2, 1)],
                 other[len(other) // 2:], other.upper()]
    pool += list(WORDS)
    return _unique(pool)


def _mutate(s: str, rng: random.Random) -> str:
    """The string with each letter and digit replaced by one of its own class and range
    (`ff` stays hex, `755` stays octal, a UUID stays a UUID); the rest kept."""
    pools = {}
    for alphabet in (string.digits, string.ascii_lowercase, string.ascii_uppercase):
        present = [c for c in alphabet if c in s]
        if present:
            pools[alphabet] = alphabet[: alphabet.index(max(present)) + 1]
    out = []
    for c in s:
        alphabet = next((a for a in pools if c in a), None)
        out.append(rng.choice(pools[alphabet]) if alphabet else c)
    return "".join(out)


def _zeroed(s: str) -> str:
    """Every letter and digit a zero: the boundary value of a hex text (the nil UUID)."""
    return "".join("0" if c.isascii() and c.isalnum() else c for c in s)


def _unique(values: list) -> list:
    seen: set = set()
    out = []
    for v in values:
        key = (type(v).__name__, v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out
