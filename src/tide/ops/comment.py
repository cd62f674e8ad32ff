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


def resolve_target(ctx: ForgeContext, spec: str, commit: str | None = None) -> Target:
    """``auto`` | ``pr`` | ``commit`` | ``pr/N`` | ``pr#N`` | ``issue/N`` | ``issue#N`` | ``commit/REV``.

    ``commit`` (CML's ``--commit-sha`` with ``--pr``): the revision whose PR ``pr``/``auto`` look
    for, instead of HEAD."""
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
    if ctx.ci.pr and not commit:
        return Target("pr", str(ctx.ci.pr))
    sha = ctx.git.resolve(commit) if commit else ctx.head_sha()
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


def publish_images(ctx: ForgeContext, markdown: str, base_dir: str, target: Target | None, to: str = "forge",
                   url: str = "") -> str:
    """Upload the report's local images and rewrite their links (an image that cannot go is an error).
    Only files inside the repository are published (forge.report.find_local_files)."""
    from tide.forge.report import find_local_files, publish_report

    if not find_local_files(markdown, base_dir, ctx.root):
        return markdown
    from tide.ops.asset import uploader

    up = uploader(ctx, to, target, url)
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
    publish_url: str = "",
    rm_watermark: bool = False,
    commit: str | None = None,
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
    tgt = resolve_target(ctx, target, commit)
    if tgt.kind == "commit" and not ctx.forge.capabilities.commit_comments:
        raise ForgeError(f"{ctx.forge.name}: comments on commits are not supported; use --target pr or issue#N")
    if tgt.kind == "issue" and not ctx.forge.capabilities.issue_comments:
        raise ForgeError(f"{ctx.forge.name}: issue comments are not supported")
    body = publish_images(ctx, markdown, base_dir, tgt, publish_to, publish_url) if publish else markdown
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


def _fingerprint(report: str, root: str, watch: str | None) -> str | None:
    """A digest of what ``--watch`` looks at: the trigger file, or the report plus every local file it
    links; None while it is absent or half-written (an image it names does not exist yet)."""
    import hashlib

    from tide.core.errors import TideError
    from tide.forge.report import find_local_files

    path = watch or report
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    h = hashlib.sha256(data)
    if watch is None:
        try:
            files = find_local_files(data.decode("utf-8"), os.path.dirname(os.path.abspath(report)), root)
        except (TideError, UnicodeDecodeError):
            return None
        for lf in sorted(files, key=lambda x: x.ref):
            h.update(lf.ref.encode() + b"\0" + hashlib.sha256(lf.data).digest())
    return h.hexdigest()


def watch_comment(
    report: str,
    *,
    interval: float = 2.0,
    timeout: float = 3600.0,
    trigger_file: str | None = None,
    update: bool = False,
    on_post=None,  # Callable[[CommentResult], None]
    sleep=None,
    clock=None,
    ctx: ForgeContext | None = None,
    path: str | None = None,
    **options,
) -> list[CommentResult]:
    """CML's ``--watch``, bounded: post the report now, then each time it changes (the report or an
    image it links, or ``trigger_file`` appearing/changing, which is deleted after each post) update
    the same watermarked comment. A change is posted once the files stayed the same for one
    ``interval`` (a report being written is not posted half-way). Ends after ``timeout`` seconds
    (0: no limit), or when the report is deleted; returns every post."""
    import time

    if options.get("rm_watermark"):
        raise UsageError("--watch updates its comment, which it finds by the watermark: drop --rm-watermark")
    if interval <= 0:
        raise UsageError("the watch interval must be positive")
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    forge_keys = ("driver", "repo", "token", "remote", "env")
    ctx = ctx or open_forge(path, **{k: options.pop(k) for k in forge_keys if k in options})
    for k in forge_keys:
        options.pop(k, None)
    posts: list[CommentResult] = []

    def post() -> None:
        res = create_comment(report, ctx=ctx, update=update or bool(posts), **options)
        posts.append(res)
        if on_post is not None:
            on_post(res)
        if trigger_file and os.path.exists(trigger_file):
            os.remove(trigger_file)

    # each fingerprint is taken before the post reads the files: a change made while posting is seen
    last = _fingerprint(report, ctx.root, trigger_file)
    if trigger_file is None:
        post()
    end = clock() + timeout if timeout > 0 else None
    while end is None or clock() < end:
        sleep(interval)
        if not os.path.exists(report):
            break
        now = _fingerprint(report, ctx.root, trigger_file)
        if now is None or now == last:
            continue
        sleep(interval)  # stable for one more interval, as CML waits for a write to finish
        if _fingerprint(report, ctx.root, trigger_file) != now:
            continue
        last = now
        post()
        if trigger_file:
            last = None  # the trigger was deleted: its next appearance is a change
    return posts
