"""tide's command line: a fast dispatcher over one module per command.

``tide --version`` and ``tide --help`` import nothing but this file. Each command lives in
``tide/cli/cmd_<name>.py`` with ``register(parser)`` and ``run(args) -> int``; only the module of
the command being run is imported.
"""

from __future__ import annotations

import os
import sys

# name: (module, one-line help). Commands whose module is not installed are hidden.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "Create a tide/DVC repository in the current git repository"),
    "add": ("add", "Track files or directories: hash, cache, write .dvc files"),
    "status": ("status", "Show changed outputs and stages (or, with -c, what a remote lacks)"),
    "checkout": ("checkout", "Restore tracked outputs from the cache"),
    "commit": ("commit", "Record changes of tracked outputs in .dvc files and the cache"),
    "remove": ("remove", "Stop tracking outputs (keep the data unless --outs)"),
    "move": ("move", "Rename a tracked output and its .dvc file"),
    "mv": ("move", "Rename a tracked output and its .dvc file (alias of move)"),
    "rm": ("remove", "Stop tracking outputs (alias of remove)"),
    "diff": ("diff", "Show tracked files changed between revisions"),
    "gc": ("gc", "Delete unused objects from the cache (or, with -c, from a remote)"),
    "fsck": ("fsck", "Re-hash the cache and check every tracked object is present"),
    "cache": ("cache", "Cache settings (tide cache dir)"),
    "config": ("config", "Get, set, unset or list configuration options"),
    "remote": ("remote", "Manage remote storage (add, modify, list, remove, default, rename)"),
    "push": ("push", "Upload tracked data to remote storage"),
    "pull": ("pull", "Download tracked data from remote storage and check it out"),
    "fetch": ("fetch", "Download tracked data from remote storage into the cache"),
    "repro": ("repro", "Reproduce pipeline stages whose inputs changed"),
    "stage": ("stage", "Add or list pipeline stages"),
    "dag": ("dag", "Show the pipeline graph"),
    "freeze": ("freeze", "Freeze stages or .dvc files: repro and update skip them"),
    "unfreeze": ("unfreeze", "Unfreeze stages or .dvc files"),
    "unprotect": ("unprotect", "Make data linked to the cache a writable copy"),
    "check-ignore": ("check_ignore", "Show which paths .dvcignore excludes, and by which pattern"),
    "install": ("install", "Install git hooks: checkout after git checkout, status before commit, push before push"),
    "git-hook": ("git_hook", "Run what a hook installed by 'tide install' runs"),
    "destroy": ("destroy", "Remove tide/DVC from the repository, leaving the data as plain files"),
    "data": ("data", "Show changes between the last commit, the .dvc files and the workspace (data status)"),
    "root": ("root", "Show the repository root, relative to the current directory"),
    "metrics": ("metrics", "Show and compare metrics"),
    "params": ("params", "Compare parameters between revisions"),
    "exp": ("exp", "Experiments: run, queue, show, compare, apply, share (dvc's refs/exps)"),
    "queue": ("queue", "Run queued experiments on parallel workers; status, logs, kill"),
    "plots": ("plots", "Render and compare plots"),
    "ci": ("ci", "Prepare the repository in CI (git user, fetch, token remote)"),
    "repo": ("repo", "Repository preparation (tide repo prepare)"),
    "pr": ("pr", "Open or update a pull request with changed files"),
    "comment": ("comment", "Post or update a report comment"),
    "report": ("report", "Build a markdown report: metrics and params vs a base, plots"),
    "check": ("check", "Create a check run with a report"),
    "asset": ("asset", "Publish a file (image) for reports: tide asset publish FILE --md"),
    "forge": ("forge", "The embedded local forge (tide forge show)"),
    "runner": ("runner", "Provision compute for training and tear it down"),
    "run": ("run", "Run a command on a provisioned runner"),
    "model": ("model", "Model registry: register, assign, promote, show"),
    "list": ("ls", "List a repository's files, git- and dvc-tracked, at a revision"),
    "ls": ("ls", "List a repository's files, git- and dvc-tracked, at a revision (alias of list)"),
    "du": ("du", "Show the disk usage of a repository's files, git- and dvc-tracked, at a revision"),
    "get": ("get", "Download a file or directory of another repository (git- or dvc-tracked)"),
    "artifacts": ("artifacts", "Download an artifact of a registry repository (dvc artifacts get)"),
    "get-url": ("get_url", "Download a file or directory from a URL (local path, s3://, http://, ...)"),
    "list-url": ("ls_url", "List what is at a URL (local path, s3://, http://, ...), as dvc list-url"),
    "ls-url": ("ls_url", "List what is at a URL (alias of list-url)"),
    "import": ("import", "Track a file or directory of another repository (frozen import, as dvc import)"),
    "import-url": ("import_url", "Track a file or directory from a URL (frozen import, as dvc import-url)"),
    "update": ("update", "Bring imports up to date with their source"),
    "import-db": ("import_db", "Import a database table or query as versioned data"),
    "retrain": ("retrain", "Run the whole retraining loop once"),
    "schedule": ("schedule", "Install or show the retraining schedule"),
    "demo": ("demo", "Run the retraining loop on embedded defaults"),
    "ui": ("ui", "Serve a read-only local web app over the repository's history"),
    "version": ("version", "Show tide's version and environment"),
    "completion": ("completion", "Print a shell completion script (bash, zsh)"),
    "doctor": ("doctor", "Show the environment and whether tide retrain can run here"),
}


# CML's deprecated command names (``cml publish``, ``cml send-comment``...): they run the tide command
# they name, after one line on stderr saying the new name. name: (the tide command line it stands for).
CML_ALIASES: dict[str, tuple[str, ...]] = {
    "publish": ("asset", "publish"),
    "send-comment": ("comment", "create"),
    "send-github-check": ("check", "create"),
}
# CML commands tide does not have: one line naming what to do instead.
CML_REFUSED: dict[str, str] = {
    "tensorboard-dev": "TensorBoard.dev was shut down on 2024-01-01 (CML's 'tensorboard' is dead too): render plots"
                       " with 'tide plots show' and post them with 'tide comment create'",
    "tensorboard": "TensorBoard.dev was shut down on 2024-01-01: render plots with 'tide plots show' and post them"
                   " with 'tide comment create'",
    "rerun-workflow": "tide does not re-run CI workflows: use the forge ('gh run rerun ID', GitLab's 'Retry')",
    "workflow": "tide does not re-run CI workflows: use the forge ('gh run rerun ID', GitLab's 'Retry')",
}
LOG_LEVELS = ("error", "warn", "info", "debug")


def available(module: str) -> bool:
    here = os.path.dirname(__file__)
    return os.path.exists(os.path.join(here, f"cmd_{module}.py"))


def _print_help() -> None:
    from tide import __version__

    lines = [
        f"usage: tide [-h] [-V] COMMAND [ARGS...]   (tide {__version__})",
        "",
        "Continuous training for machine learning: DVC-compatible data and model versioning,",
        "pipelines, forge reports, runners and a model registry in one tool.",
        "",
        "commands:",
    ]
    for name, (mod, text) in COMMANDS.items():
        if available(mod):
            lines.append(f"  {name:<11} {text}")
    lines += ["", "Run 'tide COMMAND --help' for a command's options."]
    print("\n".join(lines))


def build_parser(name: str, module):
    import argparse

    parser = argparse.ArgumentParser(
        prog=f"tide {name}", description=COMMANDS[name][1] + ".", formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _global_options(parser)
    module.register(parser)
    _globals_after_action(parser)
    return parser


def _global_options(parser) -> None:
    """The options of every command (before its action: after it, ``_globals_after_action``)."""
    parser.add_argument("-v", "--verbose", action="count", default=0, help="show details (tracebacks of errors)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("--log", choices=LOG_LEVELS, help="CML's log level: debug = -v, error = -q")


def _globals_after_action(parser) -> None:
    """-v, -q and --log are accepted after a subcommand's action too (``tide runner launch -v``), as
    CML accepts its global options anywhere. Defaults are SUPPRESS so a value given before the action
    is kept when none is given after it."""
    import argparse

    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for sub in set(action.choices.values()):
            have = sub._option_string_actions
            if "-v" not in have and "--verbose" not in have:
                sub.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                                 help="show details (tracebacks of errors)")
            if "-q" not in have and "--quiet" not in have:
                sub.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                                 help="print only errors")
            if "--log" not in have:
                sub.add_argument("--log", choices=LOG_LEVELS, default=argparse.SUPPRESS, help="debug = -v, error = -q")
            _globals_after_action(sub)


_GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "--verbose", "-vv", "-vvv"})


def _hoist_global_options(argv: list[str]) -> list[str]:
    """dvc takes its global options before the command too (``dvc -q add x``, ``dvc --cd d status``):
    ``-q``/``-v`` there move after the command name (every command has them), ``--cd DIR`` changes
    the working directory first."""
    flags: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in _GLOBAL_FLAGS:
            flags.append(a)
        elif a == "--log" and i + 1 < len(argv):
            flags += [a, argv[i + 1]]
            i += 1
        elif a.startswith("--log="):
            flags.append(a)
        elif a == "--cd" and i + 1 < len(argv):
            i += 1
            _chdir(argv[i])
        elif a.startswith("--cd="):
            _chdir(a[len("--cd="):])
        else:
            break
        i += 1
    rest = argv[i:]
    if not flags or not rest or rest[0].startswith("-"):
        return rest if i else argv
    return [rest[0], *flags, *rest[1:]]


def _chdir(path: str) -> None:
    import os

    try:
        os.chdir(path)
    except OSError as exc:
        print(f"ERROR: --cd {path}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> int:
    argv = _hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    if not argv or argv[0] in ("-h", "--help", "help"):
        if len(argv) > 1 and argv[0] == "help":
            argv = [argv[1], "--help"]
        else:
            _print_help()
            return 0
    if argv[0] in ("-V", "--version"):
        from tide import __version__

        print(__version__)
        return 0
    name = argv[0]
    if name in CML_ALIASES:
        new = CML_ALIASES[name]
        print(f"tide: '{name}' is CML's deprecated name; use 'tide {' '.join(new)}'", file=sys.stderr)
        argv = [*new, *argv[1:]]
        name = argv[0]
    elif name in CML_REFUSED:
        print(f"ERROR: '{name}' is not supported: {CML_REFUSED[name]}", file=sys.stderr)
        return 2
    if name.startswith("-"):
        print(f"tide: unknown option '{name}'; see 'tide --help'", file=sys.stderr)
        return 2
    if name not in COMMANDS or not available(COMMANDS[name][0]):
        import difflib

        close = difflib.get_close_matches(name, [n for n, (m, _) in COMMANDS.items() if available(m)], n=1)
        hint = f"; did you mean '{close[0]}'?" if close else "; see 'tide --help'"
        print(f"tide: '{name}' is not a tide command{hint}", file=sys.stderr)
        return 2
    import importlib

    module = importlib.import_module(f"tide.cli.cmd_{COMMANDS[name][0]}")
    words = argv[1:]
    args = None if any(w.startswith("-") for w in words) else _plain_words(module, words)
    if args is None:
        rest = argv[1:]
        default_action = getattr(module, "DEFAULT_ACTION", "")
        if default_action and _starts_with_option(rest):
            rest = [default_action, *rest]  # CML's 'cml runner --cloud=aws ...' means 'runner launch'
        if rest and rest[0] in getattr(module, "PLAIN_ACTIONS", ()):
            from tide.cli import plainargs  # 'tide exp show -A': no argparse (see the module)

            args = plainargs.parse(module, _global_options, rest)
        if args is None:
            args = build_parser(name, module).parse_args(rest)
    refused = getattr(args, "cml_refused", None)
    if refused:
        print(f"ERROR: {refused}", file=sys.stderr)
        return 2
    _apply_log_level(args)
    return run_command(module, args)


def _starts_with_option(rest: list[str]) -> bool:
    """Whether the first argument that is not a global option (-v, -q, --log L) is an option: then a
    command with a DEFAULT_ACTION runs that action (``tide runner --cloud aws`` = ``runner launch``)."""
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in _GLOBAL_FLAGS or a.startswith("--log="):
            i += 1
        elif a == "--log":
            i += 2
        else:
            return a.startswith("-") and a not in ("-h", "--help")
    return False


def _apply_log_level(args) -> None:
    """CML's ``--log error|warn|info|debug``: debug shows details (as -v), error prints only errors
    (as -q); warn and info are tide's default output."""
    level = getattr(args, "log", None)
    if level == "debug":
        args.verbose = max(int(getattr(args, "verbose", 0) or 0), 1)
    elif level == "error":
        args.quiet = True


class _NeedArgparse(Exception):
    pass


class _Defaults:
    """Stands in for an ``argparse`` parser when a command is run with no option (``tide status``,
    ``tide add data``): the command's ``register`` declares its options here and the result is the
    namespace of their defaults, the words going to its one positional argument (``_plain_words``),
    without importing argparse (~12 ms of a ~90 ms command, with re, gettext and locale).
    Anything this does not model exactly (subcommands, required arguments, custom actions, typed
    string defaults) raises ``_NeedArgparse`` and argparse parses as usual."""

    _NONE_DEFAULT = (None, "store", "store_const", "append", "append_const", "count", "extend")

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.overrides: dict[str, object] = {}
        self.positionals: list[tuple[str, str]] = []  # (dest, nargs)

    def add_argument(self, *names: str, **kw: object) -> None:
        action = kw.get("action")
        if action in ("help", "version"):
            return
        if not isinstance(action, (str, type(None))) or kw.get("required"):
            raise _NeedArgparse
        if not names[0].startswith("-"):  # positional: a list of words, or one optional word
            nargs = kw.get("nargs")
            if nargs not in ("*", "+", "?") or "type" in kw or "choices" in kw:
                raise _NeedArgparse
            dest = str(kw.get("dest") or names[0])
            default = kw.get("default", [] if nargs == "*" else None)
            self.positionals.append((dest, str(nargs)))
        else:
            long = [n for n in names if n.startswith("--")]
            dest = str(kw.get("dest") or (long[0] if long else names[0]).lstrip("-").replace("-", "_"))
            if "default" in kw:
                default = kw["default"]
            elif action == "store_true":
                default = False
            elif action == "store_false":
                default = True
            elif action in self._NONE_DEFAULT:
                default = None
            else:
                raise _NeedArgparse
        if isinstance(default, str) and "type" in kw:
            raise _NeedArgparse  # argparse would convert it
        self.values.setdefault(dest, default)

    def add_mutually_exclusive_group(self, **kw: object) -> _Defaults:
        if kw.get("required"):
            raise _NeedArgparse
        return self

    def add_argument_group(self, *args: object, **kw: object) -> _Defaults:
        return self

    def set_defaults(self, **kw: object) -> None:
        self.overrides.update(kw)

    def __getattr__(self, name: str) -> object:
        raise _NeedArgparse  # add_subparsers and anything else: let argparse do it


def _plain_words(module, words: list[str]):
    """The arguments of a command run with no option, only plain ``words`` (none starting with "-"): its
    options' defaults and the words as its one positional argument (``tide add data``, ``tide push``); or
    None when only argparse can tell."""
    from types import SimpleNamespace

    stub = _Defaults()
    stub.add_argument("-v", "--verbose", action="count", default=0)
    stub.add_argument("-q", "--quiet", action="store_true")
    stub.add_argument("--log")
    try:
        module.register(stub)
    except _NeedArgparse:
        return None
    if words:
        if len(stub.positionals) != 1:
            return None
        dest, nargs = stub.positionals[0]
        if nargs == "?" and len(words) > 1:
            return None
        stub.values[dest] = list(words) if nargs != "?" else words[0]
    elif any(nargs == "+" for _, nargs in stub.positionals):
        return None  # a required argument is missing: argparse says so
    return SimpleNamespace(**{**stub.values, **stub.overrides})


def _planted_leak() -> None:
    """Test-only (``TIDE_TEST_PLANT_LEAK=1``): a deliberate secret leak, so that
    tests/reliability/test_torture_gates.py can show the canary part of ``make torture`` fails on one.
    Prints only canary values (tests/reliability/canaries.py), never a real credential. The canaries' prefix is
    joined at run time: tide's source (and a copy of it a test installs) must not hold it, or the canary scan
    of the files tests write would flag tide itself (tests/test_hermetic.py checks)."""
    prefix = "".join(("tide", "canary"))
    for k, v in sorted(os.environ.items()):
        if v.lower().startswith(prefix):  # straight to the file descriptor: past the redacting streams,
            os.write(2, f"debug: {k}={v}\n".encode())  # as a leak through a channel they do not cover would be


def run_command(module, args) -> int:
    from tide.core.redact import redacting_streams

    with redacting_streams():  # every line tide prints (rich, logs, errors) goes through the one redaction
        return _run_command(module, args)


def _run_command(module, args) -> int:
    from tide.core import logs
    from tide.core.errors import TideError

    if os.environ.get("TIDE_TEST_PLANT_LEAK") == "1":
        _planted_leak()

    if getattr(args, "verbose", 0):
        logs.show_library_logs()
    elif not (getattr(module, "LIGHT", False) or getattr(args, "action", None) in getattr(module, "LIGHT_ACTIONS", ())):
        logs.quiet_library_logs()  # a LIGHT command (or action) leaves it to the code that loads a library
    try:
        if getattr(args, "json", False) is True:
            from tide.cli.output import json_stdout

            with json_stdout():  # stdout holds the JSON only; logs go to stderr
                return int(module.run(args) or 0)
        return int(module.run(args) or 0)
    except TideError as exc:
        if getattr(args, "verbose", 0):
            import traceback

            traceback.print_exc()
            if exc.details:
                print(exc.details, file=sys.stderr)
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("ERROR: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 1
    except OSError as exc:
        # an outside failure we did not anticipate more precisely: still one line, no traceback
        if getattr(args, "verbose", 0):
            import traceback

            traceback.print_exc()
        where = f" '{exc.filename}'" if getattr(exc, "filename", None) else ""
        print(f"ERROR: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
