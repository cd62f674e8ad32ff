"""issue 19: ``tide.api`` gives what ``dvc.api`` gives (same bytes, same URLs, same params and metrics),
and ``TideFileSystem`` lists and reads a repository at a revision through fsspec."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import dvc_bin
from tests.registry.conftest import git

DVC_PY = os.path.join(os.path.dirname(dvc_bin()), "python")


def dvc_api(expr: str):
    code = f"import json, dvc.api; v = {expr}; print(json.dumps(v if not isinstance(v, bytes) else v.hex()))"
    p = subprocess.run([DVC_PY, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def tide_api(expr: str):
    code = f"import json, tide.api; v = {expr}; print(json.dumps(v if not isinstance(v, bytes) else v.hex()))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


@pytest.mark.parametrize("path,rev,mode", [
    ("hello.txt", None, "r"), ("hello.txt", "v1", "r"), ("data/sub/b.txt", "main", "rb"), ("code.py", "v1", "r"),
    ("models/m.pkl", None, "rb"),
])
def test_issue19_api_read_same_bytes_as_dvc(source, path, rev, mode):
    for repo in (str(source.path), source.url):
        expr = f"dvc.api.read({path!r}, repo={repo!r}, rev={rev!r}, mode={mode!r})"
        assert tide_api(expr.replace("dvc.api", "tide.api")) == dvc_api(expr)


def test_issue19_api_streams_from_the_remote(fresh_source):
    """No cache in the source: open() streams the object from its remote; get_url names it there."""
    shutil.rmtree(fresh_source.path / ".dvc" / "cache")
    repo = str(fresh_source.path)
    for path in ("hello.txt", "data/a.txt"):
        expr = f"dvc.api.read({path!r}, repo={repo!r})"
        assert tide_api(expr.replace("dvc.api", "tide.api")) == dvc_api(expr)
        expr = f"dvc.api.get_url({path!r}, repo={repo!r})"
        assert tide_api(expr.replace("dvc.api", "tide.api")) == dvc_api(expr)
    assert not (fresh_source.path / ".dvc" / "cache").exists()


def test_issue19_api_open_text_binary_and_errors(dvc_source):
    import tide.api

    repo = str(dvc_source.path)
    with tide.api.open("data/a.txt", repo=repo, rev="v1") as f:
        assert f.read() == "a\n"
    with tide.api.open("hello.txt", repo=dvc_source.url, mode="rb") as f:
        assert f.read() == b"hello2\n"
    with pytest.raises(Exception, match="nope"):
        tide.api.read("nope", repo=repo)
    with pytest.raises(Exception, match="revision"):
        tide.api.read("hello.txt", repo=repo, rev="nope")


def test_issue19_api_params_and_metrics_same_as_dvc(fresh_source, dvc):
    src = fresh_source.path
    (src / "params.yaml").write_text("lr: 0.1\ntrain:\n  epochs: 3\n")
    (src / "other.yaml").write_text("lr: 0.5\nseed: 7\n")
    (src / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n    params:\n    - lr\n    - other.yaml:\n"
                                  "      - seed\nmetrics:\n- m.json\n")
    (src / "m.json").write_text('{"acc": 0.9}')
    git(src, "add", "-A")
    git(src, "commit", "-qm", "params")
    for expr in (f"dvc.api.params_show(repo={str(src)!r})", f"dvc.api.metrics_show(repo={str(src)!r})",
                 f"dvc.api.params_show('other.yaml', repo={str(src)!r}, rev='main')"):
        assert tide_api(expr.replace("dvc.api", "tide.api")) == dvc_api(expr), expr


def test_issue19_filesystem(dvc_source, tmp_path):
    from tide.api import TideFileSystem

    fs = TideFileSystem(repo=str(dvc_source.path), rev="v1")
    assert fs.ls("", detail=False) == ["code.py", "data", "data.dvc", "gitdir", "hello.txt", "hello.txt.dvc",
                                       "models", "run.sh"] or ".dvcignore" in fs.ls("", detail=False)
    assert fs.find("data") == ["data/a.txt", "data/sub/b.txt"]
    assert fs.info("data")["type"] == "directory" and fs.info("hello.txt")["size"] == 6
    assert fs.cat("hello.txt") == b"hello\n"
    fs.get("data", str(tmp_path / "d"), recursive=True)
    assert (tmp_path / "d" / "sub" / "b.txt").read_bytes() == b"b\n"
    with pytest.raises(FileNotFoundError):
        fs.info("nope")
    fs.close()


def test_issue19_import_tide_api_is_lazy():
    code = "import sys, tide.api; print(any(m.startswith(('fsspec', 'tide.ops', 'tide.objects')) for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
