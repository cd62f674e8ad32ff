"""Issue 27, seed 61801: two ``checkout`` shapes the differential tester found, each run on both tools.

* N66 (sequence 1492): after ``git checkout`` to a commit whose ``dvc.lock`` lacks a stage, ``checkout``
  fails for its outputs (no hash recorded) and removes what is in their place when the cache holds all of
  its content, as dvc-data's checkout does (dvc's ``_check_can_delete``); tide had refused ("not in the
  cache", which was not so) and kept it. Content the cache lacks still needs ``--force`` in both.
* N67 (sequence 47): ``cache.type reflink`` alone on a file system that cannot reflink, ``checkout --force``
  over a changed file: both fail; dvc deletes the file before its link fails (the changes are lost and
  nothing takes their place), tide writes to a temporary name and renames, so it keeps the file
  (deliberate: docs/versioning.md; ``known.n53_reflink_only_checkout_copies_after_a_failure``).
"""

from __future__ import annotations

import os

import pytest

STAGE = ("stages:\n  s:\n    cmd: cp s o && mkdir -p D && cp s D/f\n    deps: [s]\n    outs: [o, D]\n")


def test_issue27_n66_checkout_removes_an_unhashed_output_whose_content_is_cached(both):
    seen = {}
    for r in both:
        r.sh("echo a > s")
        with open(r.p("dvc.yaml"), "w") as f:
            f.write(STAGE)
        r.sh("git add -A && git commit -qm y")
        r.t("repro", "-q")
        r.sh("git add -A && git commit -qm z && git checkout -q HEAD~1")
        got = [r.t("checkout", "-q", check=False).returncode != 0, r.ls()]  # o and D/f are in the cache: gone
        r.sh("git checkout -q main")
        r.t("checkout", "-q")
        r.sh("git checkout -q HEAD~1 && echo new > D/g")  # D/g is in no cache: nothing removed without --force
        co = r.t("checkout", "-q", check=False)
        got += [co.returncode != 0, r.ls(), os.path.exists(r.p("D/g"))]
        if r.name == "tide":
            assert "'D/g' is not in the cache" in co.stderr, co.stderr
        got += [r.t("checkout", "-q", "--force", check=False).returncode != 0, r.ls()]
        seen[r.name] = got
    assert seen["tide"] == seen["dvc"], seen
    assert seen["tide"][:2] == [True, ["dvc.yaml", "s"]], seen
    assert seen["tide"][2:] == [True, ["D", "dvc.yaml", "o", "s"], True, True, ["dvc.yaml", "s"]], seen


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _reflinks_work(d) -> bool:
    from tide.objects.cache import ObjectCache

    return not ObjectCache(os.path.join(d, "cache"), ("reflink",)).reflink_only_unsupported(str(d))


def test_issue27_n67_reflink_only_checkout_force_keeps_the_changed_file(both, tmp_path):
    if _reflinks_work(tmp_path):
        pytest.skip("this file system supports reflinks: the case cannot arise here")
    seen = {}
    for r in both:
        r.t("config", "cache.type", "reflink")
        r.sh("printf 'no newline' > x")
        r.t("add", "-q", "x")
        r.sh("printf '2\\n' >> x")
        seen[r.name] = (r.t("checkout", "-q", "--force", check=False).returncode != 0, _read(r.p("x")))
    assert seen == {"dvc": (True, None), "tide": (True, b"no newline2\n")}, seen
