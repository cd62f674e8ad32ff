"""``tide report``: a markdown report (metrics and params against a base revision, plots rendered to
images, user markdown) to feed ``tide comment create``. Images are written beside the report with
relative links, so ``comment create`` uploads them and rewrites the links."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tide.core.errors import MissingError, TideError, UsageError
from tide.core.fsutil import atomic_write_text
from tide.core.markup import md_code, md_text, md_url
from tide.ops import metrics, params
from tide.workspace.repo import Repo

WORKSPACE = "workspace"


@dataclass
class Report:
    markdown: str
    images: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _section(title: str, body: str) -> list[str]:
    return [f"### {title}", "", body.rstrip(), ""]


def build(
    repo: Repo,
    base: str = "HEAD",
    head: str = WORKSPACE,
    out: str = "report.md",
    title: str | None = None,
    include: list[str] | None = None,
    with_plots: bool = True,
    precision: int = 4,
    cwd: str | None = None,
) -> Report:
    cwd = cwd or os.getcwd()
    out_path = os.path.abspath(os.path.join(cwd, out))
    if os.path.isdir(out_path):
        raise UsageError(f"'{out}' is a directory; name the report file (e.g. report.md)")
    rep = Report("")
    head_name = "workspace" if head == WORKSPACE else head
    lines = [f"## {md_text(title) if title else 'tide report'}", ""]
    for md in include or []:
        p = os.path.join(cwd, md)
        try:
            with open(p, encoding="utf-8") as f:
                lines += [f.read().rstrip(), ""]
        except FileNotFoundError:
            raise MissingError(f"'{md}' does not exist")
        except UnicodeDecodeError:
            raise TideError(f"'{md}' is not UTF-8 text")
    try:
        d = metrics.diff(repo, base, head, with_unchanged=True)
        body = metrics.diff_table(d, "Metric", base, head_name, True, precision) if d else "_no metrics_"
    except TideError as exc:
        body = f"_metrics unavailable: {md_text(exc)}_"
        rep.warnings.append(str(exc))
    lines += _section(f"Metrics: {md_code(head_name)} vs {md_code(base)}", body)
    try:
        d = params.diff(repo, base, head)
        body = (metrics.diff_table(d, "Param", base, head_name, True, None, show_change=False)
                if d else "_no parameter changed_")
    except TideError as exc:
        body = f"_params unavailable: {md_text(exc)}_"
        rep.warnings.append(str(exc))
    lines += _section(f"Params: {md_code(head_name)} vs {md_code(base)}", body)
    if with_plots:
        lines += _plots(repo, base, head, out_path, rep, cwd)
    rep.markdown = "\n".join(lines).rstrip() + "\n"
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    atomic_write_text(out_path, rep.markdown)
    return rep


def _plots(repo: Repo, base: str, head: str, out_path: str, rep: Report, cwd: str) -> list[str]:
    from tide.ops.plots import render

    img_dir = os.path.splitext(out_path)[0] + "_plots"
    revs = [base, head] if base != head else [head]
    try:
        res = render(repo, None, revs, img_dir, None, cwd)
    except UsageError:
        return _section("Plots", "_no plots declared in dvc.yaml_")
    except TideError as exc:
        rep.warnings.append(str(exc))
        return _section("Plots", f"_plots unavailable: {md_text(exc)}_")
    rep.warnings += res.errors
    rep.images = list(res.images)
    base_dir = os.path.dirname(out_path)
    links = [f"![{md_text(os.path.basename(p))}]({md_url(os.path.relpath(p, base_dir).replace(os.sep, '/'))})"
             for p in res.images]
    return _section("Plots", "\n\n".join(links) if links else "_no plot data_")
