"""The registry's state, computed from the tags of a git repository the way GTO computes it.

Events are ordered by tag time, then by counter. A version is registered by ``NAME@vX.Y.Z`` and
cancelled by ``NAME@vX.Y.Z!``; a stage is held by the version whose latest still-standing
assignment is the most recent; ``NAME@deprecated`` hides the artifact while it is its newest event
(as in GTO, any later registry event of the artifact makes it active again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tide.core.git import Git
from tide.registry import tags as T

FORMAT = (
    "%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objectname)%00"
    "%(taggerdate:unix)%00%(creatordate:unix)%00%(taggername)%00%(taggeremail)%00%(taggerdate:iso-strict)%00"
    "%(contents)%00%1e"
)


@dataclass(frozen=True)
class Event:
    tag: str
    name: T.TagName
    commit: str
    time: int
    author: str
    email: str
    message: str
    iso: str = ""  # the tag date as GTO prints it (ISO 8601 with the tagger's UTC offset)

    @property
    def order(self) -> tuple[int, int]:
        return (self.time, self.name.counter or 0)


@dataclass(frozen=True)
class Version:
    version: str
    commit: str
    registered_at: int
    tag: str
    active: bool  # not deregistered


@dataclass
class ArtifactState:
    name: str
    events: list[Event] = field(default_factory=list)
    versions: dict[str, Version] = field(default_factory=dict)
    stages: dict[str, list[str]] = field(default_factory=dict)  # stage -> versions, most recent first
    staged: dict[str, set[str]] = field(default_factory=dict)  # version -> every stage it was (un)assigned
    holding: dict[str, set[str]] = field(default_factory=dict)  # version -> stages assigned and not unassigned
    deprecated: bool = False  # the newest event is a deprecation (GTO: any later event revives it)

    @property
    def latest(self) -> str | None:
        ranked = by_semver([v for v in self.versions.values() if v.active])
        return ranked[0].version if ranked else None

    def stage(self, stage: str) -> str | None:
        held = self.stages.get(stage)
        return held[0] if held else None

    def version_at(self, commit: str) -> str | None:
        for v in self.versions.values():
            if v.commit == commit and v.active:
                return v.version
        return None

    def assignment_event(self, stage: str, version: str) -> Event | None:
        hits = [e for e in self.events if e.name.action == T.ASSIGN and e.name.stage == stage
                and self._version_of(e) == version]
        return hits[-1] if hits else None

    def _version_of(self, e: Event) -> str | None:
        for v in self.versions.values():
            if v.commit == e.commit:
                return v.version
        return None


def by_semver(versions: list[Version]) -> list[Version]:
    """Highest first; versions semver ranks equal (``v1.0.0+b1``, ``v1.0.0``): the later registered
    first, as GTO orders them (a stable ascending sort, reversed)."""
    return sorted(versions, key=lambda v: T.semver_key(v.version))[::-1]


def read_events(git: Git) -> list[Event]:
    raw = git.run("for-each-ref", "refs/tags", f"--format={FORMAT}").stdout.decode("utf-8", errors="replace")
    events = []
    for rec in raw.split("\x1e"):
        rec = rec.lstrip("\n")
        if not rec:
            continue
        parts = rec.split("\x00")
        if len(parts) < 10:
            continue
        ref, kind, obj, peeled, tdate, cdate, tagger, email, iso, message = parts[:10]
        parsed = T.parse(ref)
        if parsed is None or kind != "tag":  # GTO reads annotated tags only
            continue
        events.append(Event(ref, parsed, peeled or obj, int(tdate or cdate or 0), tagger,
                            email.strip("<>"), message.strip(), iso))
    events.sort(key=lambda e: e.order)
    return events


def build(events: list[Event]) -> dict[str, ArtifactState]:
    arts: dict[str, ArtifactState] = {}
    for e in events:
        a = arts.setdefault(e.name.artifact, ArtifactState(e.name.artifact))
        a.events.append(e)
        act = e.name.action
        a.deprecated = act == T.DEPRECATE
        if act == T.REGISTER:
            a.versions[e.name.version] = Version(e.name.version, e.commit, e.time, e.tag, True)
        elif act == T.DEREGISTER and e.name.version in a.versions:
            v = a.versions[e.name.version]
            a.versions[v.version] = Version(v.version, v.commit, v.registered_at, v.tag, False)
    for a in arts.values():
        standing: dict[tuple[str, str], int] = {}  # (stage, version) -> time of last assignment
        for e in a.events:
            if e.name.action not in (T.ASSIGN, T.UNASSIGN):
                continue
            version = a._version_of(e) or e.commit  # an unregistered commit: GTO names it by its hexsha
            key = (e.name.stage, version)
            a.staged.setdefault(version, set()).add(e.name.stage)
            if e.name.action == T.ASSIGN:
                standing[key] = e.order
            else:
                standing.pop(key, None)
        by_stage: dict[str, list[tuple[tuple[int, int], str]]] = {}
        for (stage, version), when in standing.items():
            a.holding.setdefault(version, set()).add(stage)
            v = a.versions.get(version)
            if v is not None and not v.active:
                continue
            by_stage.setdefault(stage, []).append((when, version))
        a.stages = {s: [v for _, v in sorted(vs, reverse=True)] for s, vs in sorted(by_stage.items())}
    return arts


def load(git: Git) -> dict[str, ArtifactState]:
    return build(read_events(git))


def next_counter(events: list[Event], artifact: str) -> int:
    return 1 + max((e.name.counter or 0 for e in events if e.name.artifact == artifact), default=0)
