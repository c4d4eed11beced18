"""Broken images and failing methods: one clear line, never a traceback, nothing made worse.

Every command here is a real `proto` process. For a broken file the promise is: a
one-line `proto: ...` error with exit code 2 (or a verify report with exit 1), and
the file byte-for-byte as it was. Scale the bit-flip sample with PROTO_FLIPS
(default 10); RELIABILITY.md has the figures of a long run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import lmdb
import pytest

from image_format import layout as L
from image_format.codec import Ref, encode
from image_format.store import Image
from proto_cli.world import session

from .conftest import PROTO, ROOT

FLIPS = int(os.environ.get("PROTO_FLIPS", "10"))
# Commands that read, change, copy and compare: every kind of access an image gets.
COMMANDS = (["verify"], ["inspect", "o3"], ["send", "o7", "v"], ["eval", "o5 v: 99"],
            ["digest"], ["export", "-o", "{tmp}/out.txt"], ["snapshot", "s"],
            ["diff", "{image}", "{image}"])


def run(image: str, argv: list[str], tmp: str) -> subprocess.CompletedProcess:
    argv = [a.format(tmp=tmp, image=image) for a in argv]
    return subprocess.run([*PROTO, "-i", image, *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def sha(path: str) -> str | None:
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def one_line(r: subprocess.CompletedProcess) -> bool:
    err = r.stderr.strip()
    return (err.count("\n") == 0 and err.startswith("proto: ") and "internal error" not in err
            and "Traceback" not in err)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> str:
    """An image of 300 small objects: enough pages for damage to land anywhere."""
    path = str(tmp_path_factory.mktemp("sample") / "base.image")
    session.create(path)
    stmts = ["c := lobby clone"] + [
        f"lobby addSlot: 'o{i}' value: c clone. (lobby o{i}) addSlot: 'v' value: {i}"
        for i in range(300)]
    r = subprocess.run([*PROTO, "-i", path, "eval", ". ".join(stmts)], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return path


def broken(tmp_path, sample: str, kind: str) -> str:
    path = str(tmp_path / "broken.image")
    data = Path(sample).read_bytes()
    if kind == "zero-length":
        Path(path).write_bytes(b"")
    elif kind == "truncated-half":
        Path(path).write_bytes(data[: len(data) // 2])
    elif kind == "truncated-header":
        Path(path).write_bytes(data[:100])
    elif kind == "truncated-page":
        Path(path).write_bytes(data[: len(data) - 4096 - 17])
    elif kind == "garbage":
        Path(path).write_bytes(random.Random(3).randbytes(len(data)))
    elif kind == "text":
        Path(path).write_text("this is not an image\n" * 100)
    elif kind == "directory":
        os.mkdir(path)
    elif kind == "other-lmdb":  # a real LMDB file, another program's
        env = lmdb.open(path, subdir=False, max_dbs=2)
        with env.begin(write=True) as txn:
            txn.put(b"hello", b"world")
        env.close()
    elif kind == "other-lmdb-named":  # even with our database names, but not ours
        env = lmdb.open(path, subdir=False, max_dbs=4)
        for name in (b"meta", b"slots"):
            db = env.open_db(name)
            with env.begin(write=True) as txn:
                txn.put(b"format", b"something-else", db=db)
        env.close()
    else:
        raise AssertionError(kind)
    return path


KINDS = ("zero-length", "truncated-half", "truncated-header", "truncated-page", "garbage",
         "text", "directory", "other-lmdb", "other-lmdb-named")


@pytest.mark.parametrize("kind", KINDS)
def test_a_broken_file_gets_one_line_and_is_never_touched(tmp_path, sample, kind):
    path = broken(tmp_path, sample, kind)
    before = sha(path)
    for argv in COMMANDS:
        r = run(path, argv, str(tmp_path))
        assert r.returncode == 2, (argv, r.returncode, r.stderr)
        assert one_line(r), (argv, r.stderr)
        assert sha(path) == before, f"{argv} changed the broken file"
    assert not os.path.exists(path + ".snapshots") or not os.listdir(path + ".snapshots")
    assert not os.path.exists(tmp_path / "out.txt")


def test_bit_flips_never_give_a_traceback_and_failures_change_nothing(tmp_path, sample):
    data = Path(sample).read_bytes()
    rng = random.Random(int(os.environ.get("PROTO_SEED", "1")))
    path = str(tmp_path / "flipped.image")
    outcomes: dict[str, int] = {}
    for _ in range(FLIPS):
        for name in os.listdir(tmp_path):
            target = tmp_path / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        flipped = bytearray(data)
        where = rng.randrange(len(data))
        flipped[where] ^= 1 << rng.randrange(8)
        Path(path).write_bytes(flipped)
        for argv in COMMANDS:
            before = sha(path)
            r = run(path, argv, str(tmp_path))
            if argv == ["verify"]:
                # verify always finishes: ok (0), problems found (1) or not an image (2)
                assert r.returncode in (0, 1, 2), (where, r.returncode, r.stderr)
            if r.returncode < 0:
                # LMDB has no page checksums: a damaged offset can make it read past the
                # end of the file (SIGBUS). Counted; never a write, never in verify.
                outcome = f"{argv[0]}: signal {-r.returncode}"
            else:
                assert "Traceback" not in r.stderr and "internal error" not in r.stderr, (
                    where, argv, r.stderr)
                if r.returncode == 2 or r.stderr.strip():
                    assert one_line(r), (where, argv, r.stderr)
                outcome = f"{argv[0]}: exit {r.returncode}"
            if r.returncode != 0:
                assert sha(path) == before, f"failed {argv} changed the file (flip at {where})"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print("bit-flips", FLIPS, json.dumps(dict(sorted(outcomes.items()))))


def test_verify_finds_a_damaged_tree_instead_of_crashing(tmp_path, sample):
    """Node offsets of leaf pages pointed far away: LMDB, which trusts them, reads past
    the end of the file (SIGBUS) or into garbage; verify reports either as damage."""
    data = bytearray(Path(sample).read_bytes())
    page = 4096
    for start in range(2 * page, len(data), page):  # pages 0 and 1 are LMDB's meta pages
        body = bytes(data[start:start + page])
        if not int.from_bytes(body[10:12], "little") & 0x02 or b"next_oid" in body or (
                b"meta" in body and b"slots" in body):
            continue  # only the leaves of object records: not the catalogue, not metadata
        lower = int.from_bytes(data[start + 12:start + 14], "little")
        for ptr in range(start + 16, start + lower, 2):
            data[ptr + 1] |= 0x40
    path = str(tmp_path / "damaged.image")
    Path(path).write_bytes(data)
    r = run(path, ["verify"], str(tmp_path))
    assert r.returncode == 1 and r.stderr == "", (r.stdout, r.stderr)
    assert "crashed LMDB (SIGBUS)" in r.stdout or "damaged" in r.stdout, r.stdout


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap for a small tmpfs")
def test_full_disk_fails_cleanly_and_the_image_survives(tmp_path, image_path):
    """A 1 MiB tmpfs (made by bwrap, no root needed) filled to the last block."""
    script = tmp_path / "full.sh"
    script.write_text(f"""
set -u
cd /mnt/small
cp {image_path} a.image
P="{' '.join(PROTO)}"
$P -i a.image digest > digest.before
: > {tmp_path}/err
dd if=/dev/zero of=filler bs=4k 2>/dev/null
big="s := 'abcdefgh'. 1 to: 14 do: [:i | s := s , s]. lobby addSlot: 'big' value: s. s size"
for cmd in "eval" "snapshot s1" "export -o out.txt" "init b.image" "stdout"; do
  case "$cmd" in
    eval) $P -i a.image eval "$big" 2> {tmp_path}/err ;;
    stdout) $P -i a.image inspect lobby > listing.txt 2> {tmp_path}/err ;;
    "init b.image") $P init b.image 2> {tmp_path}/err ;;
    *) $P -i a.image $cmd 2> {tmp_path}/err ;;
  esac
  echo "$cmd|$?|$(cat {tmp_path}/err)"
done
ls -A | tr '\\n' ' '; echo
ls -A a.image.snapshots | tr '\\n' ' '; echo
$P -i a.image digest > {tmp_path}/digest.after; cmp -s digest.before {tmp_path}/digest.after && echo same-digest
$P -i a.image verify > /dev/null && echo verify-ok
rm filler
$P -i a.image eval "$big"
""")
    r = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--size", str(1 << 20), "--tmpfs",
                        "/mnt/small", "--chdir", str(ROOT), "bash", str(script)],
                       capture_output=True, text=True, timeout=120)
    lines = r.stdout.splitlines()
    results = [line.split("|", 2) for line in lines[:5]]
    for cmd, code, err in results:
        assert code == "2" and "No space left on device" in err and "\n" not in err, (cmd, err)
    # nothing half-written is left: no b.image, no out.txt, no temporaries (listing.txt
    # is the shell's redirection)
    assert set(lines[5].split()) == {"a.image", "a.image-lock", "a.image.snapshots",
                                     "digest.before", "filler", "listing.txt"}
    assert lines[6].strip() == ""  # no half snapshot
    assert lines[7:10] == ["same-digest", "verify-ok", "131072"], r.stdout + r.stderr


@pytest.mark.parametrize("argv", [["send", "2", "raisedTo:", "300000"],
                                  ["eval", "2 raisedTo: 300000"]])
def test_a_reader_that_leaves_early_ends_the_command_quietly(image_path, argv):
    p = subprocess.Popen([*PROTO, "-i", image_path, *argv], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.close()  # like `| head -c 0`
    assert p.wait(timeout=60) == 1 and p.stderr.read() == b""


FAILING = {
    "raises": ('def boom(self):\n    send(self, "x:", 42)\n    raise ValueError("bad thing")\n',
               "boom", "raised ValueError: bad thing"),
    "recurses": ('def deep(self, n):\n    send(self, "x:", n)\n'
                 '    return send(self, "deep:", n + 1)\n', "deep: 1", "recursion too deep"),
    "answers a function": ('def leak(self):\n    send(self, "x:", 42)\n    return open\n',
                           "leak", "answered a foreign Python object (builtin_function_or_method)"),
    "answers a generator in a list": (
        'def gen(self):\n    send(self, "x:", 42)\n    return [1, (i for i in "ab")]\n',
        "gen", "answered a foreign Python object (generator)"),
    "stores a function": ('def keep(self):\n    send(self, "x:", print)\n    return 1\n',
                          "keep", "cannot store in slot x: a builtin_function_or_method"),
    "exits": ('def bye(self):\n    send(self, "x:", 42)\n    import sys\n    sys.exit(0)\n',
              "bye", "tried to exit the process"),
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_a_failing_method_fails_the_send_and_changes_nothing(image_path, proto, case):
    source, message, expected = FAILING[case]
    assert proto("eval", "o := lobby clone. o addSlot: 'x' value: 0").returncode == 0
    selector = message.split()[0]
    assert proto("define", "o", selector, stdin=source).returncode == 0
    before = sha(image_path)
    r = proto("send", "o", *message.split())
    assert r.returncode == 1 and one_line(r) and expected in r.stderr, r.stderr
    assert sha(image_path) == before
    assert proto("send", "o", "x").stdout.strip() == "0"


# -- Malformed records: a sound LMDB file holding records proto never writes ------------
#
# Each case writes one raw record (through image_format, as a damaged or hand-made file
# would hold it) into an image with an object `o`. `inspect` and `methods` in every form
# must give one line naming the record, exit 2, without running image code; `verify`
# must report it; export, digest and diff must not crash; the file must not change.

M_SOURCE = "def m(self):\n    return 1\n"
# Left in o by every case: a read-only command that ran image code would leave a file.
TRIPWIRE = "def printString(self):\n    open({path!r}, 'w').close()\n    return 'ran'\n"


def _record(name: str, record: bytes):
    return lambda txn, oid: txn.put(L.slot_key(oid, name), record)


def _roots(change):
    def mutate(txn, oid):
        roots = dict(txn.get_meta(L.K_ROOTS))
        txn.put_meta(L.K_ROOTS, change(roots))
    return mutate


# name: (mutate(txn, oid of o), the one line names, verify reports, commands that fail)
MALFORMED = {
    "roots record is a list": (
        lambda txn, oid: txn.put_meta(L.K_ROOTS, [Ref(1)]),
        "corrupt roots record: it is a list", "the roots record is a list", "im"),
    "a root is no object reference": (
        _roots(lambda r: {**r, "lobby": 1}),
        "root 'lobby' is an integer, not an object reference",
        "root lobby is an integer, not an object reference", "im"),
    "roots has no lobby": (
        _roots(lambda r: {k: v for k, v in r.items() if k != "lobby"}),
        "corrupt roots record: it has no lobby", "no lobby root", "im"),
    "empty method source": (
        _record("m", b"m" + encode("")), "slot 'm' of object #{oid}: a method slot holds "
        "no source", "must define exactly one function", "im"),
    "method holds an int": (
        _record("m", b"m" + encode(5)), "slot 'm' of object #{oid}: a method slot holds an "
        "integer, not source text", "method slot does not hold source text", "im"),
    "method holds bytes": (
        _record("m", b"m" + encode(b"def m(self): pass")), "slot 'm' of object #{oid}: a "
        "method slot holds a byte array", "method slot does not hold source text", "im"),
    "method provenance is a list": (
        _record("m", b"m" + encode(M_SOURCE) + encode((1, 2))), "slot 'm' of object "
        "#{oid}: the method's provenance is a list", "method provenance is a list", "m"),
    "a map among the header's parents": (
        lambda txn, oid: txn.put(L.object_key(oid), encode({"parents": ("parent", {})})),
        "header of object #{oid}: its parents list holds a map",
        "header's parent list holds a map", "i"),
    "a parent slot holds a map": (
        _record("parent", b"p" + encode({"a": 1})), "slot 'parent' of object #{oid}: a "
        "parent slot holds a map, not an object", "parent slot does not hold an object",
        "im"),
    "method source is not UTF-8": (
        _record("m", b"m" + encode("def m(self):\n    return '\udcff'\n")), "",
        "method m: the source is not valid UTF-8 text", ""),
}
READERS = {"i": (["inspect", "o"], ["inspect", "o", "--json"], ["inspect", "@{oid}"]),
           "m": (["methods", "o"], ["methods", "o", "--source"], ["methods", "o", "--json"])}


@pytest.fixture
def run_cli(capsysbinary):
    """The CLI in-process on a given image. Output is read as bytes: what an image holds
    may reach it undecodable (a surrogate-escaped byte), as it reaches a terminal."""
    from proto_cli.main import main

    def run(*argv: str, image: str) -> tuple[int, str, str]:
        code = main(["-i", image, *argv])
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    return run


@pytest.fixture
def malformed(tmp_path):
    """(path, oid of o) for a case: a fresh image, o added, then one record replaced."""
    from proto_cli.world.objects import DATA, METHOD, PARENT
    from proto_cli.world.world import World

    def make(case: str) -> tuple[str, int]:
        path = str(tmp_path / "malformed.image")
        session.create(path)

        def work(txn) -> int:
            world = World(txn)
            o = world.new_object()
            world.put_slot(o, "parent", world.root("clonable"), PARENT)
            world.put_slot(o, "x", 3, DATA)
            world.put_slot(o, "m", M_SOURCE, METHOD, {"learned": False})
            world.put_slot(o, "printString", TRIPWIRE.format(path=str(tmp_path / "ran")),
                           METHOD)
            world.put_slot(world.lobby, "o", o, DATA)
            MALFORMED[case][0](txn, o.oid)
            return o.oid

        with Image(path) as image:
            return path, image.transact(work)

    return make


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_record_is_one_line_naming_it_in_inspect_and_methods(
        malformed, run_cli, tmp_path, case):
    path, oid = malformed(case)
    _, names, _, failing = MALFORMED[case]
    before = sha(path)
    for group, commands in READERS.items():
        for argv in commands:
            code, out, err = run_cli(*[a.format(oid=oid) for a in argv], image=path)
            if group in failing:
                assert code == 2 and out == "", (argv, code, out, err)
                assert err.count("\n") == 1 and err.startswith("proto: "), (argv, err)
                assert names.format(oid=oid) in err and "internal error" not in err, (
                    argv, err)
            else:
                assert code == 0 and err == "", (argv, err)
    assert sha(path) == before
    assert not (tmp_path / "ran").exists(), "a read-only command ran image code"


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_record_is_reported_by_verify_and_crashes_no_whole_image_command(
        malformed, run_cli, tmp_path, case):
    path, _ = malformed(case)
    before = sha(path)
    code, out, err = run_cli("verify", image=path)
    assert code == 1 and err == "" and MALFORMED[case][2] in out, (out, err)
    out_file = str(tmp_path / "out.txt")
    for argv in (["export"], ["export", "-o", out_file], ["digest"],
                 ["diff", path, path], ["diff", path, path, "--json"]):
        code, _, err = run_cli(*argv, image=path)
        assert code == 0 or (code == 2 and err.count("\n") == 1 and err.startswith("proto: ")
                             and "internal error" not in err), (argv, code, err)
    assert sha(path) == before
    assert not (tmp_path / "ran").exists(), "a read-only command ran image code"


@pytest.mark.parametrize("case", ["method holds an int", "empty method source"])
def test_defining_a_malformed_method_slot_again_repairs_it(malformed, run_cli, tmp_path, case):
    path, oid = malformed(case)
    source = tmp_path / "m.py"
    source.write_text("def m(self):\n    return 7\n")
    code, _, err = run_cli("define", f"@{oid}", "m", "--source", str(source), image=path)
    assert code == 0, err
    assert run_cli("send", "o", "m", image=path)[1].strip() == "7"
    assert run_cli("verify", image=path)[0] == 0
    # the tripwire the other tests rely on is live: printing o runs its printString
    assert run_cli("eval", "o", image=path)[1].strip() == "ran" and (tmp_path / "ran").exists()


@pytest.mark.parametrize("target", ["@\u00b2", "@99999999999999999999999", "@" + "9" * 5000,
                                    "o\udcff"])
def test_an_odd_target_is_one_line_not_an_internal_error(run_cli, image_path, target):
    for command in ("inspect", "methods"):
        code, out, err = run_cli(command, target, image=image_path)
        assert code == 2 and err.startswith("proto: ") and err.count("\n") == 1, err
        assert "internal error" not in err, err


def test_method_source_that_is_not_utf8_is_refused_by_define(run_cli, image_path, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("def m(self):\n    return '\udcff'\n"))
    code, _, err = run_cli("define", "lobby", "m", image=image_path)
    assert code == 2 and "not valid UTF-8 text" in err and "internal error" not in err, err
