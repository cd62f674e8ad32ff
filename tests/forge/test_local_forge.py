"""The local forge end to end through the CLI: init, pr, comment with an image, check, show."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import git
from .test_conformance import png_bytes


def test_local_forge_cli_round_trip(tmp_path, tide):
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "README.md").write_text("x\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "init")
    bare = tide("forge", "init", str(tmp_path / "forge" / "p.git"), "--add-remote", "origin", cwd=work).stdout.strip()
    git(work, "push", "-q", "origin", "main")
    (work / "metrics.json").write_text('{"acc": 0.9}\n')
    url = tide("pr", "metrics.json", cwd=work).stdout.strip()
    assert url.endswith("/tide-forge/site/pr-1.html")
    (work / "cm.png").write_bytes(png_bytes())
    (work / "report.md").write_text("# Accuracy 0.9\n\n<script>x</script>\n\n![cm](cm.png)\n")
    c1 = tide("comment", "update", "report.md", "--target", "pr", cwd=work).stdout.strip()
    c2 = tide("comment", "update", "report.md", cwd=work).stdout.strip()
    assert c1 == c2 and c1.endswith("pr-1.html#comment-1")
    tide("check", "create", "report.md", "--conclusion", "neutral", cwd=work)
    index = tide("forge", "show", cwd=work).stdout.strip()
    page = (tmp_path / "forge" / "p.git" / "tide-forge" / "site" / "pr-1.html").read_text()
    assert "<h1>Accuracy 0.9</h1>" in page and "<script>" not in page
    assert 'src="../assets/' in page and "cml.dev" not in page
    source = json.loads((tmp_path / "forge" / "p.git" / "tide-forge" / "pulls" / "1.json").read_text())["source"]
    head = git(tmp_path / "forge" / "p.git", "rev-parse", f"refs/heads/{source}")
    assert f'href="http://127.0.0.1:8765/runs?a=main&amp;b={head}"' in page  # issue 25: the PR links into tide ui
    assert index.endswith("index.html") and "#1 CML PR for main" in Path(index).read_text()
    pull = json.loads((tmp_path / "forge" / "p.git" / "tide-forge" / "pulls" / "1.json").read_text())
    assert pull["state"] == "open" and pull["source"].startswith("main-cml-pr-")
    assert bare.endswith("p.git")
    bad = tide("forge", "show", "--driver", "github", cwd=work, check=False)
    assert bad.returncode != 0 and bad.stderr.startswith("ERROR: ") and "Traceback" not in bad.stderr
