"""`proto model serve`: one warm model that many proto processes, people and CI runners
share over HTTP (see http_backend.py for the client side)."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys

from ..errors import UsageError


def server_command(model: str, host: str, port: int, n_ctx: int = 4096,
                   threads: int | None = None) -> list[str]:
    """The server's command line: llama-cpp-python's server, loading as proto loads."""
    return [sys.executable, "-m", "proto_cli.learn.model_server",
            "--model", model, "--host", host, "--port", str(port),
            "--n_ctx", str(n_ctx), "--n_threads", str(threads or os.cpu_count() or 2),
            "--seed", "0", "--verbose", "False",
            "--model_alias", os.path.basename(model)]  # no local path in provenance


def check_server_installed() -> None:
    """Before the model is assembled (a minute the first time): the server can run."""
    for module in ("llama_cpp", "uvicorn", "fastapi"):
        if importlib.util.find_spec(module) is None:
            raise UsageError(f"proto model serve needs llama-cpp-python's server ({module} "
                             "is missing): pip install 'proto-image[model]'")


def model_for_serving(spec: str | None) -> str:
    """A GGUF path: the one named, or the default model, assembled and checked."""
    if spec:
        from .http_backend import is_url

        if is_url(spec) or spec.startswith("scripted:"):
            raise UsageError("proto model serve serves a GGUF file (--model PATH), not "
                             f"{spec.split(':', 1)[0]}:")
        if not os.path.isfile(spec):
            raise UsageError(f"model file not found: {spec}")
        try:
            with open(spec, "rb") as f:
                magic = f.read(4)
        except OSError as exc:
            raise UsageError(f"cannot read {spec}: {exc.strerror}") from None
        if magic != b"GGUF":
            raise UsageError(f"{spec} is not a GGUF model file")
        return spec
    from .modelfile import default_model_path

    return default_model_path()


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def check_address(host: str, port: int) -> None:
    """The address can be listened on: else one line now, not the server's traceback."""
    if not host or any(c.isspace() for c in host):
        raise UsageError(f"--host {host!r}: give an address (127.0.0.1 serves this machine "
                         "only)")
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: a port is from 1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UsageError(f"--host {host}: not an address this machine has") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def run(model: str, host: str, port: int, say) -> int:
    """Serve in the foreground: this process becomes the server (exec), so Ctrl-C and a
    kill reach it, and no server outlives the command that started it."""
    check_address(host, port)
    say(f"serving {os.path.basename(model)} at {url_of(host, port)}")
    say(f"in another shell: export PROTO_MODEL_URL={url_of(host, port)}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        say(f"warning: {host} is reachable from other machines; the server has no "
            "authentication of its own")
    sys.stdout.flush()
    sys.stderr.flush()
    command = server_command(model, host, port)
    os.execv(command[0], command)
    return 0  # not reached
