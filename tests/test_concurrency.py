"""Concurrent load: 8 writer processes x 200 read-modify-write sends, plus readers.

Each writer bumps its own counter and one shared counter in the same method, so a
lost update shows as a shared total below the sum, and a torn read as a total that
disagrees with the counters a reader sees beside it. LMDB admits one writer at a
time: the others wait on its lock (the only waiting there is), never fail.
Scale with PROTO_LOAD_SENDS (per writer, default 200).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from image_format.store import Image
from proto_cli.world import session
from proto_cli.world.objects import METHOD
from proto_cli.world.world import World

from .conftest import ROOT
from .load_worker import COUNTERS

pytestmark = pytest.mark.slow  # a developer's default run leaves these out; CI runs them

SENDS = int(os.environ.get("PROTO_LOAD_SENDS", "200"))
READERS = 2

TICK = '''
def tick(self, i):
    name = "c" + str(i)
    send(self, name + ":", send(self, name) + 1)
    total = send(self, "total") + 1
    send(self, "total:", total)
    return total
'''


def _load_image(path: str) -> None:
    """An image whose `acct tick: I` bumps counter I and the shared total."""
    session.create(path)
    with Image(path) as image:
        def setup(txn):
            from proto_cli.world.shell import evaluate

            w = World(txn)
            acct = evaluate(w, "acct := lobby clone")
            for i in range(COUNTERS):
                w.put_slot(acct, f"c{i}", 0, "d")
            w.put_slot(acct, "total", 0, "d")
            w.put_slot(acct, "tick:", TICK, METHOD)
        image.transact(setup)


def _counters(path: str) -> tuple[list[int], int]:
    with Image(path, readonly=True) as image, image.read() as txn:
        w = World(txn)
        acct = w.slot(w.lobby, "acct").value
        return [w.slot(acct, f"c{i}").value for i in range(COUNTERS)], \
            w.slot(acct, "total").value


def test_eight_writers_lose_no_update_and_readers_never_see_a_torn_state(tmp_path):
    path = str(tmp_path / "load.image")
    _load_image(path)

    stop = str(tmp_path / "stop")
    worker = [sys.executable, "-m", "tests.load_worker"]
    start = time.monotonic()
    readers = [subprocess.Popen([*worker, "read", path, stop], stdout=subprocess.PIPE,
                                text=True, cwd=ROOT) for _ in range(READERS)]
    writers = [subprocess.Popen([*worker, "write", path, str(i), str(SENDS)],
                                stdout=subprocess.PIPE, text=True, cwd=ROOT)
               for i in range(COUNTERS)]
    wrote = [json.loads(p.communicate(timeout=600)[0]) for p in writers]
    seconds = time.monotonic() - start
    open(stop, "w").close()
    seen = [json.loads(p.communicate(timeout=60)[0]) for p in readers]

    assert [w["errors"] for w in wrote] == [[]] * COUNTERS
    assert [p.returncode for p in writers + readers] == [0] * (COUNTERS + READERS)
    counters, total = _counters(path)
    assert counters == [SENDS] * COUNTERS
    assert total == SENDS * COUNTERS
    # Every shared-counter value was handed out exactly once: no two writers read the same.
    answers = sorted(a for w in wrote for a in w["answers"])
    assert answers == list(range(1, SENDS * COUNTERS + 1))
    assert all(r["torn"] == [] and r["errors"] == [] for r in seen), seen
    assert all(r["reads"] > 0 for r in seen)
    print("load", json.dumps({
        "writers": COUNTERS, "sends": SENDS * COUNTERS, "seconds": round(seconds, 2),
        "sends_per_s": round(SENDS * COUNTERS / seconds, 1),
        "worst_send_s": round(max(w["worst_s"] for w in wrote), 3),
        "reads": sum(r["reads"] for r in seen)}))


def test_writers_through_different_names_for_one_image_share_one_lock(tmp_path):
    """A symlink from another folder, a chain of two, and a `..` path: before, each name
    had its own LMDB lock file (NAME-lock), so writers through them did not exclude each
    other, and updates were lost (then MDB_CORRUPTED and a broken lobby)."""
    real = tmp_path / "real.image"
    _load_image(str(real))
    other = tmp_path / "other"
    other.mkdir()
    (other / "link.image").symlink_to("../real.image")
    (tmp_path / "chain.image").symlink_to(other / "link.image")
    names = [str(real), str(other / "link.image"), str(tmp_path / "chain.image"),
             str(other / ".." / "real.image")]
    sends = max(SENDS // 4, 20)
    worker = [sys.executable, "-m", "tests.load_worker"]
    writers = [subprocess.Popen([*worker, "write", name, str(i), str(sends)],
                                stdout=subprocess.PIPE, text=True, cwd=ROOT)
               for i, name in enumerate(names)]
    wrote = [json.loads(p.communicate(timeout=600)[0]) for p in writers]
    assert [w["errors"] for w in wrote] == [[]] * len(names)
    counters, total = _counters(str(real))
    assert counters[:len(names)] == [sends] * len(names)
    assert total == sends * len(names)
    assert sorted(os.listdir(tmp_path)) == ["chain.image", "other", "real.image",
                                           "real.image-lock"]
    assert os.listdir(other) == ["link.image"]


def test_an_image_with_hard_links_is_not_changed(tmp_path, proto):
    """Two hard links are two names with two lock files, and no path to resolve: a writer
    refuses in one line; reading still works."""
    real = tmp_path / "real.image"
    _load_image(str(real))
    os.link(real, tmp_path / "twin.image")
    r = proto("-i", str(tmp_path / "twin.image"), "send", "acct", "tick:", "0")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "hard links" in r.stderr
    r = proto("-i", str(real), "inspect", "acct", "--json")
    assert r.returncode == 0, r.stderr
    assert _counters(str(real)) == ([0] * COUNTERS, 0)


def test_opening_never_mistakes_a_growing_file_for_a_truncated_one(tmp_path):
    """The header check read the file size, then the meta page: a commit in between
    (new pages, then the meta counting them) made a whole image look truncated."""
    from image_format.probe import probe

    path = str(tmp_path / "grow.image")
    session.create(path)
    grower = subprocess.Popen([sys.executable, "-c", """
import sys
from image_format.store import Image
with Image(sys.argv[1]) as image:
    for i in range(400):
        image.transact(lambda txn: txn.put(b"grow%06d" % i, b"x" * 9000))
""", path], cwd=ROOT)
    probes = 0
    while grower.poll() is None:
        probe(path)
        probes += 1
    assert grower.returncode == 0 and probes > 100


def test_a_writer_that_outlived_its_file_changes_nothing(tmp_path):
    """A writer that opened the image before a snapshot restore (or a rename) replaced
    the file used to commit into the old, unlinked file: a lost update that reported
    success. Now its next write is one clear error, and the new file is untouched."""
    from image_format import snapshots
    from image_format.errors import ImageError

    path = str(tmp_path / "r.image")
    _load_image(path)
    snapshots.take(path, "v1")
    with Image(path) as early:
        snapshots.restore(path, "v1")
        with pytest.raises(ImageError, match="replaced or moved"):
            early.transact(lambda txn: txn.put(b"late", b"x"))
    with Image(path, readonly=True) as image, image.read() as txn:
        assert txn.get(b"late") is None


def test_writers_through_a_renamed_file_still_exclude_each_other(tmp_path):
    """`mv img img2` while a writer has it open: a writer through the new name has its
    own LMDB lock file, but the file lock (flock, one per inode) makes it wait, and the
    writer through the old name changes nothing more (its name is gone)."""
    from image_format.errors import ImageError

    path = str(tmp_path / "a.image")
    _load_image(path)
    with Image(path) as first:
        held = first.exclusive()
        held.__enter__()
        os.rename(path, str(tmp_path / "b.image"))
        other = subprocess.Popen([sys.executable, "-m", "tests.load_worker", "write",
                                  str(tmp_path / "b.image"), "0", "1"],
                                 stdout=subprocess.PIPE, text=True, cwd=ROOT)
        time.sleep(1.0)
        assert other.poll() is None  # waiting for the file lock
        held.__exit__()
        with pytest.raises(ImageError, match="replaced or moved"):
            first.transact(lambda txn: txn.put(b"late", b"x"))
    assert json.loads(other.communicate(timeout=60)[0])["errors"] == []
    assert _counters(str(tmp_path / "b.image"))[1] == 1
