"""Issue 27, seed 67001 sequence 165 (mixed, found by ``make torture``'s differential part): a ``.dvc``
file that ``commit -f`` (or a changed one that ``commit`` or ``repro``'s check of a data source) records
gets its outputs' ``.gitignore`` entries back, and an output git tracks is refused, as dvc's; tide's commit
skipped both for ``.dvc`` files ("Nothing to commit.", exit 0). tide checks every output first, so a
refused commit writes nothing (N62)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import git
from tests.foundation.test_issue27_n55 import _after, _gitignore


def test_commit_force_writes_back_deleted_gitignore_entries(both):
    failed, gi, _ = _after(both, "echo a > f; mkdir p; echo b > p/g", ("add", "-q", "f"), ("add", "-q", "p"),
                           "rm .gitignore", ("commit", "-q"))
    assert not failed and gi is None  # nothing recorded, nothing written
    for r in both:
        assert r.t("commit", "-q", "-f").returncode == 0
    # the same lines; dvc writes them in directory-listing order, tide in path order (N78)
    assert sorted(_gitignore(both[0]).splitlines()) == [b"/f", b"/p"] and _gitignore(both[1]) == b"/f\n/p\n"


def test_commit_of_an_output_git_tracks_fails_and_writes_nothing(both):
    _after(both, "echo a > f; echo b > g", ("add", "-q", "f", "g"))
    for r in both:
        git(r.path, "add", "-A")
        git(r.path, "commit", "-qm", "a")
        git(r.path, "add", "-f", "g")  # git tracks g too now (dvc add wrote no entry for it: seed 67001, 165)
        git(r.path, "commit", "-qm", "b")
    failed, gi, _ = _after(both, "true", ("commit", "-q"))
    assert not failed  # nothing to record: nothing checked
    before = {r.name: Path(r.p("f.dvc")).read_text() for r in both}
    failed, gi, _ = _after(both, "echo changed > f", ("commit", "-q", "-f"))
    assert failed
    tide = both[1]
    assert Path(tide.p("f.dvc")).read_text() == before["tide"]  # all or nothing: f's change not recorded
    p = tide.t("commit", "-f", check=False)
    assert p.returncode == 1 and p.stderr.strip().splitlines()[-1].startswith("ERROR: output 'g' is already tracked")
    failed, _, _ = _after(both, "true", ("commit", "-q", "f.dvc"))   # f changed, g not selected: no question
    assert failed  # changed, not forced: refused (as dvc without a terminal)
    failed, _, _ = _after(both, "true", ("commit", "-q", "-f", "f.dvc"))
    assert not failed


def test_repro_of_a_changed_data_source_writes_its_entry(both):
    yaml = "stages:\n  s:\n    cmd: cat g > o\n    deps: [g]\n    outs: [o]\n"
    failed, gi, _ = _after(both, f"echo a > g; cat > dvc.yaml <<'EOF'\n{yaml}EOF", ("add", "-q", "g"),
                           "rm .gitignore; echo c > g", ("repro", "-q"), files=False)
    assert not failed and sorted(gi.splitlines()) == [b"/g", b"/o"]
    assert _gitignore(both[1]) is not None


def test_commit_of_an_unchanged_file_keeps_its_record_and_gives_back_the_exec_bit(both):
    """Seed 67001 sequence 814: ``chmod +x`` of a tracked file then ``commit`` (not forced): its content is
    unchanged, so dvc rewrites nothing and relinks the file with the recorded mode; tide recorded
    ``isexec: true``. ``commit -f`` records the bit in both."""
    import stat

    def modes(r):
        return [stat.S_IMODE(os.stat(r.p(n)).st_mode) & 0o111 != 0 for n in ("f", "g")]

    _after(both, "echo a > f; echo b > g; chmod +x g", ("add", "-q", "f", "g"), files=False)
    dvcfiles = {r.name: (Path(r.p("f.dvc")).read_text(), Path(r.p("g.dvc")).read_text()) for r in both}
    assert "isexec: true" in dvcfiles["tide"][1] and dvcfiles["tide"] == dvcfiles["dvc"]
    _after(both, "chmod +x f; chmod -x g", ("commit", "-q"), files=False)
    for r in both:
        assert (Path(r.p("f.dvc")).read_text(), Path(r.p("g.dvc")).read_text()) == dvcfiles[r.name], r.name
        assert modes(r) == [False, True], r.name  # the recorded bits are back
    _after(both, "chmod +x f; chmod -x g", ("commit", "-q", "-f"), files=False)
    for r in both:
        assert "isexec" in Path(r.p("f.dvc")).read_text() and "isexec" not in Path(r.p("g.dvc")).read_text()
        assert modes(r) == [True, False], r.name
