"""The local forge end to end through the CLI: init, pr, comment with an image, check, show."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import git
from .test_conformance import png_bytes


def test_local_forge_cli_round_trip(tmp_path, tide, monkeypatch):
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
    from tide.forge.local import LocalForge
    from tide.forge.site import render

    monkeypatch.setenv("TIDE_UI_URL", "https://ui.example/tide")  # where tide ui runs, when it is said
    render(LocalForge(str(tmp_path / "forge" / "p.git")), pages={"pr-1.html"})
    page = (tmp_path / "forge" / "p.git" / "tide-forge" / "site" / "pr-1.html").read_text()
    assert f'href="https://ui.example/tide/runs?a=main&amp;b={head}"' in page
    assert index.endswith("index.html") and "#1 CML PR for main" in Path(index).read_text()
    pull = json.loads((tmp_path / "forge" / "p.git" / "tide-forge" / "pulls" / "1.json").read_text())
    assert pull["state"] == "open" and pull["source"].startswith("main-cml-pr-")
    assert bare.endswith("p.git")
    bad = tide("forge", "show", "--driver", "github", cwd=work, check=False)
    assert bad.returncode != 0 and bad.stderr.startswith("ERROR: ") and "Traceback" not in bad.stderr


def test_issue24_f02_a_write_renders_its_own_page_and_the_index_only(tmp_path):
    """Found by the soak: every PR or comment re-rendered every page, so each got slower as they piled up."""
    from tide.forge.base import Target
    from tide.forge.local import LocalForge, init_bare
    from tide.forge.site import render

    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "README.md").write_text("x\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "init")
    bare = init_bare(str(tmp_path / "forge.git"))
    git(work, "push", "-q", bare, "main", "main:a", "main:b")
    forge = LocalForge(bare)
    site = Path(bare) / "tide-forge" / "site"
    one = forge.create_pr("a", "main", "first", "body one")
    forge.create_comment(Target("pr", str(one.number)), "report one")
    first = (site / "pr-1.html").stat().st_ino
    two = forge.create_pr("b", "main", "second", "body two")
    forge.create_comment(Target("pr", str(two.number)), "report two")
    assert (site / "pr-1.html").stat().st_ino == first  # not written again
    assert "report two" in (site / "pr-2.html").read_text()
    index = (site / "index.html").read_text()
    assert "#1 first" in index and "#2 second" in index
    forge.create_comment(Target("pr", "1"), "a second comment on one")
    assert "a second comment on one" in (site / "pr-1.html").read_text()
    (site / "pr-2.html").unlink()
    render(forge)  # tide forge show: every page
    assert "report two" in (site / "pr-2.html").read_text()
