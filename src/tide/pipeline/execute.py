"""Running a stage's command(s) in its working directory, as dvc does (one shell per command)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from tide.core.errors import PipelineError
from tide.pipeline.definition import Stage


def run_commands(stage: Stage, env: dict[str, str], say: Callable[[str], None] = print) -> None:
    """Run each command of ``stage``; raise PipelineError with the exit code of the first failure."""
    shell = env.get("SHELL") or "/bin/sh"
    if not os.path.exists(shell):
        shell = "/bin/sh"
    run_env = dict(env)
    run_env["DVC_ROOT"] = stage.root
    run_env["DVC_STAGE"] = stage.addressing
    import subprocess  # (deferred: ~12 ms of a repro that runs nothing)

    for cmd in stage.cmds:
        say(f"> {cmd}")
        try:
            proc = subprocess.run([shell, "-c", cmd], cwd=stage.wdir, env=run_env, check=False)
        except OSError as exc:
            raise PipelineError(f"stage '{stage.addressing}': cannot start '{cmd}': {exc.strerror}")
        except KeyboardInterrupt:
            raise PipelineError(f"stage '{stage.addressing}': interrupted while running '{cmd}'")
        if proc.returncode != 0:
            raise StageFailed(stage, cmd, proc.returncode)
        sys.stdout.flush()


class StageFailed(PipelineError):
    def __init__(self, stage: Stage, cmd: str, code: int) -> None:
        super().__init__(f"failed to reproduce '{stage.addressing}': failed to run: {cmd}, exited with {code}")
        self.stage = stage
        self.returncode = code
