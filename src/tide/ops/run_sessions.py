"""Cloud machines of ``tide run --on`` sessions whose process died (SIGKILL, a power cut) before teardown.

A session that launches a machine first writes ``<data>/tide/sessions/<name>.json`` (the run's name, which
is the machine's ``tide-runner`` tag, its cloud and region, and the process that owns it); teardown removes
it. ``reap_left_behind``, called when the next session starts, terminates the machines of every file whose
process is gone (the process id and its start time, so a reused id does not count as alive), then runs the
runner layer's reaper (``tide runner reap``: machines past their deadline or whose job ended) on that
cloud, and removes the file. Without it such a machine would run until its ``max_runtime`` deadline.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from tide.core.config import Env
from tide.core.errors import TideError
from tide.core.fsutil import atomic_write_text


def _dir(env: Env) -> str:
    from tide.ops.runner import data_dir

    return os.path.join(os.path.dirname(data_dir(env)), "sessions")


def _started(pid: int) -> str | None:
    """The start time of process ``pid`` ("" where /proc is missing but the process exists); None when the
    process does not exist."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rpartition(")")[2].split()[19]
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


def mark(env: Env, name: str, cloud: str, region: str) -> str:
    path = os.path.join(_dir(env), f"{name}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pid = os.getpid()
    atomic_write_text(path, json.dumps({"name": name, "cloud": cloud, "region": region, "pid": pid,
                                        "started": _started(pid) or "", "time": int(time.time())}) + "\n")
    return path


def unmark(path: str) -> None:
    from tide.core.fsutil import remove

    remove(path)


def _alive(info: dict) -> bool:
    started = _started(int(info.get("pid", 0) or 0)) if int(info.get("pid", 0) or 0) > 0 else None
    return started is not None and (not info.get("started") or not started or started == info["started"])


def reap_left_behind(env: Env, log: Callable[[str], None]) -> list[str]:
    """Terminate the machines of sessions whose process is gone; one line per machine (or failure)."""
    from tide.ops import runner as ops
    from tide.runners.base import RunnerSpec

    top = _dir(env)
    try:
        names = sorted(n for n in os.listdir(top) if n.endswith(".json"))
    except FileNotFoundError:
        return []
    out: list[str] = []
    for fname in names:
        path = os.path.join(top, fname)
        try:
            with open(path, encoding="utf-8") as f:
                info = json.load(f)
            name, cloud, region = str(info["name"]), str(info["cloud"]), str(info["region"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written or not ours: left alone
        if _alive(info):
            continue
        try:
            prov = ops.provisioner(RunnerSpec(name=name, cloud=cloud, region=region), env)
            for m in prov.list():
                if m.name == name and m.alive:
                    prov.terminate(m.id)
                    out.append(f"terminated {cloud} machine {m.id} ({name}) left by a run that was killed "
                               f"(process {info.get('pid')} is gone)")
            for v in ops.reap(prov):
                if v.machine.name != name:
                    out.append(f"reaped {cloud} machine {v.machine.id} ({v.machine.name}): {v.reason}"
                               + (f" (failed: {v.error})" if v.error else ""))
        except TideError as exc:
            out.append(f"could not reap the machine of {name} on {cloud}: {exc} (tried again next run)")
            continue
        unmark(path)
    for line in out:
        log(line)
    return out
