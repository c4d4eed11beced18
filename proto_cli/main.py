"""Entry point of the `proto` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        from .fastpath import try_send

        parsed = try_send(argv)
        if parsed is not None:
            from .actions import send
            image, receiver, words, as_json, learn = parsed
            if learn and sys.stderr.isatty():  # only people at a terminal see progress
                from .progress import progress_display

                with progress_display() as progress:
                    out = send(image, receiver, words, as_json, learn=learn, progress=progress)
            else:
                out = send(image, receiver, words, as_json, learn=learn)
            print(out)
            return 0
        return _run_app(argv)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one line
        if isinstance(exc, SystemExit):
            return exc.code if isinstance(exc.code, int) else 1
        from .errors import report

        return report(exc)


def _run_app(argv: list[str]) -> int:
    """The full Typer app; it reports its own usage errors (exit 2) via SystemExit."""
    from .cli import app

    app(args=argv, prog_name="proto")
    return 0


if __name__ == "__main__":
    sys.exit(main())
