"""pytest plugin: run any part of the test suite as a developer with every credential exported would.

    pytest -p tests.reliability.canary_plugin tests/

Where the canaries are (canaries.py says how to tell them apart):

* **outer**: every credential variable tide or its libraries read (tokens, cloud keys, a service-account
  file, a kubeconfig) holds a ``tidecanaryouter...`` value in the environment pytest runs in, as real
  tokens would. tests/conftest.py removes them before each test (tests/hermetic.py), so the suite must
  pass exactly as without them; session-wide servers and fixtures still see them.
* **planted**: during each test, after that scrub, ``ACME_API_KEY``, ``ACME_DB_PASSWORD``... hold
  ``tidecanaryplant...`` values: credentials of a service tide does not know, which no test configures.
  Any tide command a test runs has them in its environment; tide must never print or write them and a
  runner job must not receive them.
* **test-set**: tests that hand tide a credential on purpose use canary values (test_secrets.py:
  ``tidecanary...`` in every variable; the fake forges' token and remote passwords: ``tideuserpw...``).

What fails a test:

* any canary (``tidecanary`` or ``tideuserpw``) in the stdout or stderr of a subprocess it ran (tide,
  dvc, git, a runner job...), unless the test is marked ``shows_secret`` (a git credential helper whose
  job is to print the password);
* a subprocess started by the test body with an *outer* canary in its environment: the test is not
  hermetic (it copied the environment before the scrub, or set a credential from the shell's).

After the session, every file under pytest's temporary directories (repositories, remotes, HOME
directories, runner job directories, comment bodies of the fake forges, reports) is scanned for
``tidecanary`` (``tideuserpw`` values sit in the config files the tests wrote, so files are not scanned
for them). The counts go to ``$TIDE_CANARY_REPORT`` (JSON lines) for ``make torture``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.reliability import canaries

OUTPUT_PREFIXES = (canaries.PREFIX, canaries.USER_PREFIX)


class CanaryWatch:
    def __init__(self) -> None:
        self.base = tempfile.mkdtemp(prefix="tide-canary-")
        self.env = canaries.canary_env(self.base, prefix=canaries.OUTER_PREFIX)
        self.current: str | None = None
        self.in_call = False
        self.shows_secret = False
        self.leaks: dict[str, list[str]] = {}
        self.inherited: dict[str, list[str]] = {}
        self.subprocesses = 0

    def install(self) -> None:
        os.environ.update(self.env)  # over any real token of the shell: a canary run never uses those
        watch = self
        original_init = subprocess.Popen.__init__
        original_communicate = subprocess.Popen.communicate

        def init(proc, args, *a, **kw):
            if watch.in_call:
                env = kw.get("env")
                env = os.environ if env is None else env
                outer = sorted(k for k, v in env.items() if canaries.OUTER_PREFIX in str(v).lower())
                if outer:
                    argv = args if isinstance(args, str) else " ".join(map(str, args))
                    watch.inherited.setdefault(watch.current or "?", []).append(
                        f"`{argv[:120]}` started with the shell's {', '.join(outer[:4])}")
            original_init(proc, args, *a, **kw)

        def communicate(proc, *args, **kwargs):
            out, err = original_communicate(proc, *args, **kwargs)
            watch.subprocesses += 1
            if watch.shows_secret:
                return out, err
            for name, text in (("stdout", out), ("stderr", err)):
                if text and canaries.scan_text(text, OUTPUT_PREFIXES):
                    argv = proc.args if isinstance(proc.args, str) else " ".join(map(str, proc.args))
                    watch.leaks.setdefault(watch.current or "?", []).append(f"{name} of `{argv[:120]}`")
            return out, err

        subprocess.Popen.__init__ = init
        subprocess.Popen.communicate = communicate


KEY = pytest.StashKey[CanaryWatch]()


def pytest_configure(config):
    watch = CanaryWatch()
    watch.install()
    config.stash[KEY] = watch


@pytest.fixture(autouse=True)
def _canary_planted(_isolated_env, monkeypatch):
    """After tests/conftest.py made the test's environment hermetic: plant credentials of an unknown service."""
    for k, v in canaries.planted_env().items():
        monkeypatch.setenv(k, v)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    watch = item.config.stash[KEY]
    watch.current = item.nodeid
    watch.shows_secret = item.get_closest_marker("shows_secret") is not None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    watch = item.config.stash[KEY]
    watch.in_call = True
    try:
        yield
    finally:
        watch.in_call = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    watch = item.config.stash[KEY]
    if call.when == "call" and rep.passed:
        leaks = watch.leaks.get(item.nodeid)
        inherited = watch.inherited.get(item.nodeid)
        if leaks:
            rep.outcome = "failed"
            rep.longrepr = "secrets canary leaked into " + "; ".join(leaks[:5])
        elif inherited:
            rep.outcome = "failed"
            rep.longrepr = "not hermetic: " + "; ".join(inherited[:5])


def pytest_sessionfinish(session, exitstatus):
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
                                "not_hermetic": watch.inherited, "file_leaks": files}) + "\n")
    shutil.rmtree(watch.base, ignore_errors=True)
    if files:
        print("\nsecrets canary found in files written by the tests:\n  " + "\n  ".join(files[:20]))
        session.exitstatus = 1
