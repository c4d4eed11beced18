"""`proto sandbox`: run untrusted code inside bubblewrap, and check the host.

Exit codes: 0 the verdict is ok (or the sandbox is usable), 1 the sandboxed
command failed, 2 the sandbox is unavailable or the invocation is bad."""

from __future__ import annotations

import json
import warnings
from typing import Annotated

import typer

import sandbox
from sandbox import Limits, SandboxUnavailable, UnsandboxedWarning

app = typer.Typer(help="Run untrusted code inside bubblewrap.", no_args_is_help=True)

_DEFAULTS = Limits()
EXIT_OK, EXIT_FAILED, EXIT_UNAVAILABLE = 0, 1, 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"proto: {message}", err=True)
    return typer.Exit(EXIT_UNAVAILABLE)


@app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run_command(
    cmd: Annotated[list[str] | None, typer.Argument(help="The command, after `--`.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Wall-clock seconds.")] = (
        _DEFAULTS.wall_s
    ),
    memory: Annotated[int, typer.Option(
        "--memory", help="Memory of the whole sandbox, MB (`check` says how it is held).",
    )] = _DEFAULTS.memory_mb,
    cpu: Annotated[int, typer.Option("--cpu", help="CPU seconds.")] = _DEFAULTS.cpu_s,
    processes: Annotated[int, typer.Option("--processes", help="Max processes.")] = (
        _DEFAULTS.processes
    ),
    output_kb: Annotated[int, typer.Option("--output-kb", help="KiB kept per stream.")] = (
        _DEFAULTS.output_kb
    ),
    bind: Annotated[
        list[str] | None,
        typer.Option("--bind", help="Extra read-only host path (PATH or SRC:DEST); repeatable."),
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", help="KEY=VALUE for the sandbox; repeatable.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    unsafe_no_sandbox: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-sandbox",
            help="UNSAFE: if bubblewrap is unavailable, run WITHOUT isolation "
            "(limits still apply) instead of failing.",
        ),
    ] = False,
) -> None:
    """Run CMD in a fresh sandbox and report the verdict.

    Example: `proto sandbox run --json -- python3 -c 'print(1)'`
    """
    if not cmd:
        raise _fail("nothing to run: give the command after `--`, e.g. `run -- echo hi`")
    try:
        limits = Limits(cpu_s=cpu, memory_mb=memory, processes=processes,
                        wall_s=timeout, output_kb=output_kb)
        env_map = dict(_split_env(item) for item in env or [])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnsandboxedWarning)
            verdict = sandbox.run(cmd, binds=bind or [], limits=limits, env=env_map,
                                  allow_unsandboxed=unsafe_no_sandbox)
        for w in caught:
            typer.echo(f"proto: warning: {w.message}", err=True)
    except SandboxUnavailable as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(verdict.to_json())
    else:
        _print_verdict(verdict)
    raise typer.Exit(EXIT_OK if verdict.ok else EXIT_FAILED)


def _split_env(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ValueError(f"bad --env {item!r}: expected KEY=VALUE")
    return key, value


def _print_verdict(v: sandbox.Verdict) -> None:
    exit_code = "-" if v.exit_code is None else str(v.exit_code)
    typer.echo(
        f"status: {v.status}  kind: {v.kind}  exit: {exit_code}  "
        f"signal: {v.signal or '-'}  duration: {v.duration_s:.3f} s"
        + ("" if v.sandboxed else "  (UNSANDBOXED)")
    )
    if v.detail:
        typer.echo(f"detail: {v.detail}")
    for name, text, cut in (("stdout", v.stdout, v.stdout_truncated),
                            ("stderr", v.stderr, v.stderr_truncated)):
        if text or cut:
            typer.echo(f"--- {name}{' (truncated)' if cut else ''} ---")
            typer.echo(text, nl=not text.endswith("\n"))


@app.command("check")
def check_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Report whether bubblewrap works here, and the policy it enforces.

    Example: `proto sandbox check`
    """
    report = sandbox.check()
    if as_json:
        typer.echo(json.dumps(report))
    else:
        _print_report(report)
    raise typer.Exit(EXIT_OK if report["usable"] else EXIT_UNAVAILABLE)


def _memory_line(m: dict) -> str:  # type: ignore[type-arg]
    if m["mode"] == "cgroup":
        return (f"cgroup: memory.max holds the whole sandbox to --memory (children of "
                f"{m['cgroup_parent']}{', no swap' if m['swap_limited'] else ''}), "
                f"plus RLIMIT_AS per process")
    return (f"per-process: --memory is divided among processes: {m['memory_mb']:g} MB = "
            f"{m['processes']} processes x {m['process_memory_mb']:g} MB of address space; "
            f"no cgroup memory limit: {m['reason']}")


def _print_report(r: dict) -> None:  # type: ignore[type-arg]
    bw = r["bwrap"]
    typer.echo(f"bubblewrap:      {bw['path'] or 'not found'}"
               + (f" ({bw['version']})" if bw.get("version") else ""))
    ns, user = r["namespaces"], r["user_namespaces"]
    if bw["path"]:
        typer.echo(f"namespaces:      {'ok' if ns['ok'] else 'FAILED: ' + str(ns['error'])}")
        typer.echo(f"user namespaces: {'ok' if user['ok'] else 'FAILED: ' + str(user['error'])}"
                   + ("" if user["needed"] else " (not needed as root)"))
    typer.echo(f"mode:            {r['mode']}")
    if r.get("probe"):
        p = r["probe"]
        typer.echo(f"probe:           {p['status']} ({p['kind']}) in {p['duration_s']:.3f} s")
    pol = r["policy"]
    typer.echo(f"read-only:       {', '.join(pol['read_only_binds'])}")
    typer.echo(f"tmpfs:           {', '.join(pol['tmpfs'])} (workdir {pol['workdir']})")
    typer.echo(f"network:         {pol['network']}")
    typer.echo(f"identity:        {pol['identity']}")
    limits = ", ".join(f"{k}={v:g}" for k, v in pol["limits"].items())
    typer.echo(f"default limits:  {limits}")
    typer.echo(f"memory limit:    {_memory_line(r['memory'])}")
    if r["usable"]:
        typer.echo("usable:          yes")
    else:
        typer.echo(f"usable:          NO: {r['error']}")
        if r.get("fix"):
            typer.echo(f"fix:             {r['fix']}")
