"""Learned methods run confined: each call in a child that can change nothing but its answer.

Each case is a binding hostile testing installed through verification (its deny-list
guard had blind spots), written as the learner writes methods (runtime.bind, the
header's declaration) and stored as a learned method. Run in the test's own process
(`World.send`, as `proto send` runs it), so the harm it did before is checked where
it happened: this process's locks, descriptors, signals, terminal, directory,
environment, priority and process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from image_format.codec import MappingProxyType
from image_format.store import Image
from proto_cli.world.objects import METHOD
from proto_cli.world.world import World

from .conftest import PROTO, ROOT

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux seccomp only")

LIBC = "libc.so.6"
LEARNED = MappingProxyType({"learned": True, "function": "?", "library": LIBC})


def method(selector: str, decl: str, call: str) -> str:
    """A learned method's source: bind the declaration, make the call."""
    arity = selector.count(":")
    params = ", ".join(["self", *[f"a{i}" for i in range(1, arity + 1)]])
    name = "".join(ch if ch.isalnum() else "_" for ch in selector)
    return (f"def {name}({params}):\n"
            f"    from proto_cli.learn.runtime import bind, cbuf, integer  # noqa: F401\n"
            f"    ffi, lib = bind({LIBC!r}, {decl!r})\n"
            f"    return {call}\n")


CASES = {
    "renice:": ("int setpriority(int which, unsigned int who, int prio);",
                "int(lib.setpriority(1, 0, integer(a1)))"),  # PRIO_PGRP 0: the whole group
    "unlockFd:": ("int lockf(int fd, int cmd, long len);", "int(lib.lockf(integer(a1), 0, 0))"),
    "suspendTerminal": ("int tcflow(int fd, int action);", "int(lib.tcflow(0, 0))"),
    "leakTo:": ("long send(int fd, const void *buf, unsigned long n, int flags);",
                "int(lib.send(integer(a1), b'leak', 4, 0))"),
    "closeFd:": ("int close(int fd);", "int(lib.close(integer(a1)))"),
    "dupOver:": ("int dup2(int old, int new);", "int(lib.dup2(0, integer(a1)))"),
    "umask": ("unsigned int umask(unsigned int mask);", "int(lib.umask(0o777))"),
    "chdir": ("int chdir(const char *path);", "int(lib.chdir(b'/'))"),
    "setenv": ("int setenv(const char *n, const char *v, int o);",
               "int(lib.setenv(b'PROTO_PWNED', b'1', 1))"),
    "alarm": ("unsigned int alarm(unsigned int s);", "int(lib.alarm(1))"),
    "ignoreInterrupt": ("void *signal(int sig, void *handler);",
                        "int(ffi.cast('long', lib.signal(2, ffi.cast('void *', 1))))"),
    "signalGroup:": ("int kill(int pid, int sig);", "int(lib.kill(0, integer(a1)))"),
    "rename": ("int prctl(int op, unsigned long a, unsigned long b, unsigned long c, "
               "unsigned long d);", "int(lib.prctl(15, ffi.cast('unsigned long', "
                                    "ffi.new('char[]', b'pwned')), 0, 0, 0))"),
    "crash": ("unsigned long strlen(const char *s);", "int(lib.strlen(ffi.NULL))"),
    "crc32Of:": ("unsigned long crc32(unsigned long c, const unsigned char *b, unsigned int n);",
                 None),
}


@pytest.fixture
def hostile(image_path: str) -> str:
    """An image whose `m` holds every case as a learned method."""
    def setup(txn):
        from proto_cli.world.shell import evaluate

        w = World(txn)
        m = evaluate(w, "m := lobby clone")
        for selector, (decl, call) in CASES.items():
            if call is None:
                continue
            w.put_slot(m, selector, method(selector, decl, call), METHOD, LEARNED)
        crc = ("def crc32Of_(self, a1):\n"
               "    from proto_cli.learn.runtime import bind, cbuf, data\n"
               f"    ffi, lib = bind('libz.so.1', {CASES['crc32Of:'][0]!r})\n"
               "    return int(lib.crc32(0, cbuf(ffi, 'unsigned char', a1), len(data(a1))))\n")
        w.put_slot(m, "crc32Of:", crc, METHOD, LEARNED)
    with Image(image_path) as image:
        image.transact(setup)
    return image_path


def send(path: str, selector: str, *args):
    with Image(path) as image:
        def work(txn):
            w = World(txn)
            return w.send(w.slot(w.lobby, "m").value, selector, args)
        return image.transact(work)


def test_a_confined_learned_method_answers_as_before(hostile):
    assert send(hostile, "crc32Of:", "hello") == 907060870
    assert send(hostile, "crc32Of:", b"") == 0


def test_marshalling_errors_keep_their_words(hostile):
    from proto_cli.errors import ProtoError

    with pytest.raises(TypeError, match="expected an integer, got nil"):
        send(hostile, "closeFd:", None)
    with pytest.raises(ProtoError, match="crashed \\(SIGSEGV\\)"):
        send(hostile, "crash")  # the child died; this process did not


def test_the_process_group_keeps_its_priority(hostile):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        before = os.getpriority(os.PRIO_PROCESS, bystander.pid)
        assert send(hostile, "renice:", 19) == -1
        assert os.getpriority(os.PRIO_PROCESS, bystander.pid) == before
        assert os.getpriority(os.PRIO_PROCESS, 0) == before
    finally:
        bystander.kill()
        bystander.wait()


def _lmdb_lock_fd(path: str) -> int:
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == os.path.realpath(path) + "-lock":
                return int(name)
        except OSError:
            continue
    raise AssertionError("no lock file descriptor")


def _held_locks() -> set[str]:
    with open("/proc/locks") as f:
        return {line.split()[5] for line in f if line.split()[4] == str(os.getpid())}


def test_the_image_lock_is_still_held_after_a_method_unlocks_it(hostile):
    """lockf(F_ULOCK) on LMDB's lock file, run in this process, dropped LMDB's lock: the
    next writer then thought it was alone, and an update was lost."""
    with Image(hostile) as image:
        fd = _lmdb_lock_fd(hostile)
        before = _held_locks()
        assert before  # LMDB holds a lock on its lock file while the image is open

        def work(txn):
            w = World(txn)
            return w.send(w.slot(w.lobby, "m").value, "unlockFd:", (fd,))
        assert image.transact(work) == -1
        assert _held_locks() == before


def test_inherited_descriptors_and_sockets_are_out_of_reach(hostile):
    mine, theirs = socket.socketpair()
    try:
        theirs.setblocking(False)
        assert send(hostile, "leakTo:", mine.fileno()) == -1
        with pytest.raises(BlockingIOError):
            theirs.recv(16)
        kept = os.dup(1)
        assert send(hostile, "closeFd:", kept) == -1
        os.fstat(kept)  # still open here
        assert send(hostile, "dupOver:", kept) == -1
        assert os.path.samestat(os.fstat(kept), os.fstat(1))
        os.close(kept)
    finally:
        mine.close()
        theirs.close()


def test_process_state_is_untouched(hostile):
    mask = os.umask(0o022)
    os.umask(mask)
    cwd = os.getcwd()
    handler = signal.getsignal(signal.SIGINT)
    with open("/proc/self/comm") as f:
        comm = f.read()
    got = []
    previous = signal.signal(signal.SIGUSR1, lambda *_: got.append(1))
    try:
        for selector in ("umask", "chdir", "setenv", "alarm", "ignoreInterrupt", "rename"):
            send(hostile, selector)
        assert send(hostile, "signalGroup:", int(signal.SIGUSR1)) == -1
        time.sleep(0.05)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert os.umask(mask) == mask and os.getcwd() == cwd
    assert "PROTO_PWNED" not in os.environ
    assert signal.alarm(0) == 0
    assert signal.getsignal(signal.SIGINT) == handler
    with open("/proc/self/comm") as f:
        assert f.read() == comm
    assert got == []


def test_the_terminal_and_a_spinning_call_through_the_cli(hostile, tmp_path):
    """Through `proto send`: tcflow answers -1 (no ioctl), and a call that never ends
    is stopped at the deadline with one line."""
    env = {**os.environ, "PROTO_IMAGE": hostile, "PROTO_CALL_SECONDS": "1"}
    r = subprocess.run([*PROTO, "send", "m", "suspendTerminal"], capture_output=True,
                       text=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "-1", r.stderr
    spin = "def spin(self):\n    while True:\n        pass\n"
    with Image(hostile) as image:
        image.transact(lambda txn: World(txn).put_slot(
            World(txn).slot(World(txn).lobby, "m").value, "spin", spin, METHOD, LEARNED))
    start = time.monotonic()
    r = subprocess.run([*PROTO, "send", "m", "spin"], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 1 and time.monotonic() - start < 20
    assert r.stderr.count("\n") == 1 and "no answer within 1 s" in r.stderr


def test_a_trusted_method_runs_in_process(hostile):
    """A person who reviewed a method may mark it trusted: it then runs here (and a
    C pointer it answers can be used)."""
    trusted = MappingProxyType({**LEARNED, "trusted": True})
    with Image(hostile) as image:
        def work(txn):
            w = World(txn)
            m = w.slot(w.lobby, "m").value
            w.put_slot(m, "pid", method("pid", "int getpid(void);", "int(lib.getpid())"),
                       METHOD, trusted)
            w.put_slot(m, "childPid", method("childPid", "int getpid(void);",
                                             "int(lib.getpid())"), METHOD, LEARNED)
        image.transact(work)
    assert send(hostile, "pid") == os.getpid()
    assert send(hostile, "childPid") != os.getpid()


def test_proto_trust_marks_a_learned_method_and_undo_confines_it_again(hostile):
    env = {**os.environ, "PROTO_IMAGE": hostile}

    def proto(*args):
        return subprocess.run([*PROTO, *args], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=60)

    pid_method = method("pid", "int getppid(void);", "int(lib.getppid())")
    with Image(hostile) as image:
        image.transact(lambda txn: World(txn).put_slot(
            World(txn).slot(World(txn).lobby, "m").value, "pid", pid_method, METHOD, LEARNED))
    first = proto("send", "m", "pid")
    assert proto("trust", "m", "pid").returncode == 0
    trusted = proto("send", "m", "pid")
    assert proto("trust", "m", "pid", "--undo").returncode == 0
    again = proto("send", "m", "pid")
    # in-process, the caller's parent is this test; confined, it is the proto process
    mine = str(os.getpid())
    assert trusted.stdout.strip() == mine
    assert first.stdout.strip() != mine and again.stdout.strip() != mine
    r = proto("trust", "m", "nothing")
    assert r.returncode == 2 and "no learned method nothing" in r.stderr


def _put(path: str, selector: str, source: str, meta=LEARNED) -> None:
    with Image(path) as image:
        def work(txn):
            w = World(txn)
            w.put_slot(w.slot(w.lobby, "m").value, selector, source, METHOD, meta)
        image.transact(work)


def test_a_call_that_closes_its_pipe_and_sleeps_does_not_hold_proto(hostile):
    """It closed its answer pipe, then slept or stopped itself: proto waited for it
    forever, holding the image's write lock (found by hostile testing)."""
    from proto_cli.errors import ProtoError

    _put(hostile, "hang", method(
        "hang", "int close(int fd); unsigned int sleep(unsigned int s); int kill(int p, int s);"
        " int getpid(void);",
        "int(lib.close(3)) + int(lib.kill(lib.getpid(), 19)) + int(lib.sleep(30))"))
    start = time.monotonic()
    with pytest.raises(ProtoError, match="ended without an answer"):
        send(hostile, "hang")
    assert time.monotonic() - start < 10


def test_no_futex_or_mapping_shared_with_another_process(hostile, tmp_path):
    """A shared futex (LMDB's writer mutex in the lock file) could be requeued away from
    its waiters; a shared mapping reaches a file's pages without a system call."""
    shared = tmp_path / "f"
    shared.write_bytes(b"\0" * 4096)
    _put(hostile, "sharedFutex", method(
        "sharedFutex", "long syscall(long n, ...);",
        "int(lib.syscall(202, ffi.cast('long', ffi.new('int *')), ffi.cast('long', 4), "
        "ffi.cast('long', 1), ffi.cast('long', 0), ffi.new('int *'), ffi.cast('long', 0)))"))
    _put(hostile, "sharedMap:", method(
        "sharedMap:", "int open(const char *p, int f); void *mmap(void *a, unsigned long n, "
        "int p, int f, int fd, long o);",
        "int(ffi.cast('long', lib.mmap(ffi.NULL, 4096, 1, 1, lib.open(cbuf(ffi, 'char', a1),"
        " 0), 0)))"))
    assert send(hostile, "sharedFutex") == -1
    assert send(hostile, "sharedMap:", str(shared)) == -1  # MAP_FAILED


def test_what_another_process_waits_for_cannot_be_read(hostile):
    """Read-only opens took others' input: this process's stdin pipe through
    /proc/PARENT/fd/N, the terminal's keystrokes through /dev/tty."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"job2\n")
    try:
        _put(hostile, "steal:", method(
            "steal:", "int open(const char *p, int f); long read(int fd, void *b, "
            "unsigned long n);",
            "int(lib.read(lib.open(cbuf(ffi, 'char', a1), 0), ffi.new('char[64]'), 64))"))
        assert send(hostile, "steal:", f"/proc/{os.getpid()}/fd/{read_end}") == -1
        assert send(hostile, "steal:", "/dev/tty") == -1
        assert os.read(read_end, 64) == b"job2\n"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_nothing_of_a_learned_source_runs_in_this_process(hostile):
    """A default argument (or decorator) runs when the `def` runs: for a learned method
    that is in the confined child too (a crafted lock entry ran code in proto so)."""
    _put(hostile, "whereDefined", "def whereDefined(self, pid=__import__('os').getpid()):\n"
                                  "    return pid\n")
    assert send(hostile, "whereDefined") != os.getpid()


def test_learned_means_any_true_value(hostile):
    """`learned: 1` or "true" ran in-process while `methods` listed it as learned."""
    source = "def whereRun(self):\n    return __import__('os').getpid()\n"
    for flag in (1, "true", 1.0):
        _put(hostile, "whereRun", source, MappingProxyType({"learned": flag}))
        assert send(hostile, "whereRun") != os.getpid()
