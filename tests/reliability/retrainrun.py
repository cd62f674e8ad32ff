"""Run the tide CLI with test-only kill points and forge API faults (for retrainkill.py).

    python retrainrun.py ARGS...        (ARGS are tide's; environment below)

    TIDE_RK_KILL    a kill point: ``step:NAME`` (entering a retrain step) or ``before:CALL`` /
                    ``after:CALL`` (around one of the calls in CALLS); the whole process group is
                    SIGKILLed there (the harness starts this in a new process group)
    TIDE_RK_FAULT   ``refuse:METHOD`` (the local forge raises before doing it) or ``drop:METHOD`` (it
                    does it, then the answer is lost: raises after) for a LocalForge METHOD
    TIDE_RK_LOG     a file: one line per point reached and fault injected

Nothing here is in tide itself: the points are attributes patched in this process only.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from contextlib import contextmanager

# (module, attribute path) of the calls a kill point can sit around
CALLS = {
    "run_on": ("tide.ops.run", "run_on"),
    "reproduce": ("tide.ops.repro", "reproduce"),
    "run_push": ("tide.ops.push", "run_push"),
    "create_pr": ("tide.ops.pr", "create_pr"),
    "LocalForge.create_pr": ("tide.forge.local", "LocalForge.create_pr"),
    "LocalForge._reserve": ("tide.forge.local", "LocalForge._reserve"),
    "Registry.register": ("tide.registry.registry", "Registry.register"),
    "Registry.assign": ("tide.registry.registry", "Registry.assign"),
    "deploy": ("tide.ops.deploy", "deploy"),
    "records.write": ("tide.registry.records", "write"),
    "sync.converge": ("tide.registry.sync", "converge"),
    "create_comment": ("tide.ops.comment", "create_comment"),
    "LocalForge.create_comment": ("tide.forge.local", "LocalForge.create_comment"),
}
API = ("create_pr", "update_pr", "find_pr", "create_comment", "update_comment", "list_comments")


def _log(line: str) -> None:
    path = os.environ.get("TIDE_RK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def _kill(point: str) -> None:
    _log(f"killed {point}")
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _owner(module: str, path: str):
    obj = importlib.import_module(module)
    parts = path.split(".")
    for p in parts[:-1]:
        obj = getattr(obj, p)
    return obj, parts[-1]


def _around(name: str, kill: str) -> None:
    owner, attr = _owner(*CALLS[name])
    real = getattr(owner, attr)

    @functools.wraps(real)
    def wrapper(*a, **k):
        if kill == f"before:{name}":
            _kill(kill)
        out = real(*a, **k)
        if kill == f"after:{name}":
            _kill(kill)
        return out

    setattr(owner, attr, wrapper)


def _fault(spec: str) -> None:
    from tide.core.errors import ForgeError
    from tide.forge.local import LocalForge

    how, _, method = spec.partition(":")
    real = getattr(LocalForge, method)

    @functools.wraps(real)
    def wrapper(self, *a, **k):
        if how == "refuse":
            _log(f"fault {spec}")
            raise ForgeError(f"local forge: {method} refused (injected fault)")
        real(self, *a, **k)  # done on the forge; the answer is lost
        _log(f"fault {spec}")
        raise ForgeError(f"local forge: the connection dropped during {method} (injected fault)")

    setattr(LocalForge, method, wrapper)


def install(kill: str, fault: str) -> None:
    if kill.startswith("step:"):
        import tide.ops.retrain as R

        real_step = R.step
        want = kill[len("step:"):]

        @contextmanager
        def step(name, result, say):
            if name == want:
                _kill(kill)
            with real_step(name, result, say) as note:
                yield note

        R.step = step
    elif kill:
        _around(kill.split(":", 1)[1], kill)
    if fault:
        _fault(fault)


def main() -> int:
    install(os.environ.get("TIDE_RK_KILL", ""), os.environ.get("TIDE_RK_FAULT", ""))
    from tide.cli.main import main as tide_main

    return tide_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
