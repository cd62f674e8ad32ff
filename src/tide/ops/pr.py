"""``tide pr create``: commit changed files to a branch, push it, open (or update) the pull request.

Conventions as CML: branch ``<target>-cml-pr-<sha8>``, message ``CML PR for <sha8>`` with
`` [skip ci]`` appended when ``skip_ci`` is set or when neither a message nor a merge flag was given.
Unlike CML, an existing branch is updated with a new commit and its open PR is updated, and the
user's working tree, index and HEAD are left alone: the commit is built in a temporary index.

Python API (stable, used by ``tide retrain``)::

    create_pr(["model/*"], path=repo_root, skip_ci=True) -> PrResult | None
"""

from __future__ import annotations

import glob as globmod
import os
from dataclasses import dataclass

from tide.core.errors import ForgeError, GitError, UsageError
from tide.core.git import Git
from tide.core.redact import redact
from tide.forge.base import PullRequest
from tide.ops.forge import ForgeContext, open_forge

DEFAULT_USER = ("tide[bot]", "tide-bot@users.noreply.localhost")


@dataclass(frozen=True)
class PrResult:
    url: str
    number: int
    branch: str
    target: str
    commit: str            # the commit pushed (empty when nothing new was committed)
    created: bool          # a new PR was opened (else an existing one was updated)
    merge: str = ""        # "", "auto" or "merged"

    def markdown(self, noun: str = "pull request") -> str:
        return f"[tide {noun} #{self.number}]({self.url})"


def select(changed: list[str], globs: list[str], root: str, cwd: str) -> list[str]:
    if not globs:
        return changed
    chosen: set[str] = set()
    for pattern in globs:
        full = os.path.join(cwd, pattern)
        matches = globmod.glob(full, recursive=True, include_hidden=True)
        if not matches and not globmod.has_magic(pattern):
            matches = [full]  # a deleted file, or a directory of deletions
        for m in matches:
            rel = os.path.relpath(os.path.abspath(m), root).replace(os.sep, "/")
            if rel == ".":
                chosen.update(changed)
                continue
            chosen.update(c for c in changed if c == rel or c.startswith(rel.rstrip("/") + "/"))
    return [c for c in changed if c in chosen]


def _identity(git: Git, name: str | None, email: str | None) -> dict[str, str]:
    def cfg(key: str, envvar: str) -> str:
        v = os.environ.get(envvar)
        if v:
            return v
        proc = git.run("config", "--get", key, check=False)
        return proc.stdout.decode().strip()

    n = name or cfg("user.name", "GIT_AUTHOR_NAME") or DEFAULT_USER[0]
    e = email or cfg("user.email", "GIT_AUTHOR_EMAIL") or DEFAULT_USER[1]
    return {"GIT_AUTHOR_NAME": n, "GIT_AUTHOR_EMAIL": e, "GIT_COMMITTER_NAME": n, "GIT_COMMITTER_EMAIL": e}


def create_pr(
    globs: list[str] | None = None,
    *,
    path: str | None = None,
    branch: str | None = None,
    target_branch: str | None = None,
    title: str | None = None,
    body: str | None = None,
    message: str | None = None,
    skip_ci: bool = False,
    merge: str | None = None,
    user_name: str | None = None,
    user_email: str | None = None,
    ctx: ForgeContext | None = None,
    **forge_options: str | None,
) -> PrResult | None:
    """Returns None when ``globs`` were given and none of the changed files match them."""
    if merge is not None and merge not in ("merge", "rebase", "squash"):
        raise UsageError("merge must be one of merge, rebase, squash")
    ctx = ctx or open_forge(path, **forge_options)
    forge, caps = ctx.forge, ctx.forge.capabilities
    if merge and merge not in caps.merge_methods:
        raise ForgeError(f"{forge.name}: merge method '{merge}' is not supported (use one of "
                         f"{', '.join(sorted(caps.merge_methods))})")
    git = Git(ctx.root, ctx.git_env())
    cwd = os.path.abspath(path or os.getcwd())
    changed = git.changed_files()
    paths = select(changed, list(globs or []), ctx.root, cwd)
    if globs and not paths:
        return None
    sha = ctx.head_sha()
    sha8 = sha[:8]
    target = target_branch or ctx.branch()
    if not git.remote_head(ctx.remote, target):
        raise GitError(f"the target branch '{target}' does not exist on remote '{ctx.remote}'")
    source = branch or f"{target}-cml-pr-{sha8}"
    if source == target:
        raise UsageError("the PR branch and the target branch are the same")
    msg = message or f"CML PR for {sha8}"
    if skip_ci or (not message and not merge):
        msg += " [skip ci]"
    existing_head = git.remote_head(ctx.remote, source)
    if existing_head:
        git.run("fetch", "-q", ctx.remote, f"refs/heads/{source}")
        parent = existing_head
    else:
        if not git.has_commit(sha):
            git.run("fetch", "-q", ctx.remote, sha)
        parent = sha
    new = git.commit_worktree(parent, paths, msg, _identity(git, user_name, user_email))
    if new:
        git.run("push", "-q", ctx.remote, f"{new}:refs/heads/{source}")
    elif not existing_head:
        raise UsageError("nothing to commit: no file differs from the current commit")
    pr_title = title or f"CML PR for {target} {sha8}"
    if skip_ci and caps.skip_ci_in_title and "[skip ci]" not in pr_title:
        pr_title += " [skip ci]"
    pr_body = body or f"Automated commits for {forge.commit_url(sha)} created by tide."
    pr_title, pr_body = redact(pr_title), redact(pr_body)  # nothing sent to a forge holds a secret
    found: PullRequest | None = forge.find_pr(source, target)
    created = found is None
    if found is None:
        pr = forge.create_pr(source, target, pr_title, pr_body)
    elif title or body or new:
        pr = forge.update_pr(found, pr_title if title else found.title, pr_body)
    else:
        pr = found
    merged = forge.merge_pr(pr, merge, caps.auto_merge) if merge else ""
    return PrResult(pr.url, pr.number, source, target, new or "", created, merged)
