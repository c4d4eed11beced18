"""A killed `proto build` leaves its work directory; the next build removes it, and
nothing that is not a dead build's own directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from proto_cli.build import workdir

from .conftest import ROOT

#: A build that stays in its SEND step (a method that sleeps) long enough to be killed.
SLOW = """\
FROM scratch
OBJECT point
SLOT point x 3
METHOD point nap <<EOF
def nap(self):
    import time
    time.sleep(30)
    return self
EOF
SEND point nap
"""

FAST = """\
FROM scratch
OBJECT point
SLOT point x 3
"""


def start_build(folder, recipe: str, output: str, tmpdir) -> subprocess.Popen:
    """`proto build` of this working tree (PYTHONPATH), with its own TMPDIR and cache."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "XDG_CACHE_HOME": str(folder / "cache"),
           "PYTHONPATH": str(ROOT)}
    env.pop("PROTO_IMAGE", None)
    return subprocess.Popen([sys.executable, "-m", "proto_cli.main", "build", "-f", recipe,
                             "-o", output], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def work_dirs(tmpdir, pid: int) -> list[str]:
    return [n for n in os.listdir(tmpdir) if workdir.owner(n) == pid]


def test_a_killed_build_leaves_its_dir_and_the_next_build_sweeps_only_dead_ones(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    (tmp_path / "Slow").write_text(SLOW)
    (tmp_path / "Fast").write_text(FAST)

    # 1. a real build, SIGKILLed while its SEND step runs, leaves proto-build-PID-*
    slow = start_build(tmp_path, "Slow", "slow.image", tmpdir)
    try:
        deadline = time.monotonic() + 30
        while not work_dirs(tmpdir, slow.pid) and slow.poll() is None:
            assert time.monotonic() < deadline, "the build never made its work directory"
            time.sleep(0.02)
        time.sleep(0.3)  # well inside the 30-second SEND
        assert slow.poll() is None, slow.communicate()
        os.kill(slow.pid, signal.SIGKILL)
    finally:
        slow.kill()
        slow.communicate()
    leftover = work_dirs(tmpdir, slow.pid)
    assert len(leftover) == 1, os.listdir(tmpdir)
    assert os.listdir(tmpdir / leftover[0])  # it held the build's step images

    # 2. things named like work directories that the sweep must leave alone
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        live = tmpdir / f"proto-build-{sleeper.pid}-live"  # its process still runs
        live.mkdir()
        (live / "keep").write_text("live")
        victim = tmp_path / "victim"  # a symlink to it, named like a dead build's dir
        victim.mkdir()
        (victim / "precious").write_text("do not delete")
        link = tmpdir / f"proto-build-{slow.pid}-link"
        link.symlink_to(victim, target_is_directory=True)
        foreign = tmpdir / f"proto-build-{slow.pid}-foreign"  # another user's
        foreign.mkdir()
        if os.geteuid() == 0:
            os.chown(foreign, 54321, 54321)
        else:
            foreign.rmdir()
        old_style = tmpdir / "proto-build-x1y2z3"  # no pid: its owner cannot be told
        old_style.mkdir()

        # 3. the next build removes the dead build's directory, and only that
        fast = start_build(tmp_path, "Fast", "fast.image", tmpdir)
        out, err = fast.communicate(timeout=60)
        assert fast.returncode == 0, err
        assert (tmp_path / "fast.image").exists()
        assert not (tmpdir / leftover[0]).exists()
        assert live.is_dir() and (live / "keep").read_text() == "live"
        assert link.is_symlink() and (victim / "precious").read_text() == "do not delete"
        assert foreign.is_dir() or os.geteuid() != 0
        assert old_style.is_dir()
        assert not work_dirs(tmpdir, fast.pid)  # its own directory went with it
    finally:
        sleeper.kill()
        sleeper.wait()


def test_owner_parses_only_names_with_a_pid() -> None:
    assert workdir.owner("proto-build-123-abc_9") == 123
    assert workdir.prefix() == f"proto-build-{os.getpid()}-"
    for name in ("proto-build-abc", "proto-build-123", "proto-build-123-", "proto-build--x",
                 "proto-build-0123-x", "other-123-x", "proto-build-12a-x"):
        assert workdir.owner(name) is None, name
