"""The answer automaton: what it accepts, what it forces, and that it matches the schema."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from proto_cli.learn.constrain import DEAD, NUMBER, STRING, compile_schema
from proto_cli.learn.headers import Param, Prototype
from proto_cli.learn.need import Need
from proto_cli.learn.prompt import schema


def accepts(node, text: str) -> bool:
    return node.derive_text(text).nullable


def test_numbers_and_strings():
    for ok in ("0", "-3", "2.5", "0.479425", "1e-9", "12E+3"):
        assert accepts(NUMBER, ok), ok
    for bad in ("01", "-", "2.", "0.4794251", "1e", "+1", "NaN"):
        assert not accepts(NUMBER, bad), bad
    for ok in ('""', '"abc"', '"a\\"b"', '"\\u00e9"', '"é"'):
        assert accepts(STRING, ok), ok
    for bad in ('"abc', '"a\nb"', '"\\x"', 'abc'):
        assert not accepts(STRING, bad), bad


def _proto(name: str, *params: tuple[str, int, bool]) -> Prototype:
    ps = [Param(f"p{i}", ("const " if c else "") + base + " *" * ptr, base, ptr, c, None)
          for i, (base, ptr, c) in enumerate(params)]
    return Prototype(name, Param("", "double", "double", 0, False, None), ps, False, "", [])


def test_schema_answers_only_name_candidates_and_force_the_keys():
    need = Need("sineOf:", (0.5,), "math.h", "libm.so.6")
    protos = [_proto("sin", ("double", 0, False)), _proto("sinh", ("double", 0, False))]
    node = compile_schema(schema(need, protos))
    assert node.forced() == '{"oracle":'
    good = ('{"oracle":"math.sin(arg1)","test":{"inputs":[0.5],"expect":0.479425},'
            '"function":"sin","args":["arg1"]}')
    assert node.derive_text(good).finished
    assert accepts(node, good.replace('"sin"', '"sinh"'))
    assert node.derive_text(good.replace('"sin"', '"cos"')) is DEAD
    assert node.derive_text(good.replace('"arg1"', '"arg2"')) is DEAD
    # Once the name is unique, the rest of it and the next key are forced.
    after = node.derive_text('{"oracle":null,"test":{"inputs":[0.5],"expect":null},'
                             '"function":"sinh')
    assert node.derive_text('{"oracle":null,').forced() == '"test":{"inputs":['
    assert node.derive_text('{"oracle":"a\nb"') is DEAD  # a raw newline is not JSON
    assert after.forced() == '","args":["arg1"]}'


@given(st.lists(st.sampled_from(["sin", "sinh", "cos", "exp2"]), min_size=1, max_size=4,
                unique=True),
       st.floats(allow_nan=False, allow_infinity=False, width=32),
       st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8)))
def test_every_valid_answer_is_accepted_and_parses(names, value, expect):
    need = Need("fooOf:", (1.5,), "math.h", "libm.so.6")
    node = compile_schema(schema(need, [_proto(n, ("double", 0, False)) for n in names]))
    answer = {"oracle": None, "test": {"inputs": [round(value, 6)], "expect": expect},
              "function": names[-1], "args": ["arg1"]}
    text = json.dumps(answer, separators=(",", ":"), ensure_ascii=False)
    if "e" in json.dumps(round(value, 6)).lower() and "." in json.dumps(round(value, 6)):
        return  # 1.2345678e+20: more fraction digits than the grammar's 6
    end = node.derive_text(text)
    assert end.finished, text
    assert json.loads(text) == answer
