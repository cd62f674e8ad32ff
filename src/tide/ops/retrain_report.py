"""The markdown report ``tide retrain`` posts on its PR: metrics against the base branch and against
production, the params diff, plots (local images, uploaded by the comment step) and the gate decision."""

from __future__ import annotations

import os

from tide.core.errors import TideError
from tide.core.markup import md_code, md_text, md_url
from tide.registry.records import PromotionRecord
from tide.workspace.repo import Repo


def _metrics_table(repo: Repo, a: str, b: str, a_name: str, b_name: str) -> str:
    from tide.ops import metrics

    try:
        d = metrics.diff(repo, a, b, with_unchanged=True)
    except TideError as exc:
        return f"_metrics unavailable: {md_text(exc)}_\n"
    if not d:
        return "_no metrics_\n"
    return metrics.diff_table(d, "Metric", a_name, b_name, markdown=True, precision=4)


def _same_metrics(repo: Repo, a: str, b: str) -> bool:
    from tide.ops import metrics

    try:
        return not metrics.diff(repo, a, b)
    except TideError:
        return False


def _params_table(repo: Repo, a: str, b: str, a_name: str) -> str:
    from tide.ops import metrics, params

    try:
        d = params.diff(repo, a, b)
    except TideError as exc:
        return f"_params unavailable: {md_text(exc)}_\n"
    if not d:
        return "_no parameter changed_\n"
    return metrics.diff_table(d, "Param", a_name, "this PR", markdown=True, precision=None)


def build_report(repo: Repo, *, day: str, base: str, base_sha: str, head: str, model: str, version: str,
                 stage: str, record: PromotionRecord | None, plots: tuple[str, ...], report_dir: str,
                 pr_url: str = "", undecided: str = "", ui_url: str = "") -> str:
    """``undecided``: why the gate could not decide (its error), said in the report's gate section.
    ``ui_url``: where ``tide ui`` runs (``core.settings.ui_url``, checked there): the report links the
    comparison of this run's candidate with the base (and with production) and the plots of both."""
    from tide.registry.registry import Registry

    art = Registry(repo.git).state().get(model)
    prod = None
    if record is not None and record.production:
        prod = record.production
    elif art is not None and art.stage(stage) and art.stage(stage) != version:
        prod = art.stage(stage)
    # model, stage, branch and version names come from the user's configuration: escaped (core.markup)
    m, b, s, v, pv = md_code(model), md_code(base), md_text(stage), md_text(version), md_text(prod or "")
    lines = [f"## tide retrain: {m} {v} ({md_text(day)})", "",
             f"Trained from {b} at {md_text(base_sha[:8])}; candidate commit {md_text(head[:8])}.", ""]
    if ui_url:
        prod_commit = art.versions[prod].commit if prod and art is not None and prod in art.versions else ""
        lines += [_ui_links(ui_url, base_sha, head, prod_commit), ""]
    lines += [f"### Metrics vs {b}", "", _metrics_table(repo, base_sha, head, base, "this PR")]
    if prod and art is not None and prod in art.versions:
        lines += [f"### Metrics vs production ({s}: {pv})", ""]
        if _same_metrics(repo, base_sha, art.versions[prod].commit):
            lines += [f"_the same as {b}: production {pv} is the model on {b}_", ""]
        else:
            lines += [_metrics_table(repo, art.versions[prod].commit, head, prod, version)]
    else:
        lines += ["### Metrics vs production", "", f"_no model in '{s}' before this one_", ""]
    lines += [f"### Params vs {b}", "", _params_table(repo, base_sha, head, base)]
    images = [p for p in plots if os.path.isfile(os.path.join(repo.root, p))]
    if images:
        lines += ["### Plots", ""]
        for p in images:
            rel = os.path.relpath(os.path.join(repo.root, p), report_dir).replace(os.sep, "/")
            lines += [f"![{md_text(os.path.basename(p))}]({md_url(rel)})", ""]
    if undecided:
        lines += ["### Promotion gate", "", f"**The gate could not decide:** {md_text(undecided)}", "",
                  f"{m} {v} is registered and was not promoted; production is unchanged. "
                  "Fix the cause and run `tide retrain` again (`tide retrain --check` lists what is missing).", ""]
    elif record is not None:
        lines += [record.markdown()]
    else:
        lines += ["### Promotion gate", "", "_no decision recorded_", ""]
    return "\n".join(lines).rstrip() + "\n"


def _ui_links(ui_url: str, base_sha: str, head: str, prod_commit: str) -> str:
    """Links into ``tide ui`` for this run: commit ids only are added to the (checked) address."""
    links = [f"[compare with the base in tide ui]({ui_url}/runs?a={base_sha}&b={head})",
             f"[plots of both]({ui_url}/plots?rev={head}&other={base_sha})"]
    if prod_commit and prod_commit != base_sha:
        links.append(f"[compare with production]({ui_url}/runs?a={prod_commit}&b={head})")
    links.append(f"[registry]({ui_url}/registry)")
    return "**tide ui:** " + " · ".join(links)
