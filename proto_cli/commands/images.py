"""Commands on whole images: snapshot, diff, export, import, digest, verify."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperGroup

from ..output.render import dump_json
from .options import ImageOpt, JsonOpt, PathArg


def _images():
    """The work (and its imports: codec, canonical text, hashing, difflib) only when one
    of these commands runs, not at every command's start-up."""
    from . import whole_image

    return whole_image


class _TakeByDefault(TyperGroup):
    """`proto snapshot NAME` is `proto snapshot take NAME`."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        i = 0
        while i < len(args) and args[i].startswith("-"):
            i += 2 if args[i] in ("-i", "--image") else 1
        if i < len(args) and args[i] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["take", *args]
        return super().parse_args(ctx, args)


snapshot_app = typer.Typer(
    cls=_TakeByDefault, no_args_is_help=True,
    help="Named snapshots kept next to the image (IMAGE.snapshots/): "
         "`proto snapshot NAME`, then list, restore, delete.")


def register(app: typer.Typer, current_image) -> None:
    """Add these commands to the main app; `current_image(opt)` applies the global -i."""

    @snapshot_app.command("take")
    def take(name: Annotated[str, typer.Argument(help="Snapshot name.")],
             image: ImageOpt = None, json: JsonOpt = False) -> None:
        """Take a consistent, compact copy of the image, named NAME.

        Example: `proto snapshot take before-upgrade`
        """
        entry = _images().take_snapshot(current_image(image), name)
        print(dump_json(entry) if json else f"snapshot {entry['name']}: {entry['size']} bytes")

    @snapshot_app.command("list")
    def list_(image: ImageOpt = None, json: JsonOpt = False) -> None:
        """Name, time, size and content digest of each snapshot.

        Example: `proto snapshot list --json`
        """
        entries = _images().list_snapshots(current_image(image))
        if json:
            print(dump_json(entries))
        else:
            from ..output.whole_image import print_snapshots

            print_snapshots(entries)

    @snapshot_app.command("restore")
    def restore(name: Annotated[str, typer.Argument(help="Snapshot name.")],
                image: ImageOpt = None) -> None:
        """Make snapshot NAME the image again (atomically: all or nothing).

        Example: `proto snapshot restore before-upgrade`
        """
        done = _images().restore_snapshot(current_image(image), name)
        print(f"restored {done['image']} from snapshot {done['name']}")

    @snapshot_app.command("delete")
    def delete(name: Annotated[str, typer.Argument(help="Snapshot name.")],
               image: ImageOpt = None) -> None:
        """Remove snapshot NAME.

        Example: `proto snapshot delete before-upgrade`
        """
        _images().delete_snapshot(current_image(image), name)
        print(f"deleted snapshot {name}")

    app.add_typer(snapshot_app, name="snapshot")

    @app.command()
    def diff(a: Annotated[str, typer.Argument(help="Image file or snapshot name.")],
             b: Annotated[str, typer.Argument(help="Image file or snapshot name.")],
             image: ImageOpt = None, json: JsonOpt = False,
             stat: Annotated[bool, typer.Option("--stat", help="A summary only.")] = False,
             ) -> None:
        """Slot-level differences, by object identity. Exit 0 equal, 1 different, 2 error.

        Example: `proto diff before.image after.image`
        """
        result = _images().diff(current_image(image), a, b)
        if json:
            print(dump_json(result.to_dict() if not stat else
                            {"a": a, "b": b, "equal": result.equal, "stat": result.stat()}))
        elif not result.equal:
            from ..output.whole_image import diff_lines, print_lines

            print_lines(diff_lines(result, stat))
        raise typer.Exit(0 if result.equal else 1)

    @app.command()
    def export(path: PathArg = None, image: ImageOpt = None,
               output: Annotated[str | None, typer.Option(
                   "--output", "-o", help="Write here (default: stdout).")] = None) -> None:
        """The image as canonical text: stable order, method sources verbatim.

        Example: `proto export -o world.txt`
        """
        written = _images().export(path or current_image(image), output)
        if written:
            print(f"exported to {written}")

    @app.command("import")
    def import_(source: Annotated[str, typer.Argument(help="Text export (- for stdin).")],
                output: Annotated[str, typer.Option(
                    "--output", "-o", help="The new image file.")]) -> None:
        """Build a new image from a text export.

        Example: `proto import world.txt -o copy.image`
        """
        print(f"imported {_images().import_text(source, output)}")

    @app.command()
    def digest(path: PathArg = None, image: ImageOpt = None, json: JsonOpt = False) -> None:
        """SHA-256 of the canonical text: same contents, same digest.

        Example: `proto digest demo.image`
        """
        value = _images().digest(path or current_image(image))
        print(dump_json({"digest": value}) if json else value)

    @app.command()
    def upgrade(path: PathArg = None, image: ImageOpt = None, json: JsonOpt = False) -> None:
        """Bring an image made by an earlier proto to this genesis and host API.

        Rewrites only what proto wrote (earlier genesis methods, learned bindings'
        imports), in one transaction; lists methods a person wrote that still import
        proto's modules. Example: `proto upgrade old.image`
        """
        target = path or current_image(image)
        done = _images().upgrade(target)
        if json:
            print(dump_json(done.to_dict()))
            return
        from ..output.whole_image import print_lines, upgrade_lines

        print_lines(upgrade_lines(done, target or "image"))

    @app.command()
    def verify(path: PathArg = None, image: ImageOpt = None, json: JsonOpt = False) -> None:
        """Check an image without running its code. Exit 1 when it has problems.

        Example: `proto verify demo.image`
        """
        target = path or current_image(image)
        report = _images().verify(target)
        if json:
            print(dump_json(report.to_dict()))
        else:
            from ..output.whole_image import print_lines, verify_lines

            print_lines(verify_lines(report, target or "image"))
        raise typer.Exit(0 if report.ok else 1)
