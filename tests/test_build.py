"""Squeakerfile builds: the format, caching, reproducibility, the lock, errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from image_format.store import Image

from .conftest import ROOT

EXAMPLE = ROOT / "Squeakerfile.example"


def proto(*args: str, cwd, cache, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("PROTO_IMAGE", None)
    out = subprocess.run([sys.executable, "-m", "proto_cli.main", *args], cwd=cwd,
                         capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def example_in(folder) -> str:
    """Squeakerfile.example, its lock and the files it reads, copied to `folder`."""
    os.makedirs(folder / "fixtures", exist_ok=True)
    shutil.copytree(ROOT / "fixtures" / "squeakerfile", folder / "fixtures" / "squeakerfile")
    shutil.copy(EXAMPLE, folder / "Squeakerfile.example")
    shutil.copy(str(EXAMPLE) + ".lock", folder / "Squeakerfile.example.lock")
    return "Squeakerfile.example"


def digest(out: subprocess.CompletedProcess) -> str:
    return out.stdout.strip().splitlines()[-1].split("sha256 ")[1].split()[0]


def statuses(out: subprocess.CompletedProcess) -> list[str]:
    return [line.split()[-1] for line in out.stdout.splitlines() if line.startswith("[")]


def test_the_example_builds_reproducibly_in_two_places(tmp_path):
    """Different folders, empty caches each time: the same digest (the lock replays
    LEARN, so no model runs)."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    first = proto("build", "-f", example_in(a), "-o", "x.image", cwd=a, cache=tmp_path / "c1")
    second = proto("build", "-f", example_in(b), "-o", "y.image", cwd=b, cache=tmp_path / "c2")
    assert digest(first) == digest(second)
    assert "CACHED" not in first.stdout
    again = proto("build", "-f", "Squeakerfile.example", "-o", "z.image", cwd=a,
                  cache=tmp_path / "c1")
    assert set(statuses(again)) == {"CACHED"} and digest(again) == digest(first)
    assert proto("digest", "z.image", cwd=a, cache=tmp_path / "c1").stdout.strip() == \
        digest(first)
    # The built image works: data, methods from heredocs and files, delegation + resend,
    # replayed learned methods, a resource.
    sends = {("point3d", "norm"): "13.0", ("point", "describe"): "'a point at 3@4'",
             ("z", "crc32Of:", "'hello'"): "907060870", ("m", "floorOf:", "2.7"): "2.0",
             ("banner", "size"): "40"}
    for words, expected in sends.items():
        out = proto("-i", "x.image", "send", "--no-learn", *words, cwd=a, cache=tmp_path)
        assert out.stdout.strip() == expected, words
    assert proto("verify", "x.image", cwd=a, cache=tmp_path).returncode == 0


SMALL = """\
FROM scratch
OBJECT point
SLOT point x 3
METHOD point double <<EOF
def double(self):
    return send(self, "x") * 2
EOF
SEND point x: 4
LABEL version 1
"""


def test_changing_one_step_rebuilds_from_it_on(tmp_path):
    (tmp_path / "Squeakerfile").write_text(SMALL)
    first = proto("build", "-o", "a.image", cwd=tmp_path, cache=tmp_path / "c")
    assert len(statuses(first)) == 6 and "CACHED" not in first.stdout
    (tmp_path / "Squeakerfile").write_text(SMALL.replace('* 2', '* 3'))
    second = proto("build", "-o", "b.image", cwd=tmp_path, cache=tmp_path / "c")
    marks = ["CACHED" if s == "CACHED" else "ran" for s in statuses(second)]
    assert marks == ["CACHED", "CACHED", "CACHED", "ran", "ran", "ran"]
    assert proto("-i", "b.image", "send", "point", "double", cwd=tmp_path,
                 cache=tmp_path).stdout.strip() == "12"
    forced = proto("build", "--no-cache", "-o", "c.image", cwd=tmp_path, cache=tmp_path / "c")
    assert "CACHED" not in forced.stdout and digest(forced) == digest(second)


def test_a_file_a_step_reads_is_part_of_its_key(tmp_path):
    (tmp_path / "data.bin").write_bytes(b"one")
    (tmp_path / "Squeakerfile").write_text("FROM scratch\nRESOURCE blob data.bin\n")
    proto("build", "-o", "a.image", cwd=tmp_path, cache=tmp_path / "c")
    (tmp_path / "data.bin").write_bytes(b"two!")
    out = proto("build", "-o", "b.image", cwd=tmp_path, cache=tmp_path / "c")
    assert statuses(out) == ["CACHED", statuses(out)[1]] and statuses(out)[1] != "CACHED"
    assert proto("-i", "b.image", "send", "blob", "size", cwd=tmp_path,
                 cache=tmp_path).stdout.strip() == "4"


@pytest.mark.parametrize("text, where, words", [
    ("FROM scratch\nFROB x\n", "Squeakerfile:2:1:", "unknown directive"),
    ("FROM scratch\nSLOT point\n", "Squeakerfile:2:1:", "SLOT takes at least 3"),
    ("FROM scratch\nRESOURCE r missing.bin\n", "Squeakerfile:2:1:", "cannot read missing.bin"),
    ("FROM scratch\nOBJECT p\nSEND p frobnicate\n", "Squeakerfile:3:1:", "does not understand"),
    ("FROM scratch\nEVAL 1 +\n", "Squeakerfile:2:1:", "syntax error"),
    ("FROM scratch\nMETHOD lobby m <<EOF\ndef m(self):\n  return 1\n", "Squeakerfile:2:",
     "heredoc not closed"),
    ("OBJECT p\n", "Squeakerfile:1:1:", "first directive must be FROM"),
    ("FROM nowhere.image\n", "Squeakerfile:1:1:", "not 'scratch'"),
    ("FROM scratch\nMETHOD lobby m <<EOF\ndef m(self, extra):\n  return 1\nEOF\n",
     "Squeakerfile:2:1:", "takes self plus 0"),
])
def test_errors_name_the_line_and_leave_no_output(tmp_path, text, where, words):
    (tmp_path / "Squeakerfile").write_text(text)
    out = proto("build", "-o", "out.image", cwd=tmp_path, cache=tmp_path / "c", check=False)
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip()
    assert "\n" not in line and where in line and words in line, line
    assert not (tmp_path / "out.image").exists()
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n]


def test_learn_writes_the_lock_and_a_rebuild_replays_it_without_a_model(tmp_path):
    """LEARN with the scripted backend (a test instrument), then a rebuild whose backend
    has no answers left: it must not be asked."""
    header = tmp_path / "tiny.h"
    shutil.copy(ROOT / "fixtures" / "tinylib" / "tiny.h", header)
    lib = tmp_path / "libtiny.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib),
                    str(ROOT / "fixtures" / "tinylib" / "tiny.c")], check=True)
    answer = {"test": {"inputs": [2, 3], "expect": 5}, "function": "tiny_add",
              "args": ["arg1", "arg2"]}
    (tmp_path / "one.json").write_text(json.dumps([answer]))
    (tmp_path / "none.json").write_text("[]")
    (tmp_path / "Squeakerfile").write_text(
        f"FROM scratch\nLIBRARY t {header} {lib}\nLEARN t add: 2 to: 3\n")
    if shutil.which("bwrap") is None:
        pytest.skip("needs bubblewrap")
    first = proto("build", "-o", "a.image", "--model", f"scripted:{tmp_path / 'one.json'}",
                  cwd=tmp_path, cache=tmp_path / "c")
    lock = json.loads((tmp_path / "Squeakerfile.lock").read_text())
    entry = lock["learned"]["LEARN t add: 2 to: 3"]
    assert entry["function"] == "tiny_add" and "lib.tiny_add(" in entry["source"]
    assert "scripted" in entry["provenance"]
    again = proto("build", "--no-cache", "-o", "b.image", "--model",
                  f"scripted:{tmp_path / 'none.json'}", cwd=tmp_path, cache=tmp_path / "c2")
    assert digest(again) == digest(first)
    assert proto("-i", "b.image", "send", "--no-learn", "t", "add:", "20", "to:", "22",
                 cwd=tmp_path, cache=tmp_path).stdout.strip() == "42"
    relearn = proto("build", "--relearn", "-o", "c.image", "--model",
                    f"scripted:{tmp_path / 'none.json'}", cwd=tmp_path, cache=tmp_path / "c",
                    check=False)
    assert relearn.returncode == 2 and "Squeakerfile:3:1:" in relearn.stderr


def test_tags_from_a_tag_and_cache_gc(tmp_path):
    (tmp_path / "Squeakerfile").write_text(SMALL)
    proto("build", "-o", "base.image", "--tag", "base", cwd=tmp_path, cache=tmp_path / "c")
    listed = json.loads(proto("tags", "--json", cwd=tmp_path, cache=tmp_path / "c").stdout)
    assert [t["name"] for t in listed] == ["base"] and listed[0]["cached"]
    (tmp_path / "Child").write_text("FROM base\nSLOT point y 9\n")
    proto("build", "-f", "Child", "-o", "child.image", cwd=tmp_path, cache=tmp_path / "c")
    assert proto("-i", "child.image", "send", "point", "double", cwd=tmp_path,
                 cache=tmp_path).stdout.strip() == "8"
    out = proto("cache", "gc", "--all", cwd=tmp_path, cache=tmp_path / "c")
    assert out.stdout.startswith("removed ")
    # The tagged result survives a gc; FROM base still works.
    proto("build", "-f", "Child", "-o", "child2.image", cwd=tmp_path, cache=tmp_path / "c")


def _tiny(tmp_path) -> tuple[str, str]:
    header = tmp_path / "tiny.h"
    shutil.copy(ROOT / "fixtures" / "tinylib" / "tiny.h", header)
    lib = tmp_path / "libtiny.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib),
                    str(ROOT / "fixtures" / "tinylib" / "tiny.c")], check=True)
    return str(header), str(lib)


def test_a_learned_step_is_never_served_to_a_build_with_another_model(tmp_path):
    """Two identical recipes, two (scripted) models that learn different bindings, one
    cache: before, the second build got the first model's step CACHED (its key hashed an
    empty lock entry); and `--relearn` keyed every relearn alike, so a relearn with one
    model was served the relearn of another."""
    if shutil.which("bwrap") is None:
        pytest.skip("needs bubblewrap")
    header, lib = _tiny(tmp_path)
    models = {}
    for name, function, expect in (("half", "tiny_half", 1.5), ("double", "tiny_double", 6.0)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps([{"test": {"inputs": [3.0], "expect": expect},
                                     "function": function, "args": ["arg1"]}]))
        models[name] = f"scripted:{path}"
    recipe = f"FROM scratch\nLIBRARY t {header} {lib}\nLEARN t scaled: 3.0\n"
    answers = {}
    for folder, model in (("a", "half"), ("b", "double")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "Squeakerfile").write_text(recipe)
        out = proto("build", "-o", "x.image", "--model", models[model], cwd=tmp_path / folder,
                    cache=tmp_path / "c")
        assert statuses(out)[2] != "CACHED"
        answers[folder] = proto("-i", "x.image", "send", "--no-learn", "t", "scaled:", "3.0",
                                cwd=tmp_path / folder, cache=tmp_path).stdout.strip()
    assert answers == {"a": "1.5", "b": "6.0"}
    a = tmp_path / "a"
    for model, expect in (("double", "6.0"), ("half", "1.5")):
        out = proto("build", "--relearn", "-o", "r.image", "--model", models[model], cwd=a,
                    cache=tmp_path / "c")
        assert statuses(out)[2] != "CACHED"
        assert proto("-i", "r.image", "send", "--no-learn", "t", "scaled:", "3.0", cwd=a,
                     cache=tmp_path).stdout.strip() == expect
    # and with the lock written by the last relearn, a plain rebuild is served its step
    assert statuses(proto("build", "-o", "p.image", cwd=a, cache=tmp_path / "c")) == \
        ["CACHED"] * 3


def test_a_cached_step_whose_file_changed_is_built_again(tmp_path):
    """A recipe's own code runs on the host and can rewrite the cache: a step whose
    bytes are not what was stored is rebuilt, not served CACHED."""
    (tmp_path / "Squeakerfile").write_text(SMALL)
    cache = tmp_path / "c"
    first = proto("build", "-o", "a.image", cwd=tmp_path, cache=cache)
    steps = cache / "proto" / "build" / "steps"
    for image in steps.glob("*.image"):
        with Image(str(image)) as opened:
            opened.transact(lambda txn: txn.put_meta(b"pwned", True))
    again = proto("build", "-o", "b.image", cwd=tmp_path, cache=cache)
    assert "CACHED" not in statuses(again)
    assert digest(again) == digest(first)
    assert set(statuses(proto("build", "-o", "c.image", cwd=tmp_path, cache=cache))) == \
        {"CACHED"}


def test_a_recipe_reads_only_inside_its_folder(tmp_path):
    """RESOURCE and METHOD FILE: `..`, absolute paths and symlinks that lead out of the
    recipe's folder fail the build in one line; --allow-outside widens it on purpose."""
    home = tmp_path / "recipe"
    home.mkdir()
    (tmp_path / "secret").write_text("s3cret")
    (home / "inside.txt").write_text("ok")
    (home / "escape").symlink_to(tmp_path / "secret")
    (home / "sub").mkdir()
    (home / "sub" / "back").symlink_to("../inside.txt")  # inside, through a symlink
    for line in ("RESOURCE r ../secret", f"RESOURCE r {tmp_path / 'secret'}",
                 "RESOURCE r escape", "RESOURCE r /proc/self/environ",
                 "METHOD lobby m ../secret"):
        (home / "Squeakerfile").write_text(f"FROM scratch\n{line}\n")
        out = proto("build", "-o", "x.image", cwd=home, cache=tmp_path / "c", check=False)
        assert out.returncode == 2 and "outside the recipe's folder" in out.stderr, line
        assert out.stderr.count("\n") == 1 and "Squeakerfile:2:1:" in out.stderr
        assert not (home / "x.image").exists()
    (home / "Squeakerfile").write_text("FROM scratch\nRESOURCE r sub/back\n")
    proto("build", "-o", "in.image", cwd=home, cache=tmp_path / "c")
    (home / "Squeakerfile").write_text("FROM scratch\nRESOURCE r ../secret\n")
    proto("build", "--allow-outside", "-o", "out.image", cwd=home, cache=tmp_path / "c")
    assert proto("-i", "out.image", "send", "r", "size", cwd=home,
                 cache=tmp_path).stdout.strip() == "6"


def test_a_lock_entry_replays_as_confined_learned_code_whatever_it_says(tmp_path):
    """A lock file is generated text nobody reviews: an entry that says `trusted` (or
    leaves out `learned`) must not install a method that runs in proto's process."""
    from image_format import literals

    header, lib = _tiny(tmp_path)
    source = ("def add_to_(self, a1, a2):\n"
              "    from proto_cli.learn.runtime import bind, integer\n"
              f"    ffi, lib = bind({lib!r}, 'int tiny_add(int a, int b);')\n"
              "    return int(lib.tiny_add(integer(a1), integer(a2)))\n")
    (tmp_path / "Squeakerfile").write_text(
        f"FROM scratch\nLIBRARY t {header} {lib}\nLEARN t add: 2 to: 3\n")
    (tmp_path / "Squeakerfile.lock").write_text(json.dumps({"version": 1, "learned": {
        "LEARN t add: 2 to: 3": {"selector": "add:to:", "function": "tiny_add",
                                 "source": source,
                                 "provenance": literals.write({"trusted": True})}}}))
    proto("build", "-o", "x.image", cwd=tmp_path, cache=tmp_path / "c")
    found = json.loads(proto("-i", "x.image", "methods", "--json", "t", cwd=tmp_path,
                             cache=tmp_path).stdout)
    (method,) = [m for m in found if m["selector"] == "add:to:"]
    assert method["runs"] == "confined" and method["learned"]
    assert proto("-i", "x.image", "send", "--no-learn", "t", "add:", "2", "to:", "3",
                 cwd=tmp_path, cache=tmp_path).stdout.strip() == "5"
