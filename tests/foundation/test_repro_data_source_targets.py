"""``repro`` of a ``.dvc`` file and what ``repro`` says, side by side with real dvc.

dvc's graph holds every ``.dvc`` file as a stage (a data source): ``repro data.dvc`` verifies it (records
and caches its output again when it changed, or with ``-f``), ``--downstream`` and ``-p`` add the stages
that depend on it, ``-R DIR`` takes the ``.dvc`` files under DIR. tide refused such a target ("not a
stage"). Its lock-file lines follow dvc's: "Generating lock file" when dvc.lock is made, "Updating lock
file" (and the git hint) only when the stage's entry changed; a blank line only after a step that did
something."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git

PIPE = "stages:\n  s:\n    cmd: cp f g\n    deps: [f]\n    outs: [g]\n"
HINTS = ("To track the changes", "To enable auto staging", "config core.autostage", "send your updates")


def said(r, *args) -> tuple[bool, list[str], set[str]]:
    """(failed, stdout lines without the tool-specific hints, the files the git hint names)."""
    p = r.t(*args, check=False)
    lines, staged = [], set()
    for line in p.stdout.splitlines():
        if line.strip().startswith("git add "):
            staged |= set(line.split()[2:])
        elif not any(h in line for h in HINTS):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return p.returncode != 0, lines, staged


def same(both, *args, setup: str = "") -> tuple[bool, list[str], set[str]]:
    seen = {}
    for r in both:
        if setup:
            r.sh(setup)
        seen[r.name] = said(r, *args)
    assert seen["tide"] == seen["dvc"], seen
    return seen["tide"]


def records(both, *names: str) -> dict:
    seen = {r.name: [Path(r.p(n)).read_bytes() if Path(r.p(n)).exists() else None for n in names] for r in both}
    assert seen["tide"] == seen["dvc"], seen
    return seen["tide"]


@pytest.fixture
def piped(both):
    """f tracked by f.dvc, stage s copying f to g, all committed."""
    for r in both:
        r.sh(f"echo a > f; cat > dvc.yaml <<'EOF'\n{PIPE}EOF")
        r.t("add", "-q", "f")
        r.t("repro", "-q")
        git(r.path, "add", "-A")
        git(r.path, "commit", "-qm", "pipe")
    return both


def test_repro_of_an_unchanged_dvc_file_skips_it(piped):
    assert same(piped, "repro", "f.dvc") == (False, ["'f.dvc' didn't change, skipping",
                                                     "Data and pipelines are up to date."], set())
    assert same(piped, "repro", "--downstream", "f.dvc")[1] == [
        "'f.dvc' didn't change, skipping", "Stage 's' didn't change, skipping", "Data and pipelines are up to date."]
    assert same(piped, "repro", "-p", "f.dvc")[1][-1] == "Data and pipelines are up to date."


def test_repro_of_a_changed_dvc_file_records_it_and_downstream_runs_its_consumers(piped):
    before = records(piped, "f.dvc", "dvc.lock")
    assert same(piped, "repro", "-s", "f.dvc", setup="echo b > f") == (
        False, ["Verifying data sources in stage: 'f.dvc'"], {"f.dvc"})
    after = records(piped, "f.dvc", "dvc.lock")
    assert after[0] != before[0] and after[1] == before[1]  # the stage did not run
    failed, lines, staged = same(piped, "repro", "--downstream", "f.dvc", setup="echo c > f")
    assert not failed and staged == {"f.dvc", "dvc.lock"}
    assert lines == ["Verifying data sources in stage: 'f.dvc'", "", "Running stage 's':", "> cp f g",
                     "Updating lock file 'dvc.lock'"]
    records(piped, "f.dvc", "dvc.lock", "g")


def test_repro_force_of_a_dvc_file_verifies_it_unchanged(piped):
    assert same(piped, "repro", "-f", "f.dvc") == (False, ["Verifying data sources in stage: 'f.dvc'"], {"f.dvc"})
    # reached through a stage: -f verifies it too; the lock entry is the same, so it is neither said nor staged
    assert same(piped, "repro", "-f", "s") == (
        False, ["Verifying data sources in stage: 'f.dvc'", "", "Running stage 's':", "> cp f g"], {"f.dvc"})
    records(piped, "f.dvc", "dvc.lock")


def test_repro_of_a_dvc_file_whose_output_is_gone_fails(piped):
    failed, lines, _ = same(piped, "repro", "f.dvc", setup="rm f")
    assert failed
    tide = piped[1]
    p = tide.t("repro", "f.dvc", check=False)
    assert p.returncode == 1 and p.stderr.strip() == "ERROR: failed to reproduce 'f.dvc': missing data 'source': f"
    assert same(piped, "repro", "nothing.dvc")[0]


def test_repro_recursive_takes_the_dvc_files_under_a_directory(both):
    for r in both:
        r.sh("mkdir sub; echo q > sub/h")
        r.t("add", "-q", "sub/h")
    assert same(both, "repro", "-R", "sub")[1] == ["'sub/h.dvc' didn't change, skipping",
                                                   "Data and pipelines are up to date."]
    assert same(both, "repro", "-R", "sub", setup="echo w > sub/h") == (
        False, ["Verifying data sources in stage: 'sub/h.dvc'"], {"sub/h.dvc"})
    records(both, "sub/h.dvc")


def test_lock_file_lines_and_blank_lines_as_dvc(both):
    two = PIPE + "  t:\n    cmd: cp f h\n    deps: [f]\n    outs: [h]\n"
    failed, lines, staged = same(both, "repro", setup=f"echo a > f; cat > dvc.yaml <<'EOF'\n{two}EOF")
    assert not failed and "dvc.lock" in staged
    assert lines == ["Running stage 's':", "> cp f g", "Generating lock file 'dvc.lock'",
                     "Updating lock file 'dvc.lock'", "", "Running stage 't':", "> cp f h",
                     "Updating lock file 'dvc.lock'"]
    # nothing changed: no blank line between the stages skipped
    assert same(both, "repro")[1] == ["Stage 's' didn't change, skipping", "Stage 't' didn't change, skipping",
                                      "Data and pipelines are up to date."]
    # forced: both run, the lock entries are the same, so "Updating lock file" is not said, dvc.lock not staged
    assert same(both, "repro", "-f") == (False, ["Running stage 's':", "> cp f g", "", "Running stage 't':",
                                                 "> cp f h"], set())
    records(both, "dvc.lock")


def test_repro_all_pipelines_verifies_every_dvc_file(piped):
    """``-P``: dvc reproduces every stage of its graph, the ``.dvc`` files no stage depends on included."""
    for r in piped:
        r.sh("echo z > lone")
        r.t("add", "-q", "lone")
    failed, lines, staged = same(piped, "repro", "-P", setup="echo changed > lone")
    assert not failed and staged == {"lone.dvc"} and "Verifying data sources in stage: 'lone.dvc'" in lines
    records(piped, "lone.dvc", "f.dvc", "dvc.lock")
