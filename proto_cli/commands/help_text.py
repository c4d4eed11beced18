"""Help that reads like click's: `PATH`, `TEXT`, `INTEGER` for what an option takes, and
nothing for a flag or an argument (Typer 0.29 shows `<str>`, `<bool>`, `<list[str]>`,
so a flag looked as if it took a value).

Typer draws each parameter's type column from `display_type`; proto replaces that one
method, once, before the app parses. tests/test_cli.py fails loudly if Typer renames it.
"""

from __future__ import annotations

_PATHS = ("image", "output", "file", "path", "source", "context", "header", "dir")


def label(param) -> str | None:
    """What an option takes, in click's words; None for a flag or an argument."""
    if getattr(param, "is_flag", False) or not hasattr(param, "opts") \
            or type(param).__name__.endswith("Argument"):
        return None
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", str)
    element = getattr(annotation, "__args__", (annotation,))[0]
    name = (param.name or "").lower()
    if element is bool:
        return None
    if element is int:
        return "INTEGER"
    if element is float:
        return "NUMBER"
    if any(word in name for word in _PATHS):
        return "PATH"
    if name == "model":
        return "MODEL"
    return "TEXT"


def install() -> None:
    import typer.core

    def display_type(self, ctx) -> str | None:
        return label(self)

    typer.core._TyperParameter.display_type = display_type
