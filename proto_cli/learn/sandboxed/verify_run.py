"""The verification harness (learn/verify.py ships it into the sandbox and runs main).

The stages run in a child, so that a crash, a kill by the guard or a limit is seen
from here with the stage it happened in and the child's peak memory. Stage marks
and the report carry the run's nonce, and the child's result reaches this process
through a pipe: whatever the C code prints cannot pass for the verdict.

Runs inside the sandbox: imports only the standard library, cffi and the shipped
runtime, guard and the modules beside it.
"""

import json
import math
import os
import resource
import signal
import sys

from .common import enc, learned_function, read_spec
from .stages import REPORT_MARK, STAGE_MARK


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b


def check(got, expect):
    if expect is None:
        return
    if isinstance(expect, bool) or (expect == 1 and isinstance(got, int)
                                    and not isinstance(got, bool) and isinstance(expect, int)):
        # C predicates answer "nonzero" for true: isspace(' ') is 8192 here, not 1.
        expect = bool(expect)
        if bool(got) != expect:
            raise AssertionError(f"expected a {'true' if expect else 'false'} result, got {got!r}")
        return
    if isinstance(expect, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise AssertionError(f"expected {expect!r}, got {got!r}")
        if not math.isclose(got, expect, rel_tol=1e-3, abs_tol=1e-6):
            raise AssertionError(f"expected {expect!r}, got {got!r}")
        return
    if isinstance(got, bytes):
        if got.hex() != expect.lower() and got != expect.encode():
            raise AssertionError(f"expected {expect!r}, got {got.hex()!r} (hex)")
        return
    if got != expect:
        raise AssertionError(f"expected {expect!r}, got {got!r}")


def stages(spec, w):
    """The binding's stages, in the child; each announced before it runs."""
    nonce = spec["nonce"]
    where = "cdef"

    def say(kind, text):
        os.write(w, (f"\n{kind} {nonce} {text}\n").encode())

    def stage(name):
        nonlocal where
        where = name
        say("stage", name)

    try:
        stage("cdef")
        import cffi
        ffi = cffi.FFI()
        ffi.cdef(spec["cdef"])
        stage("dlopen")
        lib = ffi.dlopen(spec["library"])
        stage("symbol")
        getattr(lib, spec["function"])
        stage("compile")
        fn = learned_function(spec["source"], spec["foreign"], "<learned method>")
        stage("guard")
        import guard
        guard.install((w,))
        stage("test")
        got = fn(None, *spec["test_inputs"])
        check(got, spec["expect"])
        stage("call")
        first = fn(None, *spec["args"])
        second = fn(None, *spec["args"])
        if not same(first, second):
            raise AssertionError(f"not deterministic: {first!r} then {second!r}")
        done = {"ok": True, "test_result": enc(got), "result": enc(first)}
    except BaseException as exc:
        done = {"ok": False, "stage": where, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    say("result", json.dumps(done))


def main():
    spec = read_spec("spec.json")
    nonce = spec["nonce"]
    sys.stdout.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            stages(spec, w)
        finally:
            os._exit(0)
    os.close(w)
    stage, result, buf = "", None, b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        *lines, buf = (buf + chunk).split(b"\n")
        buf = buf[-65536:]
        for line in lines:
            kind, _, rest = line.decode("utf-8", "replace").partition(" ")
            mark, _, text = rest.partition(" ")
            if mark != nonce:
                continue
            if kind == "stage":
                stage = text
                print(f"\n{STAGE_MARK} {nonce} {stage}", flush=True)
            elif kind == "result":
                try:
                    result = json.loads(text)
                except ValueError:
                    result = None
    _, status, usage = os.wait4(pid, 0)
    report = {"stage": stage, "result": result, "peak_mb": round(usage.ru_maxrss / 1024, 1),
              "limit_mb": resource.getrlimit(resource.RLIMIT_AS)[0] / 1048576}
    if os.WIFSIGNALED(status):
        report["signal"] = signal.Signals(os.WTERMSIG(status)).name
    else:
        report["exit"] = os.WEXITSTATUS(status)
    print(f"\n{REPORT_MARK} {nonce} {json.dumps(report)}", flush=True)
