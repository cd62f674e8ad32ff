"""pytest plugin: run any part of the test suite with canary credentials in the environment.

    pytest -p tests.reliability.canary_plugin tests/

Every credential variable gets a canary value (canaries.py) unless a test sets its own. The plugin

* fails a test when a canary appears in the output of a subprocess it ran (tide, dvc, git...);
* after the session, scans every file written under pytest's temporary directories (repositories,
  remotes, HOME directories, runner job directories, reports, comment bodies of the fake forges);
* appends what it found to ``$TIDE_CANARY_REPORT`` (JSON lines) so ``make torture`` can count it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest

from tests.reliability import canaries


class CanaryWatch:
    def __init__(self) -> None:
        self.base = tempfile.mkdtemp(prefix="tide-canary-")
        self.env = canaries.canary_env(self.base)
        self.current: str | None = None
        self.leaks: dict[str, list[str]] = {}
        self.subprocesses = 0

    def install(self) -> None:
        os.environ["TIDE_CANARY_RUN"] = "1"  # tests/conftest.py keeps the canaries in the environment
        for k, v in self.env.items():
            os.environ.setdefault(k, v)
        original = subprocess.Popen.communicate
        watch = self

        def communicate(proc, *args, **kwargs):  # noqa: ANN001, ANN202
            out, err = original(proc, *args, **kwargs)
            watch.subprocesses += 1
            for name, text in (("stdout", out), ("stderr", err)):
                if text and canaries.scan_text(text):
                    argv = proc.args if isinstance(proc.args, str) else " ".join(map(str, proc.args))
                    watch.leaks.setdefault(watch.current or "?", []).append(f"{name} of `{argv[:120]}`")
            return out, err

        subprocess.Popen.communicate = communicate


def pytest_configure(config):  # noqa: ANN001
    watch = CanaryWatch()
    watch.install()
    config.stash[KEY] = watch


KEY = pytest.StashKey[CanaryWatch]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):  # noqa: ANN001
    item.config.stash[KEY].current = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001
    outcome = yield
    rep = outcome.get_result()
    watch = item.config.stash[KEY]
    if call.when == "call":
        leaks = watch.leaks.get(item.nodeid)
        if leaks and rep.passed:
            rep.outcome = "failed"
            rep.longrepr = "secrets canary leaked into " + "; ".join(leaks[:5])


def pytest_sessionfinish(session, exitstatus):  # noqa: ANN001
    watch = session.config.stash[KEY]
    factory = getattr(session.config, "_tmp_path_factory", None)
    files: list[str] = []
    if factory is not None:
        try:
            files = canaries.scan_tree(factory.getbasetemp())
        except OSError:
            files = []
    report = os.environ.get("TIDE_CANARY_REPORT")
    if report:
        with open(report, "a") as f:
            f.write(json.dumps({"subprocesses": watch.subprocesses, "output_leaks": watch.leaks,
                                "file_leaks": files}) + "\n")
    if files:
        print("\nsecrets canary found in files written by the tests:\n  " + "\n  ".join(files[:20]))
        session.exitstatus = 1
