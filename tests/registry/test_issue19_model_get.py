"""issue 19: ``tide model get NAME[@VERSION|#STAGE] --repo URL`` fetches a registered model version from
another repository and its remote, the way ``tide get`` fetches data."""

from __future__ import annotations

import shutil

from tests.registry.conftest import git


def test_issue19_model_get_version_stage_latest(fresh_source, tide, tmp_path):
    src = fresh_source.path
    tide("model", "annotate", "clf", "--type", "model", "--path", "models/m.pkl", cwd=src)
    git(src, "add", "-A")
    git(src, "commit", "-qm", "annotate")
    tide("model", "register", "clf", cwd=src)                      # v0.0.1: b"m\n"
    (src / "models" / "m.pkl").unlink()
    (src / "models" / "m.pkl").write_bytes(b"m2\n")
    tide("add", "models/m.pkl", cwd=src)
    tide("push", cwd=src)
    git(src, "commit", "-qam", "m2")
    tide("model", "register", "clf", cwd=src)                      # v0.0.2: b"m2\n"
    tide("model", "assign", "clf", "--version", "v0.0.1", "--stage", "prod", cwd=src)
    shutil.rmtree(src / ".dvc" / "cache")                          # from the source's remote only
    work = tmp_path / "work"
    work.mkdir()
    r = tide("model", "get", "clf", "--repo", fresh_source.url, cwd=work)
    assert "v0.0.2" in r.stdout and (work / "m.pkl").read_bytes() == b"m2\n"
    tide("model", "get", "clf#prod", "--repo", str(src), "-o", "prod.pkl", cwd=work)
    assert (work / "prod.pkl").read_bytes() == b"m\n"
    tide("model", "get", "clf@v0.0.2", "--repo", str(src), "-o", "v2.pkl", cwd=work)
    assert (work / "v2.pkl").read_bytes() == b"m2\n"
    for spec in ("nope", "clf#staging", "clf@v9.9.9"):
        r = tide("model", "get", spec, "--repo", str(src), "-o", "x", cwd=work, check=False)
        assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert sorted(p.name for p in work.iterdir()) == ["m.pkl", "prod.pkl", "v2.pkl"]
    import tide.api

    got = tide.api.model_get("clf#prod", repo=str(src), out=str(tmp_path / "api.pkl"))
    with open(got, "rb") as f:
        assert f.read() == b"m\n"
