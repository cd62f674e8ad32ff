"""The test setup is hermetic: ``make test`` passes for a developer who has real tokens exported (or on a CI
runner), because every test starts without the shell's credentials (tests/conftest.py, tests/hermetic.py).

A sample of the tests that configure fake forges and a fake Google Drive (the ones that failed when the
environment's ``REPO_TOKEN`` or ``GDRIVE_CREDENTIALS_DATA`` won over what they configure) runs in a
subprocess pytest with canaries in every credential variable and CI markers set, and must pass.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.hermetic import hermetic, is_credential, outside_names
from tests.reliability import canaries

SAMPLE = (
    "tests/test_hermetic.py::test_a_test_sees_no_outside_variable",
    "tests/forge/test_conformance.py::test_pr_merge_flag",
    "tests/forge/test_conformance.py::test_check_create",
    "tests/forge/test_secrets_and_errors.py::test_rate_limit_is_retried_after_retry_after",
    "tests/forge/test_ssh_push.py",
    *(f"tests/storage/test_conformance.py::test_put_exists_size_read[{b}]" for b in ("s3", "gs", "azure", "gdrive")),
    "tests/storage/test_conformance.py::test_gdrive_oauth_user_credentials_and_refused_keys",
    "tests/storage/test_s3_http.py::test_no_credentials_falls_back_to_s3fs_and_its_error",
)
SHELL_PREFIX = canaries.PREFIX + "shell"  # not the canary plugin's outer prefix: a canary run runs this file too
# what a CI runner or a developer's shell adds besides credentials
CI_MARKERS = {"CI": "true", "GITHUB_ACTIONS": "true", "GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.example/x",
              "TIDE_REMOTE_RETRIES": "1", "DVC_NO_ANALYTICS": "0"}


def developer_env(tmp_path) -> dict[str, str]:
    env = dict(os.environ, **canaries.canary_env(str(tmp_path / "creds"), prefix=SHELL_PREFIX),
               **{k: canaries.value(k, SHELL_PREFIX) for k in canaries.PLANTED}, **CI_MARKERS)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def test_a_test_sees_no_outside_variable():
    """Whatever the shell exported (the subprocess run below exports canaries), a test starts without it."""
    planted = canaries.PLANT_PREFIX  # a canary run plants these during each test, after the scrub
    assert [k for k, v in os.environ.items() if is_credential(k) and not v.startswith(planted)] == [
        "AWS_EC2_METADATA_DISABLED"]  # set by conftest, not a secret
    assert not [k for k, v in os.environ.items() if SHELL_PREFIX in v.lower() or canaries.OUTER_PREFIX in v.lower()]
    assert not {"CI", "GITHUB_ACTIONS", "GITLAB_CI", "CI_PROJECT_URL", "TIDE_REMOTE_RETRIES"} & set(os.environ)
    assert os.environ["DVC_NO_ANALYTICS"] == "1"  # set by conftest, not the shell's "0"


def test_sample_passes_with_tokens_exported(tmp_path):
    env = developer_env(tmp_path)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--basetemp={tmp_path / 'pt'}", *SAMPLE], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    tail = "\n".join(p.stdout.strip().splitlines()[-15:])
    assert p.returncode == 0, f"with tokens exported, the sample fails:\n{tail}\n{p.stderr[-2000:]}"
    assert " passed" in tail and "failed" not in tail and "error" not in tail, tail


def test_one_list_runner_scrub_and_test_setup():
    """Every credential the canaries set is one the runner scrubs from a job and conftest removes from a
    test; every variable the runner names exactly has a canary (the lists cannot drift apart)."""
    from tide.runners.watchdog import SENSITIVE

    names = set(canaries.TOKEN_VARS) | set(canaries.PLANTED) | {
        "AWS_ACCESS_KEY_ID", "AZURE_STORAGE_CONNECTION_STRING", "TIDE_DB_URL", "KUBECONFIG",
        "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS_DATA", "GDRIVE_CREDENTIALS_DATA"}
    assert [n for n in sorted(names) if not is_credential(n)] == []
    assert set(outside_names(dict.fromkeys(names, "v"))) == names
    exact = {s for s in SENSITIVE if not s.endswith("_")} - {"KUBERNETES_CONFIGURATION"}
    assert exact - names == set(), "a credential the runner scrubs has no canary (tests/reliability/canaries.py)"
    kept = hermetic({"PATH": "/bin", "HOME": "/h", "TIDE_TEST_DVC": "/d", "TOKENIZERS_PARALLELISM": "1",
                     "CI": "1", "TIDE_GC_GRACE": "0", "MY_API_KEY": "k", "GITHUB_ACTIONS": "true"})
    assert kept == {"PATH": "/bin", "HOME": "/h", "TIDE_TEST_DVC": "/d", "TOKENIZERS_PARALLELISM": "1"}


def test_no_test_undoes_every_patch_at_once():
    """``monkeypatch.undo()`` also undoes the hermetic environment tests/conftest.py set with the same
    monkeypatch, so what runs after it sees the shell's credentials (the full canary run caught one: a test
    of `import`'s update called git with them). A scoped patch is ``with monkeypatch.context() as m``."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "monkeypatch.undo()" in line and "noqa: hermetic" not in line and path.name != "test_hermetic.py":
                found.append(f"{path.relative_to(ROOT)}:{n}")
    assert found == []


def test_tide_source_holds_no_canary(tmp_path):
    """The canary part of `make torture` scans every file the tests write for the canaries' prefixes; a test
    that installs tide (the CI rehearsal's tool cache) writes tide's own source and its compiled modules, so
    neither may hold a prefix (the full run flagged cli/main.py's test-only leak plant once)."""
    import compileall
    import shutil

    prefixes = (canaries.PREFIX, canaries.USER_PREFIX)
    shutil.copytree(ROOT / "src" / "tide", tmp_path / "tide", ignore=shutil.ignore_patterns("__pycache__"))
    assert compileall.compile_dir(str(tmp_path / "tide"), quiet=1)
    assert canaries.scan_tree(tmp_path, prefixes=prefixes) == []
    assert len(list((tmp_path / "tide").rglob("*.pyc"))) > 100  # the compiled copy was scanned too
