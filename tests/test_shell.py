"""`proto shell` through a real pseudo-terminal (prompt_toolkit reads it as a person's
terminal), and through a pipe (a script)."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

from .conftest import ROOT

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class Terminal:
    def __init__(self, argv: list[str], env: dict) -> None:
        self.master, slave = os.openpty()
        self.child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                      cwd=ROOT, start_new_session=True)
        os.close(slave)
        self.seen = ""
        self.mark = 0  # output before this (in the text without escapes) was matched

    def expect(self, pattern: str, timeout: float = 30) -> str:
        """Wait for `pattern` in what the terminal shows after the last match."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            clean = ANSI.sub("", self.seen)
            found = re.compile(pattern).search(clean, self.mark)
            if found:
                self.mark = found.end()
                return clean
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096).decode("utf-8", "replace")
                except OSError:
                    break
        raise AssertionError(f"never saw {pattern!r} in {ANSI.sub('', self.seen)[-500:]!r}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        try:
            return self.child.wait(timeout=20)
        finally:
            os.close(self.master)


def test_the_shell_at_a_terminal(image_path, tmp_path):
    env = {**os.environ, "PROTO_IMAGE": image_path, "TERM": "xterm",
           "XDG_STATE_HOME": str(tmp_path / "state"), "COLUMNS": "100", "LINES": "30",
           "PROMPT_TOOLKIT_NO_CPR": "1"}
    term = Terminal([sys.executable, "-m", "proto_cli.main", "shell"], env)
    term.expect(r"proto>")
    term.type("point := genesis clone. point addSlot: 'x' value: 3\r")
    term.expect(r"<point #\d+>")
    term.expect(r"proto>")
    term.type("point x + 4\r")
    term.expect(r"\n7\b")
    term.expect(r"proto>")
    term.type("{1.\r")  # an open brace continues on the next line
    term.expect(r"\.\.\.>")
    term.type("2}\r")
    term.expect(r"\{1\. 2\}")
    term.type("1 frobnicate\r")  # an error is one line, and the shell goes on
    term.expect(r"proto: 1 does not understand frobnicate")
    term.expect(r"proto>")
    term.type("poi\t")  # Tab completes a lobby name
    term.expect(r"point")
    term.type(" x:\t")  # ... and what the receiver understands (nothing more: x: is whole)
    term.type(" 9\r")
    term.expect(r"<point #\d+>")
    term.expect(r"proto>")
    term.type(":inspect point\r")
    term.expect(r"x\W+data\W+9")  # the table a terminal gets
    term.expect(r"proto>")
    term.type(":quit\r")
    assert term.close() == 0
    assert "point x + 4" in (tmp_path / "state" / "proto" / "history").read_text()


def test_the_shell_reads_a_script_from_a_pipe(image_path):
    script = "p := 3/4\np + 1\n#(1\n2)\n1 foo\n:nope\n3 + 4\n"
    done = subprocess.run([sys.executable, "-m", "proto_cli.main", "-i", image_path, "shell"],
                          input=script, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0
    assert done.stdout.split("\n")[:4] == ["3/4", "7/4", "{1. 2}", "proto: :nope: no such "
                                           "command (:help lists them)"]
    assert "7" in done.stdout.split("\n")
    assert done.stderr.strip() == "proto: 1 does not understand foo (did you mean: floor?)"


def test_ctrl_c_rolls_the_input_back_and_the_shell_goes_on(image_path):
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "proto_cli.main", "-i", image_path, "shell"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    proc.stdin.write("p := 1\np := 2. [true] whileTrue: [p := p + 1]\n")  # never ends
    proc.stdin.flush()
    time.sleep(3)  # well inside the long loop
    proc.send_signal(signal.SIGINT)
    time.sleep(1)
    out, err = proc.communicate("p\n", timeout=60)
    assert proc.returncode == 0
    assert out.split() == ["1", "1"], out  # the interrupted input never committed
    assert "interrupted" in err
