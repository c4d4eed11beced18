"""The house keeps its layers (pyproject's import-linter contract), and the cycles the
code-contract issue broke stay broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")


def test_the_layers_contract_is_kept():
    beside = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    lint = beside if os.path.exists(beside) else shutil.which("lint-imports")
    if lint is None:
        pytest.fail("import-linter is not installed: pip install '.[test]'")
    r = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]


@pytest.fixture(scope="module")
def graph():
    import grimp

    return grimp.build_graph("proto_cli", "image_format", "sandbox")


@pytest.mark.parametrize(("a", "b"), [
    ("proto_cli.world.methods", "proto_cli.world.mirror"),
    ("proto_cli.learn.hook", "proto_cli.world.genesis_methods"),
])
def test_no_cycle_between(graph, a, b):
    assert graph.find_shortest_chain(importer=a, imported=b) is None or \
        graph.find_shortest_chain(importer=b, imported=a) is None


def test_the_world_imports_nothing_of_learning_or_building(graph):
    for above in ("proto_cli.learn", "proto_cli.build", "proto_cli.commands"):
        assert not graph.find_illegal_dependencies_for_layers(
            layers=(above, "proto_cli.world"), containers=None)


def test_the_sandboxed_harnesses_import_nothing_of_proto_but_the_runtime():
    """They are shipped into the sandbox as files, beside the runtime and the guard only."""
    import ast

    folder = os.path.join(ROOT, "proto_cli", "learn", "sandboxed")
    allowed = {"proto_cli.learn.runtime", "guard", "cffi"}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue  # its siblings, shipped with it
            names = [node.module] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for module in names:
                assert module in allowed or module.split(".")[0] in sys.stdlib_module_names, \
                    f"{name} imports {module}"
