"""Entry point of the `proto` command."""

from __future__ import annotations

import gc
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        _tolerate_surrogates()
        import os

        from .commands.argv import hoisted

        if "_PROTO_COMPLETE" in os.environ:  # the shell asks for completions
            return _run_app(argv)
        argv = hoisted(argv)

        # The fast path's start-up allocates modules and tables that live as long as the
        # process: collecting cycles among them is wasted time (~1 ms). session.run turns
        # the collector back on before the world's work (which may make cycles) begins.
        collecting = gc.isenabled()
        gc.disable()
        try:
            work = _fast(argv)
            if work is not None:
                print(_answered(work))
                code = 0
            else:
                if collecting:
                    gc.enable()
                code = _run_app(argv)
        finally:  # a caller in this process (tests, a shell) gets the collector back
            if collecting:
                gc.enable()
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one line
        if not isinstance(exc, SystemExit):
            from .output.failures import report

            return report(exc)
        code = exc.code if isinstance(exc.code, int) else 1
    try:
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
    except BaseException as exc:  # noqa: BLE001
        from .output.failures import report

        return report(exc)
    return code


def _fast(argv: list[str]):
    """The work of a plain `send` or `eval` (no Typer), as a function of a progress
    display; None when the command line is anything else."""
    from .commands.fastpath import try_eval, try_send

    parsed = try_send(argv)
    if parsed is not None:
        from .commands.actions import send

        image, receiver, words, as_json, learn = parsed
        return lambda progress: send(image, receiver, words, as_json, learn=learn,
                                     progress=progress), learn, True
    parsed = try_eval(argv)
    if parsed is not None:
        from .world import deep

        deep.start_early()  # its thread starts while the imports below run
        from .commands.actions import evaluate

        image, source, as_json, learn = parsed
        if source == "-":
            source = sys.stdin.read()
        return lambda progress: evaluate(image, source, as_json, learn=learn,
                                         progress=progress), learn, False
    return None


def _answered(work) -> str:
    """Run the fast path's work, with progress for a person at a terminal; the answer as
    the terminal should show it. One message (`send`) runs on the main stack: its
    start-up is its budget. A program (`eval`) gets the deep stack: it may recurse."""
    from .world import deep

    run, learn, shallow = work
    if shallow:
        deep.SHALLOW.append(True)
    try:
        if learn and sys.stderr.isatty():  # only people at a terminal see progress
            from .output.progress import progress_display

            with progress_display() as progress:
                out = run(progress)
        else:
            out = run(None)
    finally:
        deep.SHALLOW.clear()
    if sys.stdout.isatty():  # an answer's escape sequences are shown, not obeyed
        from .output.terminal import visible

        out = visible(out, newlines=True)
    return out


_REPLACEABLE = ("strict", "surrogateescape")  # a handler someone chose stays


def _tolerate_surrogates() -> None:
    """Print any str a command answers: argv bytes that are not UTF-8 arrive as lone
    surrogates, and a strict stdout would fail only after the work had committed."""
    import codecs
    import io

    codecs.register_error("proto-surrogates", _escape_surrogates)
    if isinstance(sys.stdout, io.TextIOWrapper) and sys.stdout.errors in _REPLACEABLE:
        sys.stdout.reconfigure(errors="proto-surrogates")
    if isinstance(sys.stdin, io.TextIOWrapper) and sys.stdin.errors == "strict":
        sys.stdin.reconfigure(errors="surrogateescape")  # `proto eval -` of any bytes


def _escape_surrogates(exc: UnicodeError) -> tuple:
    """Bytes that came in undecodable go out unchanged; anything else unencodable as \\u."""
    import codecs

    try:
        return codecs.lookup_error("surrogateescape")(exc)
    except UnicodeError:
        return codecs.backslashreplace_errors(exc)


def _run_app(argv: list[str]) -> int:
    """The full Typer app; it reports its own usage errors (exit 2) via SystemExit."""
    from .commands.app import app
    from .commands.help_text import install

    install()
    app(args=argv, prog_name="proto")  # word commands arrive hoisted: words after `--`
    return 0


if __name__ == "__main__":
    sys.exit(main())
