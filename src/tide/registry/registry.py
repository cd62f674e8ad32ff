"""Registry operations: create the annotated tags GTO reads, and ``artifacts.yaml`` annotations.

Tag times only move forward: when the clock says a new tag would be as old as the artifact's
newest tag (several operations in one second), the new tag is dated one second later, so tools that
order events by tag time (GTO) see them in the order tide made them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from tide.core import yamlio
from tide.core.errors import FileFormatError, GitError, UsageError
from tide.core.fsutil import atomic_write_text
from tide.core.git import Git
from tide.registry import state as S
from tide.registry import tags as T

ARTIFACTS_FILE = "artifacts.yaml"


@dataclass(frozen=True)
class Annotation:
    name: str
    type: str | None = None
    path: str | None = None
    description: str = ""
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Created:
    tag: str
    version: str | None
    stage: str | None
    commit: str


class Registry:
    def __init__(self, git: Git) -> None:
        self.git = git

    # --- reading -----------------------------------------------------------------------------
    def events(self) -> list[S.Event]:
        return S.read_events(self.git)

    def state(self) -> dict[str, S.ArtifactState]:
        return S.build(self.events())

    def artifact(self, name: str) -> S.ArtifactState:
        a = self.state().get(name)
        if a is None:
            raise UsageError(f"there is no artifact '{name}' in the registry (register a version first)")
        return a

    # --- writing -----------------------------------------------------------------------------
    def register(self, name: str, rev: str = "HEAD", version: str | None = None, bump: str | None = None,
                 message: str | None = None, simple: str = "auto") -> Created:
        """GTO's rules: one version per commit (a deregistered one keeps its commit: registering that
        commit again may only name the same version, whose tag exists already), a version name once."""
        T.check_name(name)
        commit = self.git.resolve(rev)
        a = self.state().get(name) or S.ArtifactState(name)
        at_commit = [v for v in a.versions.values() if v.commit == commit]
        if at_commit and at_commit[0].active:
            raise UsageError(f"commit {commit[:7]} is registered already as {name}@{at_commit[0].version}")
        if version is not None:
            if bump:
                raise UsageError("give either --version or one --bump-* option")
            T.check_version(version)
            if at_commit and at_commit[0].version != version:
                raise UsageError(f"commit {commit[:7]} can only be registered as {at_commit[0].version} "
                                 f"(deregistered there)")
            if version in a.versions and not at_commit:
                raise UsageError(f"version {version} of '{name}' exists already")
        elif at_commit:
            version = at_commit[0].version
        elif a.latest is None:
            if bump:
                raise UsageError("cannot bump: this is the first version of the artifact (give --version)")
            version = "v0.0.1"
        else:
            version = T.bump(a.latest, bump or "patch")
        tag = T.TagName(name, T.REGISTER, version=version, counter=_counter(a, simple, False)).render()
        if any(e.tag == tag for e in a.events):
            raise UsageError(f"{name} {version} was registered at {commit[:7]} and deregistered: its tag '{tag}' "
                             "exists, and a commit holds one version (as in GTO)")
        self._tag(tag, commit, message or f"Registering artifact {name} version {version}")
        return Created(tag, version, None, commit)

    def assign(self, name: str, version: str | None, stage: str, message: str | None = None, force: bool = False,
               rev: str | None = None, new_version: str | None = None, skip_registration: bool = False,
               simple: str = "auto") -> Created:
        """Assign ``stage`` to ``version`` (any version the artifact ever had, as GTO allows), or to the
        version at ``rev``, registering that commit first (as ``new_version``, or the next patch) unless
        ``skip_registration`` (``gto assign --sr``: the stage goes to the bare commit, named by its hexsha)."""
        T.check_name(name)
        T.check_name(stage, "stage name")
        if version is not None:
            a = self.artifact(name)
            v = a.versions.get(T.check_version(version))
            if v is None:
                raise UsageError(f"'{name}' has no registered version {version}")
        else:
            a = self.state().get(name) or S.ArtifactState(name)
            commit = self.git.resolve(rev or "HEAD")
            found = [x for x in a.versions.values() if x.commit == commit]
            if found and new_version:
                raise UsageError(f"cannot register '{new_version}': {found[0].version} is registered at "
                                 f"{commit[:7]} already")
            if not found and skip_registration:
                if new_version:
                    raise UsageError("give either --version or --sr (skip the registration)")
                found = [S.Version(commit, commit, 0, "", True)]
            if not found:
                self.register(name, commit, version=new_version, simple=simple)
                a = self.artifact(name)
                found = [x for x in a.versions.values() if x.commit == commit]
            v = found[0]
        if stage in a.holding.get(v.version, ()) and not force:
            raise UsageError(f"{name} {v.version} is in stage '{stage}' already (--force assigns it again)")
        tag = T.TagName(name, T.ASSIGN, stage=stage, counter=_counter(a, simple, True)).render()
        self._tag(tag, v.commit, message or f"Assigning stage {stage} to artifact {name} version {v.version}",
                  after=a.events)
        return Created(tag, v.version, stage, v.commit)

    def unassign(self, name: str, version: str, stage: str, simple: str = "auto") -> Created:
        """GTO's rule: the version must have had ``stage`` once (unassigning again writes another tag)."""
        T.check_name(stage, "stage name")
        a = self.artifact(name)
        if version not in a.versions:
            raise UsageError(f"'{name}' has no registered version {version}")
        if stage not in a.staged.get(version, ()):
            raise UsageError(f"{name} {version} is not in stage '{stage}'")
        v = a.versions[version]
        tag = T.TagName(name, T.UNASSIGN, stage=stage, counter=_counter(a, simple, True)).render()
        self._tag(tag, v.commit, f"Unassigning stage '{stage}' to artifact '{name}' version '{version}'",
                  after=a.events)
        return Created(tag, version, stage, v.commit)

    def deregister(self, name: str, version: str, simple: str = "auto") -> Created:
        a = self.artifact(name)
        v = a.versions.get(version)
        if v is None or not v.active:
            raise UsageError(f"'{name}' has no registered version {version}")
        tag = T.TagName(name, T.DEREGISTER, version=version, counter=_counter(a, simple, False)).render()
        self._tag(tag, v.commit, f"Deregistering artifact {name} version {version}", after=a.events)
        return Created(tag, version, None, v.commit)

    def deprecate(self, name: str, simple: str = "auto") -> Created:
        a = self.artifact(name)
        if a.deprecated:
            raise UsageError(f"'{name}' is deprecated already")
        last = a.events[-1].commit
        from tide.registry import gtoshape

        head, index, head_commit = gtoshape.head(self.git)
        if name in index and head_commit and gtoshape.newer_than(head_commit, a.events[-1].time):
            last = head  # GTO tags the artifact's newest event's commit: HEAD's, which declares it, is newer
        tag = T.TagName(name, T.DEPRECATE, counter=_counter(a, simple, False)).render()
        if any(e.tag == tag for e in a.events):
            raise UsageError(f"'{name}' was deprecated once already: tag '{tag}' exists (as in GTO, "
                             "an artifact is deprecated once)")
        self._tag(tag, last, f"Deprecating artifact '{name}'", after=a.events)
        return Created(tag, None, None, last)

    def _tag(self, tag: str, commit: str, message: str, after: list[S.Event] | None = None) -> None:
        newest = max((e.time for e in (after if after is not None else self.events())), default=0)
        when = max(int(time.time()), newest + 1)
        env = {"GIT_COMMITTER_DATE": f"{when} +0000"}
        if self.git.run("var", "GIT_COMMITTER_IDENT", check=False).returncode != 0:
            env.update(GIT_COMMITTER_NAME="tide", GIT_COMMITTER_EMAIL="tide@localhost")
        proc = Git(self.git.root, env=env).run("tag", "-a", tag, "-F", "-", commit, input=message.encode(),
                                               check=False)
        if proc.returncode != 0:
            from tide.core.gitlock import error_line

            raise GitError(f"cannot create tag '{tag}': {error_line(proc.stderr, proc.returncode)}")


def _counter(a: S.ArtifactState, simple: str, counted: bool) -> int | None:
    """GTO's ``--simple``: ``true`` writes no ``#N``, ``false`` always one, ``auto`` counts (un)assignments
    only (``counted``)."""
    if simple not in ("auto", "true", "false"):
        raise UsageError(f"--simple: '{simple}' is not one of auto, true, false")
    if simple == "true" or (simple == "auto" and not counted):
        return None
    return S.next_counter(a.events, a.name)


# --- artifacts.yaml ------------------------------------------------------------------------------
def read_annotations(root: str) -> dict[str, Annotation]:
    path = os.path.join(root, ARTIFACTS_FILE)
    if not os.path.exists(path):
        return {}
    data = yamlio.load_file(path, ARTIFACTS_FILE) or {}
    if not isinstance(data, dict):
        raise FileFormatError(f"{ARTIFACTS_FILE}: expected a mapping of artifact names")
    out = {}
    for name, body in data.items():
        body = body or {}
        if not isinstance(body, dict):
            raise FileFormatError(f"{ARTIFACTS_FILE}: '{name}' must be a mapping (type, path, description, labels)")
        out[name] = Annotation(str(name), body.get("type"), body.get("path"), body.get("description", ""),
                               tuple(body.get("labels") or ()))
    return out


def annotate(root: str, ann: Annotation) -> None:
    """Add or update one artifact in ``artifacts.yaml``, writing only non-default fields (as GTO does)."""
    T.check_name(ann.name)
    path = os.path.join(root, ARTIFACTS_FILE)
    data = (yamlio.load_file(path, ARTIFACTS_FILE) if os.path.exists(path) else None) or {}
    body: dict = {}
    if ann.type:
        body["type"] = ann.type
    if ann.path:
        body["path"] = ann.path
    if ann.description:
        body["description"] = ann.description
    if ann.labels:
        body["labels"] = list(ann.labels)
    data[ann.name] = body
    atomic_write_text(path, yamlio.dumps(data))
