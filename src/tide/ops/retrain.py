"""``tide retrain``: the whole loop once, from ``tide.yaml``.

Steps (each logs what it did; a failure names its step and leaves nothing running):

    prepare   on the base branch; fetch registry tags from the forge remote
    runner    with ``retrain.runner``: ``tide repro`` on that runner (``tide run --on``), results brought back
    get-data  ``retrain.get_data`` (e.g. ``tide import-db ...``), then
    repro     reproduce the pipeline (``--pull`` from the remote when one is configured)
    push      model and data to the remote storage
    pr        open or update the PR ``<base>-tide-retrain-<day>-<sha8>`` with pointer and metrics files
    register  register the PR commit as a new model version (reused when re-run)
    gate      the promotion gate against the version in ``retrain.stage``; deploy and assign on success
    report    post or update one comment: metrics vs base and production, params diff, plots, gate decision
    (deploy)  a failed deploy is reported on the PR, then ends the run with an error naming the step

Idempotent: the PR branch is named by the day and the base commit, so two runs on the same day
and base commit update the same PR and comment, register nothing new and promote nothing twice.
Convergent: register and gate end by comparing the local registry tags with the forge's and pushing
(or fetching) what one side lacks; the gate step also rewrites a missing promotion record and
redeploys the stage's version when the deployment holds another (ops/converge.py); the report step
posts the missing report on an earlier day's PR that a kill left without one (ops/retrain_finish.py). A
re-run after any failure or kill repairs what it finds, one ``repaired:`` line each; a refused push fails the run.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tide.core import settings as S
from tide.core.config import Env
from tide.core.errors import ConfigError, TideError, UsageError
from tide.core.fsutil import atomic_write_text
from tide.core.markup import md_code, md_text
from tide.workspace.repo import Repo

Say = Callable[[str], None]
STEPS = ("prepare", "runner", "get-data", "repro", "push", "pr", "register", "gate", "report")


class StepFailed(TideError):
    def __init__(self, step: str, message: str, details: str | None = None) -> None:
        super().__init__(f"retrain: step '{step}' failed: {message}", details=details)
        self.step = step


@dataclass(frozen=True)
class RetrainRequest:
    day: str | None = None          # YYYY-MM-DD; default: today (UTC)
    stage: str | None = None


@dataclass
class RetrainResult:
    steps: list[tuple[str, str]] = field(default_factory=list)   # (step, what it did)
    pr_url: str = ""
    pr_number: int = 0
    version: str = ""
    outcome: str = ""
    comment_url: str = ""
    record_path: str = ""


@contextmanager
def step(name: str, result: RetrainResult, say: Say) -> Iterator[Callable[[str], None]]:
    said: list[str] = []

    def note(text: str) -> None:
        said.append(text)
        say(f"[{name}] {text}")

    try:
        yield note
    except StepFailed:
        raise
    except TideError as exc:
        say(f"[{name}] FAILED: {exc}")
        raise StepFailed(name, str(exc), exc.details)
    except OSError as exc:
        raise StepFailed(name, f"{exc.strerror or exc}" + (f" '{exc.filename}'" if exc.filename else ""))
    result.steps.append((name, "; ".join(said) or "done"))


def retrain(root: str, req: RetrainRequest | None = None, say: Say = lambda line: None,
            env: Env | None = None) -> RetrainResult:
    env = env or Env()
    req = req or RetrainRequest()
    repo = Repo.find(root, env)
    try:
        return _retrain(repo, req, say)
    finally:
        repo.close()


def _retrain(repo: Repo, req: RetrainRequest, say: Say) -> RetrainResult:
    from tide.ops.readiness import require

    _attach_before_check(repo, say)
    require(repo.root, repo.env)  # every missing piece at once, before anything is changed
    st = S.load(repo.root)
    rs, reg = S.retrain_settings(st), S.registry_settings(st)
    S.gate_settings(st), S.deploy_settings(st), S.ui_url(st, repo.env)  # validate the whole file before doing anything
    if not reg.model:
        raise ConfigError("tide.yaml: registry.model (the model's name in the registry) is needed for tide retrain")
    stage = req.stage or rs.stage
    day = req.day or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    res = RetrainResult()
    with step("prepare", res, say) as note:
        git = repo.git
        if git is None:
            raise UsageError("tide retrain needs a git repository")
        if git.run("rev-parse", "--verify", "-q", "HEAD", check=False).returncode != 0:
            raise UsageError("no commit yet: commit the project first (git add -A && git commit -m 'tide project')")
        branch = git.out("branch", "--show-current").strip() or _attach_ci_checkout(git, rs.base, repo.env, note)
        if branch != rs.base:
            where = branch or "a detached HEAD"
            raise UsageError(f"check out the base branch '{rs.base}' first (HEAD is on '{where}')")
        base_sha = git.out("rev-parse", "HEAD").strip()
        from tide.ops.forge import open_forge

        ctx = open_forge(repo.root, env=repo.env)
        fetched = git.run("fetch", "-q", "--tags", ctx.remote, check=False).returncode == 0
        note(f"base {rs.base} at {base_sha[:8]}, forge {ctx.forge.name}"
             + ("" if fetched else f" (could not fetch tags from '{ctx.remote}')"))
    remote = rs.remote or repo.settings.get("core", {}).get("remote")
    if rs.runner:
        with step("runner", res, say) as note:
            _on_runner(repo, rs.runner, rs.get_data, note)
    else:
        if rs.get_data:
            with step("get-data", res, say) as note:
                _shell(repo, rs.get_data, note)
        with step("repro", res, say) as note:
            from tide.ops.repro import ReproRequest, reproduce

            out = reproduce(repo, ReproRequest(pull=bool(remote)), cwd=repo.root,
                            say=lambda line: say(f"    {line}") if line else None)
            note(f"ran {', '.join(out.ran) or 'nothing'}"
                 + (f"; restored {', '.join(out.restored)} from the run cache" if out.restored else ""))
    with step("push", res, say) as note:
        if remote:
            from tide.ops.data_scope import Scope
            from tide.ops.push import run_push

            summary = run_push(repo, Scope(), remote)
            note(f"{summary.transferred} object(s) to remote '{remote}'")
        else:
            note("no remote storage configured (retrain.remote or a default remote): data stays in the cache")
    with step("pr", res, say) as note:
        from tide.ops.pr import create_pr

        source = f"{rs.base}-tide-retrain-{day}-{base_sha[:8]}"
        pr = create_pr(list(rs.pr_files) or None, path=repo.root, branch=source, target_branch=rs.base,
                       title=f"tide retrain {day}: {reg.model} on {rs.base} {base_sha[:8]}",
                       body=f"Retrained {md_code(reg.model)} on {day} from {md_text(rs.base)} {base_sha[:8]} "
                            "by `tide retrain`.",
                       message=f"tide retrain {day} for {base_sha[:8]}", skip_ci=True, ctx=ctx)
        if pr is None:
            note("the pipeline changed no file: nothing to propose")
            return res
        head = pr.commit or _pr_head(git, ctx.remote, source)
        res.pr_url, res.pr_number = pr.url, pr.number
        note(f"{'opened' if pr.created else 'updated'} #{pr.number} {pr.url} (branch {source}, commit {head[:8]})")
    with step("register", res, say) as note:
        from tide.ops import converge
        from tide.registry.registry import Registry

        registry = Registry(git)
        art = registry.state().get(reg.model)
        existing = art.version_at(head) if art else None
        made: tuple[str, ...] = ()
        if existing:
            res.version = existing
            note(f"{reg.model} {existing} is registered at {head[:8]} already")
        else:
            created = registry.register(reg.model, head)
            res.version, made = created.version, (created.tag,)
            note(f"registered {reg.model} {created.version} ({created.tag})")
        for line in converge.tags(repo, ctx.remote, reg.model, made):  # push what the forge lacks
            note(f"repaired: {line}")
    with step("gate", res, say) as note:
        from tide.ops.promote import PromoteRequest, promote
        from tide.registry import records

        art = registry.artifact(reg.model)
        made, undecided = (), ""
        prod = art.stage(stage)
        if prod and prod != res.version:  # a kill after an earlier day's assignment, before its record
            for line in converge.record(repo, st, _last_record(repo, st, reg.model, prod)):
                note(f"repaired: {line}")
        if prod == res.version:
            res.outcome = "already-promoted"
            note(f"{res.version} is in '{stage}' already")
            rec = _last_record(repo, st, reg.model, res.version)
            for line in converge.record(repo, st, rec):
                note(f"repaired: {line}")
        else:
            try:
                links = (("pr_url", res.pr_url),) if res.pr_url else ()
                rec = promote(repo, PromoteRequest(reg.model, stage, res.version, links=links), say=note)
            except TideError as exc:  # no decision: the report says why below, then the run fails
                rec, undecided, res.outcome = None, str(exc), "undecided"
                note(f"the gate could not decide: {exc}")
            else:
                res.outcome = rec.outcome
                made = (rec.tag,) if rec.tag else ()
                note(f"{rec.outcome}: " + "; ".join(rec.reasons))
        for line in converge.tags(repo, ctx.remote, reg.model, made):  # the assignment tag, and any missing
            note(f"repaired: {line}")
        if res.outcome != "deploy-failed":  # a failed deploy is reported on the PR first, below
            for line in converge.deployment(repo, st, reg.model, stage, note):
                note(f"repaired: {line}")
        gate_cfg = S.gate_settings(st)
        res.record_path = records.record_path(repo.root, gate_cfg.records, reg.model, res.version)
    with step("report", res, say) as note:
        from tide.core.redact import redact
        from tide.ops.comment import create_comment
        from tide.ops.retrain_report import build_report

        path = os.path.join(repo.tmp_dir, "tide-retrain", "report.md")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        ui = S.ui_url(st, repo.env, local_forge=ctx.forge.name == "local")
        text = build_report(repo, day=day, base=rs.base, base_sha=base_sha, head=head, model=reg.model,
                            version=res.version, stage=stage, record=rec, plots=rs.plots,
                            report_dir=os.path.dirname(path), pr_url=res.pr_url, undecided=undecided, ui_url=ui)
        atomic_write_text(path, redact(text))
        c = create_comment(path, path=repo.root, target=f"pr#{res.pr_number}", update=True,
                           watermark_title=f"tide retrain {reg.model}", ctx=ctx)
        res.comment_url = c.url
        note(f"{'updated' if c.updated else 'posted'} the report comment {c.url}")
        from tide.ops.retrain_finish import finish

        for line in finish(repo, ctx, reg.model, rs.base, stage, source, f"#{res.pr_number}", day,
                           lambda v: _last_record(repo, st, reg.model, v)):  # earlier days a kill left silent
            note(f"repaired: {line}")
    if undecided:  # reported on the PR above; the version stays registered and unpromoted
        raise StepFailed("gate", f"{undecided}; {reg.model} {res.version} was registered, not promoted "
                                 "(fix it and run tide retrain again)")
    if res.outcome == "deploy-failed" and rec is not None and rec.deploy is not None:
        # reported on the PR above; the previous production assignment stays
        raise StepFailed("deploy", f"{rec.deploy.detail}; {reg.model} {res.version} was not promoted")
    return res


def _attach_before_check(repo: Repo, say: Say) -> None:
    """A CI checkout of the base branch as a detached HEAD (GitLab CI) is put back on the branch before the
    readiness check looks for that branch (found by the workflow rehearsal)."""
    from tide.core.errors import TideError

    git = repo.git
    if git is None or git.out("branch", "--show-current").strip():
        return
    try:
        base = S.retrain_settings(S.load(repo.root)).base
    except TideError:
        return  # the check names what is wrong with tide.yaml
    _attach_ci_checkout(git, base, repo.env, say)


def _attach_ci_checkout(git, base: str, env: Env, note: Callable[[str], None]) -> str:
    """A CI checkout of the base branch is a detached HEAD on GitLab CI (and others): when the CI service
    says this commit is the base branch's, put the base branch back on it. Returns the branch now
    checked out ("" when HEAD stays detached)."""
    from tide.forge.detect import ci_context

    ci = ci_context(env)
    if not ci.provider or ci.branch != base or not ci.sha:
        return ""
    head = git.out("rev-parse", "HEAD").strip()
    if head != ci.sha:
        return ""
    git.run("update-ref", f"refs/heads/{base}", head)
    git.run("checkout", "-q", base)
    note(f"the CI checkout of {base} was a detached HEAD at {head[:8]}: checked out {base} there")
    return base


def _pr_head(git, remote: str, branch: str) -> str:
    """The PR branch's commit on the remote (fetched when not here): the PR exists, so must it."""
    sha = git.remote_head(remote, branch)
    if not sha:
        raise UsageError(f"branch '{branch}' is not on remote '{remote}'")
    if not git.has_commit(sha):
        git.run("fetch", "-q", remote, f"refs/heads/{branch}")
    return sha


def _last_record(repo: Repo, st: S.Settings, name: str, version: str):
    """The promotion record of a version already in the stage: from its file, else from its tag."""
    from tide.registry import records
    from tide.registry.records import DeployResult, PromotionRecord

    path = records.record_path(repo.root, S.gate_settings(st).records, name, version)
    data = None
    if os.path.exists(path):
        data = records.read(path)
    else:
        from tide.ops.model import history
        from tide.registry.registry import Registry

        for h in history(Registry(repo.git).artifact(name)):
            if h["version"] == version and h.get("promotion"):
                data = h["promotion"]
                break
    if not data:
        return None
    try:
        dep = data.get("deploy")
        data = {**data, "reasons": tuple(data.get("reasons", ())), "metrics": tuple(data.get("metrics", ())),
                "deploy": DeployResult(**dep) if dep else None}
        return PromotionRecord(**data)
    except (TypeError, ValueError):
        return None


def _shell(repo: Repo, command: str, note: Callable[[str], None]) -> None:
    proc = subprocess.run(command, shell=True, cwd=repo.root, env=dict(repo.env.values), capture_output=True,
                          text=True, check=False)
    tail = (proc.stdout.strip() or proc.stderr.strip()).splitlines()[-1:] or [""]
    if proc.returncode != 0:
        raise TideError(f"'{command}' exited with {proc.returncode}: {tail[0]}", details=proc.stderr)
    note(f"'{command}': {tail[0]}" if tail[0] else f"'{command}' done")


def _on_runner(repo: Repo, on: str, get_data: str | None, note: Callable[[str], None]) -> None:
    """``get_data`` and ``tide repro`` on a runner; changed files and new cache objects come back into
    this workspace, and the runner is torn down whatever happened."""
    import shlex

    from tide.ops.checkout import checkout
    from tide.ops.run import run_on

    cmd = [sys.executable, "-m", "tide", "repro"] if on == "local" else ["tide", "repro"]
    if get_data:
        cmd = ["sh", "-c", f"{get_data} && {shlex.join(cmd)}"]
    out = run_on(repo.root, on, cmd, setup=on != "local", push=False, env=repo.env,
                 log=lambda m: note(m), write=lambda b: None)
    if out.exit_code != 0:
        raise TideError(f"'{cmd[-1]}' on {on} ended with {out.exit_code} ({out.reason})")
    if out.commit and out.changed:
        repo.git.run("checkout", out.commit, "--", *out.changed)
        repo.git.run("reset", "-q", "--", *out.changed)  # keep them as workspace changes, not staged
    if out.branch:
        repo.git.run("branch", "-D", out.branch, check=False)  # its files are in the workspace now
    checkout(repo, None, cwd=repo.root)
    note(f"{out.name}: {len(out.changed)} file(s) and {out.objects} object(s) back from the runner; torn down")
