"""tide run --on SPEC [--sync] [--keep] -- COMMAND."""

from __future__ import annotations


def register(p) -> None:
    p.add_argument("--on", required=True, metavar="SPEC",
                   help="local, ssh://USER@HOST[:PORT], aws:TYPE[:spot], gcp:TYPE, azure:TYPE or a tide.yaml profile")
    p.add_argument("--sync", action="store_true", help="ship uncommitted changes too (default: HEAD)")
    p.add_argument("--keep", action="store_true", help="keep the job directory on the runner")
    p.add_argument("--no-setup", action="store_true", help="skip requirements.txt / pyproject.toml setup")
    p.add_argument("--no-push", action="store_true", help="do not push new objects to the default remote")
    p.add_argument("--max-runtime", default=None, help="stop the command after this long (e.g. 2h; default 72h)")
    p.add_argument("--branch", default="", help="branch for the changed files (default: tide-run/NAME)")
    p.add_argument("--cloud-ssh-private", default="", help="private key for ssh targets and cloud machines")
    p.add_argument("command", nargs="*", metavar="-- COMMAND")


def _write(data: bytes) -> None:
    import sys

    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _log(line: str) -> None:
    import sys

    print(f"tide run: {line}", file=sys.stderr, flush=True)


def run(args) -> int:
    import os

    from tide.core.git import find_root
    from tide.ops.run import run_on
    from tide.runners.base import DEFAULT_MAX_RUNTIME, parse_duration

    cmd = list(args.command)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    root = find_root(os.getcwd())
    if root is None:
        from tide.core.errors import UsageError

        raise UsageError("tide run ships a git repository: run it inside one")
    max_rt = None if args.max_runtime is None else parse_duration(args.max_runtime, "--max-runtime",
                                                                   DEFAULT_MAX_RUNTIME)
    from tide.cli.signals import sigterm_interrupts

    sigterm_interrupts()  # SIGTERM tears the runner down as Ctrl-C does
    out = run_on(root, args.on, cmd, sync=args.sync, keep=args.keep, setup=not args.no_setup, max_runtime=max_rt,
                 ssh_private=args.cloud_ssh_private, branch=args.branch, push=not args.no_push,
                 write=_write, log=_log)
    if not args.quiet:
        summary = f"tide run: {out.name} exit code {out.exit_code} ({out.reason})"
        if out.branch:
            summary += f"; changes on branch {out.branch} ({out.commit[:8]})"
        print(summary, flush=True)
    if out.exit_code is None:
        return 1
    return out.exit_code if out.exit_code >= 0 else 128 - out.exit_code
