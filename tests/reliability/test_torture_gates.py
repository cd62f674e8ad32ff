"""The gates of ``make torture`` can fail: tiny runs of its parts with a deliberate fault planted fail,
and the same runs without it pass.

* ``TIDE_TEST_PLANT_LEAK=1`` (read once, in tide.cli.main.run_command) makes every tide command print the
  canary credentials of its environment: the canary part must fail, on an ordinary test whose own
  assertions all hold (only the plugin can see it).
* ``TIDE_TEST_PLANT_CORRUPTION=1`` (read once, in tests/reliability/crashrun.py) flips a byte of a cache
  object before the command of a crash trial: the crash part must fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TORTURE = ROOT / "scripts" / "torture.py"
ORDINARY_TEST = "tests/foundation/test_commands.py::test_add_writes_pointer_gitignore_and_hint"
CANARY = ("--only", "canaries", "--jobs", "1", "--canary-tests", ORDINARY_TEST)
CRASH = ("--only", "crash", "--trials", "1", "--crash-scenarios", "add", "--link-types", "default")


def torture(tmp_path: Path, args: tuple[str, ...], plant: str | None) -> tuple[subprocess.CompletedProcess, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDE_TEST_PLANT_")}
    if plant:
        env[plant] = "1"
    out = tmp_path / "results.json"
    p = subprocess.run([sys.executable, str(TORTURE), *args, "--seed", "7", "--out", str(out),
                        "--work", str(tmp_path / "work")], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    return p, json.loads(out.read_text()) if out.exists() else {}


@pytest.mark.parametrize("plant", [None, "TIDE_TEST_PLANT_LEAK"])
def test_canary_part_fails_on_a_planted_leak_only(tmp_path, plant):
    p, res = torture(tmp_path, CANARY, plant)
    part = res["parts"]["canaries"]
    c = part["counts"]
    assert c["subprocess_outputs"] > 0
    assert any(ln.startswith("canaries: ") for ln in p.stdout.splitlines()), p.stdout
    if plant is None:
        assert p.returncode == 0 and res["ok"], p.stdout + p.stderr
        assert c["tests_passed"] == 1 and c["output_leaks"] == 0 and part["failures"] == []
    else:
        assert p.returncode == 1 and not res["ok"], p.stdout
        assert c["output_leaks"] == 1 and c["tests_passed"] == 0
        assert any(f.startswith(f"canary in the output of {ORDINARY_TEST}: stderr of") for f in part["failures"])
        assert "tidecanary" not in p.stdout + (tmp_path / "results.json").read_text()  # reported, not repeated


@pytest.mark.parametrize("plant", [None, "TIDE_TEST_PLANT_CORRUPTION"])
def test_crash_part_fails_on_a_planted_corruption_only(tmp_path, plant):
    p, res = torture(tmp_path, CRASH, plant)
    part = res["parts"]["crash"]
    assert part["counts"]["trials"] == 1
    assert any(ln.startswith("crash: 1 trials") for ln in p.stdout.splitlines()), p.stdout
    if plant is None:
        assert p.returncode == 0 and res["ok"] and part["failures"] == [], p.stdout + p.stderr
    else:
        assert p.returncode == 1 and not res["ok"], p.stdout
        assert part["counts"]["failed"] == 1 and "corrupt" in part["failures"][0]


def test_a_part_that_cannot_run_is_a_failure(tmp_path):
    spec = importlib.util.spec_from_file_location("torture_script", TORTURE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod._module_part("tests.reliability.no_such_part", "retrain kills")(1, 7, tmp_path)
    assert res["counts"] == {} and "the part did not run" in res["failures"][0]
    assert set(mod.PARTS) == {"crash", "fuzz", "net", "canaries", "retrain", "differential", "gto"}
    assert set(mod.PROFILES["quick"]) == set(mod.PROFILES["full"]) == set(mod.PARTS)
    assert mod.PROFILES["full"]["retrain"] >= 60 and mod.PROFILES["full"]["differential"] >= 2000
    assert mod.PROFILES["full"]["gto"] >= 500
