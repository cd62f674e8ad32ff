"""``tide plots show|diff``: PNG images drawn with matplotlib and one HTML page, revisions side by side."""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from typing import Any

from tide.core.errors import TideError, UsageError
from tide.core.fsutil import atomic_write_bytes, atomic_write_text
from tide.ops import exp_refs
from tide.pipeline import metrics as m
from tide.pipeline.plots import IMAGE_EXT, TEMPLATES, PlotDef, definitions, parse_data
from tide.pipeline.revfs import WORKSPACE
from tide.workspace.repo import Repo

DEFAULT_OUT = "dvc_plots"


class MissingExtraError(TideError):
    """An optional dependency (an extra) is not installed; not a UsageError, so reports say "unavailable"."""


@dataclass
class PlotsResult:
    out_dir: str
    index: str
    images: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "plot"


def _select(defs: list[PlotDef], targets: list[str], root: str, cwd: str) -> list[PlotDef]:
    if not targets:
        return defs
    out = []
    for t in targets:
        rel = os.path.relpath(os.path.normpath(os.path.join(cwd, t)), root).replace(os.sep, "/")
        hits = [d for d in defs if d.id in (t, rel) or any(
            os.path.relpath(s, root).replace(os.sep, "/") == rel for s, _ in d.sources)]
        if not hits:  # a file that is not declared in dvc.yaml can still be plotted
            hits = [PlotDef(rel, ((os.path.join(root, rel), ()),), {})]
        out.extend(h for h in hits if h not in out)
    return out


def render(repo: Repo, targets: list[str] | None = None, revs: list[str] | None = None,
           out_dir: str | None = None, props: dict[str, Any] | None = None, cwd: str | None = None) -> PlotsResult:
    cwd = cwd or os.getcwd()
    revs = revs or [WORKSPACE]
    readers = {rev: exp_refs.reader(repo, rev) for rev in revs}  # experiment names too, as dvc
    defs: list[PlotDef] = []
    for rd in readers.values():
        for d in definitions(m.pipelines(rd), repo.root):
            if all(d.id != x.id for x in defs):
                defs.append(d)
    defs = _select(defs, list(targets or []), repo.root, cwd)
    if props:
        y = props.get("y")
        over = {k: v for k, v in props.items() if v is not None and k != "y"}
        defs = [PlotDef(d.id, tuple((s, (str(y),) if y else ys) for s, ys in d.sources), {**d.props, **over})
                for d in defs]
    if not defs:
        raise UsageError("no plots: declare plots in dvc.yaml or name plot files")
    out = os.path.abspath(os.path.join(cwd, out_dir or DEFAULT_OUT))
    os.makedirs(out, exist_ok=True)
    result = PlotsResult(out, os.path.join(out, "index.html"))
    sections: list[str] = []
    for d in defs:
        cells: list[tuple[str, str]] = []  # (caption, file name in out)
        if d.is_image:
            for rev, rd in readers.items():
                try:
                    raw = rd.read_bytes(d.sources[0][0])
                except TideError as exc:
                    result.errors.append(f"{rev}: {exc}")
                    continue
                if raw is None:
                    continue
                name = f"{_safe(rev)}_{_safe(d.id)}"
                atomic_write_bytes(os.path.join(out, name), raw)
                result.images.append(os.path.join(out, name))
                cells.append((rev, name))
        else:
            series = _series(d, readers, repo.root, result.errors)
            if series:
                name = f"{_safe(d.id)}.png"
                _draw(d, series, os.path.join(out, name))
                result.images.append(os.path.join(out, name))
                cells.append(("", name))
        if cells:
            imgs = "".join(
                f'<figure><img src="{html.escape(f)}" alt="{html.escape(d.id)}">'
                + (f"<figcaption>{html.escape(c)}</figcaption>" if c else "") + "</figure>"
                for c, f in cells
            )
            sections.append(f"<section><h2>{html.escape(d.id)}</h2><div class=\"row\">{imgs}</div></section>")
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tide plots</title><style>"
        "body{font-family:sans-serif;margin:2em}.row{display:flex;flex-wrap:wrap;gap:1em}"
        "figure{margin:0}img{max-width:640px}</style></head><body>\n"
        + "\n".join(sections) + "\n</body></html>\n"
    )
    atomic_write_text(result.index, page)
    return result


def _series(d: PlotDef, readers: dict, root: str, errors: list[str]) -> list[tuple[str, list[Any], list[Any]]]:
    """(label, xs, ys) per revision, file and y field."""
    out = []
    x_field = d.props.get("x")
    multi_rev = len(readers) > 1
    for rev, rd in readers.items():
        for src, ys in d.sources:
            rel = os.path.relpath(src, root).replace(os.sep, "/")
            try:
                raw = rd.read_bytes(src)
                if raw is None:
                    continue
                records = parse_data(raw, src, f"{rev}:{rel}", d.props.get("header", True) is not False)
            except TideError as exc:
                errors.append(str(exc))
                continue
            if not records:
                continue
            fields = list(records[0].keys())
            y_fields = list(ys) or [f for f in fields if f != x_field][-1:]
            for y in y_fields:
                if y not in fields:
                    errors.append(f"{rev}:{rel}: no field '{y}'")
                    continue
                xs = [r.get(x_field) for r in records] if x_field else list(range(len(records)))
                vals = [r.get(y) for r in records]
                parts = ([rev] if multi_rev else []) + ([rel] if len(d.sources) > 1 else []) + [y]
                out.append((": ".join(parts), xs, vals))
    return out


def _draw(d: PlotDef, series: list[tuple[str, list[Any], list[Any]]], path: str) -> None:
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("PNG plots need matplotlib: pip install 'tide-ml[plots]' (Vega-Lite HTML, "
                                "'tide plots show' without --png, needs nothing extra)") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    template = d.template
    if template not in TEMPLATES:
        raise UsageError(f"plot '{d.id}': unknown template '{template}' (known: {', '.join(TEMPLATES)})")
    x_label = d.props.get("x_label") or d.props.get("x") or "step"
    y_label = d.props.get("y_label") or (series[0][0].split(": ")[-1] if len(series) == 1 else "")
    if template.startswith("confusion"):
        fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 4.5), squeeze=False)
        for ax, (label, xs, ys) in zip(axes[0], series, strict=True):
            _confusion(ax, xs, ys, template == "confusion_normalized", label)
            ax.set_xlabel(str(d.props.get("x_label") or d.props.get("x") or "actual"))
            ax.set_ylabel(str(d.props.get("y_label") or label.split(": ")[-1]))
    else:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, xs, ys in series:
            if template == "scatter":
                ax.scatter(xs, ys, label=label, s=12)
            elif template.startswith("bar_horizontal"):
                pairs = list(zip(ys, xs, strict=True))
                if template.endswith("sorted"):
                    pairs.sort(key=lambda p: p[1])
                ax.barh([str(p[0]) for p in pairs], [p[1] for p in pairs], label=label, alpha=0.7)
            elif template == "smooth":
                ax.plot(xs, _smooth(ys), label=label)
            else:
                ax.plot(xs, ys, label=label, marker="o" if template == "linear" and len(xs) <= 50 else None)
        ax.set_xlabel(str(x_label))
        ax.set_ylabel(str(y_label))
        if len(series) > 1:
            ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(str(d.props.get("title") or d.id))
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def _smooth(ys: list[Any], window: int = 5) -> list[float]:
    vals = [float(v) for v in ys]
    out = []
    for i in range(len(vals)):
        chunk = vals[max(0, i - window + 1) : i + 1]
        out.append(sum(chunk) / len(chunk))
    return out


def _confusion(ax, actual: list[Any], predicted: list[Any], normalize: bool, label: str) -> None:
    classes = sorted({str(v) for v in actual} | {str(v) for v in predicted})
    pos = {c: i for i, c in enumerate(classes)}
    counts = [[0.0] * len(classes) for _ in classes]
    for a, p in zip(actual, predicted, strict=True):
        counts[pos[str(p)]][pos[str(a)]] += 1
    if normalize:
        for j in range(len(classes)):
            col = sum(counts[i][j] for i in range(len(classes)))
            for i in range(len(classes)):
                counts[i][j] = counts[i][j] / col if col else 0.0
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    for i in range(len(classes)):
        for j in range(len(classes)):
            v = counts[i][j]
            ax.text(j, i, f"{v:.2f}" if normalize else f"{int(v)}", ha="center", va="center")
    ax.set_title(label)


__all__ = ["render", "PlotsResult", "PlotDef", "IMAGE_EXT"]
