"""Snapshots, diff, the text export, digest and verify: whole-image work that runs no code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import lmdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from image_format import canonical, literals, snapshots
from image_format import layout as L
from image_format.codec import MappingProxyType, Pickled, Ref, encode
from image_format.store import Image
from proto_cli.world import session

from .conftest import PROTO, ROOT

POINT = """
point := genesis clone.
point addSlot: 'x' value: 3.
point addSlot: 'y' value: 4.
lobby addSlot: 'point' value: point.
lobby addSlot: 'things' value: {1. 2.5. 'três'. nil. true. #[0 255]}
"""

NORM = "def norm(self):\n    return send(self, 'x') * send(self, 'x') + send(self, 'y') ** 2\n"


def build(cli, path=None, extra: str = "") -> None:
    where = {"image": path} if path else {}
    code, _, err = cli("eval", POINT + extra, **where)
    assert code == 0, err
    assert cli("define", "point", "norm", "-s", _file(NORM), **where)[0] == 0


def _file(text: str) -> str:
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".py")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


# -- literals -----------------------------------------------------------------------------

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary()
    | st.builds(Ref, st.integers(1, 10**9)) | st.builds(Pickled, st.binary(max_size=8)),
    lambda inner: st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4).map(
        MappingProxyType),
    max_leaves=12)


@given(values)
@settings(max_examples=300)
def test_every_value_has_one_literal_that_reads_back(value):
    text = literals.write(value)
    assert "\n" not in text
    back = literals.read(text)
    assert literals.write(back) == text
    if "nan" not in text:  # NaN payload bits are not kept: every NaN reads back as one NaN
        assert encode(back) == encode(value)


@pytest.mark.parametrize("bad", ["", "[1,", "{1 2}", "@", "x\"zz\"", "float(1)", "\"open",
                                 "nil nil", "1.2.3", "-"])
def test_bad_literals_are_refused(bad):
    with pytest.raises(literals.LiteralError):
        literals.read(bad)


# -- export / import / digest ---------------------------------------------------------------

def test_export_import_export_is_byte_identical(cli, image_path, tmp_path):
    build(cli)
    first = tmp_path / "a.txt"
    assert cli("export", "-o", str(first))[0] == 0
    text = first.read_text()
    assert text.startswith("proto-image 1\n") and "object @" in text
    assert "\n    | def norm(self):\n" in text  # method source verbatim, one | line each
    copy = str(tmp_path / "copy.image")
    code, out, err = cli("import", str(first), "-o", copy, image=None)
    assert code == 0, err
    second = tmp_path / "b.txt"
    assert cli("export", copy, "-o", str(second), image=None)[0] == 0
    assert first.read_bytes() == second.read_bytes()
    assert cli("digest", image=image_path)[1] == cli("digest", copy, image=None)[1]
    assert cli("diff", image_path, copy, image=None)[0] == 0
    # The copy is a working image, not just a text mirror.
    assert cli("send", "point", "norm", image=copy)[1].strip() == "25"


def test_digest_depends_on_contents_not_history(cli, image_path, tmp_path):
    other = str(tmp_path / "other.image")
    session.create(other)
    build(cli)
    build(cli, other, extra=". point x: 99. point x: 3")  # a different path to the same state
    a = cli("digest", image=image_path)[1]
    b = cli("digest", image=other)[1]
    assert a == b and len(a.strip()) == 64
    cli("eval", "point y: 5", image=other)
    assert cli("digest", image=other)[1] != a


def test_a_damaged_export_is_a_one_line_error(cli, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("proto-image 1\nobject @1\n  data x = [1,\n")
    code, out, err = cli("import", str(bad), "-o", str(tmp_path / "x.image"), image=None)
    assert code == 2 and "bad.txt:3:" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.image").exists()
    bad.write_text("hello\n")
    assert cli("import", str(bad), "-o", str(tmp_path / "x.image"), image=None)[0] == 2


# -- diff --------------------------------------------------------------------------------------

def test_diff_reports_objects_slots_parents_and_method_sources(cli, image_path, tmp_path):
    build(cli)
    before = str(tmp_path / "before.image")
    shutil.copy(image_path, before)
    cli("eval", "point x: 10. point removeSlot: 'y'. point addSlot: 'z' value: 1. "
                "lobby addSlot: 'extra' value: genesis clone. "
                "point addSlot: 'mixin*' value: genesis clone")
    cli("define", "point", "norm", "-s", _file(NORM.replace("** 2", "* 3")))
    code, out, err = cli("diff", before, image_path, image=None)
    assert code == 1, err
    assert "~ object @" in out and "(point)" in out
    assert "~ data x: 3 -> 10" in out and "- data y = 4" in out and "+ data z = 1" in out
    assert "~ parents:" in out and "mixin" in out
    assert "+ object @" in out and "(extra)" in out
    assert "-    return send(self, 'x') * send(self, 'x') + send(self, 'y') ** 2" in out
    assert "+    return send(self, 'x') * send(self, 'x') + send(self, 'y') * 3" in out
    code, out, _ = cli("diff", "--json", before, image_path, image=None)
    data = json.loads(out)
    assert code == 1 and data["equal"] is False
    point = next(o for o in data["objects"] if o["name"] == "point")
    changes = {s["slot"]: s["change"] for s in point["slots"]}
    assert changes == {"x": "changed", "y": "removed", "z": "added", "norm": "changed",
                       "mixin": "added"}
    assert point["parents"]["new"] == ["parent", "mixin"]
    code, out, _ = cli("diff", "--stat", before, image_path, image=None)
    assert code == 1 and "object(s) changed, 2 added" in out


def test_diff_exit_codes_like_diff(cli, image_path, tmp_path):
    assert cli("diff", image_path, image_path, image=None)[0] == 0
    assert cli("diff", image_path, str(tmp_path / "missing.image"), image=None)[0] == 2
    junk = tmp_path / "junk.image"
    junk.write_bytes(b"not an image")
    code, _, err = cli("diff", image_path, str(junk), image=None)
    assert code == 2 and err.count("\n") == 1


# -- snapshots ------------------------------------------------------------------------------

def test_snapshot_list_restore_delete(cli, image_path):
    build(cli)
    code, out, err = cli("snapshot", "v1")
    assert code == 0, err
    assert os.path.isfile(os.path.join(image_path + ".snapshots", "v1.image"))
    cli("eval", "point x: 42")
    code, out, _ = cli("snapshot", "list", "--json")
    (entry,) = json.loads(out)
    assert entry["name"] == "v1" and entry["size"] > 0
    assert cli("diff", "v1", image_path)[0] == 1  # a snapshot name works as a side
    assert cli("snapshot", "restore", "v1")[0] == 0
    assert cli("send", "point", "x")[1].strip() == "3"
    assert cli("digest")[1].strip() == entry["digest"]
    assert cli("snapshot", "v1")[0] == 2  # exists already
    assert cli("snapshot", "list")[0] == 0
    assert cli("snapshot", "delete", "v1")[0] == 0
    assert json.loads(cli("snapshot", "list", "--json")[1]) == []
    assert cli("snapshot", "restore", "v1")[0] == 2
    assert cli("snapshot", "../evil")[0] == 2


def test_snapshots_through_a_symlink_belong_to_the_real_file(cli, image_path, tmp_path):
    """A snapshot taken through a symlink lands beside the real file, where one taken
    through its real name is found; a restore through the symlink keeps the symlink."""
    build(cli)
    other = tmp_path / "elsewhere"
    other.mkdir()
    link = other / "link.image"
    link.symlink_to(image_path)
    assert cli("snapshot", "v1", image=str(link))[0] == 0
    assert os.path.isfile(os.path.join(image_path + ".snapshots", "v1.image"))
    assert os.listdir(other) == ["link.image"]
    assert [e["name"] for e in json.loads(cli("snapshot", "list", "--json")[1])] == ["v1"]
    cli("eval", "point x: 42")
    assert cli("snapshot", "restore", "v1", image=str(link))[0] == 0
    assert os.path.islink(link) and cli("send", "point", "x")[1].strip() == "3"


def test_a_snapshot_of_no_image_leaves_no_folder(cli, tmp_path):
    fifo = tmp_path / "pipe.image"
    os.mkfifo(fifo)
    code, _, err = cli("snapshot", "v1", image=str(fifo))
    assert code == 2 and "not a regular file" in err
    assert not os.path.exists(str(fifo) + ".snapshots")


def test_a_failed_restore_leaves_the_image_as_it_was(cli, image_path, monkeypatch):
    build(cli)
    cli("snapshot", "v1")
    cli("eval", "point x: 42")
    with open(image_path, "rb") as f:
        before = f.read()

    def broken_copy(src, dst):
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read(100))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshots.shutil, "copyfile", broken_copy)
    code, _, err = cli("snapshot", "restore", "v1")
    assert code == 2 and "No space left" in err
    with open(image_path, "rb") as f:
        assert f.read() == before
    assert not [n for n in os.listdir(os.path.dirname(image_path)) if ".restore-" in n]


def test_a_snapshot_taken_during_writes_is_consistent(image_path, tmp_path):
    """A writer commits pairs (a, b) with a == b; every snapshot must show a == b."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, image_path], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert writer.stdout.readline().strip() == b"ready"
        taken = []
        for i in range(5):
            snapshots.take(image_path, f"s{i}")
            taken.append(snapshots.path_of(image_path, f"s{i}"))
            time.sleep(0.02)
    finally:
        writer.kill()
        writer.wait()
    seen = set()
    for path in taken:
        with Image(path) as img, img.read() as txn:
            a = txn.get(L.slot_key(1, "a"))
            b = txn.get(L.slot_key(1, "b"))
            assert a == b
            seen.add(a)
    assert len(seen) > 1  # the writer really was writing meanwhile


WRITER = """
import sys
from image_format.store import Image
from image_format import layout as L
from image_format.codec import encode
img = Image(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    i += 1
    def work(txn, i=i):
        txn.put(L.slot_key(1, "a"), b"d" + encode(i))
        txn.put(L.slot_key(1, "b"), b"d" + encode(i))
    img.transact(work)
"""


# -- verify ------------------------------------------------------------------------------------

def test_verify_passes_a_healthy_image(cli, image_path):
    build(cli)
    code, out, _ = cli("verify")
    assert code == 0 and "ok" in out
    report = json.loads(cli("verify", "--json")[1])
    assert report["ok"] and report["methods"] > 100


def _raw_put(path: str, records: dict[bytes, bytes | None]) -> None:
    env = lmdb.open(path, subdir=False, max_dbs=4)
    slots = env.open_db(L.SLOTS_DB)
    with env.begin(write=True) as txn:
        for key, value in records.items():
            if value is None:
                txn.delete(key, db=slots)
            else:
                txn.put(key, value, db=slots)
    env.close()


def test_verify_finds_what_is_broken(cli, image_path):
    build(cli)
    _raw_put(image_path, {
        L.slot_key(1, "dangling"): b"d" + encode(Ref(999_999)),
        L.slot_key(1, "broken"): b"m" + encode("def broken(self):\n  return (\n"),
        L.slot_key(1, "garbage"): b"d\xff",
        L.slot_key(424242, "orphan"): b"d" + encode(1),
        # traits object's parent is the lobby's parent: make the lobby a parent of it
        L.slot_key(5, "loop"): b"p" + encode(Ref(1)),
        L.object_key(5): encode({"parents": ("loop",)}),
    })
    code, out, _ = cli("verify", "--json")
    assert code == 1
    problems = {(p["oid"], p["slot"]): p["problem"] for p in json.loads(out)["problems"]}
    assert "does not exist" in problems[(1, "dangling")]
    assert "broken" in problems[(1, "broken")]
    assert "corrupt record" in problems[(1, "garbage")]
    assert "no header" in problems[(424242, "orphan")]
    assert any("parent cycle" in p for p in problems.values())
    code, out, _ = cli("verify")
    assert code == 1 and "problem(s)" in out


# -- never runs image code ----------------------------------------------------------------------

def test_inspecting_commands_never_run_stored_code(cli, image_path, tmp_path):
    marker = tmp_path / "ran"
    evil = f"def evil(self):\n    open({str(marker)!r}, 'w').write('x')\n    return 1\n"
    build(cli)
    assert cli("define", "point", "evil", "-s", _file(evil))[0] == 0
    top_level = f"open({str(marker)!r}, 'w').write('top')\ndef evil2(self):\n    return 1\n"
    _raw_put(image_path, {L.slot_key(1, "evil2"): b"m" + encode(top_level)})
    other = str(tmp_path / "other.image")
    session.create(other)
    text = tmp_path / "t.txt"
    for args in (["verify"], ["digest"], ["export", "-o", str(text)], ["snapshot", "s"],
                 ["snapshot", "list"], ["diff", other, image_path], ["diff", "s", image_path],
                 ["inspect", "point"]):
        cli(*args)
        assert not marker.exists(), args
    assert cli("import", str(text), "-o", str(tmp_path / "copy.image"), image=None)[0] == 0
    assert cli("verify", str(tmp_path / "copy.image"), image=None)[0] == 1  # evil2 reported
    assert not marker.exists()
    # ...and the same method does run when sent, so the test would have noticed.
    cli("send", "point", "evil")
    assert marker.exists()


def test_cli_subprocess_round_trip(proto, tmp_path):
    out = proto("export")
    assert out.returncode == 0 and out.stdout.startswith("proto-image 1")
    path = tmp_path / "x.txt"
    path.write_text(out.stdout)
    made = proto("import", str(path), "-o", str(tmp_path / "y.image"), image=None)
    assert made.returncode == 0, made.stderr
    assert proto("digest").stdout == proto("digest", str(tmp_path / "y.image")).stdout
    assert canonical.MAGIC == "proto-image 1"
    assert PROTO


# -- what the export and the terminal show (issue 13, 4) ---------------------------------

def test_a_lobby_name_with_a_newline_cannot_forge_export_lines(cli, image_path, tmp_path):
    """The `# name` label after an object is written escaped when it is not one printable
    line: raw, a newline in it started a method line that `import` then created."""
    forged = "x\n  method pwned\n    | def pwned(self):\n    |     return 1"
    with Image(image_path) as image:
        from proto_cli.world.world import World

        def work(txn):  # a hostile image: written raw, past the name check
            w = World(txn)
            target = w.clone(w.lobby)
            txn.put(L.slot_key(w.lobby.oid, forged), b"d" + encode(Ref(target.oid)))
        image.transact(work)
    text = tmp_path / "e.txt"
    assert cli("export", "-o", str(text))[0] == 0
    assert "\n  method pwned" not in text.read_text()
    copy = str(tmp_path / "copy.image")
    assert cli("import", str(text), "-o", copy, image=None)[0] == 0
    assert cli("digest", copy, image=None)[1] == cli("digest")[1]
    assert "pwned" not in cli("methods", "--json", "lobby", image=copy)[1]


def test_a_source_with_carriage_returns_round_trips_byte_identical(cli, image_path, tmp_path):
    """A "\r" is part of a source as stored (import read it as a line end, and the
    export of such a method could not be imported)."""
    from proto_cli.world.objects import METHOD
    from proto_cli.world.world import World

    with Image(image_path) as image:
        image.transact(lambda txn: World(txn).put_slot(
            World(txn).lobby, "m", "def m(self):\r    return 3\r", METHOD))
    first = tmp_path / "a.txt"
    assert cli("export", "-o", str(first))[0] == 0
    copy = str(tmp_path / "copy.image")
    code, _, err = cli("import", str(first), "-o", copy, image=None)
    assert code == 0, err
    second = tmp_path / "b.txt"
    assert cli("export", copy, "-o", str(second), image=None)[0] == 0
    assert first.read_bytes() == second.read_bytes()
    assert cli("send", "lobby", "m", image=copy)[1].strip() == "3"


def test_an_object_id_out_of_range_is_one_line(cli, tmp_path):
    text = tmp_path / "e.txt"
    text.write_text("proto-image 1\nobject @99999999999999999999999\n")
    code, _, err = cli("import", str(text), "-o", str(tmp_path / "x.image"), image=None)
    assert code == 2 and err.count("\n") == 1 and "bad object id" in err


def test_data_is_never_markup_and_control_characters_are_shown(cli, monkeypatch):
    """On a terminal: '[/docs]' is text, not rich markup (it crashed inspect), and escape
    sequences stored in an image are shown as escapes, not sent to the terminal."""
    import proto_cli.output.render as render

    monkeypatch.setattr(render, "is_tty", lambda stream=None: True)
    cli("eval", "lobby addSlot: 'help' value: 'see [/docs] for help'")
    cli("eval", "lobby addSlot: 'title' value: (#[27] asString , ']0;pwned' , #[7] asString)")
    code, out, err = cli("inspect", "lobby")
    assert code == 0, err
    assert "see [/docs] for help" in out
    for shown in (out, cli("inspect", "lobby", image=None)[1]):
        assert "\x1b" not in shown and "\x07" not in shown


def test_diff_shows_control_characters_and_whole_source_lines(cli, image_path, tmp_path):
    before = str(tmp_path / "before.image")
    shutil.copyfile(image_path, before)
    long_line = "    return " + " + ".join(["1"] * 80)
    source = tmp_path / "m.py"
    source.write_text("def m(self):\n    # \x1b[2J\n" + long_line + "\n")
    assert cli("define", "lobby", "m", "--source", str(source))[0] == 0
    code, out, _ = cli("diff", before, image_path)
    assert code == 1
    assert "\x1b" not in out and "\\x1b[2J" in out
    assert long_line.strip() in out  # not cut at 120 characters
    code, out, _ = cli("methods", "--source", "lobby")
    assert "\x1b" not in out and "\\x1b[2J" in out
