"""Tag names of the registry, in GTO's grammar (so ``gto show`` reads what tide writes).

    NAME@vX.Y.Z              register a version          NAME@vX.Y.Z!        deregister it
    NAME#STAGE#N             assign a stage (N counts)   NAME#STAGE!#N       unassign it
    NAME@deprecated          deprecate the artifact

Which tags carry a counter follows ``gto --simple auto``: registration, deregistration and
deprecation are simple (no ``#N``), assignment and unassignment count. The reader takes both
notations for every kind. N is one more than the highest counter of any tag of the artifact. Names may carry a directory
(``dir:name``), written ``dir=name`` in tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tide.core.errors import UsageError

NAME = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
SEMVER = (
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
FULLNAME_IN_TAG = rf"([a-zA-Z0-9-_./]+=)?{NAME}"
TAG_RE = re.compile(
    rf"^(?P<artifact>{FULLNAME_IN_TAG})"
    rf"(((#(?P<stage>{NAME})|@(?P<version>v{SEMVER}))(?P<cancel>!?))|@(?P<deprecated>deprecated))"
    rf"(#(?P<counter>[0-9]+))?$"
)
NAME_RE = re.compile(rf"^{NAME}$")
FULLNAME_RE = re.compile(rf"^([a-zA-Z0-9-_./]+:)?{NAME}$")
VERSION_RE = re.compile(rf"^v{SEMVER}$")

REGISTER, DEREGISTER, ASSIGN, UNASSIGN, DEPRECATE = "register", "deregister", "assign", "unassign", "deprecate"


@dataclass(frozen=True)
class TagName:
    artifact: str
    action: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    def render(self) -> str:
        a = self.artifact.replace(":", "=")
        if self.action in (REGISTER, DEREGISTER):
            base = f"{a}@{self.version}" + ("!" if self.action == DEREGISTER else "")
        elif self.action in (ASSIGN, UNASSIGN):
            base = f"{a}#{self.stage}" + ("!" if self.action == UNASSIGN else "")
        else:
            base = f"{a}@deprecated"
        return base if self.counter is None else f"{base}#{self.counter}"


def parse(tag: str) -> TagName | None:
    m = TAG_RE.match(tag)
    if not m:
        return None
    artifact = m["artifact"].replace("=", ":")
    counter = int(m["counter"]) if m["counter"] else None
    cancel = m["cancel"] == "!"
    if m["deprecated"]:
        return TagName(artifact, DEPRECATE, counter=counter)
    if m["version"]:
        return TagName(artifact, DEREGISTER if cancel else REGISTER, version=m["version"], counter=counter)
    return TagName(artifact, UNASSIGN if cancel else ASSIGN, stage=m["stage"], counter=counter)


def check_name(value: str, what: str = "artifact name") -> str:
    """GTO's name rule (``gto/constants.py``: one character is enough), and a name git can carry in a
    tag: GTO accepts ``a//b`` or ``d..x:m`` and then fails in ``git tag``; tide refuses them first."""
    regex = FULLNAME_RE if what == "artifact name" else NAME_RE
    if not regex.match(value):
        raise UsageError(
            f"invalid {what} '{value}': use letters, digits, '-', '_' and '/', "
            "starting and ending with a letter or digit"
        )
    if not ref_safe(value.replace(":", "=")):
        raise UsageError(f"invalid {what} '{value}': git cannot hold it in a tag name "
                         "(no '//', '..', and no path part starting with '.' or ending in '.lock')")
    return value


def ref_safe(name: str) -> bool:
    """git check-ref-format's rules for what the name grammar lets through (letters, digits, '-_./=')."""
    if ".." in name or name.endswith(".") or name.startswith("-"):
        return False
    return all(part and not part.startswith(".") and not part.endswith(".lock") for part in name.split("/"))


def semver_key(version: str) -> tuple:
    """Sort key of ``vX.Y.Z[-pre]``: releases after their pre-releases, as semver orders them."""
    core, _, rest = version[1:].partition("+")[0].partition("-")
    major, minor, patch = (int(x) for x in core.split("."))
    pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in rest.split(".")) if rest else None
    return (major, minor, patch, 1 if pre is None else 0, pre or ())


def check_version(version: str) -> str:
    if not VERSION_RE.match(version):
        raise UsageError(f"invalid version '{version}': use semantic versioning with a 'v', e.g. v1.0.0")
    return version


def bump(version: str, part: str) -> str:
    major, minor, patch = semver_key(version)[:3]
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


SHORTCUT_RE = re.compile(
    rf"^(?P<artifact>([a-zA-Z0-9-_./]+:)?{NAME})(#(?P<stage>{NAME})|@(?P<version>latest|greatest|v{SEMVER}))$"
)


@dataclass(frozen=True)
class Shortcut:
    """GTO's naming shortcut: ``NAME@latest`` (or ``@greatest``), ``NAME@vX.Y.Z``, ``NAME#STAGE``."""

    name: str
    stage: str | None = None
    version: str | None = None
    latest: bool = False


def parse_shortcut(value: str) -> Shortcut:
    m = SHORTCUT_RE.match(value)
    if not m:
        return Shortcut(value)
    latest = m["version"] in ("latest", "greatest")
    return Shortcut(m["artifact"], m["stage"], None if latest else m["version"], latest)
