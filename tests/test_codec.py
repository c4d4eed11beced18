"""The safe value encoding: round trips, and hostile bytes never run code."""

from __future__ import annotations

import contextlib
import math
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from image_format.codec import Pickled, Ref, decode, encode
from image_format.errors import DecodeError, EncodeError

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | \
    st.binary() | st.builds(Ref, st.integers(min_value=0, max_value=2**63))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5).map(tuple)
    | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=5).map(MappingProxyType),
    max_leaves=20,
)


@given(values)
def test_round_trip(value):
    assert decode(encode(value)) == value


def test_lists_and_maps_decode_immutable():
    lst = decode(encode([1, [2, 3]]))
    assert lst == (1, (2, 3))
    mapping = decode(encode({"a": 1}))
    with pytest.raises(TypeError):
        mapping["b"] = 2  # type: ignore[index]


def test_special_floats_and_big_ints():
    assert math.isnan(decode(encode(float("nan"))))
    assert decode(encode(float("-inf"))) == float("-inf")
    assert decode(encode(-(2**200))) == -(2**200)


def test_unstorable_value_is_refused():
    with pytest.raises(EncodeError):
        encode(object())
    with pytest.raises(EncodeError):
        encode({1, 2})


def test_pickled_payload_is_never_loaded():
    import pickle

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('executed!')",))

    payload = pickle.dumps(Boom())
    value = decode(b"D" + bytes([len(payload)]) + payload)
    assert isinstance(value, Pickled) and value.data == payload


@settings(max_examples=2000)
@given(st.binary(max_size=64))
def test_garbage_decodes_or_raises_decode_error(data):
    with contextlib.suppress(DecodeError):
        decode(data)


def test_deep_nesting_is_bounded():
    data = b"l\x01" * 10_000 + b"N"
    with pytest.raises(DecodeError):
        decode(data)
