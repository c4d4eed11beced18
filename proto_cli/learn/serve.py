"""`proto model serve`: one warm model that many proto processes, people and CI runners
share over HTTP (see http_backend.py for the client side)."""

from __future__ import annotations

import os
import subprocess
import sys

from ..world.errors import UsageError

DEFAULT_PORT = 8537


def server_command(model: str, host: str, port: int, n_ctx: int = 4096,
                   threads: int | None = None) -> list[str]:
    """The child's command line: llama-cpp-python's server, loading as proto loads."""
    return [sys.executable, "-m", "proto_cli.learn.model_server",
            "--model", model, "--host", host, "--port", str(port),
            "--n_ctx", str(n_ctx), "--n_threads", str(threads or os.cpu_count() or 2),
            "--seed", "0", "--verbose", "False",
            "--model_alias", os.path.basename(model)]  # no local path in provenance


def model_for_serving(spec: str | None) -> str:
    """A GGUF path: the one named, or the default model, assembled and checked."""
    if spec:
        if spec.startswith(("http://", "https://", "scripted:")):
            raise UsageError("proto model serve serves a GGUF file (--model PATH), not "
                             f"{spec.split(':', 1)[0]}:")
        if not os.path.isfile(spec):
            raise UsageError(f"model file not found: {spec}")
        return spec
    from .modelfile import default_model_path

    return default_model_path()


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def run(model: str, host: str, port: int, say) -> int:
    """Serve in the foreground until interrupted; the server's exit code."""
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: a port is from 1 to 65535")
    command = server_command(model, host, port)
    say(f"serving {os.path.basename(model)} at {url_of(host, port)}")
    say(f"in another shell: export PROTO_MODEL_URL={url_of(host, port)}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        say(f"warning: {host} is reachable from other machines; the server has no "
            "authentication of its own")
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0
