"""`proto sandbox run/check` through a real subprocess: output, JSON, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_CLI = [sys.executable, "-c", "from proto_cli.commands.sandbox import app; app()"]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "PROTO_SANDBOX_BWRAP"}
    full_env.update(env or {})
    return subprocess.run([*SANDBOX_CLI, *args], cwd=ROOT, capture_output=True, text=True,
                          env=full_env, timeout=60, check=False)


NO_BWRAP = {"PROTO_SANDBOX_BWRAP": "/nonexistent/bwrap"}


def test_run_prints_a_summary_and_exits_0() -> None:
    res = cli("run", "--", "sh", "-c", "echo hello; echo oops >&2")
    assert res.returncode == 0, res.stderr
    assert "status: ok" in res.stdout and "kind: none" in res.stdout
    assert "hello" in res.stdout and "oops" in res.stdout


def test_run_json_failed_command_exits_1() -> None:
    res = cli("run", "--json", "--", "sh", "-c", "echo out; exit 3")
    assert res.returncode == 1
    verdict = json.loads(res.stdout)
    assert (verdict["status"], verdict["kind"], verdict["exit_code"]) == ("failed", "exit", 3)
    assert verdict["stdout"] == "out\n"


def test_run_options_reach_the_limits(tmp_path: Path) -> None:
    res = cli("run", "--json", "--timeout", "0.5", "--", "sleep", "5")
    assert res.returncode == 1
    assert json.loads(res.stdout)["kind"] == "timeout"
    res = cli("run", "--json", "--memory", "256", "--", sys.executable, "-c",
              "bytearray(512 * 1024 * 1024)")
    assert json.loads(res.stdout)["kind"] == "memory"
    res = cli("run", "--json", "--cpu", "1", "--", sys.executable, "-c", "while True: pass")
    assert json.loads(res.stdout)["kind"] == "cpu"


def test_bind_makes_a_path_visible_read_only(tmp_path: Path) -> None:
    data = tmp_path / "lib.txt"
    data.write_text("shared")
    res = cli("run", "--json", "--bind", str(data), "--", "cat", str(data))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["stdout"] == "shared"
    res = cli("run", "--json", "--", "cat", str(data))
    assert res.returncode == 1


def test_command_arguments_pass_through_untouched() -> None:
    res = cli("run", "--json", "--", "sh", "-c", 'printf "%s|" "$@"', "sh", "--json", "-x")
    assert json.loads(res.stdout)["stdout"] == "--json|-x|"


def test_missing_bwrap_exits_2_with_one_line() -> None:
    res = cli("run", "--", "echo", "hi", env=NO_BWRAP)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.strip().count("\n") == 0
    assert "apt-get install -y bubblewrap" in res.stderr and "Traceback" not in res.stderr


def test_bad_invocations_exit_2() -> None:
    for args in (["run"], ["run", "--bind", "/nonexistent/x", "--", "true"],
                 ["run", "--timeout", "0", "--", "true"], ["run", "--env", "NOEQUALS", "--", "true"]):
        res = cli(*args)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr and res.stderr.startswith("proto: ") and res.stderr.count("\n") == 1, res.stderr


def test_unsafe_no_sandbox_runs_with_a_warning() -> None:
    res = cli("run", "--unsafe-no-sandbox", "--json", "--", "echo", "hi", env=NO_BWRAP)
    assert res.returncode == 0, res.stderr
    verdict = json.loads(res.stdout)
    assert (verdict["stdout"], verdict["sandboxed"]) == ("hi\n", False)
    assert "proto: warning:" in res.stderr and "UNSANDBOXED" in res.stderr
    assert res.stdout.count("\n") == 1  # one-line JSON, as every command prints it


def test_check_reports_and_exits_0() -> None:
    res = cli("check")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "usable:          yes" in res.stdout and "bubblewrap" in res.stdout
    report = json.loads(cli("check", "--json").stdout)
    assert report["usable"] is True and report["bwrap"]["path"]


def test_check_without_bwrap_exits_2() -> None:
    res = cli("check", env=NO_BWRAP)
    assert res.returncode == 2
    assert "NO:" in res.stdout and "apt-get install -y bubblewrap" in res.stdout
    report = json.loads(cli("check", "--json", env=NO_BWRAP).stdout)
    assert report["usable"] is False


# --- memory: one budget for the whole sandbox ----------------------------------

#: Forks 8 children that each allocate and touch 100 MB and then hold it; prints how
#: many forks were refused, how many allocations failed, and how many children hold
#: their 100 MB once every child has answered or died (the kernel's OOM killer kills).
GREEDY = r"""
import json, os, sys, time
CHILDREN, MB = 8, 100
results_r, results_w = os.pipe()
go_r, go_w = os.pipe()
pids, refused = [], 0
for _ in range(CHILDREN):
    try:
        pid = os.fork()
    except OSError:
        refused += 1
        continue
    if pid == 0:
        os.close(results_r)
        os.close(go_w)
        try:
            block = b"x" * (MB << 20)  # every page written
            os.write(results_w, b"+%d\n" % os.getpid())
        except MemoryError:
            os.write(results_w, b"-%d\n" % os.getpid())
            os._exit(1)
        os.close(results_w)
        os.read(go_r, 1)  # hold it until the parent has counted
        os._exit(0)
    pids.append(pid)
os.close(results_w)
os.close(go_r)
data = b""
while chunk := os.read(results_r, 4096):  # EOF: every child answered or died
    data += chunk
lines = data.split()
holders = [int(x[1:]) for x in lines if x.startswith(b"+")]
holding = sum(1 for pid in holders if os.waitpid(pid, os.WNOHANG) == (0, 0))
print(json.dumps({"forked": len(pids), "refused": refused, "holding": holding,
                  "failed": sum(1 for x in lines if x.startswith(b"-"))}), flush=True)
time.sleep(0.5)  # the host samples what is held
os.close(go_w)
"""


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages split among their processes, so the sum
    over processes is what they hold together."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _held_by(marker: str, exclude: int) -> int:
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in (exclude, os.getpid()):
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in argv and not argv[0].endswith(b"bwrap"):
            total += _pss_kb(int(entry))
    return total


def test_memory_limit_holds_for_the_whole_sandbox() -> None:
    """8 children x 100 MB under --memory 256: in all they never hold more than 256 MB
    (before, each process had 256 MB of its own and the 8 held 800 MB)."""
    marker = f"MARKER-greedy-{os.urandom(8).hex()}"
    env = {k: v for k, v in os.environ.items() if k != "PROTO_SANDBOX_BWRAP"}
    proc = subprocess.Popen([*SANDBOX_CLI, "run", "--json", "--memory", "256", "--",
                             sys.executable, "-c", GREEDY, marker],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak_kb = 0
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        peak_kb = max(peak_kb, _held_by(marker, proc.pid))
        time.sleep(0.02)
    out, err = proc.communicate(timeout=30)
    verdict = json.loads(out)
    assert verdict["limits"]["memory_mb"] == 256
    if verdict["limits"]["cgroup_memory_mb"] == 0:  # no cgroup here: the budget divided
        assert (verdict["limits"]["process_limit"]
                * verdict["limits"]["process_memory_mb"]) <= 256
    if verdict["kind"] == "none":
        counts = json.loads(verdict["stdout"])
        assert counts["holding"] * 100 <= 256, counts
        assert counts["forked"] + counts["refused"] == 8
    else:  # the parent itself was killed or failed: it held no more than the limit
        assert verdict["kind"] in ("memory", "processes"), verdict
    assert 0 < peak_kb <= 256 * 1024, peak_kb


def test_check_reports_the_memory_limit_mode() -> None:
    report = json.loads(cli("check", "--json").stdout)
    memory = report["memory"]
    assert memory["mode"] in ("cgroup", "per-process"), memory
    if memory["mode"] == "cgroup":
        assert memory["cgroup_parent"] and memory["reason"] is None
    else:  # says why, and how the budget is divided instead
        assert memory["reason"] and memory["cgroup_parent"] is None
        assert memory["processes"] * memory["process_memory_mb"] <= memory["memory_mb"]
    text = cli("check").stdout
    line = next(x for x in text.splitlines() if x.startswith("memory limit:"))
    assert line.split()[2] == memory["mode"] + ":", line
    if memory["mode"] == "per-process":
        assert memory["reason"] in line
    # and a run uses that mode
    run = json.loads(cli("run", "--json", "--memory", "256", "--", "true").stdout)
    assert (run["limits"]["cgroup_memory_mb"] == 256) == (memory["mode"] == "cgroup")
