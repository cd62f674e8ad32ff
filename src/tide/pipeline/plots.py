"""Plot definitions from dvc.yaml (per-output and top-level) and their data (CSV/TSV/JSON/YAML)."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any

from tide.core import utf8, yamlio
from tide.core.errors import FileFormatError
from tide.pipeline.definition import Pipeline

IMAGE_EXT = (".png", ".jpg", ".jpeg", ".svg", ".gif")
TEMPLATES = ("linear", "simple", "scatter", "smooth", "confusion", "confusion_normalized",
             "bar_horizontal", "bar_horizontal_sorted")


@dataclass(frozen=True)
class PlotDef:
    id: str
    sources: tuple[tuple[str, tuple[str, ...]], ...]  # (abspath, y fields; () = default) per file
    props: dict[str, Any] = field(default_factory=dict)  # template, x, title, x_label, y_label

    @property
    def is_image(self) -> bool:
        return len(self.sources) == 1 and self.sources[0][0].lower().endswith(IMAGE_EXT)

    @property
    def template(self) -> str:
        return str(self.props.get("template") or "linear")


def _ys(y: Any) -> tuple[str, ...]:
    if y is None:
        return ()
    if isinstance(y, list):
        return tuple(str(v) for v in y)
    return (str(y),)


def definitions(pipes: list[Pipeline], root: str) -> list[PlotDef]:
    found: list[PlotDef] = []
    for p in pipes:
        base = os.path.dirname(p.path)
        for pid, props in p.plots:
            y = props.get("y")
            rest = {k: v for k, v in props.items() if k != "y"}
            if isinstance(y, dict):
                srcs = tuple((os.path.normpath(os.path.join(base, f)), _ys(v)) for f, v in y.items())
                found.append(PlotDef(pid, srcs, rest))
            else:
                src = os.path.normpath(os.path.join(base, pid))
                rel = os.path.relpath(src, root).replace(os.sep, "/")
                found.append(PlotDef(rel, ((src, _ys(y)),), rest))
        for s in p.stages:
            for o in s.outs:
                if o.kind == "plots":
                    rel = os.path.relpath(o.abspath, root).replace(os.sep, "/")
                    if any(d.id == rel for d in found):
                        continue
                    props = {k: v for k, v in o.options.items() if k in ("template", "x", "title", "x_label",
                                                                             "y_label", "header")}
                    found.append(PlotDef(rel, ((o.abspath, _ys(o.options.get("y"))),), props))
    return found


def _number(v: Any) -> Any:
    if isinstance(v, str):
        for conv in (int, float):
            try:
                return conv(v)
            except ValueError:
                pass
    return v


def parse_data(raw: bytes, name: str, where: str, header: bool = True) -> list[dict[str, Any]]:
    """Records of a plots file; CSV/TSV values become numbers when they look like numbers."""
    text = utf8.decode(raw, where)
    ext = os.path.splitext(name)[1].lower()
    if ext in (".csv", ".tsv"):
        delim = "\t" if ext == ".tsv" else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
        rows = [r for r in rows if r]
        if not rows:
            return []
        if header:
            head, body = rows[0], rows[1:]
        else:
            head, body = [str(i) for i in range(len(rows[0]))], rows
        return [{h: _number(v) for h, v in zip(head, r, strict=False)} for r in body]
    if ext == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"{where}: invalid JSON: {exc.msg}")
    else:
        data = yamlio.loads(text, where)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if lists else [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise FileFormatError(f"{where}: plot data must be a list of records")
    return data
