"""``tide runner launch|list|stop|reap``: compose a provisioner (tide.runners), the forge (runner
registration) and the startup script. The forge's own token stays on the launcher: the machine
gets a registration token only, and no cloud credential at all."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tide.core.config import Env
from tide.core.errors import RunnerError, UsageError
from tide.runners import agents, registry, startup
from tide.runners.base import Machine, RunnerSpec, check_name

Emit = Callable[[dict], None]


def _ignore(event: dict) -> None:
    pass


def data_dir(env: Env) -> str:
    base = env.get("XDG_DATA_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "tide", "runners")


def new_name() -> str:
    return "tide-" + secrets.token_hex(4)


def provisioner(spec: RunnerSpec, env: Env | None = None, **extra: Any) -> Any:
    env = env or Env()
    ctx = {"env": env, "region": spec.region, "host": spec.host, "ssh_private": spec.ssh_private,
           "base_dir": data_dir(env), "known_hosts": os.path.join(os.path.dirname(data_dir(env)), "known_hosts"),
           **extra}
    return registry.make(spec.cloud, **ctx)


@dataclass(frozen=True)
class LaunchResult:
    machine: Machine | None
    reused: str = ""    # name of the runner reused instead of launching


def _reuse(forge: Any, spec: RunnerSpec, reuse: bool, reuse_idle: bool) -> str:
    if not forge.capabilities.runner_admin:
        if reuse or reuse_idle:
            raise UsageError(f"--reuse needs a forge that lists runners ({forge.name} does not)")
        return ""
    runners = forge.list_runners()
    if any(r.name == spec.name for r in runners):
        if reuse or reuse_idle:
            return spec.name
        raise RunnerError(f"runner name '{spec.name}' is already in use on {forge.name}")
    for r in runners:
        if r.online and set(spec.labels) <= set(r.labels) and (reuse or (reuse_idle and not r.busy)):
            return r.name
    return ""


def launch(spec: RunnerSpec, *, forge: Any = None, no_agent: bool = False, reuse: bool = False,
           reuse_idle: bool = False, prov: Any = None, env: Env | None = None, emit: Emit = _ignore,
           ) -> LaunchResult:
    """Launch one runner. With a forge, its agent registers with a token minted for this runner.
    ``emit`` receives each step as an event (``{"status": ...}``)."""
    if spec.single and (reuse or reuse_idle):
        raise UsageError("--single cannot be combined with --reuse or --reuse-idle")
    check_name(spec.name)
    recipe = None
    registration = None
    if not no_agent:
        if forge is None:
            raise UsageError("a runner needs a forge to register with (tide.yaml forge:, --driver/--repo), "
                             "or --no-agent for a runner that only serves 'tide run'")
        reused = _reuse(forge, spec, reuse, reuse_idle)
        if reused:
            emit({"status": "reused", "runner": reused})
            return LaunchResult(None, reused)
        if not forge.capabilities.runner_tokens:
            raise UsageError(f"{forge.name} cannot register self-hosted runners")
        recipe = agents.recipe(forge.name)
        reg = forge.runner_registration(spec.name, spec.labels)
        registration = startup.Registration(reg.url, reg.token)
    prov = prov or provisioner(spec, env)
    caps = prov.capabilities
    if spec.spot and not caps.spot:
        raise UsageError(f"--cloud-spot is not available on {spec.cloud}")
    if spec.gpu and not caps.gpu:
        raise UsageError(f"--cloud-gpu is not available on {spec.cloud}")
    deadline = spec.deadline()
    script = startup.render(spec, caps, recipe, registration, deadline)
    launch_id = f"{spec.name}-{secrets.token_hex(3)}"
    emit({"status": "launching", "runner": spec.name, "cloud": spec.cloud, "launch": launch_id})
    machine = prov.launch(spec, script, launch_id)
    emit({"status": "launched", **machine.to_json()})
    return LaunchResult(machine)


def list_machines(kinds: list[str], spec_for: Callable[[str], RunnerSpec], env: Env | None = None) -> list[Machine]:
    out: list[Machine] = []
    for kind in kinds:
        out.extend(provisioner(spec_for(kind), env).list())
    return out


def stop(prov: Any, name: str) -> list[Machine]:
    """Terminate the runner(s) called ``name`` (or with that machine id); error when none."""
    hits = [m for m in prov.list() if name in (m.name, m.id)]
    if not hits:
        raise RunnerError(f"no runner named '{name}' on {prov.kind}")
    for m in hits:
        prov.terminate(m.id)
    return hits


def reap(prov: Any, *, forge: Any = None, dry_run: bool = False, now: float | None = None) -> list:
    from tide.runners.reaper import reap as do_reap

    names = None
    if forge is not None and forge.capabilities.runner_admin:
        names = {r.name for r in forge.list_runners()}
    return do_reap(prov, time.time() if now is None else now, forge_runners=names, dry_run=dry_run)

