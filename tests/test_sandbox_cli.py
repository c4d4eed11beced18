"""`proto sandbox run/check` through a real subprocess: output, JSON, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_CLI = [sys.executable, "-c", "from proto_cli.sandbox_cli import app; app()"]


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
        assert "Traceback" not in res.stderr and res.stderr.startswith("error:"), res.stderr


def test_unsafe_no_sandbox_runs_with_a_warning() -> None:
    res = cli("run", "--unsafe-no-sandbox", "--json", "--", "echo", "hi", env=NO_BWRAP)
    assert res.returncode == 0, res.stderr
    verdict = json.loads(res.stdout)
    assert (verdict["stdout"], verdict["sandboxed"]) == ("hi\n", False)
    assert "WARNING" in res.stderr and "UNSANDBOXED" in res.stderr


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
