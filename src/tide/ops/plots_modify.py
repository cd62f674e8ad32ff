"""``tide plots modify TARGET``: write plot properties of a stage output into its dvc.yaml, as dvc does.

The output moves to the stage's ``plots:`` list (sorted by path, as dvc writes it) with its options kept
and the given properties set; ``--unset`` removes properties (asking to unset one that is not there is an
error, as in dvc). Outputs of ``.dvc`` files are refused: dvc 3.67.1 writes ``plot:`` into the ``.dvc`` file
and then cannot load that file again ("extra keys not allowed"), so tide does not write such files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tide.core import yamlio
from tide.core.errors import MissingError, UsageError
from tide.core.fsutil import atomic_write_text
from tide.core.yamlstyle import dumps
from tide.pipeline import metrics as m
from tide.pipeline import vega
from tide.pipeline.revfs import WORKSPACE, reader_for
from tide.workspace.repo import Repo

DISPLAY_PROPS = ("template", "x", "y", "x_label", "y_label", "title", "header")
_STAGE_ORDER = ("cmd", "wdir", "deps", "params", "outs", "metrics", "plots")


def _entry(item: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(item, dict) and len(item) == 1:
        (path, opts), = item.items()
        return str(path), dict(opts or {})
    return str(item), {}


def _replace_stage(text: str, where: str, name: str, want: dict[str, Any]) -> str:
    """The text with only ``name``'s block rewritten (comments elsewhere stay); checked to load as ``want``,
    else the whole file is written from ``want``."""
    from tide.pipeline.yamledit import stage_block

    lines = text.splitlines(keepends=True)
    blk = stage_block(lines, name)
    if blk is not None:
        start, _, end = blk
        own = len(lines[start]) - len(lines[start].lstrip(" "))
        dumped = dumps({"stages": {name: want["stages"][name]}}).splitlines(keepends=True)[1:]
        shift = own - 2
        body = [(" " * shift + ln if shift >= 0 else ln[-shift:]) if ln.strip() else ln for ln in dumped]
        edited = "".join(lines[:start] + body + lines[end:])
        try:
            if yamlio.loads(edited, where) == want:
                return edited
        except Exception:  # the block edit is an optimisation; the rewrite below is exact
            pass
    return dumps(want)


def modify(repo: Repo, target: str, props: dict[str, Any], unset: list[str] | None = None,
           cwd: str | None = None, say: Callable[[str], None] = lambda _line: None) -> str:
    """Set ``props`` (and remove ``unset``) on the plot ``target``; returns the dvc.yaml path edited
    (``say`` gets dvc's "Modifying stage" line when a stage is edited)."""
    cwd = cwd or os.getcwd()
    abspath = os.path.normpath(os.path.join(cwd, target))
    if props.get("template"):
        vega.load_template(props["template"], os.path.join(repo.root, ".dvc", "plots"), cwd)
    with repo.lock():
        found = None
        for pipe in m.pipelines(reader_for(repo, WORKSPACE)):
            for st in pipe.stages:
                for o in st.outs:
                    if o.abspath == abspath:
                        found = (pipe.path, st, o)
        if found is None:
            if os.path.isfile(abspath + ".dvc"):
                raise UsageError(f"'{target}' is tracked by a .dvc file: plot properties can only be written "
                                 "to dvc.yaml (dvc 3.x cannot read 'plot:' in .dvc files)")
            raise MissingError(f"Unable to find DVC file with output '{repo.rel(abspath)}'")
        path, st, o = found
        if "@" in st.name:
            raise UsageError(f"'{target}' is an output of the foreach/matrix stage '{st.name}': edit dvc.yaml by hand")
        where = repo.rel(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        data = yamlio.loads(text, where)
        body = dict(data["stages"][st.name])
        kind, idx = None, None
        for k in ("outs", "metrics", "plots"):
            for i, item in enumerate(body.get(k) or []):
                if os.path.normpath(os.path.join(st.wdir, _entry(item)[0])) == abspath:
                    kind, idx = k, i
        if kind is None:
            raise MissingError(f"Unable to find DVC file with output '{repo.rel(abspath)}'")
        items = list(body[kind])
        item_path, opts = _entry(items.pop(idx))
        if kind != "plots" and unset is not None:
            raise UsageError(f"'{item_path}' is not a known plot. Use `tide plots modify` to turn it into one.")
        if unset:
            missing = sorted(set(unset) - {k for k in opts if k in DISPLAY_PROPS})
            if missing:
                raise UsageError(f"display properties {missing} not found in plot '{item_path}'")
            for p in unset:
                opts.pop(p, None)
        opts.update(props)
        if kind == "plots":
            items.insert(idx, {item_path: opts} if opts else item_path)
        if items:
            body[kind] = items
        else:
            body.pop(kind)
        if kind != "plots":
            plots = list(body.get("plots") or []) + [{item_path: opts} if opts else item_path]
            body["plots"] = sorted(plots, key=lambda it: _entry(it)[0])
        known = [k for k in _STAGE_ORDER if k in body]
        body = {**{k: body[k] for k in body if k not in _STAGE_ORDER[:7] or k in ("cmd", "wdir")},
                **{k: body[k] for k in known if k not in ("cmd", "wdir")}}
        body = {**{k: body[k] for k in ("cmd", "wdir") if k in body}, **body}
        data["stages"] = {**data["stages"], st.name: body}
        atomic_write_text(path, _replace_stage(text, where, st.name, data))
        say(f"Modifying stage '{st.name}' in '{where}'")
    return path
