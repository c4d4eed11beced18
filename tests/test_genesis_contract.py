"""The contract between stored code and proto (world/host_api.py), the genesis version
and its pinned digest, and `proto upgrade` on an image made before the contract.

fixtures/images/genesis1.export was exported by the proto of 2026-11-27 before the
contract existed (genesis 1, host API 1): its learner methods import
proto_cli.learn.hook and its learned binding (cubeRootOf: -> cbrt, learned by the
real model) imports proto_cli.learn.runtime.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from proto_cli.errors import ProtoError
from proto_cli.learn import binding
from proto_cli.world import host_api
from proto_cli.world.genesis import GENESIS_DIGEST, GENESIS_VERSION, genesis_digest

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "images",
                       "genesis1.export")
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


def test_the_genesis_digest_is_pinned():
    assert genesis_digest() == GENESIS_DIGEST, (
        "genesis sources changed: that is a new genesis. Bump GENESIS_VERSION, set "
        f"GENESIS_DIGEST = {genesis_digest()!r}, and teach genesis_upgrade.py the sources "
        "it replaces")


def test_a_new_image_records_its_genesis_and_api_and_imports_nothing_of_proto(proto):
    text = proto("export").stdout
    assert f"record genesis = {GENESIS_VERSION}" in text
    assert f"record api = {host_api.API_VERSION}" in text
    assert "proto_cli" not in text
    r = proto("verify")
    assert r.returncode == 0, r.stdout


def test_a_learned_binding_imports_nothing():
    from proto_cli.learn.headers import prototypes
    from proto_cli.learn.need import Need

    (cbrt,) = [p for p in prototypes("math.h") if p.name == "cbrt"]
    need = Need("cubeRootOf:", (27.0,), "math.h", "libm.so.6")
    source = binding.method_source(need, cbrt, binding.Proposal("cbrt", ["arg1"], None,
                                                                [27.0], 3.0))
    assert "import" not in source and "bind(" in source
    assert host_api.problems(source) == []


def test_an_unknown_primitive_is_one_error_naming_it():
    with pytest.raises(ProtoError, match="no primitive 'learn.future'"):
        host_api.primitive("learn.future")
    assert host_api.problems('def m(self):\n    return primitive("learn.future")()\n')


@pytest.fixture
def old_image(proto, image_path):
    os.unlink(image_path)
    r = proto("import", FIXTURE, "-o", image_path)
    assert r.returncode == 0, r.stderr
    return proto


def test_verify_names_the_stored_code_written_to_api_1(old_image):
    r = old_image("verify", "--json")
    assert r.returncode == 1
    problems = json.loads(r.stdout)["problems"]
    assert sorted(p["slot"] for p in problems) == sorted(
        ["doesNotUnderstand:", "infer:", "reflectOn:", "cubeRootOf:"])
    assert all("proto upgrade" in p["problem"] for p in problems)


@needs_bwrap
def test_upgrade_rewrites_what_proto_wrote_and_the_image_still_works(old_image, tmp_path):
    before = old_image("export").stdout
    r = old_image("upgrade", "--json")
    assert r.returncode == 0, r.stderr
    done = json.loads(r.stdout)
    assert done["was"] == {"genesis": 1, "api": 1}
    assert done["genesis_methods"] == 3 and done["bindings"] == 1 and done["left"] == []
    after = old_image("export").stdout
    assert "proto_cli" in before and "proto_cli" not in after
    assert old_image("verify").returncode == 0
    # the learned binding (confined), a language method and a Python method all run
    assert json.loads(old_image("send", "--json", "m", "cubeRootOf:", "8").stdout) == {
        "result": 2.0, "learned": False}
    assert old_image("send", "point", "sum").stdout.strip() == "7"
    assert old_image("send", "point", "norm").stdout.strip() == "25"
    # the learner's doesNotUnderstand: reaches learning through its primitive
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps([{"oracle": "math.sqrt(arg1)", "test": {
        "inputs": [16.0], "expect": 4.0}, "function": "sqrt", "args": ["arg1"]}]))
    r = old_image("send", "--json", "--model", f"scripted:{answers}", "m", "squareRootOf:",
                  "16.0")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["result"] == 4.0
    r = old_image("send", "point", "fly")  # not bound to a library: the usual failure
    assert r.returncode != 0 and "does not understand fly" in r.stderr
    # a second upgrade changes nothing
    again = json.loads(old_image("upgrade", "--json").stdout)
    assert again["genesis_methods"] == again["bindings"] == 0


def test_upgrade_leaves_a_persons_code_as_written_and_says_so(old_image, tmp_path):
    source = tmp_path / "mine.py"
    source.write_text("def mine(self):\n    from proto_cli.world import exact\n"
                      "    return 1\n")
    assert old_image("define", "point", "mine", "--source", str(source)).returncode == 0
    done = json.loads(old_image("upgrade", "--json").stdout)
    assert [x["selector"] for x in done["left"]] == ["mine"]
    assert "proto_cli.world" in old_image("export").stdout
    assert old_image("verify").returncode == 1


def test_an_image_from_a_newer_proto_is_refused_by_upgrade_and_named_by_verify(proto,
                                                                               image_path):
    from image_format import layout as L
    from image_format.store import Image

    image = Image(image_path)
    image.transact(lambda txn: txn.put_meta(L.K_API, host_api.API_VERSION + 1))
    image.close()
    r = proto("upgrade")
    assert r.returncode != 0 and "newer proto" in r.stderr and "Traceback" not in r.stderr
    r = proto("verify")
    assert r.returncode == 1 and "use a newer proto" in r.stdout


LOCK_1 = os.path.join(os.path.dirname(FIXTURE), "api1.Squeakerfile.lock")


def test_a_lock_written_under_api_1_is_named_by_verify_and_upgraded(proto, tmp_path):
    lock = tmp_path / "Squeakerfile.lock"
    shutil.copy(LOCK_1, lock)
    r = proto("verify", str(lock))
    assert r.returncode == 1 and "proto_cli.learn.runtime" in r.stdout
    done = json.loads(proto("upgrade", "--json", str(lock)).stdout)
    assert done["bindings"] == 2 and done["left"] == []
    assert "proto_cli" not in lock.read_text()
    assert proto("verify", str(lock)).returncode == 0


def test_replaying_an_api_1_lock_installs_this_apis_form(tmp_path):
    """The example built with yesterday's lock and with the upgraded one: one digest."""
    import subprocess
    import sys

    root = os.path.join(os.path.dirname(__file__), "..")
    digests = []
    for name, lock in (("old", LOCK_1), ("new", os.path.join(root,
                                                             "Squeakerfile.example.lock"))):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copytree(os.path.join(root, "fixtures", "squeakerfile"),
                        folder / "fixtures" / "squeakerfile")
        shutil.copy(os.path.join(root, "Squeakerfile.example"), folder)
        shutil.copy(lock, folder / "Squeakerfile.example.lock")
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / f"cache-{name}")}
        env.pop("PROTO_IMAGE", None)
        r = subprocess.run([sys.executable, "-m", "proto_cli.main", "build", "-f",
                            "Squeakerfile.example", "-o", "x.image"], cwd=folder,
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        digests.append(subprocess.run([sys.executable, "-m", "proto_cli.main", "digest",
                                       "x.image"], cwd=folder, capture_output=True,
                                      text=True, env=env).stdout)
    assert digests[0] == digests[1] and digests[0]


# -- what a hostile review found (each was a failure before its fix) ------------------

from proto_cli.world.genesis_upgrade import GENESIS_1, RUNTIME_IMPORT_1  # noqa: E402


def _put_meta(image_path, key, value):
    from image_format.store import Image

    image = Image(image_path)
    try:
        image.transact(lambda txn: txn.put_meta(key, value))
    finally:
        image.close()


def test_upgrade_never_rewrites_a_persons_method(proto, tmp_path):
    assert proto("eval", "point := genesis clone").returncode == 0
    inside = tmp_path / "banner.py"
    inside.write_text(f'def banner(self):\n    return """\n{RUNTIME_IMPORT_1}"""\n')
    only = tmp_path / "only.py"
    only.write_text(f"def only(self):\n{RUNTIME_IMPORT_1}")
    infer_text = next(t for t, (h, s) in GENESIS_1.items() if s == "infer:")
    ask = tmp_path / "ask.py"
    ask.write_text(infer_text.replace("def infer(", "def ask_(", 1))
    for name, path in (("banner", inside), ("only", only), ("ask:", ask)):
        assert proto("define", "point", name, "--source", str(path)).returncode == 0
    before = proto("export").stdout
    done = json.loads(proto("upgrade", "--json").stdout)
    assert done["bindings"] == 0 and done["genesis_methods"] == 0
    assert proto("export").stdout == before  # not one source changed
    assert {x["selector"] for x in done["left"]} == {"only", "ask:"}


def test_an_upgrade_with_nothing_to_do_writes_nothing(proto, image_path):
    import hashlib

    def sha():
        with open(image_path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    before = sha()
    os.chmod(image_path, 0o444)
    try:
        r = proto("upgrade", "--json")
        assert r.returncode == 0, r.stderr
        r = proto("upgrade")
        assert r.returncode == 0 and "nothing to rewrite" in r.stdout, r.stdout + r.stderr
        assert sha() == before
    finally:
        os.chmod(image_path, 0o644)


@pytest.mark.parametrize("value", ["3", 3.0, True, [3], -5, 0, 10 ** 5000],
                         ids=["str", "float", "bool", "list", "negative", "zero", "huge"])
def test_a_version_record_that_is_no_version_is_refused_and_named(proto, image_path, value):
    from image_format import layout as L

    _put_meta(image_path, L.K_GENESIS, value)
    r = proto("upgrade")
    assert r.returncode == 2 and ("is not a version" in r.stderr or "newer proto" in r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    r = proto("verify")
    assert r.returncode == 1 and "genesis" in r.stdout
    assert "method sources parsed" in r.stdout and "0 objects" not in r.stdout


def test_verify_and_upgrade_refuse_a_fifo_at_once(proto, tmp_path):
    fifo = tmp_path / "f.lock"
    os.mkfifo(fifo)
    for command in ("verify", "upgrade"):
        r = proto(command, str(fifo))  # the fixture's 60 s timeout would end a hang
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("text", [
    '{"version": 1, "learned": [1, 2]}', '{"version": 1, "learned": "ab"}',
    '{"version": true, "learned": {}}', '{"version": 1, "learned": {"k": 3}}',
    "{" * 100_000, '{"version": 1, "learned": {}} trailing',
])
def test_a_malformed_lock_is_one_line(proto, tmp_path, text):
    lock = tmp_path / "Squeakerfile.lock"
    lock.write_text(text)
    r = proto("verify", str(lock))
    assert r.returncode == 2 and "lock file" in r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def test_a_lock_upgrade_keeps_links_permissions_and_unknown_keys(proto, tmp_path):
    real = tmp_path / "real.lock"
    with open(LOCK_1, encoding="utf-8") as f:
        data = json.load(f)
    data["note"] = "kept"
    real.write_text(json.dumps(data))
    link = tmp_path / "Squeakerfile.lock"
    link.symlink_to(real)
    assert proto("upgrade", str(link)).returncode == 0
    assert link.is_symlink() and "proto_cli" not in real.read_text()
    assert json.loads(real.read_text())["note"] == "kept"
    frozen = tmp_path / "frozen.lock"
    shutil.copy(LOCK_1, frozen)
    os.chmod(frozen, 0o444)
    r = proto("upgrade", str(frozen))
    assert r.returncode == 2 and "read-only" in r.stderr
    assert "proto_cli" in frozen.read_text()
