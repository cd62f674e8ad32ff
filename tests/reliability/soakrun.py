"""Run the tide CLI for one soak day: each retrain step's wall time, and the day's injected fault (soak.py).

    python soakrun.py ARGS...        (ARGS are tide's; environment below)

    TIDE_SOAK_TIMES   a file: one JSON line per retrain step that ended, {"step": NAME, "seconds": S, "ok": B}
    TIDE_SOAK_FAULT   the fault of the whole cycle (nothing in tide itself: attributes patched in this
                      process only):
                        forge-5xx        every call to the local forge's API fails as a 503 would
                        runner-start     the runner never comes up (the session cannot open)
                        remote-down      every call to the remote storage's backend is refused (ECONNREFUSED)
                        disk-full        the remote's disk fills: the first object is written, every later
                                         write fails with ENOSPC
    TIDE_SOAK_AWS     1 on a day trained on moto's EC2 (RUNNER=aws): moto launches and ends the machine, the
                      job runs on this machine (moto's machines have no sshd) with no setup (this Python
                      has the example's requirements)
    TIDE_RK_KILL / TIDE_RK_FAULT / TIDE_RK_LOG   as in retrainrun.py (kill points, single forge API faults),
                      plus after:RemoteJob.start (the job started on the runner: an aws day's machine is up)

The fault "forge refuses pushes" needs no patch: soak.py installs a pre-receive hook on the forge.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.reliability import retrainrun

STORAGE_CALLS = ("exists", "list", "size", "modified", "open", "get_file", "put_file", "put_stream", "delete")


def _log(line: str) -> None:
    path = os.environ.get("TIDE_RK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def time_steps(path: str) -> None:
    import tide.ops.retrain as R

    real_step = R.step

    @contextmanager
    def step(name, result, say):
        t0 = time.monotonic()
        ok = False
        try:
            with real_step(name, result, say) as note:
                yield note
            ok = True
        finally:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": name, "seconds": round(time.monotonic() - t0, 4), "ok": ok}) + "\n")

    R.step = step


def forge_5xx() -> None:
    from tide.core.errors import ForgeError
    from tide.forge.local import LocalForge

    for method in retrainrun.API:
        real = getattr(LocalForge, method)

        @functools.wraps(real)
        def wrapper(self, *a, _m=method, **k):
            _log(f"fault forge-5xx {_m}")
            raise ForgeError(f"local forge: {_m}: HTTP 503 Service Unavailable (injected fault)")

        setattr(LocalForge, method, wrapper)


def runner_start() -> None:
    from tide.core.errors import RunnerError
    from tide.ops import run

    def open_(self, spot=None):
        _log("fault runner-start")
        raise RunnerError(f"{self.name}: the runner did not start (injected fault)")

    run.Session.open = open_


def remote_down() -> None:
    from tide.storage.local import LocalBackend

    for method in STORAGE_CALLS:
        def wrapper(self, *a, _m=method, **k):
            _log(f"fault remote-down {_m}")
            raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused (injected fault)")

        setattr(LocalBackend, method, wrapper)


def disk_full() -> None:
    from tide.storage.local import LocalBackend

    written = [0]
    for method in ("put_file", "put_stream"):
        real = getattr(LocalBackend, method)

        @functools.wraps(real)
        def wrapper(self, *a, _real=real, **k):
            if written[0] >= 1:
                _log("fault disk-full")
                raise OSError(errno.ENOSPC, "No space left on device (injected fault)")
            written[0] += 1
            return _real(self, *a, **k)

        setattr(LocalBackend, method, wrapper)


def aws_here() -> None:
    from tide.ops import run
    from tide.runners.transport import LocalShell

    def wait_ssh(self, timeout=300):
        return LocalShell()

    run.Session._wait_ssh = wait_ssh
    real = run.run_on

    @functools.wraps(real)
    def run_on(*a, **k):
        return real(*a, **{**k, "setup": False})

    run.run_on = run_on


FAULTS = {"forge-5xx": forge_5xx, "runner-start": runner_start, "remote-down": remote_down, "disk-full": disk_full}


def main() -> int:
    if os.environ.get("TIDE_SOAK_TIMES"):
        time_steps(os.environ["TIDE_SOAK_TIMES"])
    if os.environ.get("TIDE_SOAK_AWS") == "1":
        aws_here()
    fault = os.environ.get("TIDE_SOAK_FAULT", "")
    if fault:
        FAULTS[fault]()
    # one more kill point: the job started on the runner (on RUNNER=aws's days, with its machine up)
    retrainrun.CALLS.setdefault("RemoteJob.start", ("tide.runners.remote", "RemoteJob.start"))
    retrainrun.install(os.environ.get("TIDE_RK_KILL", ""), os.environ.get("TIDE_RK_FAULT", ""))
    from tide.cli.main import main as tide_main

    return tide_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
