"""Commands for reproducible builds: build, tags, cache gc."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..output.render import dump_json, is_tty, visible
from .options import JsonOpt, ModelOpt

cache_app = typer.Typer(help="The build cache ($XDG_CACHE_HOME/proto/build).",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        file: Annotated[str, typer.Option("--file", "-f", help="The Squeakerfile.")]
        = "Squeakerfile",
        output: Annotated[str, typer.Option("--output", "-o", help="The image to write.")]
        = "app.image",
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Run every step.")] = False,
        tag: Annotated[str | None, typer.Option("--tag", "-t", help="Name the result.",
                                                show_default=False)] = None,
        relearn: Annotated[bool, typer.Option(
            "--relearn", help="LEARN again instead of replaying Squeakerfile.lock.")] = False,
        model: ModelOpt = None,
        allow_outside: Annotated[bool, typer.Option(
            "--allow-outside", help="Let RESOURCE and METHOD FILE read files outside the "
            "recipe's folder.")] = False,
        json: JsonOpt = False,
    ) -> None:
        """Build an image from a Squeakerfile, each step cached by its content.

        Example: `proto build -f Squeakerfile -o demo.image`

        A build runs the recipe's code on this machine (METHOD + SEND, as a Dockerfile's
        RUN does): build recipes you trust."""
        from ..build.builder import build as run_build
        from ..output.progress import progress_display

        def report(label: str, status: str) -> None:
            if not json:
                print(f"{visible(label):<68} {status}",
                      file=sys.stderr if is_tty() else sys.stdout, flush=True)

        with progress_display() as progress:
            built = run_build(file, output, use_cache=not no_cache, tag=tag, relearn=relearn,
                              model=model, report=report, progress=progress,
                              outside=allow_outside)
        if json:
            print(dump_json(built.to_dict()))
        else:
            print(f"built {built.output}  sha256 {built.digest}" + (f"  tag {tag}" if tag else ""))

    @app.command()
    def tags(json: JsonOpt = False) -> None:
        """Results named by `proto build --tag`; `FROM NAME` starts from one."""
        from ..build.cache import tags as all_tags

        entries = all_tags()
        if json:
            print(dump_json(entries))
            return
        for e in entries:
            state = "" if e.get("cached") else "  (pruned from the cache)"
            print(visible(f"{e['name']}\t{str(e.get('digest', '?'))[:16]}\t"
                          f"{e.get('squeakerfile', '?')}{state}"))

    @cache_app.command("gc")
    def gc(days: Annotated[float, typer.Option("--days", help="Keep steps used this recently.")]
           = 7.0,
           everything: Annotated[bool, typer.Option("--all", help="Remove every untagged step.")]
           = False) -> None:
        """Remove cached build steps not used for DAYS (tagged results stay).

        Example: `proto cache gc --days 30`
        """
        from ..build.cache import gc as collect

        removed, freed = collect(days, everything)
        print(f"removed {removed} cached step(s), {freed / 1e6:.1f} MB")

    app.add_typer(cache_app, name="cache")
