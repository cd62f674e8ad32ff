"""``tide model``: register, assign, deprecate, show, history and annotate (GTO-compatible tags)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from tide.core.errors import UsageError
from tide.core.git import Git
from tide.registry import tags as T
from tide.registry.registry import Created, Registry
from tide.registry.state import ArtifactState, Event


@dataclass(frozen=True)
class ShowRow:
    name: str
    latest: str | None
    stages: dict[str, str | None]
    deprecated: bool
    registered: bool = True  # False: only HEAD's artifacts.yaml declares it (GTO's discovery)


def registry_for(git: Git | None) -> Registry:
    if git is None:
        raise UsageError("the model registry lives in git tags; this repository has no git")
    return Registry(git)


def push_tag(git: Git, created: Created, remote: str = "origin") -> list[str]:
    """Push the new tag, and converge the artifact's other registry tags with ``remote`` (what it
    lacks is pushed, what only it has is fetched): the repairs, one line each. GitError when refused."""
    from tide.registry import sync

    parsed = T.parse(created.tag)
    return sync.converge(git, remote, parsed.artifact if parsed else None, just_made=(created.tag,))


def deprecate(reg: Registry, name: str, version: str | None, stage: str | None, simple: str = "auto") -> Created:
    """GTO's ``deprecate``: the artifact, a version (deregister) or a stage of a version (unassign)."""
    if stage:
        if not version:
            raise UsageError("give the version whose stage to unassign")
        return reg.unassign(name, version, stage, simple=simple)
    if version:
        return reg.deregister(name, T.check_version(version), simple=simple)
    return reg.deprecate(name, simple=simple)


def show_all(reg: Registry) -> list[ShowRow]:
    """One row per active artifact; ``stages`` holds every stage in use anywhere in the registry (as
    ``gto show`` lists them), None where this artifact has no version in it."""
    state = reg.state()
    used = sorted({s for a in state.values() for s in a.stages if a.stage(s)})
    from tide.registry import gtoshape

    _, index, head_commit = gtoshape.head(reg.git)
    rows = []
    for name in gto_order(state):
        a = state[name]
        if gtoshape.discovered_active(a, head_commit if name in index else None):
            rows.append(ShowRow(name, a.latest, {s: a.stage(s) for s in used}, False))
    rows += [ShowRow(name, None, dict.fromkeys(used), False, registered=False) for name in index if name not in state]
    return rows


def artifact_for_show(reg: Registry, name: str) -> ArtifactState:
    """The artifact ``show NAME`` describes: one with tags, or one HEAD's artifacts.yaml declares."""
    from tide.registry import gtoshape

    a = reg.state().get(name)
    if a is None and name in gtoshape.head(reg.git)[1]:
        return ArtifactState(name)
    return a if a is not None else reg.artifact(name)


def gto_order(state: dict[str, ArtifactState]) -> list[str]:
    """The order of ``gto show --json``'s keys: GTO meets artifacts reading deprecation tags first, then
    (de)registrations, then (un)assignments, each kind by tag time (ties: by tag name)."""
    kinds = ((T.DEPRECATE,), (T.REGISTER, T.DEREGISTER), (T.ASSIGN, T.UNASSIGN))
    seen: dict[str, None] = {}
    for kind in kinds:
        for e in sorted((e for a in state.values() for e in a.events if e.name.action in kind),
                        key=lambda e: (e.time, e.tag)):
            seen.setdefault(e.name.artifact, None)
    return list(seen)


def show_json(rows: list[ShowRow]) -> dict:
    """The shape of ``gto show --json``. An artifact with registry tags is ``registered`` in GTO's sense
    (even when all its versions are deregistered)."""
    return {r.name: {"version": r.latest, "stage": dict(r.stages), "registered": r.registered,
                     "active": not r.deprecated} for r in rows}


EVENT_NAMES = {T.REGISTER: "registration", T.DEREGISTER: "deregistration", T.ASSIGN: "assignment",
               T.UNASSIGN: "unassignment", T.DEPRECATE: "deprecation"}


def history(a: ArtifactState) -> list[dict]:
    rows = []
    for e in reversed(a.events):
        rows.append({"timestamp": _iso(e.time), "artifact": a.name, "event": EVENT_NAMES[e.name.action],
                     "version": e.name.version or a._version_of(e) or "-", "stage": e.name.stage or "-",
                     "commit": e.commit[:7], "ref": e.tag, "promotion": _promotion_of(e)})
    return rows


def _promotion_of(e: Event) -> dict | None:
    import json

    marker = "tide-promotion: "
    for line in e.message.splitlines():
        if line.startswith(marker):
            try:
                return json.loads(line[len(marker):])
            except ValueError:
                return None
    return None


def _iso(ts: int) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def used_stages(state: dict[str, ArtifactState]) -> list[str]:
    """``gto stages``: every stage some version holds now, in any artifact (deprecated ones included)."""
    return sorted({s for a in state.values() for s in a.stages if a.stage(s)})


def check_ref(reg: Registry, ref: str) -> dict | None:
    """``gto check-ref REF``: the registry event a pushed tag made (what a CD job acts on), or None when
    REF is no registry tag of this repository (GTO then prints nothing and exits 0)."""
    from tide.registry import gtoshape

    tag = ref[len("refs/tags/"):] if ref.startswith("refs/tags/") else ref
    parsed = T.parse(tag)
    if parsed is None:
        return None
    a = reg.state().get(parsed.artifact)
    hits = [e for e in (a.events if a else []) if e.tag == tag]
    if not hits:
        return None
    out = gtoshape.event(a, hits[0])
    del out["priority"], out["addition"]
    return out


def select(rows: list[dict], shortcut: T.Shortcut) -> list[dict]:
    """GTO's shortcut filter of ``show NAME``'s versions: the highest (``@latest``), one version, or the
    versions holding a stage (``#STAGE``)."""
    if shortcut.latest:
        return rows[:1]
    if shortcut.version:
        return [v for v in rows if v["version"] == shortcut.version]
    if shortcut.stage:
        return [v for v in rows for s in v["stages"] if s["stage"] == shortcut.stage]
    return rows
