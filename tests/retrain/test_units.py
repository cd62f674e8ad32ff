"""Pure units: registry tag grammar, semver order, tide.yaml sections, cron to systemd OnCalendar."""

from __future__ import annotations

import pytest

from tide.core import settings as S
from tide.core.errors import ConfigError, UsageError
from tide.ops.schedule import on_calendar
from tide.registry import tags as T


@pytest.mark.parametrize("tag, action, version, stage, counter, artifact", [
    ("churn@v1.2.3", T.REGISTER, "v1.2.3", None, None, "churn"),
    ("churn@v1.2.3-rc.1+build.5", T.REGISTER, "v1.2.3-rc.1+build.5", None, None, "churn"),
    ("churn@v1.2.3!", T.DEREGISTER, "v1.2.3", None, None, "churn"),
    ("churn#prod#3", T.ASSIGN, None, "prod", 3, "churn"),
    ("churn#prod!#4", T.UNASSIGN, None, "prod", 4, "churn"),
    ("churn@deprecated#5", T.DEPRECATE, None, None, 5, "churn"),
    ("models/dir=churn#staging#1", T.ASSIGN, None, "staging", 1, "models/dir:churn"),
])
def test_tag_grammar_round_trips(tag, action, version, stage, counter, artifact):
    parsed = T.parse(tag)
    assert parsed == T.TagName(artifact, action, version, stage, counter)
    assert parsed.render() == tag


@pytest.mark.parametrize("tag", ["v1.0.0", "churn@1.0.0", "churn@v1.0", "churn#", "-x@v1.0.0", "churn#prod#x"])
def test_not_registry_tags(tag):
    assert T.parse(tag) is None


def test_semver_order_and_bump():
    versions = ["v1.0.0", "v0.10.0", "v1.0.0-rc.2", "v0.9.9", "v1.0.0-rc.10", "v1.0.0-alpha"]
    assert sorted(versions, key=T.semver_key) == ["v0.9.9", "v0.10.0", "v1.0.0-alpha", "v1.0.0-rc.2",
                                                  "v1.0.0-rc.10", "v1.0.0"]
    assert (T.bump("v1.2.3", "major"), T.bump("v1.2.3", "minor"), T.bump("v1.2.3", "patch")) == (
        "v2.0.0", "v1.3.0", "v1.2.4")
    with pytest.raises(UsageError):
        T.check_version("1.2.3")


def test_settings_sections_parse_and_reject():
    st = S.Settings("tide.yaml", {
        "registry": {"model": "m", "path": "model.bin"},
        "gate": {"primary": "accuracy", "guards": [{"metric": "loss", "direction": "lower", "max_worsening": 1}]},
        "retrain": {"runner": "local", "pr_files": ["a", "b"]},
        "schedule": {"cron": "0 8 * * *"},
    })
    g = S.gate_settings(st)
    assert g.primary == S.MetricRule("accuracy") and g.guards[0].max_worsening == 1.0 and g.samples == 1000
    assert S.retrain_settings(st).pr_files == ("a", "b") and S.retrain_settings(st).base == "main"
    assert S.registry_settings(st).model == "m" and not S.deploy_settings(st).configured
    for bad, needle in [({"gate": {"primary": {"metric": "a", "min_improvement": -1}}}, "must not be negative"),
                        ({"gate": {"guards": "recall"}}, "must be a list"),
                        ({"retrain": {"pr_files": "dvc.lock"}}, "list of paths"),
                        ({"registry": {"model": 3}}, "'registry.model' must be a str")]:
        with pytest.raises(ConfigError, match=needle):
            st2 = S.Settings("tide.yaml", bad)
            S.gate_settings(st2), S.retrain_settings(st2), S.registry_settings(st2)


@pytest.mark.parametrize("cron, cal", [
    ("0 8 * * *", "*-*-* 08:00:00"),
    ("*/15 * * * *", "*-*-* *:0/15:00"),
    ("30 6 1,15 * *", "*-*-01,15 06:30:00"),
    ("0 3 * * 0", "Sun *-*-* 03:00:00"),
    ("0 22 * * 1-5", "Mon..Fri *-*-* 22:00:00"),
])
def test_cron_to_on_calendar(cron, cal):
    assert on_calendar(cron) == cal


def test_on_calendar_is_valid_for_systemd():
    import shutil
    import subprocess

    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.fail("systemd-analyze is missing: run 'make sysdeps' (scripts/sysdeps.sh installs systemd)")
    for cron in ("0 8 * * *", "*/15 * * * *", "30 6 1,15 * *", "0 3 * * 0", "*/30 6-18 * * 1-5", "0 0 1 */3 *"):
        proc = subprocess.run([exe, "calendar", on_calendar(cron)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and "Normalized form" in proc.stdout, (cron, proc.stderr)
