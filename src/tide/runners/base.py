"""The runner plugin family: one Protocol for provisioners, value objects, capabilities as data.

A *provisioner* creates and destroys compute for one kind (``local``, ``ssh``, ``aws``, ``gcp``,
``azure``, ``kubernetes``). Everything above it (launch flow, reuse, reaper, ``tide run``) talks
to :class:`Provisioner` and branches on :class:`Capabilities`, never on the provisioner's name.

Every machine a provisioner creates carries tide's tags (``TAG_*`` below) from its very first
API call, so that a machine is never untracked: the reaper finds it by tag even when the launcher
died between two calls.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Protocol

from tide.core.errors import RunnerError, UsageError

# Tags (AWS tags, GCP labels, Azure tags, Kubernetes labels/annotations) on every tide machine.
TAG_MANAGED = "tide-managed"      # always "1": the reaper's filter
TAG_NAME = "tide-runner"          # the runner name (also the name registered with the forge)
TAG_DEADLINE = "tide-deadline"    # epoch seconds after which the reaper terminates the machine
TAG_LAUNCH = "tide-launch"        # unique id of one launch attempt (finds orphans of a failed call)
TAG_LABELS = "tide-labels"        # runner labels joined with "_"

DEFAULT_IDLE_TIMEOUT = 300
DEFAULT_MAX_RUNTIME = 72 * 3600   # a machine never outlives this unless the user says otherwise
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,40}$")

STATES_ALIVE = ("pending", "running", "stopping")


@dataclass(frozen=True)
class SpotNotice:
    """Where a machine learns it is about to be reclaimed (read by the watchdog, stdlib only).

    ``kind``: ``status`` (any 2xx answer is a notice: AWS ``spot/instance-action``),
    ``body-true`` (the body is ``TRUE``: GCP ``instance/preempted``), ``azure-events`` (the JSON
    ``Events`` list holds a ``Preempt`` event: Azure scheduled events).
    ``token_url``: AWS IMDSv2 session token endpoint (PUT) whose answer goes in ``token_header``.
    """

    url: str
    kind: str = "status"
    headers: tuple[tuple[str, str], ...] = ()
    token_url: str = ""
    token_header: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a compute kind offers. Callers branch on these fields only."""

    spot: bool = False                  # preemptible capacity exists
    spot_price: bool = False            # a maximum price can be set
    gpu: bool = False
    native_max_runtime: bool = False    # the cloud itself enforces the deadline (GCP, Kubernetes)
    terminate_on_shutdown: bool = False  # powering off from inside destroys the machine
    ephemeral: bool = True              # False: an existing machine we must never destroy (ssh)
    user_data_limit: int = 0            # bytes of startup script the cloud accepts (0 = no limit)
    ssh_user: str = ""                  # login user of the default image (for tide run)
    spot_notice: SpotNotice | None = None
    poweroff: str = ""                  # what the watchdog runs to end the machine ("" = exit only)


@dataclass(frozen=True)
class RunnerSpec:
    """Everything a launch needs, already validated (``parse_*`` helpers below)."""

    name: str
    cloud: str = "local"
    labels: tuple[str, ...] = ("tide",)
    region: str = "us-west"
    type: str = "m"
    gpu: str = ""
    spot: bool = False
    spot_price: float = -1.0
    hdd_size: int = 35
    image: str = ""
    ssh_private: str = ""               # path of a private key file on the launcher
    startup_script: str = ""            # user's script, decoded, run before the agent
    metadata: tuple[tuple[str, str], ...] = ()
    permission_set: str = ""
    single: bool = False
    idle_timeout: int = DEFAULT_IDLE_TIMEOUT   # 0 = never
    max_runtime: int = DEFAULT_MAX_RUNTIME     # 0 = never
    host: str = ""                      # ssh: USER@HOST[:PORT]
    docker_volumes: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # provider-specific (subnet, security group, namespace)

    def meta(self) -> dict[str, str]:
        return dict(self.metadata)

    def option(self, key: str, default: str = "") -> str:
        return dict(self.options).get(key, default)

    def deadline(self, now: float | None = None) -> int | None:
        if not self.max_runtime:
            return None
        return int((time.time() if now is None else now) + self.max_runtime)

    def with_(self, **changes) -> RunnerSpec:
        return replace(self, **changes)


@dataclass(frozen=True)
class Machine:
    """One provisioned runner as its provider reports it."""

    id: str
    name: str
    cloud: str
    state: str                          # pending | running | stopping | stopped | terminated
    region: str = ""
    type: str = ""
    spot: bool = False
    launched_at: float = 0.0
    deadline: float | None = None
    address: str = ""                   # where tide run connects (ip or host[:port])
    reason: str = ""                    # why it stopped, when known (spot, idle-timeout, ...)
    job_ended: bool = False             # the provider knows the machine's job is over
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.state in STATES_ALIVE

    def to_json(self) -> dict:
        return {
            "name": self.name, "id": self.id, "cloud": self.cloud, "state": self.state,
            "region": self.region, "type": self.type, "spot": self.spot,
            "launched_at": self.launched_at, "deadline": self.deadline, "address": self.address,
            "reason": self.reason,
        }


class Provisioner(Protocol):
    """Contract of every compute kind.

    - ``launch(spec, user_data, launch_id)`` creates ONE machine that runs ``user_data`` (a bash
      script) at boot, tagged with ``TAG_MANAGED``, ``TAG_NAME``, ``TAG_DEADLINE`` and
      ``TAG_LAUNCH=launch_id`` in the same API call that creates it. It returns once the provider
      has accepted the machine. If it raises after the provider may have created something, it
      first calls ``cleanup(launch_id)``; it never leaves a machine it cannot report.
    - ``list()`` returns every tide-managed machine of this provisioner's scope (region, project,
      resource group, namespace, host), including stopped ones, excluding deleted ones.
    - ``terminate(machine_id)`` destroys the machine (or, for an existing host, stops tide's
      processes there). Idempotent: an unknown or already-gone id is not an error.
    - ``cleanup(launch_id)`` terminates whatever a launch attempt created; used after failures.
    - Errors are :class:`tide.core.errors.RunnerError` with one line, never a credential.
    """

    kind: str
    capabilities: Capabilities

    def launch(self, spec: RunnerSpec, user_data: str, launch_id: str) -> Machine: ...
    def list(self) -> list[Machine]: ...
    def terminate(self, machine_id: str) -> None: ...
    def cleanup(self, launch_id: str) -> None: ...


class TokenSource(Protocol):
    """Something that can mint a forge runner registration (``tide.forge.base.Forge`` is one).

    ``runner_registration(name, labels)`` returns an object with ``token``, ``url`` and ``kind``
    (``registration`` or ``authentication``). The token can only register a runner; the
    launcher's own forge token never goes to the machine.
    """

    def runner_registration(self, name: str, labels: tuple[str, ...]): ...


# --- parsing helpers --------------------------------------------------------------------------

def parse_duration(value: str | int | None, what: str, default: int) -> int:
    """Seconds from ``300``, ``5m``, ``2h``, ``1d``; ``never``/``0``/negative mean 0 (disabled)."""
    if value is None or value == "":
        return default
    if isinstance(value, int):
        return max(value, 0)
    v = str(value).strip().lower()
    if v in ("never", "none", "off"):
        return 0
    m = re.fullmatch(r"(-?\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)?", v)
    if not m:
        raise UsageError(f"{what}: '{value}' is not a duration (use seconds, 10m, 2h, 1d or never)")
    n = int(m.group(1))
    unit = (m.group(2) or "s")[0]
    return max(n, 0) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def parse_pairs(items: list[str] | tuple[str, ...] | None, what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what}: '{item}' must be KEY=VALUE")
        out.append((key.strip(), value.strip()))
    return tuple(out)


def parse_labels(value: str | None) -> tuple[str, ...]:
    labels = tuple(x.strip() for x in (value or "tide").split(",") if x.strip())
    for lab in labels:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", lab):
            raise UsageError(f"--labels: '{lab}' may only hold letters, digits, '.', '_' and '-'")
    return labels or ("tide",)


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise UsageError(
            f"--name: '{name}' must start with a letter and hold only lower-case letters, digits and '-'"
            " (at most 41 characters)"
        )
    return name


def tags_for(spec: RunnerSpec, launch_id: str, deadline: int | None) -> dict[str, str]:
    tags = {TAG_MANAGED: "1", TAG_NAME: spec.name, TAG_LAUNCH: launch_id,
            TAG_DEADLINE: str(deadline or 0), TAG_LABELS: "_".join(spec.labels)}
    for k, v in spec.metadata:
        tags.setdefault(k, v)
    return tags


def deadline_from(tags: Mapping[str, str]) -> float | None:
    try:
        d = float(tags.get(TAG_DEADLINE, "0") or 0)
    except ValueError:
        return None
    return d or None


@contextmanager
def undone_on_failure(*undo: Callable[[], object],
                      on: type[BaseException] | tuple[type[BaseException], ...] = BaseException) -> Iterator[None]:
    """Run the block; when an ``on`` exception escapes it, run the ``undo`` steps in order and re-raise.

    A launch wraps its API calls in this with ``cleanup(launch_id)`` as the undo step. A
    :class:`RunnerError` from a step ends the undoing quietly: the exception being raised matters
    more, and what is left carries the launch's tags, so the reaper finds it.
    """
    try:
        yield
    except on:
        try:
            for step in undo:
                step()
        except RunnerError:
            pass
        raise

__all__ = [
    "TAG_MANAGED", "TAG_NAME", "TAG_DEADLINE", "TAG_LAUNCH", "TAG_LABELS", "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_RUNTIME", "NAME_RE", "STATES_ALIVE", "SpotNotice", "Capabilities", "RunnerSpec", "Machine",
    "Provisioner", "TokenSource", "parse_duration", "parse_pairs", "parse_labels", "check_name", "tags_for",
    "deadline_from", "undone_on_failure",
]
