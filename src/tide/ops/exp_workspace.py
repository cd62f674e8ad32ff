"""``exp show``'s workspace row kept between runs while nothing it was made from has changed.

The row is computed through a reader that notes every file it reads (size, mtime, ctime and inode,
taken before the read; ``None`` for a missing file) and every directory it lists; it is kept in
``.dvc/tmp/tide-exps-cache/workspace.json`` with the lists of ``dvc.yaml`` and ``.dvc`` files found.
A later run walks the workspace for those lists as it always does, compares them and every noted file
and directory, and uses the row only when all are the same (no YAML parsed: a warm ``exp show``).
A file modified (mtime) within the last 2 s when the row was made keeps it from being saved (a change
inside the file system's timestamp resolution would go unseen: git's racy-index rule).
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time of exp show)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from tide.pipeline.revfs import WorkspaceFiles
    from tide.workspace.repo import Repo

_VERSION = "1"
_RACY_NS = 2_000_000_000


def _sig(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class _Recorder:
    """A workspace reader that notes what is read through it."""

    def __init__(self, inner: WorkspaceFiles) -> None:
        self._inner = inner
        self.read: dict[str, list[int] | None] = {}
        self.found: dict[str, list[str]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def read_bytes(self, abspath: str) -> bytes | None:
        self.read.setdefault(abspath, _sig(abspath))
        return self._inner.read_bytes(abspath)

    def read_text(self, abspath: str) -> str | None:
        self.read.setdefault(abspath, _sig(abspath))
        return self._inner.read_text(abspath)

    def find(self, abspath: str) -> list[str]:
        out = self._inner.find(abspath)
        self.found[abspath] = list(out)
        return out


def _path(repo: Repo) -> str:
    return os.path.join(repo.tmp_dir, "tide-exps-cache", "workspace.json")


def _lists(repo: Repo) -> list[list[str]]:
    from tide.workspace.index import find_dvc_files

    dvc_files, yamls = find_dvc_files(repo.root, repo.ignore)
    return [sorted(dvc_files), sorted(yamls)]


def cached(repo: Repo) -> dict[str, Any] | None:
    """The kept row, if everything it was made from is unchanged."""
    try:
        with open(_path(repo), encoding="utf-8") as f:
            kept = json.load(f)
        if kept.get("v") != _VERSION or kept["lists"] != _lists(repo):
            return None
        if any(_sig(p) != sig for p, sig in kept["read"].items()):
            return None
        if kept["found"]:
            from tide.pipeline.revfs import WorkspaceFiles

            files = WorkspaceFiles(repo)
            if any(files.find(d) != found for d, found in kept["found"].items()):
                return None
        return kept["data"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def compute(repo: Repo, make: Callable[[Any], dict[str, Any]], keep: bool) -> dict[str, Any]:
    """``make(reader)``'s row, kept for the next run when ``keep`` and no file it read is too new."""
    from tide.pipeline.revfs import WorkspaceFiles

    lists = _lists(repo)  # before reading: a file added meanwhile makes the next run read afresh
    rec = _Recorder(WorkspaceFiles(repo))
    data = make(rec)
    newest = max((s[1] for s in rec.read.values() if s), default=0)  # mtimes, as git's racy rule
    if keep and newest < time.time_ns() - _RACY_NS:
        path = _path(repo)
        try:
            text = json.dumps({"v": _VERSION, "lists": lists, "read": rec.read, "found": rec.found, "data": data})
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError):  # a value JSON cannot hold (a date in params): not kept
            pass
    return data
