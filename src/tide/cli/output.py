"""Rendering helpers shared by commands (plain text to stdout; errors go through main)."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


_JSON_OUT: list = [None]  # the real stdout while json_stdout() is active


def emit_json(data: Any, indent: int | None = None) -> None:
    """The one way a command prints its ``--json`` document (to the real stdout under json_stdout)."""
    import json

    out = _JSON_OUT[0] or sys.stdout
    out.write(json.dumps(data, indent=indent, ensure_ascii=False) + "\n")
    out.flush()


class json_stdout:  # a context manager
    """``--json``: stdout holds the JSON document only. Everything else written to stdout while the command
    runs, tide's step logs, a stage's command (a subprocess writing to file descriptor 1), a library,
    goes to stderr; :func:`emit_json` writes to the real stdout. Installed by ``cli.main`` for every
    command run with ``--json``, so no command can mix logs into its JSON."""

    def __enter__(self) -> None:
        import io

        from tide.core.redact import RedactingStream

        self._saved = sys.stdout
        self._fd = None
        sys.stdout.flush()
        try:
            real = sys.__stdout__ is not None and sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2
        except (AttributeError, OSError, ValueError):
            real = False  # stdout is not a file descriptor (captured in-process): Python-level only
        if real:
            self._fd = os.dup(1)
            os.dup2(2, 1)
            raw = io.TextIOWrapper(io.FileIO(self._fd, "w", closefd=False), encoding="utf-8", line_buffering=True)
            _JSON_OUT[0] = RedactingStream(raw)
        else:
            _JSON_OUT[0] = self._saved
        sys.stdout = sys.stderr

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        if _JSON_OUT[0] is not None:
            _JSON_OUT[0].flush()
        _JSON_OUT[0] = None
        sys.stdout = self._saved
        if self._fd is not None:
            os.dup2(self._fd, 1)
            os.close(self._fd)


def warn(lines: list[str] | tuple[str, ...]) -> None:
    """Warnings an operation returned, one line each on stderr."""
    for line in lines:
        print(line, file=sys.stderr)


def here(root: str, rel: str) -> str:
    """A repository-relative path as the user at the current directory names it (dvc prints
    paths relative to the current directory: ``git add`` run there must find them)."""
    import os

    return os.path.relpath(os.path.join(root, rel))


def git_hint(files: list[str], staged: bool, quiet: bool = False, root: str | None = None) -> None:
    """``files``: repository-relative (``root`` given: shown relative to the current directory)."""
    if quiet or not files:
        return
    if staged:
        print("Changes staged in git (core.autostage).")
        return
    print("\nTo track the changes with git, run:\n")
    shown = [here(root, f) for f in files] if root else files
    print("\tgit add " + " ".join(_shell_word(f) for f in shown))
    print("\nTo enable auto staging, run:\n\n\ttide config core.autostage true")


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")


def _shell_word(word: str) -> str:
    """``shlex.quote``: a word of only the characters it leaves bare is shown as it is, without importing
    shlex (and re: ~4 ms of every ``add``)."""
    if word and _PLAIN.issuperset(word):
        return word
    import shlex

    return shlex.quote(word)


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        ans = input(f"{question} [y/n] ")
    except EOFError:
        return False
    return ans.strip().lower() in ("y", "yes")


def repo():
    from tide.workspace.repo import Repo

    return Repo.find()
