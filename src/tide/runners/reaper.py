"""The cloud-side reaper: terminate every tide machine that should no longer exist.

It does not depend on anything running on the machine: it reads the provider's own list (tags,
states) and, when given, the forge's runner list. A machine is reaped when
  - its deadline tag is in the past (``past-deadline``);
  - it stopped or its job ended (``job-ended``): a watchdog's poweroff leaves a stopped machine on
    clouds where shutdown does not delete;
  - with ``forge_runners``: it has run longer than ``register_grace`` without being registered
    with the forge (``not-registered``: the agent never came up, or an ephemeral runner left).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tide.core.errors import RunnerError
from tide.runners.base import Machine, Provisioner


@dataclass(frozen=True)
class Verdict:
    machine: Machine
    reason: str
    error: str = ""


def decide(machines: Iterable[Machine], now: float, forge_runners: set[str] | None = None,
           register_grace: float = 900) -> list[Verdict]:
    out = []
    for m in machines:
        if m.state == "terminated":
            continue
        if m.deadline and now >= m.deadline:
            out.append(Verdict(m, "past-deadline"))
        elif m.job_ended or m.state == "stopped":
            out.append(Verdict(m, "job-ended"))
        elif (forge_runners is not None and m.name not in forge_runners and m.launched_at
              and now - m.launched_at > register_grace):
            out.append(Verdict(m, "not-registered"))
    return out


def reap(provisioner: Provisioner, now: float, forge_runners: set[str] | None = None,
         register_grace: float = 900, dry_run: bool = False) -> list[Verdict]:
    """Terminate what :func:`decide` selects; failures are reported in ``Verdict.error``, not raised,
    so one stuck machine does not shield the others."""
    done = []
    for v in decide(provisioner.list(), now, forge_runners, register_grace):
        if dry_run:
            done.append(v)
            continue
        try:
            provisioner.terminate(v.machine.id)
            done.append(v)
        except RunnerError as exc:
            done.append(Verdict(v.machine, v.reason, str(exc)))
    return done
