"""Hostile payloads against the sandbox: one test (at least) per policy rule.

Each test runs real code under bubblewrap and fails if the rule it names is
dropped from the policy. Budgets are small so the file runs in seconds on 2 cores."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

import sandbox
from sandbox import Limits, SandboxUnavailable, UnsandboxedWarning, Verdict, cgroup
from sandbox import policy as sandbox_policy
from sandbox.limits import MIN_PROCESS_MB

ROOT = Path(__file__).resolve().parent.parent

def run_py(source: str, *args: str, **kw: object) -> Verdict:
    return sandbox.run(list(args), python_source=textwrap.dedent(source), **kw)  # type: ignore[arg-type]


def run_json(source: str, **kw: object) -> object:
    v = run_py(source, **kw)
    assert v.ok, v.to_json()
    return json.loads(v.stdout)


def marker_pids(marker: str) -> list[int]:
    """Host pids of live processes (not bwrap itself) whose command line holds marker."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in argv and not argv[0].endswith(b"bwrap"):
            found.append(int(entry))
    return found


def wait_until(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# --- namespaces -------------------------------------------------------------


def test_no_network_to_host_loopback_listener() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        result = run_json(f"""
            import json, socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
                print(json.dumps("connected"))
            except OSError as exc:
                print(json.dumps(type(exc).__name__))
        """)
        assert result != "connected"
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever reached the host listener
    finally:
        listener.close()


def test_no_network_to_outside_address() -> None:
    result = run_json("""
        import json, socket
        out = {"interfaces": [name for _, name in socket.if_nameindex()]}
        try:
            socket.create_connection(("192.0.2.1", 80), timeout=2).close()
            out["connect"] = "connected"
        except OSError as exc:
            out["connect"] = exc.errno
        try:
            socket.getaddrinfo("pypi.org", 443)
            out["dns"] = "resolved"
        except OSError:
            out["dns"] = "failed"
        print(json.dumps(out))
    """)
    assert result == {"interfaces": ["lo"], "connect": 101, "dns": "failed"}  # ENETUNREACH


def test_own_pid_namespace_hides_host_processes() -> None:
    result = run_json("""
        import json, os
        print(json.dumps({"me": os.getpid(),
                          "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}))
    """)
    assert result["me"] < 10
    assert max(result["pids"]) < 10 and len(result["pids"]) <= 4  # bwrap's init and us


def test_every_namespace_differs_from_the_host() -> None:
    kinds = ["net", "pid", "ipc", "uts", "mnt", "cgroup"]
    if os.geteuid() != 0:
        kinds.append("user")
    inside = run_json(f"""
        import json, os, socket
        print(json.dumps({{"ns": {{k: os.readlink("/proc/self/ns/" + k) for k in {kinds!r}}},
                          "hostname": socket.gethostname()}}))
    """)
    for kind in kinds:
        assert inside["ns"][kind] != os.readlink(f"/proc/self/ns/{kind}"), kind
    assert inside["hostname"] == sandbox_policy.HOSTNAME != socket.gethostname()


def test_host_shared_memory_invisible() -> None:
    name = f"proto-sandbox-{uuid.uuid4().hex}"
    shm = Path("/dev/shm") / name
    if not shm.parent.is_dir():
        pytest.skip("no /dev/shm on this host")
    shm.write_bytes(b"secret")
    try:
        assert run_json(f"import json, os; print(json.dumps(os.path.exists('/dev/shm/{name}')))") \
            is False
    finally:
        shm.unlink()


# --- filesystem -------------------------------------------------------------


def test_host_secrets_and_home_unreachable() -> None:
    home = Path.home()
    secret = home / f".proto-sandbox-secret-{uuid.uuid4().hex}"
    secret.write_text("hunter2")
    try:
        result = run_json(f"""
            import json, os
            def readable(p):
                try:
                    open(p).read(); return True
                except OSError:
                    return False
            print(json.dumps({{
                "shadow": readable("/etc/shadow"), "passwd": readable("/etc/passwd"),
                "secret": os.path.exists({str(secret)!r}), "home": os.path.exists("/home"),
                "etc": sorted(os.listdir("/etc")),
                "root": sorted(os.listdir("/root")) if os.path.isdir("/root") else [],
            }}))
        """)
    finally:
        secret.unlink()
    assert not result["shadow"] and not result["passwd"] and not result["secret"]
    assert not result["home"]
    assert set(result["etc"]) <= {"ld.so.cache", "alternatives"}
    # /root exists inside only as the path to a bound Python runtime, if at all
    runtime = sandbox_policy.python_runtime_paths()
    for entry in result["root"]:
        assert any(p.startswith(f"/root/{entry}") for p in runtime), entry


def test_image_file_outside_binds_invisible_and_bind_is_read_only(tmp_path: Path) -> None:
    image = tmp_path / "world.image"
    image.write_bytes(b"IMAGE")
    image.chmod(0o666)  # only the read-only mount may stop the write
    probe = f"""
        import json, os
        out = {{"image": os.path.exists({str(image)!r}),
               "repo": os.path.exists({str(ROOT / 'pyproject.toml')!r})}}
        try:
            out["content"] = open({str(image)!r}, "rb").read().decode()
            open({str(image)!r}, "ab").write(b"x")
            out["write"] = "ok"
        except OSError as exc:
            out["write"] = exc.errno
        print(json.dumps(out))
    """
    assert run_json(probe) == {"image": False, "repo": False, "write": 2}
    bound = run_json(probe, binds=[str(image)])
    assert bound == {"image": True, "repo": False, "content": "IMAGE", "write": 30}  # EROFS
    assert image.read_bytes() == b"IMAGE"


def test_writes_outside_the_tmpfs_fail() -> None:
    targets = ["/x", "/usr/x", "/etc/x", os.path.join(sys.prefix, "x"),
               os.path.join(sys.base_prefix, "x"), "/proc/x"]
    result = run_json(f"""
        import json, os
        out = {{}}
        for path in {targets!r} + ["/tmp/x", "x", "sub/dir/x"]:
            try:
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                with open(path, "w") as fh:
                    fh.write("data")
                out[path] = "written"
            except OSError as exc:
                out[path] = exc.errno
        print(json.dumps(out))
    """)
    for path in targets[:-1]:
        assert result[path] == 30, (path, result[path])  # EROFS: read-only, not just not ours
    assert result["/proc/x"] != "written"
    assert result["/tmp/x"] == result["x"] == result["sub/dir/x"] == "written"


def test_files_land_in_the_working_directory_and_cffi_imports() -> None:
    result = run_json("""
        import json, os, sys, cffi
        print(json.dumps({"cwd": os.getcwd(), "data": open("data/x.txt").read(),
                          "exe": sys.executable, "cffi": cffi.__version__}))
    """, files={"data/x.txt": b"hello"})
    assert result["cwd"] == sandbox_policy.WORKDIR
    assert result["data"] == "hello"
    assert result["exe"] == sys.executable
    import cffi

    assert result["cffi"] == cffi.__version__


# --- process identity and environment --------------------------------------


def test_environment_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROTO_SANDBOX_TEST_SECRET", "hunter2")
    v = run_py("import json, os; print(json.dumps(dict(os.environ)))", env={"EXTRA": "1"})
    assert v.ok, v.to_json()
    env = json.loads(v.stdout)
    assert "hunter2" not in v.stdout
    assert set(env) <= {*sandbox_policy.SANDBOX_ENV, "PWD", "EXTRA"}
    assert env["EXTRA"] == "1" and env["PATH"] == sandbox_policy.SANDBOX_ENV["PATH"]


def test_new_session_and_no_capabilities() -> None:
    result = run_json("""
        import json, os
        caps = {l.split(":")[0]: int(l.split()[1], 16)
                for l in open("/proc/self/status") if l.startswith("Cap")}
        print(json.dumps({"session": os.getsid(0), "uid": os.getuid(), "caps": caps}))
    """)
    # --new-session: the session is bwrap's pid 1, not the caller's (whose leader would
    # be outside the pid namespace, i.e. 0): no TIOCSTI into the caller's terminal
    assert result["session"] == 1
    assert result["caps"]["CapEff"] == result["caps"]["CapPrm"] == 0
    if os.geteuid() == 0:
        assert result["uid"] != 0


def test_sandbox_dies_with_its_parent() -> None:
    marker = f"MARKER-dwp-{uuid.uuid4().hex}"
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sandbox; sandbox.run(['" + marker + "'], python_source="
         "'import os, time\\nif os.fork() == 0:\\n    os.setsid()\\ntime.sleep(60)',"
         " limits=sandbox.Limits(wall_s=60))"],
        cwd=ROOT,
    )
    try:
        assert wait_until(lambda: len(marker_pids(marker)) == 2, 10), "sandbox did not start"
        parent.kill()
        parent.wait()
        assert wait_until(lambda: not marker_pids(marker), 3), marker_pids(marker)
    finally:
        parent.kill()
        for pid in marker_pids(marker):
            os.kill(pid, signal.SIGKILL)


# --- limits -----------------------------------------------------------------


def test_cpu_limit() -> None:
    v = run_py("while True: pass", limits=Limits(cpu_s=1, wall_s=10))
    assert (v.status, v.kind, v.signal) == ("failed", "cpu", "SIGXCPU")
    assert v.duration_s < 5


def test_memory_limit_4gb_allocation() -> None:
    v = run_py("b = bytearray(4 * 1024**3)")
    assert (v.status, v.kind) == ("failed", "memory"), v.to_json()
    assert "MemoryError" in v.stderr
    assert run_py("b = bytearray(100 * 1024**2); print(len(b))").ok  # within the budget


def test_fork_bomb_is_contained_and_host_stays_responsive() -> None:
    # A bounded bomb: 7 doublings would make 128 processes; the limit is 32. Every
    # process registers itself in /tmp and stays alive, so the root can count them.
    marker = f"MARKER-bomb-{uuid.uuid4().hex}"
    bomb = """
        import os, time
        root = os.getpid()
        for _ in range(7):
            try:
                os.fork()
            except OSError:
                pass
        open(f"/tmp/alive.{os.getpid()}", "w").close()
        time.sleep(1.5)
        if os.getpid() == root:
            print(len([f for f in os.listdir("/tmp") if f.startswith("alive.")]))
        else:
            time.sleep(30)
    """
    # memory for 32 processes: without a cgroup the budget is divided among them
    limits = Limits(processes=32, memory_mb=32 * MIN_PROCESS_MB, wall_s=10)
    result: list[Verdict] = []
    worker = threading.Thread(target=lambda: result.append(run_py(bomb, marker, limits=limits)))
    worker.start()
    peak, host_latency = 0, 0.0
    try:
        while worker.is_alive():
            peak = max(peak, len(marker_pids(marker)))
            start = time.monotonic()
            subprocess.run(["true"], check=True)
            host_latency = max(host_latency, time.monotonic() - start)
            time.sleep(0.05)
    finally:
        worker.join(15)
    assert result and result[0].ok, result[0].to_json()
    alive = int(result[0].stdout)
    assert 8 <= alive <= 32, alive  # it really forked, and no more than the limit
    assert peak <= 32, peak
    assert host_latency < 2.0
    # the root exited: its 30-second sleepers died with the sandbox
    assert wait_until(lambda: not marker_pids(marker), 2)


def test_fork_failure_is_reported_as_processes() -> None:
    v = run_py("""
        import os, time
        for _ in range(100):  # bounded: without the limit this just exits 0
            if os.fork() == 0:
                time.sleep(3)
                os._exit(0)
    """, limits=Limits(processes=8, wall_s=10))
    assert (v.status, v.kind) == ("failed", "processes"), v.to_json()
    assert v.duration_s < 3


def test_file_size_limit() -> None:
    v = run_py("open('big', 'wb').write(b'x' * (2 << 20))", limits=Limits(file_mb=1))
    assert (v.kind, v.exit_code) == ("file-size", 1), v.to_json()
    v = sandbox.run(["sh", "-c", "head -c 2000000 /dev/zero > big"], limits=Limits(file_mb=1))
    assert (v.kind, v.signal) == ("file-size", "SIGXFSZ"), v.to_json()


def test_wall_clock_kills_the_whole_process_tree() -> None:
    marker = f"MARKER-tree-{uuid.uuid4().hex}"
    v = run_py("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        while True:
            pass
    """, marker, limits=Limits(wall_s=1.5))
    assert (v.status, v.kind) == ("failed", "timeout")
    assert 1.5 <= v.duration_s < 4
    assert wait_until(lambda: not marker_pids(marker), 1), marker_pids(marker)


def test_background_process_does_not_outlive_the_run() -> None:
    marker = f"MARKER-daemon-{uuid.uuid4().hex}"
    v = run_py("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            for fd in (0, 1, 2):
                os.close(fd)  # nothing left for the supervisor to wait on
            time.sleep(60)
            os._exit(0)
        print("main done")
    """, marker)
    assert (v.kind, v.stdout) == ("none", "main done\n")
    assert v.duration_s < 2
    assert wait_until(lambda: not marker_pids(marker), 1), marker_pids(marker)


def test_output_flood_is_cut_off() -> None:
    v = run_py("""
        import sys
        while True:
            sys.stdout.write("x" * 65536)
    """, limits=Limits(output_kb=64))
    assert (v.status, v.kind) == ("failed", "output-limit")
    assert v.stdout_truncated and not v.stderr_truncated
    assert len(v.stdout) == 64 * 1024
    assert v.duration_s < 5


def test_segfault_is_a_signal() -> None:
    v = run_py("import ctypes; ctypes.string_at(0)")
    assert (v.status, v.kind, v.signal, v.exit_code) == ("failed", "signal", "SIGSEGV", None)
    v = run_py("import os, signal; os.kill(os.getpid(), signal.SIGABRT)")
    assert (v.kind, v.signal) == ("signal", "SIGABRT")


def test_exit_codes_and_ok() -> None:
    v = sandbox.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (v.status, v.kind, v.exit_code) == ("failed", "exit", 3)
    assert (v.stdout, v.stderr) == ("out\n", "err\n")
    v = sandbox.run(["echo", "hi"])
    assert (v.status, v.kind, v.exit_code, v.stdout) == ("ok", "none", 0, "hi\n")
    assert json.loads(v.to_json())["kind"] == "none"
    assert Verdict.from_dict(v.to_dict()) == v


# --- availability -----------------------------------------------------------


def test_missing_bwrap_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SandboxUnavailable, match="apt-get install -y bubblewrap"):
        sandbox.run(["true"], bwrap="/nonexistent/bwrap")
    monkeypatch.setenv("PROTO_SANDBOX_BWRAP", "/nonexistent/bwrap")
    with pytest.raises(SandboxUnavailable, match="bubblewrap is not installed"):
        sandbox.run(["true"])
    report = sandbox.check()
    assert report["usable"] is False and "apt-get" in str(report["fix"])


def test_refused_namespaces_are_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because "
        "the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    with pytest.raises(SandboxUnavailable, match="user namespaces"):
        sandbox.run(["true"], bwrap=str(fake))


def test_unsafe_opt_out_is_explicit_and_loud(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.warns(UnsandboxedWarning, match="UNSANDBOXED"):
        v = sandbox.run(["sh", "-c", "echo hi"], bwrap="/nonexistent/bwrap",
                        allow_unsandboxed=True)
    assert (v.status, v.stdout, v.sandboxed) == ("ok", "hi\n", False)
    assert "WITHOUT a sandbox" in capfd.readouterr().err
    with pytest.warns(UnsandboxedWarning):  # limits still apply
        v = sandbox.run(["sleep", "10"], bwrap="/nonexistent/bwrap", allow_unsandboxed=True,
                        limits=Limits(wall_s=0.5))
    assert v.kind == "timeout"
    # with a working bwrap the opt-out changes nothing: still sandboxed
    assert sandbox.run(["true"], allow_unsandboxed=True).sandboxed


def test_check_reports_bwrap_namespaces_and_policy() -> None:
    report = sandbox.check()
    assert report["usable"] is True and report["error"] is None
    assert report["bwrap"]["path"] and "bubblewrap" in report["bwrap"]["version"]
    assert report["namespaces"]["ok"] is True
    policy = report["policy"]
    assert "/usr" in policy["read_only_binds"]
    assert policy["tmpfs"] == ["/tmp", sandbox_policy.WORKDIR]
    assert policy["limits"] == Limits().to_dict()
    json.dumps(report)


def test_bad_invocations_raise_value_error() -> None:
    with pytest.raises(ValueError):
        sandbox.run()
    with pytest.raises(ValueError):
        sandbox.run(["true"], binds=["/nonexistent/path"])
    with pytest.raises(ValueError):
        sandbox.run(["true"], files={"../escape": b""})
    with pytest.raises(ValueError):
        Limits(cpu_s=0)


def test_package_is_standalone_and_cheap() -> None:
    code = ("import sys; before = set(sys.modules); import sandbox; "
            "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
            "print(sorted(new & {'proto_cli', 'image_format', 'rich', 'typer', 'subprocess', "
            "'typing', 'dataclasses'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"



# --- memory of the whole sandbox: cgroup v2, or the budget divided ----------------


def test_without_a_cgroup_the_budget_is_divided_among_processes() -> None:
    def split(**kw: float) -> tuple[float, int]:
        got = Limits(**kw).per_process()  # type: ignore[arg-type]
        return got.memory_mb, got.processes

    assert split() == (128, 8)  # the default 1024 MB
    assert split(memory_mb=256) == (128, 2)
    assert split(memory_mb=100) == (50, 2)  # never fewer than 2 processes
    assert split(memory_mb=4096, processes=4) == (1024, 4)  # never more than asked
    for memory_mb, processes in ((1024, 64), (256, 64), (100, 2), (3000, 7)):
        got = Limits(memory_mb=memory_mb, processes=processes).per_process()
        assert got.memory_mb * got.processes <= memory_mb
        each = int(got.memory_mb * 1048576)
        assert f"--as={each}:{each}" in got.prlimit_args()


HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
HYBRID_CGROUP = "4:memory:/process_api/abc\n1:cpu:/\n0::/\n"


def test_cgroup_locate_reads_mountinfo_and_proc_cgroup(tmp_path: Path) -> None:
    # a hybrid host: cgroup2 exists, the memory controller lives in cgroup v1
    assert cgroup.cgroup2_mounts(HYBRID_MOUNTINFO) == [("/sys/fs/cgroup/unified", "/")]
    assert cgroup.own_paths(HYBRID_CGROUP) == ("/", True)
    with pytest.raises(cgroup.Unavailable, match="no cgroup2 file system.*cgroup v1"):
        cgroup.locate(HYBRID_MOUNTINFO.splitlines()[1], HYBRID_CGROUP)
    # a pure cgroup v2 host, mount point with an escaped space, a bind-mounted subtree
    (tmp_path / "cg root" / "user.slice" / "me").mkdir(parents=True)
    point = str(tmp_path / "cg root").replace(" ", "\\040")
    mountinfo = f"30 1 0:26 / {point} rw - cgroup2 cgroup2 rw,nsdelegate\n"
    assert cgroup.locate(mountinfo, "0::/user.slice/me\n") == str(
        tmp_path / "cg root" / "user.slice" / "me")
    mountinfo = f"30 1 0:26 /user.slice {point} rw - cgroup2 cgroup2 rw\n"
    assert cgroup.locate(mountinfo, "0::/user.slice\n") == str(tmp_path / "cg root")
    with pytest.raises(cgroup.Unavailable, match="not visible"):
        cgroup.locate(mountinfo, "0::/system.slice/x\n")


def fake_cgroup(path: Path, controllers: str, enabled: str) -> Path:
    """A plain directory that looks like a cgroup's parent (but creates no control
    files in its children: a real cgroupfs does)."""
    path.mkdir()
    (path / "cgroup.controllers").write_text(controllers + "\n")
    (path / "cgroup.subtree_control").write_text(enabled + "\n")
    return path


def test_a_cgroup_that_cannot_be_limited_is_not_used_and_not_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = fake_cgroup(tmp_path / "cg", "cpu memory pids", "memory")
    monkeypatch.setenv(cgroup.PARENT_ENV, str(parent))
    # mkdir works in a plain directory, but it gets no memory.max: never created
    with pytest.raises(cgroup.Unavailable, match="cannot set the memory limit"):
        cgroup.Group.create(256)
    assert sorted(os.listdir(parent)) == ["cgroup.controllers", "cgroup.subtree_control"]
    report = sandbox.check()["memory"]
    assert (report["mode"], report["processes"], report["process_memory_mb"]) == (
        "per-process", 8, 128)
    assert "cannot set the memory limit" in report["reason"]
    v = run_py("print('hi')", limits=Limits(memory_mb=256))
    assert v.ok and v.limits["cgroup_memory_mb"] == 0 and v.limits["process_limit"] == 2
    assert sorted(os.listdir(parent)) == ["cgroup.controllers", "cgroup.subtree_control"]

    no_memory = fake_cgroup(tmp_path / "cg2", "cpu pids", "")
    monkeypatch.setenv(cgroup.PARENT_ENV, str(no_memory))
    with pytest.raises(cgroup.Unavailable, match="memory controller is (not available|bound)"):
        cgroup.Group.create(256)


def test_cgroups_of_dead_runs_are_swept(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = subprocess.Popen(["sleep", "30"])
    try:
        base = tmp_path / "cg"
        base.mkdir()
        for name in (f"proto-sandbox-{dead.pid}-aa", f"proto-sandbox-{alive.pid}-bb",
                     f"proto-sandbox-{os.getpid()}-cc", "other-1-dd", "proto-sandbox-x"):
            (base / name).mkdir()
        cgroup.sweep(str(base))
        assert sorted(os.listdir(base)) == sorted(
            [f"proto-sandbox-{alive.pid}-bb", f"proto-sandbox-{os.getpid()}-cc",
             "other-1-dd", "proto-sandbox-x"])
    finally:
        alive.kill()
        alive.wait()


def test_a_cgroup_gets_the_limit_and_bwrap_and_is_removed_after_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file protocol of a run's cgroup, on a directory made to look like cgroupfs
    (mkdir there makes the control files, rmdir takes them: the kernel's part)."""
    parent = fake_cgroup(tmp_path / "cg", "cpu memory pids", "memory")
    monkeypatch.setenv(cgroup.PARENT_ENV, str(parent))
    real_mkdir, real_rmdir, seen = os.mkdir, os.rmdir, {}

    def mkdir(path, mode=0o777, **kw):  # type: ignore[no-untyped-def]
        real_mkdir(path, mode, **kw)
        if os.path.basename(path).startswith(cgroup.PREFIX):
            for name, text in (("memory.max", ""), ("memory.swap.max", ""),
                               ("cgroup.procs", ""), ("memory.events", "oom_kill 0\n")):
                Path(path, name).write_text(text)

    def rmdir(path, **kw):  # type: ignore[no-untyped-def]
        if os.path.basename(path).startswith(cgroup.PREFIX):
            seen.update({n: Path(path, n).read_text() for n in os.listdir(path)})
            for name in os.listdir(path):
                os.unlink(os.path.join(path, name))
        real_rmdir(path, **kw)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "rmdir", rmdir)
    assert sandbox.check()["memory"]["mode"] == "cgroup"
    v = run_py("print('hi')", limits=Limits(memory_mb=256))
    assert v.ok and v.stdout == "hi\n"
    assert (v.limits["cgroup_memory_mb"], v.limits["process_memory_mb"],
            v.limits["process_limit"]) == (256, 256, 64)
    assert seen["memory.max"] == str(256 << 20) and seen["memory.swap.max"] == "0"
    assert seen["cgroup.procs"] == "0"  # bwrap moved itself in before its exec
    assert sorted(os.listdir(parent)) == ["cgroup.controllers", "cgroup.subtree_control"]


class FakeGroup:
    """Stands in for a cgroup (none here to be had): records what the runner does."""

    def __init__(self, memory_mb: float, refuse: bool) -> None:
        self.memory_mb, self.refuse, self.closed = memory_mb, refuse, False
        self.read_end, self.write_end = os.pipe2(os.O_CLOEXEC)

    def enter(self) -> None:  # in the child, between fork and exec
        if self.refuse:
            raise PermissionError("cgroup.procs refused")
        os.write(self.write_end, b"%d" % os.getpid())

    def entered(self) -> int:
        os.close(self.write_end)
        with os.fdopen(self.read_end, "rb") as fh:
            return int(fh.read() or 0)

    def events(self) -> dict[str, int]:
        return {"oom_kill": 1}

    def close(self) -> None:
        self.closed = True


def test_the_runner_starts_bwrap_inside_the_cgroup_and_always_closes_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    groups: list[FakeGroup] = []
    refuse = False

    def create(memory_mb: float) -> FakeGroup:
        groups.append(FakeGroup(memory_mb, refuse))
        return groups[-1]

    monkeypatch.setattr(cgroup.Group, "create", staticmethod(create))
    v = run_py("import sys; sys.exit(3)", limits=Limits(memory_mb=256))
    group = groups[-1]
    assert group.memory_mb == 256 and group.closed
    assert group.entered() not in (0, os.getpid())  # bwrap's pid, written before its exec
    # with a cgroup each process may use all of the budget; the count stays as asked
    assert (v.limits["cgroup_memory_mb"], v.limits["process_memory_mb"],
            v.limits["process_limit"]) == (256, 256, 64)
    assert v.kind == "memory" and "cgroup memory.max" in v.detail  # an OOM kill counted
    # the cgroup refuses bwrap: it runs with the budget divided instead; still closed
    refuse = True
    v = run_py("print('hi')", limits=Limits(memory_mb=256))
    assert v.ok and v.stdout == "hi\n" and groups[-1].closed
    assert (v.limits["cgroup_memory_mb"], v.limits["process_limit"]) == (0, 2)
    os.close(groups[-1].read_end)
    os.close(groups[-1].write_end)


CGROUP = cgroup.probe(64)
needs_cgroup = pytest.mark.skipif(not CGROUP["available"],
                                  reason=f"no cgroup v2 memory limit here: {CGROUP['reason']}")


@needs_cgroup
def test_cgroup_holds_the_sandbox_and_goes_with_the_run() -> None:
    parent = Path(str(CGROUP["parent"]))
    mine = lambda: [n for n in os.listdir(parent)  # noqa: E731
                    if n.startswith(f"{cgroup.PREFIX}{os.getpid()}-")]
    v = run_py("""
        import os, sys, time
        pids = []
        for _ in range(8):
            pid = os.fork()
            if pid == 0:
                b = b"x" * (100 << 20)
                time.sleep(1)
                os._exit(0)
            pids.append(pid)
        sys.exit(sum(1 for pid in pids if os.waitpid(pid, 0)[1] != 0))  # the killed
    """, limits=Limits(memory_mb=256, wall_s=8))
    assert v.limits["cgroup_memory_mb"] == 256 and v.limits["process_memory_mb"] == 256
    assert v.kind == "memory" and "cgroup" in v.detail, v.to_json()
    assert not mine()
    # killed at the deadline with a process left in the background: still removed
    v = run_py("import os, time\nif os.fork() == 0: time.sleep(60)\ntime.sleep(60)",
               limits=Limits(wall_s=1))
    assert v.kind == "timeout" and not mine()
