"""The registry loop converges: local tags, the forge's tags and the deployment agree.

``tide retrain`` ends its register and gate steps with these repairs, so a re-run after any
failure or kill (a refused tag push, a kill between the local promotion and the push, a deploy
that was cut short) pushes what is missing and says what it repaired, one line each.
``tide model show --check`` reports the same disagreements without repairing them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from tide.core import settings as S
from tide.core.errors import TideError, UsageError
from tide.registry import sync
from tide.workspace.repo import Repo

Say = Callable[[str], None]


def tags(repo: Repo, remote: str, artifact: str | None, just_made: tuple[str, ...] = ()) -> list[str]:
    """Push / fetch the registry tags that one side lacks (GitError when the forge refuses)."""
    return sync.converge(_git(repo), remote, artifact, just_made)


def production(repo: Repo, name: str, stage: str) -> str | None:
    from tide.registry.registry import Registry

    a = Registry(_git(repo)).state().get(name)
    return a.stage(stage) if a is not None else None


def deployment(repo: Repo, st: S.Settings, name: str, stage: str, say: Say) -> list[str]:
    """Make ``deploy.copy_to`` hold the stage's version (a deploy command cannot be asked: nothing
    to do). Returns the repairs made; raises TideError when the redeploy fails."""
    from tide.ops.deploy import deploy, deployed
    from tide.ops.promote import gather, model_file
    from tide.registry.registry import Registry

    dep = S.deploy_settings(st)
    if not dep.copy_to:
        return []
    prod = production(repo, name, stage)
    info = deployed(repo.root, dep)
    held = _held(info)
    if prod is None or (held == prod and (info or {}).get("name") == name):
        return []
    art = Registry(_git(repo)).artifact(name)
    commit = art.versions[prod].commit
    ev = gather(repo, commit, S.gate_settings(st), S.registry_settings(st))
    path = model_file(repo, commit, S.registry_settings(st), ev.model_hash)
    say(f"deploying {name} {prod} again ...")
    result = deploy(repo.root, dep, path, name, prod, stage, env=dict(repo.env.values),
                    file_name=os.path.basename(S.registry_settings(st).path or path))
    if not result.ok:
        raise TideError(f"the deployment holds {held}, '{stage}' is {prod}, and redeploying "
                        f"failed: {result.detail}")
    return [f"redeployed {name} {prod} (the deployment held {held})"]


def record(repo: Repo, st: S.Settings, rec) -> list[str]:
    """Write the promotion record of a promoted version when its file is missing (a kill after the
    assignment tag, before the record)."""
    from tide.registry import records

    if rec is None:
        return []
    path = records.record_path(repo.root, S.gate_settings(st).records, rec.artifact, rec.version)
    if os.path.exists(path):
        return []
    records.write(repo.root, S.gate_settings(st).records, rec)
    return [f"wrote the missing promotion record {os.path.relpath(path, repo.root)}"]


def check(repo: Repo, remote: str, name: str | None = None, stage: str | None = None) -> list[str]:
    """Every disagreement between the local registry tags, the forge remote's and the deployment,
    one line each (empty when they agree)."""
    st = S.load(repo.root)
    problems = sync.compare(_git(repo), remote, name).lines()
    model = name or S.registry_settings(st).model
    stage = stage or S.retrain_settings(st).stage
    dep = S.deploy_settings(st)
    if model and dep.copy_to:
        from tide.ops.deploy import deployed

        prod = production(repo, model, stage)
        info = deployed(repo.root, dep)
        held = _held(info)
        if info is not None and info.get("name") not in (None, model):
            problems.append(f"the deployment ({_shown(dep.copy_to)}) holds {info.get('name')} {held}, not {model}")
        elif held != (prod or "nothing"):
            problems.append(f"the deployment ({_shown(dep.copy_to)}) holds {held}, "
                            f"but {model} '{stage}' is {prod or 'empty'}")
    return problems


def _held(info: dict | None) -> str:
    if info is None:
        return "nothing"
    if info.get("error"):
        return f"a broken deployment ({info['error']})"
    return str(info.get("version") or "nothing")


def _shown(target: str) -> str:
    from tide.core.redact import redact

    return redact(target)


def _git(repo: Repo):
    if repo.git is None:
        raise UsageError("the model registry lives in git tags; this repository has no git")
    return repo.git
