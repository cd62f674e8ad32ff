"""``tide check-ignore``: which paths ``.dvcignore`` files exclude, and by which pattern (as ``dvc check-ignore``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from tide.workspace.repo import Repo


@dataclass(frozen=True)
class Verdict:
    target: str               # as the user gave it
    ignored: bool             # what every tide command does with the path
    source: str | None = None  # the .dvcignore (relative to the root) whose pattern matched last
    line: int | None = None
    pattern: str | None = None


def check(repo: Repo, targets: list[str], cwd: str | None = None) -> list[Verdict]:
    cwd = cwd or os.getcwd()
    return [_verdict(repo, t, cwd) for t in targets]


def _verdict(repo: Repo, target: str, cwd: str) -> Verdict:
    path = os.path.normpath(os.path.join(cwd, target))
    rel = os.path.relpath(path, repo.root)
    if rel == "." or rel == ".." or rel.startswith(".." + os.sep):
        return Verdict(target, False)
    rel = rel.replace(os.sep, "/")
    is_dir = os.path.isdir(path)
    ignored = repo.ignore.is_ignored(rel, is_dir)
    last = repo.ignore.last_match(rel, is_dir)
    if last is None:
        return Verdict(target, ignored)
    return Verdict(target, ignored, *last)
