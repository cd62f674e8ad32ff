"""``tide params diff``: parameters of two versions, compared the way dvc does."""

from __future__ import annotations

from typing import Any

from tide.ops.metrics import at_rev, no_commits
from tide.pipeline import metrics as m
from tide.pipeline.revfs import WORKSPACE, reader_for
from tide.workspace.repo import Repo


def show(repo: Repo, rev: str = WORKSPACE, targets: list[str] | None = None, deps: bool = False) -> dict[str, Any]:
    return m.read_params(reader_for(repo, rev), targets, deps)


def diff(repo: Repo, a_rev: str = "HEAD", b_rev: str = WORKSPACE, targets: list[str] | None = None,
         with_unchanged: bool = False, deps: bool = False, warn=None) -> dict[str, Any]:
    if no_commits(repo):
        return {}
    old = at_rev(repo, a_rev, "params", lambda f: m.read_params(f, targets, deps), warn)
    new = at_rev(repo, b_rev, "params", lambda f: m.read_params(f, targets, deps), warn)
    return m.diff(old, new, with_unchanged)
