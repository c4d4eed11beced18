"""proto's conformance suite: the SOM TestSuite (SOM-st/SOM, `TestSuite/*Test.som`, MIT)
ported to `proto eval` programs, run in-process.

A suite file holds test programs, each under a header line:

    === testName
    self assert: 3 equals: 1 + 2.

    === testOther [differs: indices run from 0]
    self assert: 10 equals: (#(10 20) at: 0).

    === testClasses [not ported: proto has no classes]
    "self assert: Array equals: #() class"

Each program runs in its own write transaction that is always rolled back, on a lobby
that also understands SOM's TestCase checks (`assert:`, `assert:equals:`, `deny:` ...),
so `self assert: x equals: y` ports as it is written. A check that fails is recorded and
the program goes on, as SOM's runner counts checks; an error ends the program and its
remaining checks count as failed. A program marked `not ported` is not run: its checks
(still counted in its text, comments included) count as failed, so the suite's rate
is over SOM's checks, not over the ones that were convenient to port.
"""

from __future__ import annotations

import contextlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

SUITE = Path(__file__).parent / "som"
HEADER = re.compile(r"^=== (\w+)(?: \[(differs|not ported|gap): ([^\]]*)\])?\s*$", re.M)
CHECK = re.compile(r"\bself (?:assert|deny|optional|signalFailure)\b")
COMMENT = re.compile(r'"[^"]*"')


@dataclass
class Program:
    file: str
    name: str
    source: str
    mark: str | None  # "differs", "not ported", "gap" or None
    reason: str

    @property
    def checks(self) -> int:
        text = self.source if self.mark == "not ported" else COMMENT.sub("", self.source)
        return max(1, len(CHECK.findall(text)))


@dataclass
class Outcome:
    program: Program
    passed: int = 0
    failures: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.program.mark != "not ported" and not self.failures and not self.error \
            and self.passed >= self.program.checks


def programs(path: Path) -> list[Program]:
    text = path.read_text()
    heads = list(HEADER.finditer(text))
    out = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.append(Program(path.stem, head.group(1), text[head.end():end].strip(),
                           head.group(2), head.group(3) or ""))
    return out


def suite_files() -> list[Path]:
    return sorted(SUITE.glob("*.proto"))


# SOM's TestCase checks, as method slots of the lobby (rolled back with the program).
# Each records into the lobby's `checksPassed` and `checkFailures` slots.
_RECORD = '''
def {fn}(self, *args):
    ok, shown = {test}
    passed = send(self, "checksPassed")
    failures = send(self, "checkFailures")
    if ok:
        send(self, "checksPassed:", passed + 1)
    else:
        send(self, "checkFailures:", failures + (shown,))
    return self
'''
CHECKS = {
    "assert:": "(args[0] is True, 'assert: got ' + describe(args[0])[:80])",
    "assert:description:": "(args[0] is True, 'assert: ' + describe(args[1])[:80])",
    "assert:equals:": "(send(args[0], '=', args[1]) is True, 'expected ' + describe(args[0])[:80]"
                      " + ' got ' + describe(args[1])[:80])",
    "assert:equals:description:": "(send(args[0], '=', args[1]) is True, 'expected '"
                                  " + describe(args[0])[:80] + ' got ' + describe(args[1])[:80])",
    "assert:is:": "(send(args[0], '==', args[1]) is True, 'expected identical '"
                  " + describe(args[0])[:80] + ' got ' + describe(args[1])[:80])",
    "deny:": "(args[0] is False or (send(args[0], 'respondsTo:', 'value') and"
             " send(args[0], 'value') is False), 'deny: got ' + describe(args[0])[:80])",
    "deny:description:": "(args[0] is False, 'deny: ' + describe(args[1])[:80])",
    "deny:equals:": "(send(args[0], '=', args[1]) is False, 'expected different from '"
                    " + describe(args[0])[:80])",
    "deny:is:": "(send(args[0], '==', args[1]) is False, 'expected not identical to '"
                " + describe(args[0])[:80])",
    "optional:assert:": "(args[1] is True, 'assert: got ' + describe(args[1])[:80])",
    "optional:assert:equals:": "(send(args[1], '=', args[2]) is True, 'expected '"
                               " + describe(args[1])[:80] + ' got ' + describe(args[2])[:80])",
    "optional:assert:is:": "(send(args[1], '==', args[2]) is True, 'expected identical '"
                           " + describe(args[1])[:80] + ' got ' + describe(args[2])[:80])",
    "optional:assert:description:": "(args[1] is True, 'assert: ' + describe(args[2])[:80])",
    "optional:deny:": "(args[1] is False, 'deny: got ' + describe(args[1])[:80])",
    "signalFailure:": "(False, describe(args[0])[:80])",
}


class _Done(Exception):
    """Carries a program's outcome out of the transaction it rolls back."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def _install_checks(world) -> None:
    from proto_cli.world.objects import DATA, METHOD

    lobby = world.lobby
    world.put_slot(lobby, "checksPassed", 0, DATA)
    world.put_slot(lobby, "checkFailures", (), DATA)
    for i, (selector, test) in enumerate(CHECKS.items()):
        fn = f"check_{i}"
        world.put_slot(lobby, selector, _RECORD.format(fn=fn, test=test), METHOD)


def run_program(image: str, program: Program) -> Outcome:
    from proto_cli.errors import ProtoError
    from proto_cli.world import session
    from proto_cli.world.shell import evaluate

    outcome = Outcome(program)
    if program.mark == "not ported":
        return outcome

    def work(world):
        _install_checks(world)
        try:
            evaluate(world, program.source)
        except ProtoError as exc:
            outcome.error = str(exc)[:200]
        except Exception as exc:  # a bug in proto: Python showing through  # noqa: BLE001
            outcome.error = f"internal error: {type(exc).__name__}: {str(exc)[:160]}"
        lobby = world.lobby
        outcome.passed = world.send(lobby, "checksPassed")
        outcome.failures = list(world.send(lobby, "checkFailures"))
        raise _Done(outcome)

    with contextlib.suppress(_Done):
        session.run(image, work)
    return outcome


def run_suite(image: str, files: list[Path] | None = None) -> list[Outcome]:
    return [run_program(image, p) for f in (files or suite_files()) for p in programs(f)]


def rate(outcomes: list[Outcome]) -> tuple[int, int]:
    """(checks passed, checks in SOM's tests): a program's passes count only up to its
    own checks, and a program marked not ported passes none."""
    passed = sum(min(o.passed, o.program.checks) for o in outcomes
                 if o.program.mark != "not ported")
    return passed, sum(o.program.checks for o in outcomes)


def main(argv: list[str]) -> int:
    """`python -m tests.conformance.harness [-v] [FILE...]`: the table per suite file."""
    import tempfile

    from proto_cli.world import session

    verbose = "-v" in argv
    names = [a for a in argv if a != "-v"]
    files = [SUITE / f"{n}.proto" for n in names] if names else suite_files()
    with tempfile.TemporaryDirectory() as tmp:
        image = str(Path(tmp) / "conformance.image")
        session.create(image)
        total = []
        for f in files:
            outcomes = run_suite(image, [f])
            total += outcomes
            passed, checks = rate(outcomes)
            print(f"{f.stem:24} {passed:4}/{checks:<4} {100 * passed / max(checks, 1):5.1f}%")
            for o in outcomes:
                if not o.ok and (verbose or o.program.mark != "not ported"):
                    why = o.error or "; ".join(o.failures[:3]) or o.program.reason
                    print(f"    {o.program.name} [{o.program.mark or 'fails'}] {why[:160]}")
        passed, checks = rate(total)
        print(f"{'total':24} {passed:4}/{checks:<4} {100 * passed / max(checks, 1):5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
