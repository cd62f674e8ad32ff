"""Plots as dvc renders them: data files to datapoints, datapoints into a Vega-Lite template.

Same semantics as dvc 3.x (``dvc.render.converter.vega`` and ``dvc_render.vega``): CSV/TSV values stay strings,
JSON/YAML lists of records are merged index by index, x defaults to the row index ``step``, y to the last field,
every datapoint gets ``rev``; several y sources add ``filename``/``field`` and unify the y field as
``dvc_inferred_y_value``. Templates are dvc's defaults or ``.dvc/plots/NAME.json``. No third-party imports.
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

from tide.core import utf8, yamlio
from tide.core.errors import FileFormatError, UsageError
from tide.pipeline import vega_templates

INDEX = "step"
SEP = "::"
SPLIT_ANCHORS = ("color", "data", "plot_height", "plot_width", "shape", "stroke_dash", "title", "tooltip",
                 "x_label", "y_label", "zoom_and_pan")
OPTIONAL_ANCHORS = ("color", "column", "group_by_x", "group_by_y", "group_by", "pivot_field", "plot_height",
                    "plot_width", "row", "shape", "stroke_dash", "tooltip", "zoom_and_pan")
RANGES: dict[str, list[Any]] = {
    "stroke_dash": [[1, 0], [8, 8], [8, 4], [4, 4], [4, 2], [2, 1], [1, 1]],
    "color": ["#945dd6", "#13adc7", "#f46837", "#48bb78", "#4299e1", "#ed8936", "#f56565"],
    "shape": ["circle", "square", "triangle", "diamond"],
}


class PlotDataError(FileFormatError):
    """A plot definition does not fit its data (lengths differ, ...)."""


class FieldNotFoundError(PlotDataError):
    """A field named by x or y is not in the data (dvc's class name: it is the ``type`` in ``--json`` errors)."""


class PlotMetricTypeError(FileFormatError):
    """A plot source that is not JSON, YAML, CSV or TSV; ``dvc_msg`` keeps dvc's two-line message for --json."""

    def __init__(self, name: str) -> None:
        self.dvc_msg = f"'{name}' - file type error\nOnly JSON, YAML, CSV and TSV formats are supported."
        super().__init__(self.dvc_msg)


class JSONFileCorruptedError(FileFormatError):
    """dvc's name and message for a plot file that does not parse (``--json`` errors)."""

    kind = "JSON"

    def __init__(self, name: str, why: str) -> None:
        self.dvc_msg = f"unable to read: '{name}', {self.kind} file structure is corrupted"
        super().__init__(f"{self.dvc_msg}: {why}")


class YAMLFileCorruptedError(JSONFileCorruptedError):
    kind = "YAML"


DATA_EXT = (".json", ".yaml", ".yml", ".csv", ".tsv")


def anchor(name: str) -> str:
    return f"<DVC_METRIC_{name.upper()}>"


# ---------------------------------------------------------------- templates
def load_template(name: str | None, templates_dir: str | None, cwd: str | None = None) -> dict[str, Any]:
    """``name`` in ``templates_dir`` (with or without .json), else a path, else a default template."""
    name = name or "linear"
    cands = []
    if templates_dir:
        cands += [os.path.join(templates_dir, name), os.path.join(templates_dir, name + ".json")]
    cands.append(os.path.join(cwd or os.getcwd(), name))
    for c in cands:
        if os.path.isfile(c):
            try:
                with open(c, encoding="utf-8") as f:
                    content = json.load(f)
            except (OSError, ValueError) as exc:
                raise FileFormatError(f"template '{name}': {c}: {exc}")
            if not isinstance(content, dict):
                raise FileFormatError(f"template '{name}': {c}: not a JSON object")
            return content
    content = vega_templates.default(name)
    if content is None:
        raise UsageError(f"Template '{name}' not found.")
    return content


def _replace(node: Any, name: str, value: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if isinstance(v, str):
                if v == name:
                    out[k] = value
                    continue
                if name in v and isinstance(value, str):
                    v = v.replace(name, value)
                out[k] = v
            else:
                out[k] = _replace(v, name, value)
        return out
    if isinstance(node, list):
        return [value if isinstance(e, str) and e == name else (_replace(e, name, value)
                                                              if isinstance(e, dict | list) else e) for e in node]
    return node


def _has(node: Any, name: str) -> bool:
    if isinstance(node, dict):
        return any(_has(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_has(v, name) if isinstance(v, dict) else v == name for v in node)
    return node == name


# ---------------------------------------------------------------- data
def _lists(blob: Any):
    if isinstance(blob, list):
        yield blob
    elif isinstance(blob, dict):
        for v in blob.values():
            if isinstance(v, dict):
                yield from _lists(v)
            elif isinstance(v, list):
                yield v


def parse_blob(raw: bytes, name: str, where: str, header: bool = True) -> Any:
    """The content of a plots data file as dvc loads it (CSV/TSV rows as dicts of strings)."""
    text = utf8.decode(raw, where)
    ext = os.path.splitext(name)[1].lower()
    if ext not in DATA_EXT:
        raise PlotMetricTypeError(name)
    if ext in (".csv", ".tsv"):
        delim = "\t" if ext == ".tsv" else ","
        if header:
            return [dict(r) for r in csv.DictReader(io.StringIO(text), delimiter=delim)]
        first = next(iter(csv.reader(io.StringIO(text), delimiter=delim)), [])
        names = [str(i) for i in range(len(first))]
        return [dict(r) for r in csv.DictReader(io.StringIO(text), delimiter=delim, fieldnames=names)]
    if ext == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise JSONFileCorruptedError(name, exc.msg)
    try:
        return yamlio.loads(text, where)
    except FileFormatError as exc:
        raise YAMLFileCorruptedError(name, str(exc))


def datapoints(blob: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for lst in _lists(blob):
        if lst and all(isinstance(i, dict) for i in lst) and set(lst[0]) == {k for i in lst for k in i}:
            for i, dp in enumerate(lst):
                if len(result) <= i:
                    result.append({})
                result[i].update(dp)
    return result


def _file_fields(axis: Any):
    if isinstance(axis, dict):
        for f, v in axis.items():
            if isinstance(v, str):
                yield f, v
            elif isinstance(v, list):
                for fld in v:
                    yield f, fld


def sources(plot_id: str, props: dict[str, Any]) -> list[str]:
    y, x = props.get("y"), props.get("x")
    out = list(y) if isinstance(y, dict) else [plot_id]
    if isinstance(x, dict) and x:
        out.append(next(iter(x)))
    return list(dict.fromkeys(out))


def _verify(f2d: dict[str, list[dict]], f: str, fld: str) -> None:
    if f2d.get(f) and fld not in f2d[f][0]:
        raise FieldNotFoundError(f"Could not find provided field ('{fld}') in data fields ('{', '.join(f2d[f][0])}').")


def flat_datapoints(plot_id: str, props: dict[str, Any], data: dict[str, Any], rev: str
                    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(datapoints, resolved properties) of one plot at one revision; ``data`` maps source file to blob."""
    x, y = props.get("x"), props.get("y")
    inferred: dict[str, Any] = {}
    if isinstance(x, str):
        if isinstance(y, dict):
            inferred["x"] = {f: [x] * len(v) if isinstance(v, list) else x for f, v in y.items()}
        else:
            inferred["x"] = {plot_id: x}
    if y is None:
        inferred["y"] = None
        for lst in _lists(data.get(plot_id, [])) if plot_id in data else ():
            if lst and all(isinstance(i, dict) for i in lst):
                inferred["y"] = {plot_id: list(lst[0])[-1]}
                break
    elif not isinstance(y, dict):
        inferred["y"] = {plot_id: y}
    f2d = {f: datapoints(b) for f, b in data.items()}
    p = {**props, **inferred}
    p["y_label"] = _y_label(p)
    p["x_label"] = _x_label(p)
    xs = list(_file_fields(p.get("x")))
    for f, fld in xs:
        _verify(f2d, f, fld)
    ys = list(_file_fields(p.get("y")))
    for f, fld in ys:
        _verify(f2d, f, fld)
    x_file, x_field = xs[0] if xs else (None, INDEX)
    multi_x = len(xs) > 1 and len({a[1] for a in xs}) > 1
    upd: dict[str, Any] = {"x": "dvc_inferred_x_value" if multi_x else x_field}
    if len(xs) > 1 and len(xs) != len(ys):
        raise PlotDataError(f"Cannot have different number of x and y data sources. Found {len(xs)} x and "
                            f"{len(ys)} y data sources.")
    y_fields = list(dict.fromkeys(fld for _, fld in ys))
    y_files = {f for f, _ in ys}
    upd["y"] = "dvc_inferred_y_value" if len(y_fields) > 1 else (y_fields[0] if y_fields else None)
    cut = len(os.path.commonpath(list(y_files))) if len(y_files) > 1 else 0
    upd["anchors_y_definitions"] = [{"filename": f[cut:].strip("/\\"), "field": fld} for f, fld in ys]
    out: list[dict[str, Any]] = []
    for i, (yf, yfld) in enumerate(ys):
        if len(xs) > 1:
            x_file, x_field = xs[i]
        dps = [dict(d) for d in f2d.get(yf, [])]
        if upd["y"] == "dvc_inferred_y_value":
            for d in dps:
                if yfld in d:
                    d["dvc_inferred_y_value"] = d[yfld]
        if x_field == INDEX and x_file is None:
            for n, d in enumerate(dps):
                d[INDEX] = n
        else:
            src = f2d.get(x_file, [])
            if len(src) != len(dps):
                raise PlotDataError(f"Cannot join '{x_field}' from '{x_file}' and '{yfld}' from '{yf}'. "
                                    "They have to have same length.")
            key = "dvc_inferred_x_value" if multi_x else x_field
            for d, s in zip(dps, src, strict=True):
                if x_field in s:
                    d[key] = s[x_field]
        for d in dps:
            d.update({"rev": rev, "filename": yf[cut:].strip("/\\"), "field": yfld})
        out.extend(dps)
    if not out:
        return [], {}
    return out, {**p, **upd}


def _y_label(p: dict[str, Any]) -> Any:
    if p.get("y_label") is not None:
        return p["y_label"]
    y = p.get("y")
    if isinstance(y, str):
        return y
    if isinstance(y, list):
        return "y"
    if not isinstance(y, dict):
        return None
    fields = list(dict.fromkeys(f for _, f in _file_fields(y)))
    return fields[0] if len(fields) == 1 else "y"


def _x_label(p: dict[str, Any]) -> Any:
    if p.get("x_label") is not None:
        return p["x_label"]
    x = p.get("x")
    if not isinstance(x, dict):
        return INDEX
    fields = list(dict.fromkeys(f for _, f in _file_fields(x)))
    return fields[0] if len(fields) == 1 else "x"


# ---------------------------------------------------------------- filling
class Filled:
    """A template being filled; ``split`` anchors go to ``anchor_definitions`` instead."""

    def __init__(self, template: dict[str, Any], split: bool):
        self.content = template
        self.split = SPLIT_ANCHORS if split else ()
        self.defs: dict[str, Any] = {}
        self.optional = [a for a in OPTIONAL_ANCHORS if _has(template, anchor(a))]

    def put(self, name: str, value: Any) -> None:
        if name in self.split:
            self.defs[anchor(name)] = value
        else:
            self.content = _replace(self.content, anchor(name), value)

    def opt(self, name: str, value: Any) -> None:
        if name in self.optional:
            self.optional.remove(name)
            self.put(name, value)

    def mapping(self, field_name: str, name: str, domain: list[str]) -> None:
        if name not in self.optional:
            return
        full = RANGES.get(name, [])
        rng = [full[i % len(full)] for i in range(len(domain))] if full else []
        legend = {} if name == "color" else {"legend": {"symbolFillColor": "transparent",
                                                          "symbolStrokeColor": "grey"}}
        self.opt(name, {"field": field_name, "scale": {"domain": domain, "range": rng}, **legend})


def _escape(v: str) -> str:
    for ch in (".", "[", "]"):
        v = v.replace(ch, "\\" + ch)
    return v


def fill(template: dict[str, Any], dps: list[dict[str, Any]], props: dict[str, Any], revs: list[str],
         split: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Vega-Lite spec, anchor definitions) of a plot; the definitions are empty unless ``split``."""
    if not dps:
        return {}, {}
    for axis in ("x", "y"):
        if props.get(axis) and not any(props[axis] in d for d in dps):
            raise PlotDataError(f"Field '{props[axis]}' does not exist in provided data.")
    props = dict(props)
    props.setdefault("title", "")
    props.setdefault("x_label", props.get("x"))
    props.setdefault("y_label", props.get("y"))
    t = Filled(template, split)
    varied: list[str] | None = None
    if t.optional:
        t.mapping("rev", "color", revs)
        t.opt("zoom_and_pan", {"name": "grid", "select": "interval", "bind": "scales"})
        t.opt("plot_height", 300)
        t.opt("plot_width", 300)
        ydefs = props.get("anchors_y_definitions", [])
        if len(ydefs) <= 1:
            _group_by(t, props, ["rev"])
            t.opt("pivot_field", "datum.rev")
            _tooltip(t, props, [])
            for a in list(t.optional):  # dvc fills the rest with {} in the spec itself, even with --split
                t.content = _replace(t.content, anchor(a), {})
            varied = []
        else:
            varied = _multi(t, props, ydefs)
    if varied is not None:
        both = len(varied) == 2
        drop = varied if both else [k for k in ("filename", "field") if k not in varied]
        for d in dps:
            if both:
                d[SEP.join(varied)] = SEP.join(str(d.get(k)) for k in varied)
            for k in drop:
                d.pop(k, None)
    values = {"title": props.get("title"), "x": props.get("x"), "y": props.get("y"),
              "x_label": props.get("x_label"), "y_label": props.get("y_label"), "data": dps}
    for name, value in values.items():
        if value is None:
            continue
        if name == "data" and "data" not in t.split and not _has(t.content, anchor("data")):
            raise FileFormatError(f"Template is not using '{anchor('data')}' anchor")
        if name in ("x", "y") and name not in t.split:
            value = _escape(str(value))
        t.put(name, value)
    return t.content, t.defs


def _group_by(t: Filled, props: dict[str, Any], by: list[str]) -> None:
    t.opt("group_by", by)
    t.opt("group_by_x", [*by, props.get("x")])
    t.opt("group_by_y", [*by, props.get("y")])


def _tooltip(t: Filled, props: dict[str, Any], extra: list[str]) -> None:
    t.opt("tooltip", [{"field": "rev"}, {"field": props.get("x")}, {"field": props.get("y")},
                      *[{"field": f} for f in extra]])


def _multi(t: Filled, props: dict[str, Any], ydefs: list[dict[str, str]]) -> list[str]:
    vals: dict[str, set] = {"filename": set(), "field": set(), SEP.join(("filename", "field")): set()}
    for d in ydefs:
        vals["filename"].add(d.get("filename"))
        vals["field"].add(d.get("field"))
        vals["filename::field"].add(SEP.join([d.get("filename", ""), d.get("field", "")]))
    varied = [k for k in ("filename", "field") if len(vals[k]) != 1]
    domain = sorted(vals["filename::field"] if len(varied) == 2 else vals[varied[0]] if varied else [])
    concat = SEP.join(varied)
    _group_by(t, props, ["rev", concat])
    t.opt("pivot_field", f" + '{SEP}' + ".join(f"datum.{k}" for k in ["rev", *varied]))
    t.opt("row", {"field": concat, "sort": []})
    t.opt("column", {"field": concat, "sort": []})
    _tooltip(t, props, [concat])
    for a in ("stroke_dash", "shape"):
        t.mapping(concat, a, domain)
    return varied
