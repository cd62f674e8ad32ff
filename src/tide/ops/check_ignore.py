"""``tide check-ignore``: which paths ``.dvcignore`` files exclude, and by which pattern (as ``dvc check-ignore``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from tide.workspace.ignore import NAME
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
    files: dict[str, list[tuple[int, str]] | None] = {}
    return [_verdict(repo, t, cwd, files) for t in targets]


def _verdict(repo: Repo, target: str, cwd: str, files: dict) -> Verdict:
    path = os.path.normpath(os.path.join(cwd, target))
    rel = os.path.relpath(path, repo.root)
    if rel == "." or rel == ".." or rel.startswith(".." + os.sep):
        return Verdict(target, False)
    rel = rel.replace(os.sep, "/")
    is_dir = os.path.isdir(path)
    ignored = repo.ignore.is_ignored(rel, is_dir)
    parts = rel.split("/")
    last = None
    for i in range(len(parts)):  # .dvcignore files from the root down, parents before the path itself
        reldir = "/".join(parts[:i])
        spec = _spec(repo.root, reldir, files)
        if spec is None:
            continue
        lines, pspec = spec
        for j in range(i + 1, len(parts) + 1):
            sub = "/".join(parts[i:j])
            hit = pspec.check_file(sub + "/" if (j < len(parts) or is_dir) else sub)
            if hit.index is not None:
                last = (f"{reldir}/{NAME}" if reldir else NAME, *lines[hit.index])
    if last is None:
        return Verdict(target, ignored)
    return Verdict(target, ignored, *last)


def _spec(root: str, reldir: str, cache: dict):
    if reldir not in cache:
        try:
            with open(os.path.join(root, reldir, NAME), encoding="utf-8") as f:
                raw = f.read().splitlines()
        except (FileNotFoundError, NotADirectoryError):
            cache[reldir] = None
            return None
        lines = [(n, ln) for n, ln in enumerate(raw, 1) if ln.strip() and not ln.lstrip().startswith("#")]
        import pathspec

        cache[reldir] = (lines, pathspec.GitIgnoreSpec.from_lines([ln for _, ln in lines])) if lines else None
    return cache[reldir]
