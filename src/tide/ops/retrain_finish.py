"""Finish the earlier days of ``tide retrain`` that a kill (or a failure) left without their report.

A day whose run ended after it opened its PR but before its report comment leaves an open PR that says
nothing: no metrics, no gate decision, nothing to tell a reviewer it is stale. The forge is the state that
every later run sees (a CI checkout has no local files of earlier runs): the retrain PRs are the branches
``<base>-tide-retrain-<day>-<sha8>`` on the forge remote, and a finished day's PR carries the report comment
(watermark ``tide retrain <model>``). After each run's own report, ``finish`` walks the other days' open
retrain PRs, newest day first, and posts the missing report on each one: the gate's decision when the day
made one (its promotion record, or the record an assignment tag carries), else that it was interrupted
before its gate; in both cases that a later day supersedes it. The walk stops at the first PR that has its
report (every run before it finished the ones older still), and at ``LIMIT`` PRs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from tide.core.fsutil import atomic_write_text
from tide.core.markup import md_code, md_text
from tide.workspace.repo import Repo

LIMIT = 30


def watermark_title(model: str) -> str:
    return f"tide retrain {model}"


def _days(git, remote: str, base: str) -> list[tuple[str, str, str]]:
    """(day, branch, sha) of the retrain branches on ``remote``, newest day first."""
    prefix = f"{base}-tide-retrain-"
    proc = git.run("ls-remote", "--heads", remote, f"refs/heads/{prefix}*", check=False)
    if proc.returncode != 0:
        return []
    pat = re.compile(re.escape(prefix) + r"(\d{4}-\d{2}-\d{2})-[0-9a-f]{8}")
    out = []
    for line in proc.stdout.decode("utf-8", errors="surrogateescape").splitlines():
        sha, _, ref = line.partition("\t")
        branch = ref.removeprefix("refs/heads/")
        m = pat.fullmatch(branch)
        if m:
            out.append((m.group(1), branch, sha))
    return sorted(out, reverse=True)


def finish(repo: Repo, ctx, model: str, base: str, stage: str, current: str, current_pr: str,
           today: str, record_of: Callable[[str], object]) -> list[str]:
    """Post the missing report on earlier days' open retrain PRs (``current`` is this run's branch);
    one line per PR finished. ``record_of(version)`` is the promotion record of a version, or None."""
    from tide.forge.base import Target
    from tide.forge.report import newest_watermarked, watermark_label
    from tide.ops.comment import create_comment
    from tide.registry.registry import Registry

    title = watermark_title(model)
    label = watermark_label(title, ctx.ci.workflow, ctx.ci.run_id)
    art = None
    done: list[str] = []
    for n, (day, branch, sha) in enumerate(_days(repo.git, ctx.remote, base)):
        if branch == current:
            continue
        if n >= LIMIT:
            break
        pr = ctx.forge.find_pr(branch, base)
        if pr is None:
            break  # merged or closed: settled, and so is every day before it (a day that ended between
            # pushing its branch and opening its PR stops the walk too: the forge cannot tell it apart)
        if newest_watermarked(ctx.forge.list_comments(Target("pr", str(pr.number))), label) is not None:
            break  # this day has its report
        if art is None:
            art = Registry(repo.git).state().get(model)
        version = art.version_at(sha) if art else None
        rec = record_of(version) if version else None
        text = _report(model, day, stage, version, rec, today, current_pr)
        path = os.path.join(repo.tmp_dir, "tide-retrain", f"finish-{pr.number}.md")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_text(path, text)
        create_comment(path, path=repo.root, target=f"pr#{pr.number}", update=True, watermark_title=title, ctx=ctx)
        what = f"the gate's decision ({rec.outcome})" if rec is not None else "interrupted before its gate"
        done.append(f"posted the missing report on #{pr.number} (the run of {day}: {what})")
    return done


def _report(model: str, day: str, stage: str, version: str | None, rec, today: str, current_pr: str) -> str:
    head = f"## tide retrain {md_code(model)}: the run of {md_text(day)} did not finish\n\n"
    later = f"The run of {md_text(today)} ({md_text(current_pr)}) trained on newer data and supersedes this PR."
    if version is None:
        return head + (f"It ended after opening this PR, before registering a version: nothing here was "
                       f"registered or promoted. {later}\n")
    if rec is None:
        return head + (f"It ended after registering {md_code(model)} {md_code(version)}, before the promotion "
                       f"gate: {md_code(version)} stays registered and was not promoted to {md_code(stage)} "
                       f"(`tide promote` can still gate it). {later}\n")
    return head + (f"It ended after the promotion gate decided on {md_code(version)}, before posting this "
                   f"report. {later}\n\n" + rec.markdown() + "\n")
