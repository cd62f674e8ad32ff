"""Issue 27: divergence N51 that the differential tester found (seed 61401, RELIABILITY.md): ``metrics show``
of a metric missing from the workspace. dvc reads through its file system: a cached stage output comes from
the cache (after the file was deleted, its recorded content is shown) or is "No storage files available";
an uncached one (``cache: false``) is looked for on disk only: "No such file or directory". tide said "No
storage files available" for both and never read the cache."""

from __future__ import annotations

YAML = """stages:
  s1:
    cmd: echo 1 > m1.json
    metrics:
    - m1.json
  s2:
    cmd: echo 2 > m2.json
    metrics:
    - m2.json:
        cache: false
"""


def test_n51_a_missing_metric_is_read_from_the_cache_or_named_as_dvc_names_it(both):
    seen = {}
    for r in both:
        r.sh(f"cat > dvc.yaml <<'EOF'\n{YAML}EOF")
        never_ran = r.t("metrics", "show", "--json", check=False).stdout
        r.t("repro", "-q")
        r.sh("rm m1.json m2.json")
        deleted = r.t("metrics", "show", "--json", check=False).stdout
        seen[r.name] = (never_ran, deleted)
    assert seen["tide"] == seen["dvc"], seen
    assert '"m1.json": {"data": 1}' in seen["tide"][1] and "No such file" in seen["tide"][1], seen
