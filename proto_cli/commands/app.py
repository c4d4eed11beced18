"""The `proto` command: one thin function per subcommand (parse, call, render)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..output.progress import progress_display
from ..output.render import dump_json, is_tty, print_inspection, print_methods, visible
from ..world import session
from . import actions, completion
from . import build as build_commands
from . import images as image_commands
from .options import (
    ApproveOpt,
    ImageOpt,
    JsonOpt,
    ModelOpt,
    NoLearnOpt,
    ReviewOpt,
)
from .sandbox import app as sandbox_app

app = typer.Typer(
    name="proto",
    help="A world of Self-style prototype objects in one portable image file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

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
def init(
    path: Annotated[str | None, typer.Argument(
        help="Image file to create (default: -i, or $PROTO_IMAGE).", show_default=False)]
    = None,
    image: ImageOpt = None,
) -> None:
    """Create a new image holding the genesis world: `proto init demo.image`."""
    print(actions.init(path or _image(image) or session.image_path(None)))


@app.command(context_settings=_WORDS)
def send(
    receiver: Annotated[str, typer.Argument(help="A lobby name or a literal.",
                                            autocompletion=completion.lobby_names)],
    words: Annotated[list[str] | None, typer.Argument(
        help="The message: x | + 4 | at: 1 put: 'v'", autocompletion=completion.selectors)]
    = None,
    image: ImageOpt = None,
    json: JsonOpt = False,
    no_learn: NoLearnOpt = False,
    model: ModelOpt = None,
    review: ReviewOpt = False,
    approve: ApproveOpt = False,
) -> None:
    """Send one message: `proto send point x: 10`. Options may follow the words."""
    with progress_display() as progress:
        out = actions.send(_image(image), receiver, words or [], json, learn=not no_learn,
                           model=model, progress=progress, review=_reviewer(review, approve))
    print(_shown(out))


@app.command("eval", context_settings=_WORDS)
def eval_(
    expression: Annotated[str, typer.Argument(help="Statements separated by '.'; - reads stdin.")],
    image: ImageOpt = None,
    json: JsonOpt = False,
    no_learn: NoLearnOpt = False,
    model: ModelOpt = None,
) -> None:
    """Evaluate an expression: `proto eval "p := genesis clone. p addSlot: 'x' value: 3"`."""
    source = sys.stdin.read() if expression == "-" else expression
    with progress_display() as progress:
        out = actions.evaluate(_image(image), source, json, learn=not no_learn, model=model,
                               progress=progress)
    print(_shown(out))


@app.command()
def define(
    target: Annotated[str, typer.Argument(help="Object: a lobby path (point, traits.number).")],
    selector: Annotated[str, typer.Argument(help="Selector, e.g. distance or at:put:.")],
    source: Annotated[
        str, typer.Option("--source", "-s", help="Python file with one function; - for stdin.")
    ] = "-",
    image: ImageOpt = None,
) -> None:
    """Add or replace a method slot from Python source.

    Example: `proto define point norm < norm.py`
    """
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
    target: Annotated[str, typer.Argument(help="lobby path (point, traits.number) or @ID",
                                          autocompletion=completion.lobby_names)]
    = "lobby",
    image: ImageOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show an object's slots, kinds and parents without running any of its code.

    Example: `proto inspect traits.number`
    """
    info = actions.inspect(_image(image), target)
    if json:
        print(dump_json(info))
    else:
        print_inspection(info)


app.add_typer(sandbox_app, name="sandbox")
image_commands.register(app, _image)
build_commands.register(app)

@app.command()
def shell(image: ImageOpt = None) -> None:
    """An interactive workspace on the image: statements, :inspect, :methods, history.

    Example: `proto -i demo.image shell`
    """
    from . import shell

    raise typer.Exit(shell.run(session.image_path(_image(image))))


model_app = typer.Typer(help="The learner's model: serve one warm model to many processes.",
                        no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("serve")
def model_serve(
    model: Annotated[str | None, typer.Option(
        "--model", help="GGUF model file (default: the default model).",
        show_default=False)] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8537,
) -> None:
    """Serve the model over HTTP (OpenAI-compatible): export PROTO_MODEL_URL to use it.

    Example: `proto model serve --port 8537`
    """
    from ..learn import serve

    serve.check_server_installed()
    serve.check_address(host, port)
    path = serve.model_for_serving(model)
    raise typer.Exit(serve.run(path, host, port, lambda text: typer.echo(text, err=True)))


lib_app = typer.Typer(help="Library objects: C libraries that learn methods.",
                      no_args_is_help=True)
app.add_typer(lib_app, name="lib")


@lib_app.command("add")
def lib_add(
    name: Annotated[str, typer.Argument(help="Lobby name for the library object.")],
    header: Annotated[str, typer.Option("--header", help="Header on the include path (zlib.h).")],
    library: Annotated[str, typer.Option(
        "--library", help="Shared library: a short name (z, bz2), a soname or a path.")],
    image: ImageOpt = None,
) -> None:
    """Bind a C library: `proto lib add z --header zlib.h --library z`."""
    from ..learn import library_objects

    print(library_objects.lib_add(_image(image), name, header, library))


@lib_app.command("list")
def lib_list(image: ImageOpt = None, json: JsonOpt = False) -> None:
    """The library objects: `proto lib list --json`."""
    from ..learn import library_objects

    found = library_objects.lib_list(_image(image))
    if json:
        print(dump_json(found))
        return
    for lib in found:
        print(visible(f"{lib['name']}\t{lib['library']}\t{lib['header']}\t"
                      f"{lib['learned']} learned"))


@lib_app.command("remove")
def lib_remove(
    name: Annotated[str, typer.Argument(help="Lobby name of the library object.",
                                        autocompletion=completion.lobby_names)],
    image: ImageOpt = None,
) -> None:
    """Take a library object out of the lobby: `proto lib remove z`."""
    from ..learn import library_objects

    print(library_objects.lib_remove(_image(image), name))


@app.command(context_settings=_WORDS)
def learn(
    receiver: Annotated[str, typer.Argument(help="A library object in the lobby.",
                                            autocompletion=completion.lobby_names)],
    words: Annotated[list[str] | None, typer.Argument(help="The message to learn.")] = None,
    image: ImageOpt = None,
    json: JsonOpt = False,
    relearn: Annotated[bool, typer.Option("--relearn", help="Replace a method it has.")] = False,
    model: ModelOpt = None,
    review: ReviewOpt = False,
    approve: ApproveOpt = False,
) -> None:
    """Learn a method explicitly (then send the message): `proto learn m cubeRootOf: 27`."""
    with progress_display() as progress:
        out = actions.learn(_image(image), receiver, words or [], relearn=relearn, as_json=json,
                            model=model, progress=progress, review=_reviewer(review, approve))
    print(out)


@app.command()
def methods(
    target: Annotated[str, typer.Argument(help="lobby path or @ID")],
    image: ImageOpt = None,
    json: JsonOpt = False,
    source: Annotated[bool, typer.Option("--source", help="Show each method's source.")] = False,
) -> None:
    """An object's own methods; learned ones with their provenance.

    Example: `proto methods m --json`
    """
    found = actions.methods(_image(image), target)
    if json:
        print(dump_json(found))
    else:
        print_methods(found, source)


@app.command()
def trust(
    target: Annotated[str, typer.Argument(help="lobby path or @ID")],
    selector: Annotated[str, typer.Argument(help="the learned method's selector")],
    image: ImageOpt = None,
    undo: Annotated[bool, typer.Option("--undo", help="Run it confined again.")] = False,
) -> None:
    """Run a learned method you reviewed in-process (learned methods run confined).

    Example: `proto trust parser create`"""
    print(actions.trust(_image(image), target, selector, undo))


def _shown(out: str) -> str:
    """An answer as a terminal shows it: escape sequences in it shown, not obeyed."""
    return visible(out, newlines=True) if is_tty() else out


def _reviewer(review: bool, approve: bool):
    """The human-in-the-loop gate: show the binding and its evidence, then ask (or
    --approve). Without either, verified bindings install and unverified ones do not."""
    if not review and not approve:
        return None

    def ask(learned) -> bool:
        if not review:
            return True
        err = sys.stderr
        evidence = learned.evidence
        print(f"--- proposed binding for {learned.need.selector}: C {learned.function}() "
              f"(attempt {learned.attempts}, sandbox verdict: ok, evidence: "
              f"{evidence.get('kind')})", file=err)
        print(learned.source, file=err)
        print(f"test: {learned.proposal.test_inputs} -> expect {learned.proposal.expect!r}; "
              f"message result in the sandbox: {learned.check.result!r}", file=err)
        if evidence.get("oracle"):
            read_as = f", C's answer read as {evidence['read_as']}" if "read_as" in evidence \
                else ""
            print(f"oracle: {evidence['oracle']} (agreed on {evidence.get('agreed', 0)} of "
                  f"{evidence.get('inputs', 0)} inputs{read_as})", file=err)
        if not learned.verified:
            print("UNVERIFIED: nothing checked this binding's answer", file=err)
        if approve:
            return True
        if not sys.stdin.isatty():
            from ..errors import UsageError

            raise UsageError("--review needs a terminal to ask; add --approve to accept")
        return typer.confirm("install this method?", default=False)

    return ask
