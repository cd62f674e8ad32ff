"""``tide plots show|diff`` as dvc does them: Vega-Lite specs (``--json``, ``--show-vega``) and an HTML page that
renders them with vega-embed; image plots copied next to it. Needs nothing beyond the standard library."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tide.core.errors import TideError, UsageError
from tide.core.fsutil import atomic_write_bytes, atomic_write_text
from tide.ops import exp_refs
from tide.pipeline import metrics as m
from tide.pipeline import vega
from tide.pipeline.plots import IMAGE_EXT, PlotDef, definitions
from tide.pipeline.revfs import WORKSPACE
from tide.workspace.repo import Repo

SCRIPTS = ('<script src="https://cdn.jsdelivr.net/npm/vega@5.20.2"></script>\n'
           '<script src="https://cdn.jsdelivr.net/npm/vega-lite@5.2.0"></script>\n'
           '<script src="https://cdn.jsdelivr.net/npm/vega-embed@6.18.2"></script>')


@dataclass
class Rendered:
    """One plot id: a Vega-Lite spec over every revision, or one image per revision."""
    id: str
    kind: str  # "vega" | "image"
    revs: list[str] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)
    anchors: dict[str, Any] = field(default_factory=dict)
    images: list[tuple[str, str]] = field(default_factory=list)  # (rev, path written)


def _rel(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _dvc_props(d: PlotDef, root: str, cwd: str) -> tuple[str, dict[str, Any]]:
    """(plot id, props as written in dvc.yaml) from tide's parsed definition; paths shown relative to the
    working directory, as dvc shows them."""
    props = dict(d.props)
    if len(d.sources) == 1 and _rel(d.sources[0][0], root) == d.id:
        ys = d.sources[0][1]
        if ys:
            props["y"] = ys[0] if len(ys) == 1 else list(ys)
        return _rel(d.sources[0][0], cwd), props
    props["y"] = {_rel(f, cwd): (ys[0] if len(ys) == 1 else list(ys)) for f, ys in d.sources}
    return d.id, props


def _entries(defs: list[tuple[PlotDef, str]], targets: list[str], readers: dict, root: str, cwd: str,
             outs: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(shown id, plot id, props) as dvc selects them: dvc.yaml plots whose id a target matches (a regex from
    the start, as dvc), then each target that is a file, as a plain plot; an id found both ways is shown as
    ``dvc.yaml::ID`` for the dvc.yaml one."""
    import re

    def matches(t: str, pid: str) -> bool:
        try:
            return re.match(t, pid) is not None
        except re.error:
            return pid.startswith(t)

    chosen = [(_dvc_props(d, root, cwd), yml) for d, yml in defs]
    chosen = [c for c in chosen if not targets or any(matches(t, c[0][0]) for t in targets)]
    files: list[str] = []
    for t in targets:
        rel = _rel(os.path.normpath(os.path.join(cwd, t)), cwd)
        if os.path.normpath(os.path.join(cwd, rel)) in outs:
            continue  # a stage output plot is the same plot, not a second one
        if rel not in files and any(_exists(rd, os.path.join(cwd, rel)) for rd in readers.values()):
            files.append(rel)
    ids = {pid for (pid, _), _ in chosen}
    out: list[tuple[str, str, dict[str, Any]]] = []
    for (pid, props), yml in chosen:
        if pid in files:
            out += [(f"{_rel(yml, cwd)}::{pid}", pid, props), (pid, pid, {})]
        else:
            out.append((pid, pid, props))
    out += [(f, f, {}) for f in files if f not in ids]
    return out


def _exists(rd: Any, path: str) -> bool:
    try:
        return rd.read_bytes(path) is not None
    except TideError:
        return False


def collect(repo: Repo, targets: list[str], revs: list[str], props: dict[str, Any], out_dir: str,
            split: bool = False, cwd: str | None = None, warn: Callable[[str], None] = lambda _line: None
            ) -> tuple[list[Rendered], list[dict[str, Any]]]:
    cwd = cwd or os.getcwd()
    readers = {rev: exp_refs.reader(repo, rev) for rev in revs}  # experiment names too, as dvc
    defs: list[tuple[PlotDef, str]] = []  # (definition, its dvc.yaml)
    outs: set[str] = set()  # stage outputs that are plots: listed after top-level plots, never twice
    for rd in readers.values():
        for pipe in m.pipelines(rd):
            outs.update(o.abspath for st in pipe.stages for o in st.outs if o.kind == "plots")
            for d in definitions([pipe], repo.root):
                if all(d.id != x.id for x, _ in defs):
                    defs.append((d, pipe.path))
    is_out = {id(d): len(d.sources) == 1 and d.sources[0][0] in outs and _rel(d.sources[0][0], repo.root) == d.id
              for d, _ in defs}
    defs.sort(key=lambda e: is_out[id(e[0])])
    tdir = os.path.join(repo.root, ".dvc", "plots")
    out: list[Rendered] = []
    errors: list[dict[str, Any]] = []
    for shown, pid, dprops in _entries(defs, targets, readers, repo.root, cwd, outs):
        dprops = {**dprops, **{k: v for k, v in props.items() if v is not None}}
        if pid.lower().endswith(IMAGE_EXT):
            r = Rendered(pid, "image")
            for rev, rd in readers.items():
                try:
                    raw = rd.read_bytes(os.path.join(cwd, pid))
                except TideError as exc:
                    errors.append({"name": pid, "rev": rev, "source": pid, "type": type(exc).__name__,
                                   "msg": str(exc)})
                    continue
                if raw is None:
                    continue
                os.makedirs(out_dir, exist_ok=True)
                dest = os.path.join(os.path.abspath(out_dir), f"{rev}_{pid}".replace("/", "_"))
                atomic_write_bytes(dest, raw)
                r.images.append((rev, dest))
                r.revs.append(rev)
            out.append(r)
            continue
        header = dprops.get("header", True) is not False
        dps: list[dict[str, Any]] = []
        first: dict[str, Any] = {}
        r = Rendered(shown, "vega")
        for rev, rd in readers.items():
            data = {}
            for src in vega.sources(pid, dprops):
                try:
                    if not src.lower().endswith(vega.DATA_EXT):
                        vega.parse_blob(b"", src, src)  # raises dvc's file type error
                    raw = rd.read_bytes(os.path.join(cwd, src))
                    if raw is not None:
                        data[src] = vega.parse_blob(raw, src, f"{rev}:{src}", header)
                except TideError as exc:
                    errors.append({"name": pid, "rev": rev, "source": src, "type": type(exc).__name__,
                                   "msg": getattr(exc, "dvc_msg", str(exc))})
            try:
                got, rprops = vega.flat_datapoints(pid, dprops, data, rev)
            except TideError as exc:
                warn(f"In '{rev}', {str(exc).lower()}")
                errors.append({"name": pid, "rev": rev, "type": type(exc).__name__, "msg": str(exc)})
                continue
            if got and rev not in r.revs:
                r.revs.append(rev)
            if not first and rprops:
                first = rprops
            dps.extend(got)
        first.setdefault("title", shown)
        template = vega.load_template(first.get("template") or dprops.get("template"), tdir, cwd)
        r.spec, r.anchors = vega.fill(template, dps, first, r.revs, split)
        out.append(r)
    return out, errors


def to_json(rendered: list[Rendered], errors: list[dict[str, Any]], split: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for r in rendered:
        if r.kind == "image":
            data[r.id] = [{"type": "image", "revisions": [rev], "url": path} for rev, path in r.images]
        elif not r.spec:
            data[r.id] = []
        else:
            item: dict[str, Any] = {"type": "vega", "revisions": r.revs, "content": r.spec}
            if split:
                item["anchor_definitions"] = r.anchors
            data[r.id] = [item]
    res: dict[str, Any] = {}
    if errors:
        res["errors"] = errors
    if data:
        res["data"] = data
    return res


def _html_id(name: str) -> str:
    """dvc_render's element id: these characters become ``_``."""
    return name.translate({ord(c): "_" for c in r"!@#$%^&*()[]{};,<>?\/:.|`~=_+ "})


def write_html(rendered: list[Rendered], index: str, html_template: str | None = None) -> str:
    """dvc's page: one vega-embed div per Vega-Lite plot, image plots as <img> after them."""
    divs = []
    for r in sorted(rendered, key=lambda r: r.kind == "image"):
        if r.kind == "vega" and r.spec:
            div_id = _html_id(r.id)
            spec = json.dumps(r.spec).replace("</", "<\\/")
            divs.append(f'<div id = "{div_id}">\n    <script type = "text/javascript">\n'
                        f"        var spec = {spec};\n"
                        f"        vegaEmbed('#{div_id}', spec);\n    </script>\n</div>")
        elif r.kind == "image" and r.images:
            cells = [f"<p>{html.escape(r.id)}</p>"]
            for rev, path in r.images:
                src = os.path.relpath(path, os.path.dirname(index)).replace(os.sep, "/")
                cells.append('<div style="border:1px dotted black;margin:2px;display:inline-block;'
                             f'overflow:hidden;margin-left:8px;">\n<p>{html.escape(rev)}</p>\n'
                             f'<img src="{html.escape(src)}">\n</div>')
            divs.append(f'<div id="{_html_id(r.id)}" style="border:1px solid black;text-align:center;'
                        'white-space: nowrap;overflow-y:hidden;">\n' + "\n".join(cells) + "\n</div>")
    if html_template is not None:
        if "{plot_divs}" not in html_template:
            raise UsageError("HTML template has to contain '{plot_divs}'.")
        page = html_template
    else:
        page = ("<!DOCTYPE html>\n<html>\n<head>\n    {refresh_tag}\n    <title>DVC Plot</title>\n    {scripts}\n"
                "    <style>\n        table {\n            border-spacing: 15px;\n        }\n    </style>\n"
                "</head>\n<body>\n    {plot_divs}\n</body>\n</html>")
    scripts = SCRIPTS if any(r.kind == "vega" and r.spec for r in rendered) else ""
    for key, value in (("scripts", scripts), ("plot_divs", "\n".join(divs)), ("refresh_tag", "")):
        page = page.replace("{" + key + "}", value)
    os.makedirs(os.path.dirname(index), exist_ok=True)
    atomic_write_text(index, page)
    return index


def show(repo: Repo, targets: list[str], revs: list[str] | None, props: dict[str, Any], out: str | None,
         cwd: str | None = None, html_template: str | None = None, warn: Callable[[str], None] = lambda _line: None
         ) -> tuple[str | None, list[Rendered]]:
    """Write ``OUT/index.html`` (images under ``OUT/static``); (index path or None when no plot, plots)."""
    cwd = cwd or os.getcwd()
    out_dir = os.path.abspath(os.path.join(cwd, out or repo.option("plots.out_dir") or "dvc_plots"))
    page = None
    tpl = html_template or repo.option("plots.html_template")
    if tpl:  # as dvc: --html-template relative to cwd, the config value relative to .dvc/
        path = os.path.join(cwd if html_template else repo.dvc_dir, tpl)
        try:
            with open(path, encoding="utf-8") as f:
                page = f.read()
        except OSError as exc:
            raise UsageError(f"HTML template '{tpl}': {exc.strerror}")
    rendered, _ = collect(repo, targets, revs or [WORKSPACE], props, os.path.join(out_dir, "static"), cwd=cwd,
                          warn=warn)
    if not rendered:
        return None, rendered
    return write_html(rendered, os.path.join(out_dir, "index.html"), page), rendered


def show_vega(repo: Repo, target: str, revs: list[str], props: dict[str, Any], cwd: str | None = None,
              warn: Callable[[str], None] = lambda _line: None) -> dict[str, Any] | None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rendered, _ = collect(repo, [target], revs, props, tmp, cwd=cwd, warn=warn)
    spec = next((r.spec for r in rendered if r.kind == "vega"), None)
    if spec is None and not rendered:
        raise UsageError(f"no plot '{target}'")
    return spec
