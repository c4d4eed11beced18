"""Checking a method slot's source without running any of it: one Python function of
the selector's arity (parsed with ast), or a block in proto's own language (parsed).
Used wherever source enters an image (define, mirrors, builds, locks) and by verify.
"""

from __future__ import annotations

from ..errors import UsageError
from .message import selector_arity


def is_language_source(source: str) -> bool:
    """A method in proto's own language (a block), not Python."""
    return source.lstrip().startswith("[")


def validate_source(source: str, selector: str) -> str:
    """Check method source without running it; returns the function's name."""
    import ast

    if not selector:
        raise UsageError("a method needs a selector")
    if "\x00" in source:
        raise UsageError("method source contains a NUL byte")
    from .language_methods import block_of

    if is_language_source(source):  # proto's own language: parsed, never run
        block_of(source, selector)
        return selector
    try:
        tree = ast.parse(source, filename=f"<method {selector}>")
    except SyntaxError as exc:
        raise UsageError(
            f"method {selector}: {exc.msg} at line {exc.lineno}, column {exc.offset}"
        ) from None
    except (RecursionError, MemoryError):
        raise UsageError(f"method {selector}: the source is nested too deeply") from None
    except (UnicodeError, ValueError):  # a lone surrogate (undecodable input) is no source
        raise UsageError(f"method {selector}: the source is not valid UTF-8 text") from None
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    allowed = ast.FunctionDef | ast.Import | ast.ImportFrom
    others = [n for n in tree.body if not isinstance(n, allowed)]
    if len(funcs) != 1 or others:
        raise UsageError(f"method {selector}: the source must define exactly one function")
    fn = funcs[0]
    args = fn.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        raise UsageError(f"method {selector}: use plain positional parameters only")
    want = selector_arity(selector) + 1
    if len(args.args) != want:
        raise UsageError(
            f"method {selector}: takes self plus {want - 1} argument(s), "
            f"but {fn.name} has {len(args.args)} parameter(s)"
        )
    return fn.name
