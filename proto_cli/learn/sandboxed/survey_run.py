"""The survey harness (learn/survey.py ships it into the sandbox and runs main): every
binding on every probe, each binding in children of its own under the guard, with
its output thrown away and a deadline of its own. A crash on one input costs that
input: the child starts again at the next one. Rows come back on stdout with the
run's nonce.

Runs inside the sandbox: imports only the standard library, cffi and the shipped
runtime, guard and the modules beside it.
"""

import json
import os
import resource
import select
import signal
import time

from .common import enc, learned_function, read_spec
from .stages import SURVEY_MARK


def prepare(bindings):
    """One FFI per library with every binding's declarations, parsed once here and
    handed to the runtime's cache: a child then only compiles its method."""
    import cffi

    import proto_cli.learn.runtime as runtime
    groups = {}
    for b in bindings:
        groups.setdefault(b["library"], []).append(b)
    for library, group in groups.items():
        lines = []
        for b in group:
            lines += [x for x in b["cdef"].splitlines() if x not in lines]
        try:
            ffi = cffi.FFI()
            ffi.cdef("\n".join(lines))
            lib = ffi.dlopen(library)
        except Exception:
            continue  # each child parses its own, and says what fails
        for b in group:
            runtime._LIBS[(library, b["cdef"])] = (ffi, lib)


def child(spec, binding, start, w):
    import guard

    import proto_cli.learn.runtime as runtime
    probes = spec["probes"]
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    resource.setrlimit(resource.RLIMIT_CPU, (int(spec["seconds_each"]) + 1,) * 2)
    try:
        ffi, lib = runtime.bind(binding["library"], binding["cdef"])
        getattr(lib, binding["function"])
        fn = learned_function(binding["source"], spec["foreign"], "<binding>")
    except BaseException as exc:
        os.write(w, (json.dumps({"fail": f"{type(exc).__name__}: {exc}"[:300]}) + "\n").encode())
        return
    guard.install((w,))
    for j in range(start, len(probes)):
        os.write(w, (json.dumps({"at": j}) + "\n").encode())
        try:
            row = {"j": j, "v": enc(fn(None, *probes[j]))}
        except BaseException as exc:
            row = {"j": j, "e": type(exc).__name__}
        os.write(w, (json.dumps(row) + "\n").encode())


def run(spec, binding):
    probes = spec["probes"]
    results = [None] * len(probes)
    deadline = time.monotonic() + spec["seconds_each"]
    start, fail, restarts = 0, None, 0
    while start < len(probes) and fail is None:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                child(spec, binding, start, w)
            finally:
                os._exit(0)
        os.close(w)
        at, buf, late = start, b"", False
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                late = True
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(r, 65536)
            if not chunk:
                break
            *lines, buf = (buf + chunk).split(b"\n")
            buf = buf[-(1 << 20):]
            for line in lines:
                try:  # the child runs the C code, which may write here too: trust no line
                    msg = json.loads(line)
                    if "fail" in msg:
                        fail = str(msg["fail"])[:300]
                    elif "at" in msg and start <= int(msg["at"]) < len(probes):
                        at = int(msg["at"])
                    elif "j" in msg and 0 <= int(msg["j"]) < len(probes):
                        j = int(msg["j"])
                        results[j] = {"v": msg["v"]} if "v" in msg else {"e": str(msg["e"])}
                        at = j + 1
                except Exception:
                    continue
        os.close(r)
        _, status = os.waitpid(pid, 0)
        if late:
            fail = fail or "no answer within its time"
            break
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            if name == "SIGSYS":
                fail = "forbidden: it reached outside its own process"
                break
            if at < len(probes):
                results[at] = {"e": "crash " + name}
            restarts += 1
            if restarts > 3:
                fail = "crashed again and again (" + name + ")"
                break
            start = at + 1
        else:
            start = len(probes)
    return {"fail": fail} if fail else {"results": results}


def main():
    import guard  # noqa: F401 - imported once here; each child finds it loaded

    spec = read_spec("survey.json")
    prepare(spec["bindings"])
    for i, binding in enumerate(spec["bindings"]):
        row = run(spec, binding)
        print(f"\n{SURVEY_MARK} {spec['nonce']} {i} {json.dumps(row)}", flush=True)
