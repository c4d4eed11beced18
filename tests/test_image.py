"""The image file: one LMDB file, format checks, growth, whole transactions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import lmdb
import pytest

from image_format import layout as L
from image_format import store
from image_format.codec import encode
from image_format.errors import ImageError
from image_format.store import Image

from .conftest import PROTO, ROOT


def test_image_is_one_file_that_can_be_copied(world, image_path, tmp_path):
    world.eval("point := genesis clone. point addSlot: 'x' value: 3")
    assert os.path.isfile(image_path)
    copy = tmp_path / "elsewhere" / "copy.image"
    copy.parent.mkdir()
    shutil.copyfile(image_path, copy)
    from .conftest import WorldHandle

    assert WorldHandle(str(copy)).eval("point x") == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"hello world, not an image at all" * 10, "not an LMDB data file"),
        (b"\x00" * 100, "not an image"),
    ],
    ids=["empty", "text", "zeros"],
)
def test_not_an_image(tmp_path, content, message):
    path = tmp_path / "bad.image"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=message):
        Image(str(path))
    assert path.read_bytes() == content  # never touched


def test_truncated_image(image_path, world):
    world.eval("big := genesis clone. big addSlot: 'blob' value: (#[1 2 3] , #[4])")
    with open(image_path, "rb") as f:
        data = f.read()
    with open(image_path, "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated"):
        Image(image_path)


def test_directory_and_missing(tmp_path):
    with pytest.raises(ImageError, match="directory"):
        Image(str(tmp_path))
    with pytest.raises(ImageError, match="no such image"):
        Image(str(tmp_path / "nope.image"))


def test_other_lmdb_database_is_refused(tmp_path):
    path = str(tmp_path / "other.lmdb")
    env = lmdb.open(path, subdir=False)
    with env.begin(write=True) as txn:
        txn.put(b"k", b"v")
    env.close()
    with pytest.raises(ImageError, match="not a proto image"):
        Image(path)


def test_newer_format_is_refused(image_path):
    env = lmdb.open(image_path, subdir=False, max_dbs=4)
    meta = env.open_db(L.META_DB)
    with env.begin(write=True) as txn:
        txn.put(L.K_VERSION, encode(L.FORMAT_VERSION + 1), db=meta)
    env.close()
    with pytest.raises(ImageError, match="newer than this proto"):
        Image(image_path)


def test_cli_reports_bad_image_in_one_line(tmp_path):
    bad = tmp_path / "bad.image"
    bad.write_bytes(b"garbage" * 100)
    for args in (["send", "lobby", "printString"], ["inspect", "lobby"], ["eval", "3"]):
        result = subprocess.run([*PROTO, "-i", str(bad), *args], capture_output=True, text=True,
                                cwd=ROOT)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "not an LMDB data file" in result.stderr


def test_map_grows_by_itself(monkeypatch, tmp_path):
    path = str(tmp_path / "small.image")
    from proto_cli.world import session

    session.create(path)  # the genesis world alone is larger than the small map below
    monkeypatch.setattr(store, "MIN_MAP", 64 * 1024)
    from .conftest import WorldHandle

    w = WorldHandle(path)
    w.eval("big := genesis clone")
    blob = "x" * 200_000
    for i in range(5):
        w(lambda world, i=i: world.put_slot(world.lobby.send("big"), f"s{i}", blob))
    assert w.eval("big s4 size") == 200_000
    with Image(path) as image:
        assert image.env.info()["map_size"] > 64 * 1024


def test_a_failed_command_changes_nothing(world, cli, image_path):
    world.eval("counter := 0")
    code, _, err = cli("eval", "counter := 5. other := 1. 1 / 0")
    assert code == 1 and "division by zero" in err
    assert world.eval("counter") == 0
    code, _, _ = cli("eval", "other")
    assert code == 1


def test_two_processes_write_at_once(world, image_path):
    world.eval("a := 0. b := 0")
    script = (
        "import sys\nfrom proto_cli.main import main\n"
        "name = sys.argv[1]\n"
        "for i in range(30):\n"
        "    assert main(['-i', sys.argv[2], 'eval', f'{name} := {name} + 1']) == 0\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, name, image_path], cwd=ROOT,
                         stdout=subprocess.DEVNULL)
        for name in ("a", "b")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert world.eval("a") == 30 and world.eval("b") == 30


def test_read_only_file_answers_but_is_never_changed(world, image_path, cli):
    # Even root (who could write it) treats a file without write bits as read-only.
    os.chmod(image_path, 0o444)
    try:
        before = Path(image_path).read_bytes()
        code, out, _ = cli("inspect", "lobby")
        assert code == 0 and "genesis" in out
        code, out, _ = cli("send", "3", "+", "4")
        assert (code, out.strip()) == (0, "7")
        code, _, err = cli("eval", "x := 3")
        assert code == 2 and "read-only" in err and err.count("\n") == 1
        code, _, err = cli("eval", "lobby addSlot: 'y' value: 1")
        assert code == 2 and "read-only" in err
        assert Path(image_path).read_bytes() == before
    finally:
        os.chmod(image_path, 0o644)
