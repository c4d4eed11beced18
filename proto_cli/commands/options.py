"""The options several commands share, defined once: the Typer app and the image
commands declare them from here, and argv.py and the fast `send` path read the same
spellings (OPTION_NAMES; tests/test_cli.py checks they agree)."""

from __future__ import annotations

from typing import Annotated

import typer

ImageOpt = Annotated[
    str | None,
    typer.Option("--image", "-i", help="Image file (default: $PROTO_IMAGE).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
NoLearnOpt = Annotated[bool, typer.Option("--no-learn", help="Never learn a missing method.")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="GGUF model file, a model server URL (http://HOST:PORT/v1), "
                 "or scripted:FILE (a test replay).",
                 show_default=False),
]
ReviewOpt = Annotated[
    bool, typer.Option("--review", help="Show a learned binding and ask before installing.")
]
ApproveOpt = Annotated[
    bool, typer.Option("--approve", help="Install a learned binding without asking, even an "
                                         "unverified one (with --review: after showing it).")
]
PathArg = Annotated[str | None, typer.Argument(help="Image file (instead of -i).",
                                               show_default=False)]
