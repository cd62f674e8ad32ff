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
                 message: str | None = None) -> Created:
        T.check_name(name)
        commit = self.git.resolve(rev)
        a = self.state().get(name) or S.ArtifactState(name)
        existing = a.version_at(commit)
        if existing is not None:
            raise UsageError(f"commit {commit[:7]} is registered already as {name}@{existing}")
        if version is not None:
            if bump:
                raise UsageError("give either --version or one --bump-* option")
            T.check_version(version)
            if version in a.versions:
                raise UsageError(f"version {version} of '{name}' exists already")
        elif a.latest is None:
            if bump:
                raise UsageError("cannot bump: this is the first version of the artifact (give --version)")
            version = "v0.0.1"
        else:
            version = T.bump(a.latest, bump or "patch")
        tag = T.TagName(name, T.REGISTER, version=version).render()
        self._tag(tag, commit, message or f"Registering artifact {name} version {version}")
        return Created(tag, version, None, commit)

    def assign(self, name: str, version: str, stage: str, message: str | None = None, force: bool = False) -> Created:
        T.check_name(stage, "stage name")
        a = self.artifact(name)
        v = a.versions.get(version)
        if v is None or not v.active:
            raise UsageError(f"'{name}' has no registered version {version}")
        if a.stage(stage) == version and not force:
            raise UsageError(f"{name} {version} is in stage '{stage}' already")
        counter = S.next_counter(a.events, name)
        tag = T.TagName(name, T.ASSIGN, stage=stage, counter=counter).render()
        self._tag(tag, v.commit, message or f"Assigning stage {stage} to artifact {name} version {version}",
                  after=a.events)
        return Created(tag, version, stage, v.commit)

    def unassign(self, name: str, version: str, stage: str) -> Created:
        a = self.artifact(name)
        if version not in a.stages.get(stage, []):
            raise UsageError(f"{name} {version} is not in stage '{stage}'")
        v = a.versions[version]
        tag = T.TagName(name, T.UNASSIGN, stage=stage, counter=S.next_counter(a.events, name)).render()
        self._tag(tag, v.commit, f"Unassigning stage '{stage}' to artifact '{name}' version '{version}'",
                  after=a.events)
        return Created(tag, version, stage, v.commit)

    def deregister(self, name: str, version: str) -> Created:
        a = self.artifact(name)
        v = a.versions.get(version)
        if v is None or not v.active:
            raise UsageError(f"'{name}' has no registered version {version}")
        tag = T.TagName(name, T.DEREGISTER, version=version).render()
        self._tag(tag, v.commit, f"Deregistering artifact {name} version {version}", after=a.events)
        return Created(tag, version, None, v.commit)

    def deprecate(self, name: str) -> Created:
        a = self.artifact(name)
        if a.deprecated:
            raise UsageError(f"'{name}' is deprecated already")
        last = a.events[-1].commit
        tag = T.TagName(name, T.DEPRECATE, counter=S.next_counter(a.events, name)).render()
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
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"cannot create tag '{tag}': {err[-1] if err else proc.returncode}")


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
