"""The child process `proto model serve` runs: llama-cpp-python's own OpenAI-compatible
server (`llama_cpp.server`), with the model loaded the way proto loads it in-process.

llama-cpp-python 0.3.36's server, left to its default model parameters, repacks the
Q4_K weights for AVX2 (`use_extra_bufts`) and died with a segmentation fault at the
first completion on this machine; loaded from the mapped file (the in-process loader's
setting, llama_adapter.mapped_weights) the same server answers. So map_weights adjusts
the default parameters for the whole life of this process before the server loads.

Run as `python -m proto_cli.learn.model_server ARGS...`, ARGS being the server's own.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    try:
        from llama_cpp.server.__main__ import main as serve
    except ImportError as exc:
        print(f"proto: the model server needs llama-cpp-python's server extra "
              f"(pip install 'proto-image[model]'): {exc.name} is missing", file=sys.stderr)
        return 2
    from .llama_adapter import map_weights

    map_weights()  # for the life of this process: the server loads the model later
    sys.argv = ["llama_cpp.server", *argv]
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
