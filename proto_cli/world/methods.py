"""Method slots: Python source of one function whose first parameter is `self`.

Source is checked when defined (one function, the selector's arity) and
compiled on first use, then cached by the world. A method sees these names:

The names are the host API (host_api.py: versioned; stored code imports nothing of
proto's own):

    send(receiver, selector, *args)   send a message through the normal lookup
    resend(self, selector, *args)     look selector up in the parents of this
                                      method's holder (Self's resend)
    reflect(obj)                      a mirror: clone, add_slot, set_slot, ...
    lobby                             the root namespace object
    describe(value)                   default text of a value (no sends)
    not_understood(message)           the error doesNotUnderstand: raises
    ProtoError, MessageNotUnderstood  to raise or catch
    primitive(name)                   a host service by name (learn.notUnderstood...)
    Foreign, bind, cbuf, data, ...    calling C, as learned bindings do

A learned method (its slot's meta says `learned`) is model-written C binding code:
each call runs confined (sandbox/confine.py), in a child that can change nothing
but its answer, unless a person marked it `trusted` after review.
"""

from __future__ import annotations

import os

from ..errors import MessageNotUnderstood, ProtoError, UsageError
from . import host_api
from .intrinsics import BLOCK_VALUE
from .method_source import is_language_source


def method_env(world) -> dict:
    """Names shared by every method of one world."""
    world_send = world.send
    from .blocks import Block
    from .evaluator import compiled_env

    compiled = compiled_env(world)
    check = world._guards.check

    def send(receiver, selector, *args):
        # A loop method's `value:` to a block runs it directly while genesis's `value:`
        # is still the one found (intrinsics.py): what that method would do, without it.
        if type(receiver) is Block and (compiled["VAL"] or check("VAL")) and \
                BLOCK_VALUE.get(selector, -1) == len(args):
            params = receiver.params
            if len(args) == 1 and len(params) == 1:  # do:, collect:, select:... (no frame
                return receiver.run({params[0]: args[0]}, receiver.scope)  # for __call__)
            return receiver(*args)
        return world_send(receiver, selector, args)

    def reflect(obj):
        from .mirror import Mirror

        return Mirror(world, obj)

    from image_format.values import ABSENT, ProtoSet, find_key, freeze

    from . import exact

    return {
        "primitive": host_api.primitive,
        "send": send,
        "ProtoSet": ProtoSet,
        "freeze": freeze,
        "find_key": find_key,
        "ABSENT": ABSENT,
        "is_fraction": exact.is_fraction,
        "a_number": exact.a_number,
        "exact": exact.exact,
        "fraction": exact.fraction,
        "call_block": world.call_block,
        "reflect": reflect,
        "lobby": world.lobby,
        "describe": world.describe,
        "not_understood": world.not_understood,
        "ProtoError": ProtoError,
        "MessageNotUnderstood": MessageNotUnderstood,
    }


def compile_method(world, holder, selector: str, source: str):
    """The function a method slot holds, with `resend` bound to its holder."""
    if is_language_source(source):
        from .language_methods import language_method

        return language_method(world, holder, selector, source)
    label = f"#{holder.oid} {selector}"
    code = code_of(source, label)
    return function_of(code, _env(world, holder, code), label)


def _env(world, holder, code) -> dict:
    """The names one method sees; the foreign-call names only when its code uses one, so
    that a send which runs no binding does not import the runtime (start-up)."""
    if world._env is None:
        world._env = method_env(world)
    env = dict(world._env)
    if _uses(code, host_api.FOREIGN):
        env.update(host_api.foreign_names())

    def resend(receiver, selector, *args):
        return world.resend(holder, receiver, selector, args)

    env["resend"] = resend
    return env


def _uses(code, names: tuple) -> bool:
    """Whether compiled code (or a function or class in it) reads any of `names`."""
    if any(name in code.co_names for name in names):
        return True
    return any(_uses(const, names) for const in code.co_consts if hasattr(const, "co_names"))


def code_of(source: str, label: str):
    """The source compiled (compiling runs nothing of it)."""
    try:
        return compile(source, f"<method {label}>", "exec")
    except SyntaxError as exc:
        raise UsageError(f"method {label} does not compile: {exc.msg}") from None
    except (UnicodeError, ValueError):  # a lone surrogate or a NUL in a stored source
        raise UsageError(f"method {label} does not compile: its source is not valid "
                         "UTF-8 text") from None


def function_of(code, env: dict, label: str):
    """The one function `code` defines, run in `env` (running a `def` runs its
    defaults, decorators and annotations: where that happens is where it is trusted)."""
    before = dict(env)
    exec(code, env)
    # New names, or a helper's name the method reuses (a method may be called `describe`).
    funcs = [v for k, v in env.items() if hasattr(v, "__code__") and before.get(k) is not v]
    if len(funcs) != 1:
        raise UsageError(f"method {label} must define exactly one function")
    return funcs[0]


def runs_confined(meta: object) -> bool:
    """Learned (any true value), and not marked trusted by a person (`proto trust`):
    one rule, used wherever proto says how a method runs."""
    get = getattr(meta, "get", None)
    return get is not None and bool(get("learned")) and get("trusted") is not True


def confined_method(world, holder, selector: str, source: str, where: str, meta):
    """A learned method whose every call runs confined (sandbox/confine.py). Nothing of
    its source runs in this process, not even its `def` (defaults, decorators): the
    child compiles and runs it. Its library (the provenance's) may be read there."""
    label = f"#{holder.oid} {selector}"
    code = code_of(source, label)  # a syntax error is reported here, as for any method
    env = _env(world, holder, code)
    library = meta.get("library")
    reads = (library,) if isinstance(library, str) and os.path.isabs(library) else ()
    declaration = _declaration(source)

    def run(*args):
        return function_of(code, env, label)(*args)

    def call(*args):
        from sandbox.confine import ConfinedError, ConfinementUnavailable, call

        if declaration is not None:
            _declare(declaration)
        try:
            return call(run, args, reads=reads)
        except ConfinementUnavailable as exc:
            raise UsageError(f"{where}: a learned method runs confined, and this machine "
                             f"cannot confine it ({exc}); review it and mark it trusted to "
                             "run it in-process") from None
        except ConfinedError as exc:
            raise ProtoError(f"{where} (learned, run confined): {exc}") from None

    return call


def _declaration(source: str) -> str | None:
    """The C declarations a learned method binds, when it binds them as the learner
    writes it (`bind('libz.so.1', '...')`, two literal strings): read from its syntax
    tree, nothing of it run."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "bind" and len(node.args) == 2 \
                and all(isinstance(a, ast.Constant) and type(a.value) is str
                        for a in node.args):
            return node.args[1].value
    return None


def _declare(cdef: str) -> None:
    """Parse the declarations here, once per process: each confined call's child then
    inherits the parsed FFI instead of parsing again (data only: no library is loaded
    and nothing of the method runs here). A declaration cffi refuses is left to the
    child, which reports it as the call's error."""
    import contextlib

    with contextlib.suppress(Exception):  # the call itself will say what is wrong
        host_api.foreign_module().declared(cdef)
