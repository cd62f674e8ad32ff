"""A ``tide run --on aws`` session SIGKILLed while its machine is up: the next session terminates the machine
(ops/run_sessions.py), on moto's EC2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.runners.test_aws import image_id, running
from tide.core.config import Env
from tide.ops.run_sessions import _dir, reap_left_behind

pytestmark = pytest.mark.usefixtures("aws_env")

# a session as run.Session.open does it: the file first, then the machine; then the process is killed
KILLED = textwrap.dedent("""
    import os, signal, sys
    from tide.core.config import Env
    from tide.ops import runner as ops
    from tide.ops.run_sessions import mark
    from tide.runners.aws import AwsProvisioner
    from tide.runners.base import RunnerSpec
    name, image = sys.argv[1], sys.argv[2]
    spec = RunnerSpec(name=name, cloud="aws", region="us-east", type="s", image=image, idle_timeout=0)
    prov = AwsProvisioner("us-east", poll=0.05)
    mark(Env(), name, "aws", "us-east")
    ops.launch(spec, no_agent=True, prov=prov, emit=lambda e: None)
    print("up", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_issue24_f04_machine_of_a_killed_run_is_reaped_by_the_next_run(tmp_path):
    env = Env()
    killed = subprocess.run([sys.executable, "-c", KILLED, "tide-run-killed24", image_id()], capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert killed.returncode == -9 and killed.stdout == "up\n", killed.stderr[-2000:]
    assert len(running("tide-run-killed24")) == 1
    # a session still running (this process) keeps its machine
    from tide.ops.run_sessions import mark

    live = mark(env, "tide-run-live24", "aws", "us-east")
    lines: list[str] = []
    try:
        done = reap_left_behind(env, lines.append)
        assert not running("tide-run-killed24")
        assert done == lines and len(done) == 1 and "tide-run-killed24" in done[0] and "killed" in done[0]
        assert sorted(os.listdir(_dir(env))) == ["tide-run-live24.json"]
        with open(live) as f:
            assert json.load(f)["pid"] == os.getpid()
        assert reap_left_behind(env, lines.append) == []  # nothing twice
    finally:
        os.unlink(live)
