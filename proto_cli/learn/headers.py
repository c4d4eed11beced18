"""C headers -> function prototypes, via the system preprocessor and pycparser.

The real header is preprocessed with `cpp -E` (GCC extensions that pycparser
cannot read are defined away), parsed, and every function declaration is
turned into a Prototype whose parameter types have their typedefs resolved,
so marshalling knows that `uLong` is `unsigned long` and `uuid_t` is
`unsigned char[16]`. Results are cached by the preprocessed text's hash.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import operator
import os
import re
import subprocess

from image_format.files import cache_home, write_whole

from ..errors import UsageError

GCC_STUBS = (
    "-D__attribute__(x)=", "-D__asm__(x)=", "-D__asm(x)=", "-D__restrict=",
    "-D__restrict__=", "-D__extension__=", "-D__inline=", "-D__inline__=",
    "-D__volatile__=", "-D__typeof__(x)=int", "-D_Noreturn=", "-D__builtin_va_list=void*",
    "-D__int128=long long", "-D_Float128=long double", "-D_Float64x=long double",
    "-D_Float32=float", "-D_Float64=double", "-D_Float32x=double",
    "-D__float128=long double", "-D__signed__=signed", "-D__const=const",
    "-D_Static_assert(x,y)=", "-D__alignof__(x)=8", "-D__builtin_offsetof(t,m)=0",
)
CACHE_VERSION = 1


class HeaderError(UsageError):
    """A header that cannot be found or parsed."""


class Param:
    """One parameter: its name, its C type as written, and what that type really is."""

    __slots__ = ("name", "ctype", "base", "pointer", "const", "array")

    def __init__(self, name: str, ctype: str, base: str, pointer: int, const: bool,
                 array: int | None) -> None:
        self.name = name
        self.ctype = ctype  # resolved C type for the cdef, arrays decayed to pointers
        self.base = base  # the pointed-to (or plain) type, typedefs resolved
        self.pointer = pointer  # levels of indirection
        self.const = const  # the pointed-to data is const
        self.array = array  # element count when declared through an array typedef

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_dict(cls, d: dict) -> Param:
        return cls(**d)


class Prototype:
    """A function declared in a header, with a self-contained cffi cdef."""

    __slots__ = ("name", "returns", "params", "variadic", "cdef", "opaque")

    def __init__(self, name: str, returns: Param, params: list[Param], variadic: bool,
                 cdef: str, opaque: list[str]) -> None:
        self.name = name
        self.returns = returns
        self.params = params
        self.variadic = variadic
        self.cdef = cdef
        self.opaque = opaque  # struct names the cdef declares as opaque

    def signature(self) -> str:
        """The declaration as a person reads it (typedefs resolved)."""
        args = ", ".join(f"{p.ctype} {p.name}".strip() for p in self.params) or "void"
        if self.variadic:
            args += ", ..."
        return f"{self.returns.ctype} {self.name}({args})"

    def to_dict(self) -> dict:
        return {"name": self.name, "returns": self.returns.to_dict(),
                "params": [p.to_dict() for p in self.params], "variadic": self.variadic,
                "cdef": self.cdef, "opaque": self.opaque}

    @classmethod
    def from_dict(cls, d: dict) -> Prototype:
        return cls(d["name"], Param.from_dict(d["returns"]),
                   [Param.from_dict(p) for p in d["params"]], d["variadic"], d["cdef"],
                   d["opaque"])


def _cpp(header: str, *flags: str) -> str:
    """The system preprocessor's output for `#include`-ing one header."""
    if "\n" in header or '"' in header or ">" in header:
        raise HeaderError(f"bad header name {header!r}")
    include = f'#include "{header}"\n' if os.path.isabs(header) else f"#include <{header}>\n"
    code, out, err = run_cpp([*flags, "-"], include)
    if code is None:
        raise HeaderError(f"cannot preprocess {header}: {err}")
    if code:
        first = (err.strip().splitlines() or ["cpp failed"])[0]
        raise HeaderError(f"cannot preprocess {header}: {first}")
    return out


#: What a header may make the preprocessor write, and how long it may take: macros that
#: expand exponentially stream gigabytes (a hostile header is normal input).
CPP_LIMIT_BYTES = 64 << 20
CPP_SECONDS = 30


def run_cpp(args: list[str], text: str) -> tuple[int | None, str, str]:
    """(exit code, stdout, stderr) of `cpp ARGS` fed `text`; exit code None, with the
    reason in stderr, when its output passes CPP_LIMIT_BYTES or it runs past CPP_SECONDS."""
    import selectors
    import time

    try:
        proc = subprocess.Popen(["cpp", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise HeaderError("no C preprocessor: install gcc (apt-get install -y cpp)") from None
    proc.stdin.write(text.encode())
    proc.stdin.close()
    chunks: dict = {proc.stdout: [], proc.stderr: []}
    size, deadline, why = 0, time.monotonic() + CPP_SECONDS, ""
    with selectors.DefaultSelector() as sel:
        for stream in chunks:
            sel.register(stream, selectors.EVENT_READ)
        while sel.get_map() and not why:
            left = deadline - time.monotonic()
            if left <= 0:
                why = f"the preprocessor ran past {CPP_SECONDS} s"
                break
            for key, _ in sel.select(left):
                data = os.read(key.fileobj.fileno(), 1 << 16)
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                chunks[key.fileobj].append(data)
                size += len(data)
                if size > CPP_LIMIT_BYTES:
                    why = f"the preprocessor wrote more than {CPP_LIMIT_BYTES >> 20} MB"
    if why:
        proc.kill()
        proc.wait()
        return None, "", why
    code = proc.wait()
    return code, b"".join(chunks[proc.stdout]).decode("utf-8", "replace"), \
        b"".join(chunks[proc.stderr]).decode("utf-8", "replace")


def preprocess(header: str) -> str:
    """The header after `cpp -E`, as pycparser can read it."""
    return _cpp(header, "-E", "-P", *GCC_STUBS)


def macros(header: str) -> dict[str, int]:
    """Integer constants the header #defines (e.g. SHA512_DIGEST_LENGTH = 64)."""
    return {k: v for k, v in constants(header).items() if type(v) is int}


@functools.lru_cache(maxsize=8)
def constants(header: str) -> dict[str, int | float | str]:
    """Constants the header #defines as one literal: integers, floats and strings
    (`FOO_VERSION_STRING "2.1.0"`): what an oracle may name, and a version's truth."""
    out: dict[str, int | float | str] = {}
    later: list[str] = []
    for line in _cpp(header, "-dM", "-E").splitlines():
        parts = line.split(None, 2)
        if len(parts) != 3 or parts[0] != "#define" or "(" in parts[1]:
            continue
        name, body = parts[1], parts[2].strip()
        if name.startswith("_") or name.islower():  # the compiler's own (`linux`, `__GNUC__`)
            continue
        value = _literal(body)
        if value is not None:
            out[name] = value
        elif _EXPRESSION.fullmatch(body):
            later.append(name)
    out.update(_expanded(header, later[:MAX_EXPANDED]))
    return out


_EXPRESSION = re.compile(r"[\w\s()+\-*/<>|&~^.,\"#]+")
MAX_EXPANDED = 2000
MAX_STRING = 200  # a constant's text, as it may reach the prompt and the oracle


def _expanded(header: str, names: list[str]) -> dict[str, int | float | str]:
    """Macros defined by other macros (`FOO_VERSION (FOO_VERSION_MAJOR * 100 + ...)`), expanded
    by the preprocessor and computed when the result is plain arithmetic or string
    literals. Nothing of the header is executed: the arithmetic is read as a syntax tree."""
    if not names:
        return {}
    if "\n" in header or '"' in header or ">" in header:
        return {}
    include = f'#include "{header}"\n' if os.path.isabs(header) else f"#include <{header}>\n"
    # The name itself would be expanded too: lines carry its index instead, after a
    # marker the header cannot know (it is made anew for each run).
    mark = f"proto{os.urandom(8).hex()}"
    text = include + "".join(f"{mark} {i} {n}\n" for i, n in enumerate(names))
    try:
        code, stdout, _ = run_cpp(["-E", "-P", "-"], text)
    except HeaderError:
        return {}
    out: dict[str, int | float | str] = {}
    for line in stdout.splitlines() if code == 0 else []:
        if not line.startswith(mark + " "):
            continue
        _, index, body = (line.split(None, 2) + [""])[:3]
        value = _computed(body.strip())
        if value is not None and index.isdigit() and int(index) < len(names):
            out[names[int(index)]] = value
    return out


def _computed(text: str) -> int | float | str | None:
    """Adjacent string literals joined, or integer arithmetic evaluated; else None."""
    if len(text) > 4 * MAX_STRING:
        return None
    strings = re.fullmatch(r'(?:"[^"\\]*"\s*)+', text)
    if strings:
        joined = "".join(re.findall(r'"([^"\\]*)"', text))
        return joined if len(joined) <= MAX_STRING else None
    if len(text) > 300:
        return None
    plain = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", text)
    try:
        tree = ast.parse(plain, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return None
    try:
        value = _arith(tree.body)
    except (ValueError, ArithmeticError, RecursionError):
        return None
    return value if -(1 << 64) < value < 1 << 64 else None


def _arith(node: ast.AST) -> int:
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
           ast.BitAnd: operator.and_, ast.BitXor: operator.xor}
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Invert):
        inner = _arith(node.operand)
        return -inner if isinstance(node.op, ast.USub) else ~inner
    if isinstance(node, ast.BinOp) and type(node.op) in ops:
        right = _arith(node.right)
        if isinstance(node.op, ast.LShift | ast.RShift) and not 0 <= right <= 64:
            raise ValueError("shift")
        return ops[type(node.op)](_arith(node.left), right)
    raise ValueError("not arithmetic")


def _literal(text: str) -> int | float | str | None:
    if len(text) >= 2 and text[0] == text[-1] == '"' and '"' not in text[1:-1] \
            and "\\" not in text:
        return text[1:-1] if len(text) - 2 <= MAX_STRING else None
    bare = text.rstrip("uUlL")
    try:
        return int(bare, 0)
    except ValueError:
        pass
    if bare and bare[0] in "0123456789." and bare.rstrip("fF") == bare:
        try:
            return float(bare)
        except ValueError:
            return None
    return None


def prototypes(header: str) -> list[Prototype]:
    """Every function the header declares, cached by the preprocessed text's hash."""
    text = preprocess(header)
    digest = hashlib.sha256(f"{CACHE_VERSION}\0{text}".encode()).hexdigest()
    path = os.path.join(cache_home(), "headers", f"{digest}.json")
    try:
        with open(path, encoding="utf-8") as f:
            return [Prototype.from_dict(d) for d in json.load(f)]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    protos = _parse(text, header)
    with contextlib.suppress(OSError):  # a cache we cannot write is only slower
        write_whole(path, json.dumps([p.to_dict() for p in protos]))
    return protos


def _parse(text: str, header: str) -> list[Prototype]:
    from pycparser import c_ast, c_parser
    from pycparser.c_parser import ParseError

    try:
        tree = c_parser.CParser().parse(text, header)
    except ParseError as exc:
        raise HeaderError(f"cannot parse {header}: {exc}") from None
    typedefs: dict[str, c_ast.Node] = {}
    out: dict[str, Prototype] = {}
    for node in tree.ext:
        if isinstance(node, c_ast.Typedef):
            typedefs[node.name] = node.type
        elif isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl):
            if node.name.startswith("__"):
                continue
            try:
                out[node.name] = _prototype(node, typedefs)
            except _Unsupported:
                continue
    return list(out.values())


class _Unsupported(Exception):
    pass


def _prototype(decl, typedefs) -> Prototype:
    from pycparser import c_ast

    func = decl.type
    params: list[Param] = []
    variadic = False
    opaque: set[str] = set()
    for i, arg in enumerate(func.args.params if func.args else []):
        if isinstance(arg, c_ast.EllipsisParam):
            variadic = True
            continue
        param = _resolve(arg.type, typedefs, arg.name or f"arg{i}", opaque)
        if param.base == "void" and param.pointer == 0:
            continue  # f(void)
        params.append(param)
    returns = _resolve(func.type, typedefs, "", opaque)
    args = ", ".join(f"{p.ctype} {p.name}" for p in params) or "void"
    if variadic:
        args += ", ..."
    lines = [f"typedef struct {name} {name};" for name in sorted(opaque)]
    lines.append(f"{returns.ctype} {decl.name}({args});")
    return Prototype(decl.name, returns, params, variadic, "\n".join(lines), sorted(opaque))


def _resolve(node, typedefs, name: str, opaque: set[str]) -> Param:
    """Walk a declarator, resolving typedefs, into a Param."""
    from pycparser import c_ast

    pointer, const, array = 0, False, None
    while True:
        if isinstance(node, c_ast.TypeDecl):
            quals = node.quals or []
            inner = node.type
            if isinstance(inner, c_ast.IdentifierType):
                names = inner.names
                if len(names) == 1 and names[0] in typedefs:
                    const = const or "const" in quals
                    node = typedefs[names[0]]
                    continue
                base = " ".join(names)
                const = const or "const" in quals
                break
            if isinstance(inner, c_ast.Struct | c_ast.Union):
                if not inner.name:
                    raise _Unsupported
                kind = "struct" if isinstance(inner, c_ast.Struct) else "union"
                if pointer == 0:
                    raise _Unsupported  # by-value structs: out of scope
                if kind == "struct":
                    opaque.add(inner.name)
                base = inner.name if kind == "struct" else f"union {inner.name}"
                const = const or "const" in quals
                break
            if isinstance(inner, c_ast.Enum):
                base = "int"
                break
            raise _Unsupported
        if isinstance(node, c_ast.PtrDecl):
            if isinstance(node.type, c_ast.FuncDecl):
                raise _Unsupported  # callbacks: out of scope for now
            pointer += 1
            node = node.type
            continue
        if isinstance(node, c_ast.ArrayDecl):
            if node.dim is not None and isinstance(node.dim, c_ast.Constant):
                try:
                    array = int(node.dim.value.rstrip("uUlL"), 0)
                except ValueError:
                    array = None
            pointer += 1
            node = node.type
            continue
        if isinstance(node, c_ast.FuncDecl):
            raise _Unsupported
        raise _Unsupported
    prefix = "const " if const and pointer else ""
    ctype = prefix + base + (" " + "*" * pointer if pointer else "")
    return Param(name, ctype, base, pointer, const, array)
