"""Issue 27, third differential round (seeds 61601 and 61701): ``commit`` compared with dvc 3.67.1 in fresh
repositories (``git init; T init; T remote add -d r ../remote; commit``)."""

from __future__ import annotations

PIPELINE = """stages:
  s1:
    cmd: cat b > o1
    deps: [b]
    params: [epochs]
    outs: [o1]
  s2:
    cmd: "cat o1 > o2 && echo 1 > m2.json"
    deps: [o1]
    outs: [o2]
    metrics:
    - m2.json:
        cache: false
"""


def test_issue27_n62_commit_checks_every_output_before_writing(both):
    """N62 (seed 61701 sequence 685): ``commit -f`` where one stage of dvc.yaml never ran (its outputs do
    not exist): dvc fails and leaves dvc.lock as it was (it dumps a dvc.yaml's stages together); tide fails
    before writing anything, naming the missing output."""
    locks = []
    for r in both:
        r.sh("echo 1 > b && printf 'epochs: 1\\n' > params.yaml")
        (r.path / "dvc.yaml").write_text(PIPELINE)
        r.t("repro", "-q", "s1")
        r.sh("printf 'epochs: 2\\n' > params.yaml")
        before = (r.path / "dvc.lock").read_bytes()
        res = r.t("commit", "-q", "-f", check=False)
        assert res.returncode != 0, r.name
        assert (r.path / "dvc.lock").read_bytes() == before, r.name
        locks.append(before)
    assert locks[0] == locks[1]
    tide = both[1].t("commit", "-f", check=False)
    assert tide.stderr.strip().splitlines() == ["ERROR: output 'o2' does not exist"]
