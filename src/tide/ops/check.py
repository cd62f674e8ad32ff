"""``tide check create``: a GitHub check run with the report, or a commit status elsewhere.

Where the forge has only commit statuses, the driver posts the report as a commit comment and the
status links to it (a status description holds only a short line).
"""

from __future__ import annotations

import os

from tide.core.errors import ForgeError, MissingError, UsageError
from tide.core.redact import redact
from tide.forge.base import CHECK_STATUSES, CONCLUSIONS, Target
from tide.ops.forge import ForgeContext, open_forge


def create_check(
    report: str,
    *,
    title: str = "tide report",
    conclusion: str | None = None,
    status: str = "completed",
    sha: str | None = None,
    publish: bool = True,
    path: str | None = None,
    ctx: ForgeContext | None = None,
    **forge_options: str | None,
) -> str:
    if status not in CHECK_STATUSES:
        raise UsageError(f"--status must be one of {', '.join(CHECK_STATUSES)}")
    if status != "completed" and conclusion:
        raise UsageError(f"a check that is {status} has no conclusion yet: drop --conclusion or use --status completed")
    conclusion = conclusion or "success"
    if conclusion not in CONCLUSIONS:
        raise UsageError(f"--conclusion must be one of {', '.join(CONCLUSIONS)}")
    try:
        with open(report, encoding="utf-8") as f:
            summary = f.read()
    except FileNotFoundError:
        raise MissingError(f"report '{report}' does not exist")
    except (UnicodeDecodeError, IsADirectoryError):
        raise UsageError(f"report '{report}' is not a UTF-8 text file")
    ctx = ctx or open_forge(path, **forge_options)
    caps = ctx.forge.capabilities
    if not (caps.check_runs or caps.commit_status):
        raise ForgeError(f"{ctx.forge.name}: neither check runs nor commit statuses are supported")
    commit = ctx.git.resolve(sha) if sha else ctx.head_sha()
    if publish:
        from tide.ops.comment import publish_images

        summary = publish_images(ctx, summary, os.path.dirname(os.path.abspath(report)), Target("commit", commit))
    return ctx.forge.create_check(commit, redact(title), redact(summary), conclusion, status)  # no secret leaves
