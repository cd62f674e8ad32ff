"""``tide comment create|update``: post a markdown report as a comment, or update the watermarked one.

Python API (stable, used by ``tide retrain``)::

    create_comment("report.md", path=repo_root, target="pr", update=True) -> CommentResult
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from tide.core.errors import ForgeError, MissingError, UsageError
from tide.core.redact import redact
from tide.forge.base import Target
from tide.forge.report import append_watermark, newest_watermarked, watermark_label
from tide.ops.forge import ForgeContext, open_forge


@dataclass(frozen=True)
class CommentResult:
    url: str
    id: str
    target: Target
    updated: bool           # an existing watermarked comment was edited


def resolve_target(ctx: ForgeContext, spec: str) -> Target:
    """``auto`` | ``pr`` | ``commit`` | ``pr/N`` | ``pr#N`` | ``issue/N`` | ``issue#N`` | ``commit/REV``."""
    spec = (spec or "auto").strip()
    m = re.match(r"^(pr|issue|commit)(?:[/#](.+))?$", spec)
    if not m and spec != "auto":
        raise UsageError(f"bad comment target '{spec}': use auto, pr, commit, pr#N, issue#N or commit/REV")
    kind, ref = (m.group(1), m.group(2)) if m else ("auto", None)
    if kind in ("pr", "issue") and ref is not None:
        if not ref.isdigit():
            raise UsageError(f"bad comment target '{spec}': {kind} numbers are digits")
        return Target(kind, ref)
    if kind == "issue":
        raise UsageError("the issue target needs a number: issue#N")
    if kind == "commit":
        sha = ctx.git.resolve(ref) if ref else ctx.head_sha()
        return Target("commit", sha)
    if ctx.ci.pr:
        return Target("pr", str(ctx.ci.pr))
    sha = ctx.head_sha()
    prs = ctx.forge.prs_for_commit(sha)
    if prs:
        return Target("pr", str(prs[-1].number))
    # outside CI: the PR that 'tide pr' opened from this commit (CML's branch convention)
    branch = ctx.git.out("branch", "--show-current").strip() or ctx.ci.branch
    if branch:
        pr = ctx.forge.find_pr(f"{branch}-cml-pr-{sha[:8]}", branch)
        if pr is not None:
            return Target("pr", str(pr.number))
    if kind == "pr":
        raise MissingError(f"no open {ctx.forge.capabilities.pr_noun} contains commit {sha[:12]}")
    return Target("commit", sha)


def publish_images(ctx: ForgeContext, markdown: str, base_dir: str, target: Target | None, to: str = "forge") -> str:
    """Upload the report's local images and rewrite their links (an image that cannot go is an error).
    Only files inside the repository are published (forge.report.find_local_files)."""
    from tide.forge.report import find_local_files, publish_report

    if not find_local_files(markdown, base_dir, ctx.root):
        return markdown
    from tide.ops.asset import uploader

    up = uploader(ctx, to, target)
    return publish_report(markdown, base_dir, lambda lf: up(lf.name, lf.data, lf.mime), ctx.root)


def create_comment(
    report: str | os.PathLike[str] | None = None,
    *,
    markdown: str | None = None,
    path: str | None = None,
    target: str = "auto",
    update: bool = False,
    watermark_title: str = "",
    publish: bool = True,
    publish_to: str = "forge",
    rm_watermark: bool = False,
    ctx: ForgeContext | None = None,
    **forge_options: str | None,
) -> CommentResult:
    """Post ``report`` (a markdown file) or ``markdown`` text; with ``update`` edit the newest
    comment carrying the same watermark instead (creating one when none exists)."""
    if (report is None) == (markdown is None):
        raise UsageError("give a report file or markdown text")
    if rm_watermark and update:
        raise UsageError("--rm-watermark cannot be combined with update: the watermark is how the comment is found")
    base_dir = os.getcwd()
    if report is not None:
        report = os.fspath(report)
        try:
            with open(report, encoding="utf-8") as f:
                markdown = f.read()
        except FileNotFoundError:
            raise MissingError(f"report '{report}' does not exist")
        except UnicodeDecodeError:
            raise UsageError(f"report '{report}' is not UTF-8 text")
        except IsADirectoryError:
            raise UsageError(f"report '{report}' is a directory")
        base_dir = os.path.dirname(os.path.abspath(report))
    assert markdown is not None
    ctx = ctx or open_forge(path, **forge_options)
    tgt = resolve_target(ctx, target)
    if tgt.kind == "commit" and not ctx.forge.capabilities.commit_comments:
        raise ForgeError(f"{ctx.forge.name}: comments on commits are not supported; use --target pr or issue#N")
    if tgt.kind == "issue" and not ctx.forge.capabilities.issue_comments:
        raise ForgeError(f"{ctx.forge.name}: issue comments are not supported")
    body = publish_images(ctx, markdown, base_dir, tgt, publish_to) if publish else markdown
    body = redact(body)  # a comment never carries a secret (the one redaction, core/redact.py)
    title = watermark_title or ""
    label = watermark_label(title, ctx.ci.workflow, ctx.ci.run_id)
    if not rm_watermark:
        body = append_watermark(body, label, ctx.head_sha())
    if update:
        existing = newest_watermarked(ctx.forge.list_comments(tgt), label)
        if existing is not None:
            if tgt.kind == "commit" and not ctx.forge.capabilities.commit_comment_update:
                raise ForgeError(f"{ctx.forge.name}: comments on commits cannot be edited; use --target pr")
            c = ctx.forge.update_comment(tgt, existing, body)
            return CommentResult(c.url, c.id, tgt, True)
    c = ctx.forge.create_comment(tgt, body)
    return CommentResult(c.url, c.id, tgt, False)
