"""A proposal (which function, where each parameter comes from, a test) -> method source.

The model only chooses; this module writes the code. The cdef is the header's,
the marshalling follows the parameter types, so a proposal can be wrong (the
test catches that) but never writes C declarations or arbitrary Python.
"""

from __future__ import annotations

import json

from . import ctypes_kinds as K
from .candidates import accepts_constant, argument_of, converter_of, options_for
from .headers import Prototype
from .need import Need

OUT_SLACK = 64  # bytes past an out buffer's stated size
#: Longest answer read as a proposal. The model stops at 256 tokens (~1 KiB); anything
#: far longer is not a proposal, and must not grow the transcript or the next prompt.
MAX_ANSWER = 16384


class ProposalError(ValueError):
    """A proposal that does not fit the candidates or the message."""


class Proposal:
    """What the model (or `call_c_`) decided, checked against the prototype."""

    __slots__ = ("function", "args", "out_size", "test_inputs", "expect", "oracle")

    def __init__(self, function: str, args: list, out_size: int | None, test_inputs: list,
                 expect: object, oracle: object = None) -> None:
        self.function = function
        self.args = args
        self.out_size = out_size
        self.test_inputs = test_inputs
        self.expect = expect
        self.oracle = oracle  # the model's Python expression, unchecked (see oracle.py)

    def to_dict(self) -> dict:
        out = {"function": self.function, "args": self.args,
               "test": {"inputs": self.test_inputs, "expect": self.expect}}
        if self.oracle is not None:
            out["oracle"] = self.oracle
        if self.out_size is not None:
            out["out_size"] = self.out_size
        return out

    @classmethod
    def parse(cls, text: str, candidates: dict[str, Prototype], need: Need) -> Proposal:
        if not isinstance(text, str):
            raise ProposalError(f"the answer is not text but {type(text).__name__}")
        if len(text) > MAX_ANSWER:
            raise ProposalError(f"the answer is {len(text)} characters long; a proposal is "
                                f"at most {MAX_ANSWER}")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ProposalError(f"the answer is not JSON: {exc}") from None
        except RecursionError:
            raise ProposalError("the answer is not JSON: nested too deeply") from None
        if not isinstance(data, dict):
            raise ProposalError("the answer is not a JSON object")
        name = data.get("function")
        proto = candidates.get(name) if isinstance(name, str) else None
        if proto is None:
            raise ProposalError(f"{short(name)} is not one of the candidate functions")
        args = data.get("args")
        if not isinstance(args, list) or len(args) != len(proto.params):
            raise ProposalError(
                f"{name} takes {len(proto.params)} parameter(s); args must list one source each"
            )
        for param, source, options in zip(proto.params, args, options_for(proto, need),
                                          strict=True):
            if isinstance(source, bool) or not (
                (isinstance(source, int) and accepts_constant(param)) or source in options
            ):
                raise ProposalError(f"parameter {param.name} cannot take {short(source)}")
        used = {argument_of(s) for s in args if not str(s).startswith("len(")}
        missing = [f"arg{i}" for i in range(1, len(need.args) + 1) if i not in used]
        if missing:
            raise ProposalError(f"the binding does not use {', '.join(missing)}")
        out_size = data.get("out_size")
        if "out" in args:
            out_param = proto.params[args.index("out")]
            if out_param.array:
                out_size = out_param.array
            elif not isinstance(out_size, int) or isinstance(out_size, bool) or not (
                0 < out_size <= 1 << 20
            ):
                raise ProposalError("an out buffer needs out_size, a byte count")
        else:
            out_size = None
        test = data.get("test") if isinstance(data.get("test"), dict) else {}
        inputs = test.get("inputs", list(need.args))
        if not isinstance(inputs, list) or len(inputs) != len(need.args):
            inputs = list(need.args)
        inputs = [_like(v, k) for v, k in zip(inputs, need.kinds, strict=True)]
        if not all(_fits_kind(v, k) for v, k in zip(inputs, need.kinds, strict=True)):
            inputs = list(need.args)  # a test input C could not take is no test input
        expect = test.get("expect")
        if not isinstance(expect, int | float | str | bool) and expect is not None:
            expect = None
        oracle = data.get("oracle")
        return cls(proto.name, list(args), out_size, inputs, expect,
                   oracle if isinstance(oracle, str) else None)


def short(value: object, limit: int = 80) -> str:
    """A model-given value for an error message: its repr (control characters escaped),
    cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _like(value: object, kind: str) -> object:
    """A test input coerced to the message argument's kind (bytes from strings)."""
    if kind == "bytes" and isinstance(value, str):
        return value.encode("utf-8")
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _fits_kind(value: object, kind: str) -> bool:
    """A test input of the message argument's own kind (a list is none: C takes no list)."""
    expected = {"int": int, "float": float, "bool": bool, "str": str, "bytes": bytes,
                "nil": type(None)}.get(kind)
    if expected is None:
        return value is None  # a pointer: the message's own, never a model's value
    if kind == "int":
        return type(value) is int or type(value) is bool
    return type(value) is expected


def direct_proposal(proto: Prototype, need: Need) -> Proposal:
    """`call_c_NAME:`: message arguments go to parameters in order, no model involved."""
    args: list = []
    remaining = list(range(1, len(need.args) + 1))
    for options in options_for(proto, need):
        pick = next((f"arg{i}" for i in remaining if f"arg{i}" in options), None)
        converted = next((o for o in options if converter_of(o) and argument_of(o) in remaining),
                         None)
        if pick is not None:
            remaining.remove(int(pick[3:]))
            args.append(pick)
        elif converted is not None:  # a uuid_t from text: through the header's converter
            remaining.remove(argument_of(converted))
            args.append(converted)
        elif "out" in options:
            args.append("out")
        elif any(o.startswith("len(") for o in options):
            args.append(next(o for o in options if o.startswith("len(")))
        elif "NULL" in options:
            args.append("NULL")
        else:
            args.append(0)
    out_size = None
    if "out" in args:
        param = proto.params[args.index("out")]
        out_size = param.array or 256
    return Proposal(proto.name, args, out_size, list(need.args), None)


def method_source(need: Need, proto: Prototype, proposal: Proposal) -> str:
    """The Python method that calls the function, as it will be stored in the image. It
    imports nothing: `bind`, `cbuf`, `data`... are the host API's (world/host_api.py)."""
    arity = len(need.args)
    params = ", ".join(["self", *[f"a{i}" for i in range(1, arity + 1)]])
    fname = "".join(ch if ch.isalnum() else "_" for ch in need.selector) or "method"
    lines = [
        f"def {fname}({params}):",
        f'    """{need.selector} -> C {proto.name}() in {need.library} (learned)."""',
        f"    ffi, lib = bind({need.library!r}, {binding_cdef(need, proto, proposal)!r})",
    ]
    out_param = None
    exprs = []
    for n, (param, source) in enumerate(zip(proto.params, proposal.args, strict=True)):
        conv = converter_of(source)
        if conv is not None:
            value = f"v{n}"
            lines += [
                f"    {value} = ffi.new({f'{param.base}[{param.array}]'!r})",
                f"    if lib.{conv}(cbuf(ffi, 'char', a{argument_of(source)}), {value}) < 0:",
                f"        raise ValueError({f'{conv}() rejected the argument'!r})",
            ]
            exprs.append(value)
        elif source == "out":
            out_param = param
            elem = param.base if param.base != "void" else "unsigned char"
            # Slack past the stated size: a size that forgot the NUL (36 for a 37-byte
            # uuid string) must not let C write past the buffer.
            padded = proposal.out_size + OUT_SLACK
            lines.append(f"    out = ffi.new({f'{elem}[{padded}]'!r})")
            exprs.append("out")
        else:
            exprs.append(_expr(param, source, need))
    call = f"lib.{proto.name}({', '.join(exprs)})"
    lines.append(f"    result = {call}")
    lines.append(f"    return {_result(proto, out_param, proposal.out_size)}")
    return "\n".join(lines) + "\n"


def binding_cdef(need: Need, proto: Prototype, proposal: Proposal) -> str:
    """The function's cdef, plus those of the converters its arguments go through."""
    used = {converter_of(s) for s in proposal.args} - {None}
    lines: list[str] = []
    for part in [proto.cdef] + [c.cdef for c in need.converters if c.name in used]:
        lines += [line for line in part.splitlines() if line not in lines]
    return "\n".join(lines)


def _expr(param, source, need: Need) -> str:
    if isinstance(source, int):
        return repr(source)
    if source == "NULL":
        return "ffi.NULL"
    if source.startswith("len("):
        return f"len(data(a{source[7:-1]}))"
    name = f"a{source[3:]}"
    nil = need.kinds[int(source[3:]) - 1] == "nil"  # learned with nil here: NULL is verified
    if K.is_integer(param):
        return f"integer({name})"
    if K.is_real(param):
        return f"real({name})"
    if K.is_char_pointer(param):
        base = "char" if param.base in ("void", "const char") else param.base
        expr = f"cbuf(ffi, {base!r}, {name}{', nullable=True' if nil else ''})"
        return f"ffi.cast('void *', {expr})" if param.base == "void" else expr
    return f"(ffi.NULL if {name} is None else {name}.pointer)" if nil else f"{name}.pointer"


def _result(proto: Prototype, out_param, size: int | None = None) -> str:
    if out_param is not None:
        if out_param.base in ("char", "signed char"):
            return "text(ffi, out)"
        if out_param.base in ("unsigned char", "void"):
            return f"bytes(ffi.buffer(out, {size}))"
        return "out[0]"
    r = proto.returns
    if K.is_void(r):
        return "None"
    if r.pointer == 0 and r.base == "_Bool":
        return "bool(result)"
    if K.is_integer(r):
        return "int(result)"
    if K.is_real(r):
        return "float(result)"
    if r.pointer == 1 and r.base in ("char", "signed char"):
        return "text(ffi, result)"
    return f"None if result == ffi.NULL else Foreign(result, {r.ctype!r})"
