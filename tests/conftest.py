"""Shared fixtures: fresh images, the CLI in-process and as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from image_format.store import Image
from proto_cli.main import main
from proto_cli.world import session
from proto_cli.world.world import World

ROOT = Path(__file__).resolve().parent.parent
PROTO = [sys.executable, "-m", "proto_cli.main"]


def build_fixture_library(out: Path, name: str) -> tuple[str, str]:
    """(header, shared library) of `fixtures/NAME/NAME.h` and `.c`, compiled into `out`
    with cc: the tests' C libraries are built here, never shipped as binaries."""
    import shutil

    source = ROOT / "fixtures" / name
    stem = {"tinylib": "tiny"}.get(name, name)
    header = out / f"{stem}.h"
    shutil.copy(source / f"{stem}.h", header)
    lib = out / f"lib{stem}.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(lib), str(source / f"{stem}.c")],
                   check=True)
    return str(header), str(lib)


@pytest.fixture
def image_path(tmp_path: Path) -> str:
    path = str(tmp_path / "t.image")
    session.create(path)
    return path


class WorldHandle:
    """Run code against an image in one committed transaction per call."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, work):
        with Image(self.path) as image:
            return image.transact(lambda txn: work(World(txn)))

    def eval(self, source: str):
        from proto_cli.world.shell import evaluate

        return self(lambda w: _plain(evaluate(w, source)))


def _plain(value):
    from proto_cli.world.objects import ProtoObject

    return ("obj", value.oid) if type(value) is ProtoObject else value


@pytest.fixture
def world(image_path: str) -> WorldHandle:
    return WorldHandle(image_path)


@pytest.fixture
def cli(image_path: str, capsys):
    """The CLI in-process: returns (exit code, stdout, stderr)."""

    def run(*args: str, image: str | None = image_path):
        argv = list(args)
        if image is not None:
            argv = ["-i", image, *argv]
        code = main(argv)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def proto(image_path: str):
    """The CLI as a real subprocess with PROTO_IMAGE set."""

    def run(*args: str, stdin: str | None = None, env: dict | None = None, image=image_path):
        full_env = {**os.environ, "PROTO_IMAGE": image or "", **(env or {})}
        if image is None:
            full_env.pop("PROTO_IMAGE")
        return subprocess.run(
            [*PROTO, *args], input=stdin, capture_output=True, text=True, env=full_env,
            cwd=ROOT, timeout=60,
        )

    return run


def pytest_sessionfinish(session, exitstatus):
    """A run that skipped sandbox tests for want of bubblewrap fails: CI must not pass
    without its sandbox. A developer without bwrap sets PROTO_ALLOW_NO_SANDBOX=1."""
    if os.environ.get("PROTO_ALLOW_NO_SANDBOX") == "1" or exitstatus not in (0, 5):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    missing = [r for r in skipped if "bubblewrap" in str(getattr(r, "longrepr", ""))]
    if missing:
        reporter.write_line(f"FAILED: {len(missing)} sandbox test(s) skipped for want of "
                            "bubblewrap (apt-get install bubblewrap; or set "
                            "PROTO_ALLOW_NO_SANDBOX=1 on a machine without it)", red=True)
        session.exitstatus = 1
