"""``tide exp apply|branch|remove|rename|diff|list|push|pull|clean``: experiment refs as dvc keeps them."""

from __future__ import annotations

import os
from typing import Any

from tide.core.errors import UsageError
from tide.ops.exp_refs import ExperimentError, ExpRef, all_refs, check_name, resolve
from tide.workspace.repo import Repo


def _git(repo: Repo):
    if repo.git is None:
        raise UsageError("experiments need git (the repository was initialised with --no-scm)")
    return repo.git


EXEC_APPLY = "refs/exps/exec/EXEC_APPLY"
BACKUP = "refs/tide/apply/workspace"  # the workspace's uncommitted changes before the last exp apply


def _remote_git(git, remote: str, *args: str) -> str:
    """A git command against ``remote``; its failure is one line naming the remote and git's first
    complaint (git's last line is often only advice)."""
    proc = git.run(*args, check=False)
    if proc.returncode != 0:
        lines = [ln.removeprefix("fatal: ").removeprefix("error: ")
                 for ln in proc.stderr.decode(errors="replace").strip().splitlines() if ln.strip()]
        raise ExperimentError(f"git remote '{remote}': {lines[0] if lines else f'git {args[0]} failed'}")
    return proc.stdout.decode("utf-8", errors="surrogateescape")


def resolve_rev(repo: Repo, name: str) -> str:
    """An experiment name or ref, or any git revision -> commit."""
    git = _git(repo)
    try:
        return resolve(git, [name])[name][1]
    except ExperimentError as exc:
        if "ambiguous" in str(exc):
            raise
        try:
            return git.resolve(name)
        except Exception:
            raise ExperimentError(f"'{name}' does not name an experiment or a git revision")


def apply(repo: Repo, name: str) -> tuple[str, str | None]:
    """Make the workspace's git-tracked files those of the experiment (HEAD and the branch stay), then
    check its data out, as ``dvc exp apply``. Uncommitted changes to tracked files are first saved as a
    commit under ``refs/tide/apply/workspace`` (dvc keeps them in its apply stash): returns (experiment
    commit, that backup commit or None)."""
    import tempfile

    from tide.core.git import Git
    from tide.ops.checkout import checkout

    git = _git(repo)
    sha = resolve_rev(repo, name)
    head = git.resolve("HEAD")
    backup = git.out("stash", "create").strip() or None
    if backup:
        git.update_ref(BACKUP, backup)
    fd, index = tempfile.mkstemp(prefix="tide-index-")
    os.close(fd)
    os.unlink(index)
    try:
        g = Git(git.root, {**(git.env or {}), "GIT_INDEX_FILE": index})
        g.run("read-tree", sha)
        gone = [p for p in _names(git, "diff", "--name-only", "-z", "--diff-filter=D", head, sha)]
        g.run("checkout-index", "-a", "-f")
    finally:
        if os.path.exists(index):
            os.unlink(index)
    for rel in gone:  # tracked at HEAD, absent from the experiment
        p = os.path.join(git.root, rel)
        if os.path.isfile(p) or os.path.islink(p):
            os.unlink(p)
    git.update_ref(EXEC_APPLY, sha)  # dvc's marker of the applied experiment
    checkout(repo, force=True, cwd=repo.root)
    return sha, backup


def _names(git, *args: str) -> list[str]:
    raw = git.run(*args).stdout
    return [p for p in raw.decode("utf-8", "surrogateescape").split("\0") if p]


def branch(repo: Repo, name: str, new_branch: str | None = None) -> str:
    git = _git(repo)
    info, sha = resolve(git, [name])[name]
    new_branch = new_branch or f"{info.name}-branch"
    bad = git.run("check-ref-format", f"refs/heads/{new_branch}", check=False).returncode != 0
    if bad or new_branch.startswith("-"):
        raise UsageError(f"invalid branch name '{new_branch}'")
    ref = f"refs/heads/{new_branch}"
    if git.refs(ref):
        raise ExperimentError(f"git branch '{new_branch}' already exists")
    git.update_ref(ref, sha, old="")
    return new_branch


def remove(repo: Repo, names: list[str] = (), all_exps: bool = False, revs: list[str] = (),  # type: ignore[assignment]
           num: int = 1, git_remote: str | None = None) -> list[str]:
    """Delete experiment refs (locally, or on ``git_remote``); returns the names removed."""
    git = _git(repo)
    if git_remote:
        return _remove_remote(repo, names, all_exps, git_remote)
    refs = all_refs(git)
    chosen: dict[ExpRef, str] = {}
    if all_exps:
        chosen.update(refs)
    if revs:
        from tide.ops.exp_show import baselines

        bases = set(baselines(repo, list(revs), False, False, False, num))
        chosen.update({i: s for i, s in refs.items() if i.baseline in bases})
    if names:
        for _, (info, sha) in resolve(git, list(names)).items():
            chosen[info] = sha
    applied = git.refs(EXEC_APPLY).get(EXEC_APPLY)
    for info, sha in chosen.items():
        git.run("update-ref", "-d", info.ref, sha)
        if applied == sha:  # dvc's marker of the applied experiment goes with it, as dvc's remove does
            git.run("update-ref", "-d", EXEC_APPLY, sha)
    return sorted(i.name for i in chosen)


def _remote_refs(git, remote: str) -> dict[ExpRef, str]:
    from tide.core import argv

    argv.value(remote, "git remote")
    raw = _remote_git(git, remote, "ls-remote", remote, "refs/exps/*")
    out = {}
    for line in raw.splitlines():
        sha, _, ref = line.partition("\t")
        info = ExpRef.parse(ref)
        if info is not None:
            out[info] = sha
    return out


def _remove_remote(repo: Repo, names: list[str], all_exps: bool, remote: str) -> list[str]:
    git = _git(repo)
    remote_refs = _remote_refs(git, remote)
    chosen = [i for i in remote_refs if all_exps or i.name in names or i.ref in names]
    missing = [n for n in names if not any(i.name == n or i.ref == n for i in chosen)]
    if missing:
        raise ExperimentError(f"no experiment named {', '.join(repr(m) for m in missing)} on '{remote}'")
    if chosen:
        _remote_git(git, remote, "push", remote, *(f":{i.ref}" for i in chosen))
    return sorted(i.name for i in chosen)


def rename(repo: Repo, old: str, new: str, force: bool = False) -> str:
    git = _git(repo)
    info, sha = resolve(git, [old])[old]
    check_name(git, new)
    target = ExpRef(info.baseline, new)
    if git.refs(target.ref) and not force:
        raise ExperimentError(f"experiment '{new}' already exists; use -f to replace it")
    git.update_ref(target.ref, sha)
    if target.ref != info.ref:
        git.run("update-ref", "-d", info.ref, sha)
    return target.ref


def diff(repo: Repo, a_rev: str | None = None, b_rev: str | None = None, with_unchanged: bool = False,
         param_deps: bool = False) -> dict[str, Any]:
    """``{"metrics": ..., "params": ...}`` between ``a_rev`` (default HEAD) and ``b_rev`` (default the
    workspace); either may be an experiment name."""
    from tide.pipeline import metrics as m
    from tide.pipeline.revfs import WORKSPACE, reader_for

    git = _git(repo)
    if not git.has_commits():
        return {}
    a = resolve_rev(repo, a_rev) if a_rev else git.resolve("HEAD")
    b = resolve_rev(repo, b_rev) if b_rev else WORKSPACE
    fa, fb = reader_for(repo, a), reader_for(repo, b)
    return {"metrics": m.diff(m.read_metrics(fa), m.read_metrics(fb), with_unchanged),
            "params": m.diff(m.read_params(fa, None, param_deps), m.read_params(fb, None, param_deps),
                             with_unchanged)}


def listing(repo: Repo, all_commits: bool = False, revs: list[str] | None = None, num: int = 1,
            git_remote: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """baseline -> [(name, commit)] (``tide exp list``)."""
    from tide.ops.exp_show import baselines

    git = _git(repo)
    refs = _remote_refs(git, git_remote) if git_remote else all_refs(git)
    bases = None if all_commits else set(baselines(repo, revs, False, False, False, num))
    out: dict[str, list[tuple[str, str]]] = {}
    for info, sha in sorted(refs.items(), key=lambda kv: kv[0].name):
        if bases is None or info.baseline in bases:
            out.setdefault(info.baseline, []).append((info.name, sha))
    return out


def _selected(repo: Repo, names: list[str], all_exps: bool, revs: list[str] | None, num: int) -> dict[ExpRef, str]:
    git = _git(repo)
    refs = all_refs(git)
    chosen: dict[ExpRef, str] = {}
    if all_exps:
        chosen.update(refs)
    if revs:
        from tide.ops.exp_show import baselines

        bases = set(baselines(repo, revs, False, False, False, num))
        chosen.update({i: s for i, s in refs.items() if i.baseline in bases})
    if names:
        for info, sha in resolve(git, list(names)).values():
            chosen[info] = sha
    if not chosen and not (names or all_exps or revs):
        head = git.resolve("HEAD")
        chosen = {i: s for i, s in refs.items() if i.baseline == head}
    return chosen


def push(repo: Repo, git_remote: str, names: list[str] = (), all_exps: bool = False,  # type: ignore[assignment]
         revs: list[str] | None = None, num: int = 1, force: bool = False, push_cache: bool = True,
         dvc_remote: str | None = None, jobs: int | None = None, run_cache: bool = False) -> list[str]:
    """Push experiment refs to a git remote, and (``push_cache``) their data to the DVC remote."""
    from tide.core import argv

    git = _git(repo)
    argv.value(git_remote, "git remote")
    chosen = _selected(repo, list(names), all_exps, revs, num)
    if not chosen:
        return []
    specs = [f"{'+' if force else ''}{sha}:{i.ref}" for i, sha in chosen.items()]
    _remote_git(git, git_remote, "push", git_remote, *specs)
    if push_cache:
        from tide.ops.data_scope import Scope
        from tide.ops.push import run_push

        run_push(repo, Scope(revisions=tuple(chosen.values())), remote=dvc_remote, jobs=jobs, run_cache=run_cache)
    return sorted(i.name for i in chosen)


def pull(repo: Repo, git_remote: str, names: list[str] = (), all_exps: bool = False,  # type: ignore[assignment]
         force: bool = False, pull_cache: bool = True, dvc_remote: str | None = None, jobs: int | None = None,
         run_cache: bool = False) -> list[str]:
    """Fetch experiment refs from a git remote, and (``pull_cache``) their data into the cache."""
    git = _git(repo)
    remote = _remote_refs(git, git_remote)
    if all_exps or not names:
        chosen = dict(remote) if all_exps else {i: s for i, s in remote.items()
                                                if i.baseline == git.resolve("HEAD")}
    else:
        chosen = {i: s for i, s in remote.items() if i.name in names or i.ref in names}
        missing = [n for n in names if not any(i.name == n or i.ref == n for i in chosen)]
        if missing:
            raise ExperimentError(f"no experiment named {', '.join(repr(m) for m in missing)} on '{git_remote}'")
    if not chosen:
        return []
    _remote_git(git, git_remote, "fetch", git_remote, *(f"{'+' if force else ''}{i.ref}:{i.ref}" for i in chosen))
    if pull_cache:
        from tide.ops.data_scope import Scope
        from tide.ops.fetch import run_fetch

        run_fetch(repo, Scope(revisions=tuple(chosen.values())), remote=dvc_remote, jobs=jobs, run_cache=run_cache)
    return sorted(i.name for i in chosen)
