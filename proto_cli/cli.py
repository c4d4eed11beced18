"""The `proto` command: one thin function per subcommand (parse, call, render)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from . import actions
from .render import dump_json, print_inspection
from .sandbox_cli import app as sandbox_app

app = typer.Typer(
    name="proto",
    help="A world of Self-style prototype objects in one portable image file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ImageOpt = Annotated[
    str | None,
    typer.Option("--image", "-i", help="Image file (default: $PROTO_IMAGE).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
_WORDS = {"ignore_unknown_options": True, "allow_interspersed_args": False}


class State:
    image: str | None = None


@app.callback()
def main_options(image: ImageOpt = None) -> None:
    """Global options; -i/--image may also follow any subcommand."""
    State.image = image


def _image(image: str | None) -> str | None:
    return image or State.image


@app.command()
def init(path: Annotated[str, typer.Argument(help="Image file to create.")]) -> None:
    """Create a new image holding the genesis world."""
    print(actions.init(path))


@app.command(context_settings=_WORDS)
def send(
    receiver: Annotated[str, typer.Argument(help="A lobby name or a literal.")],
    words: Annotated[list[str] | None, typer.Argument(help="The message: x | + 4 | at: 1 put: 'v'")]
    = None,
    image: ImageOpt = None,
    json: JsonOpt = False,
) -> None:
    """Send one message: `proto send point x: 10`. Options go before RECEIVER."""
    print(actions.send(_image(image), receiver, words or [], json))


@app.command("eval", context_settings=_WORDS)
def eval_(
    expression: Annotated[str, typer.Argument(help="Statements separated by '.'; - reads stdin.")],
    image: ImageOpt = None,
    json: JsonOpt = False,
) -> None:
    """Evaluate an expression: `proto eval "p := genesis clone. p addSlot: 'x' value: 3"`."""
    source = sys.stdin.read() if expression == "-" else expression
    print(actions.evaluate(_image(image), source, json))


@app.command()
def define(
    target: Annotated[str, typer.Argument(help="Object: a lobby path (point, traits.number).")],
    selector: Annotated[str, typer.Argument(help="Selector, e.g. distance or at:put:.")],
    source: Annotated[
        str, typer.Option("--source", "-s", help="Python file with one function; - for stdin.")
    ] = "-",
    image: ImageOpt = None,
) -> None:
    """Add or replace a method slot from Python source."""
    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(
                f"cannot read {source}: {exc}", param_hint="--source"
            ) from None
    print(actions.define(_image(image), target, selector, text))


@app.command()
def inspect(
    target: Annotated[str, typer.Argument(help="lobby path (point, traits.number) or @ID")]
    = "lobby",
    image: ImageOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show an object's slots, kinds and parents without running any of its code."""
    info = actions.inspect(_image(image), target)
    if json:
        print(dump_json(info))
    else:
        print_inspection(info)


app.add_typer(sandbox_app, name="sandbox")
