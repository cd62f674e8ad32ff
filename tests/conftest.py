"""Shared fixtures: temporary git repositories, the tide CLI and real dvc (the compatibility oracle).

Area suites live in tests/<area>/ with their own conftest.py; servers and fakes live in tests/fakes/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hermetic import outside_names

# the servers every area shares (moto, sshd, ...): one fixture each, one home (tests/fakes)
pytest_plugins = ["tests.fakes.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "tide-test",
    "GIT_AUTHOR_EMAIL": "tide-test@example.com",
    "GIT_COMMITTER_NAME": "tide-test",
    "GIT_COMMITTER_EMAIL": "tide-test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "shows_secret: the test makes a subprocess print a secret on purpose (a git credential "
        "helper answering); the canary plugin does not count that output as a leak")


def breadth(cases, keep: int = 1) -> list:
    """Parameters of a family of same-shape cases: the first ``keep`` run in ``make test``, the rest are
    marked ``long`` (``make torture`` runs them). Put the case that proves the most first."""
    out = []
    for i, case in enumerate(cases):
        if i < keep:
            out.append(case)
            continue
        if isinstance(case, type(pytest.param(None))):
            out.append(pytest.param(*case.values, marks=[*case.marks, pytest.mark.long], id=case.id))
        else:
            out.append(pytest.param(case, marks=pytest.mark.long))  # one argument name (several: pass pytest.param)
    return out


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """Every test starts hermetic: no credential variable of any service (the list tide's runner scrubs),
    no CI marker, no tide/dvc knob from the shell that runs pytest (tests/hermetic.py), and its own HOME
    with empty git/dvc config. A test that needs a credential sets it itself (or passes it as a user
    does: flags, tide.yaml, config.local). Holds in a canary run too (tests/reliability/canary_plugin.py),
    whose canaries sit in the outer environment exactly like a developer's exported tokens."""
    for key in outside_names(os.environ):
        monkeypatch.delenv(key)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(home / ".config" / "dvc"))
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(home / "etc-dvc"))
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # botocore's credential chain: no link-local probes
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)


def _run(argv, cwd, check, input=None, env=None):
    proc = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, input=input, env=env, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{argv!r} failed with {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@pytest.fixture
def tide():
    """Run the tide CLI in a subprocess: ``tide("add", "x", cwd=repo)``."""

    def run(*args, cwd=None, check=True, input=None, env=None):
        return _run([sys.executable, "-m", "tide", *map(str, args)], cwd, check, input, env)

    return run


def dvc_bin() -> str:
    path = os.environ.get("TIDE_TEST_DVC") or str(ROOT / ".venv-dvc" / "bin" / "dvc")
    if not os.path.exists(path):
        pytest.fail(f"real dvc not found at {path}: run 'make dvc-venv' (interop tests never skip)")
    return path


@pytest.fixture
def dvc():
    """Run real dvc (pinned release, own venv): ``dvc("status", cwd=repo)``."""
    exe = dvc_bin()

    def run(*args, cwd=None, check=True, input=None, env=None):
        return _run([exe, *map(str, args)], cwd, check, input, env)

    return run


@pytest.fixture
def git_dir(tmp_path):
    """An empty git repository (no tide init)."""
    d = tmp_path / "repo"
    d.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
    return d


@pytest.fixture
def repo_dir(git_dir, tide):
    """A git repository initialised by ``tide init``."""
    tide("init", cwd=git_dir)
    return git_dir


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout
