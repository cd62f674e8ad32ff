"""docs/from-cml.md shows the workflow `tide ci init github` writes for the guide's files: the listing is
regenerated here from the guide's own dvc.yaml, tide.yaml and remote lines and compared, so it cannot drift."""

from __future__ import annotations

import re

from tests.conftest import ROOT, git

DOC = ROOT / "docs" / "from-cml.md"


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.S | re.M)


def test_from_cml_guide_shows_the_workflow_tide_writes(tmp_path, tide):
    text = DOC.read_text(encoding="utf-8")
    yamls = _blocks(text, "yaml")
    dvc_yaml = next(b for b in yamls if b.startswith("stages:\n  get_data:"))
    tide_yaml = next(b for b in yamls if b.startswith("forge:\n"))
    shown = next(b for b in yamls if b.startswith("# Written by 'tide ci init github'"))
    remote = next(b for b in _blocks(text, "sh") if "tide remote add -d myremote" in b)
    ws = tmp_path / "p"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    tide("init", "-q", cwd=ws)
    for name, body in (("get_data.py", "print(1)\n"), ("train.py", "print(1)\n"), ("requirements.txt", "pandas\n"),
                       ("dvc.yaml", dvc_yaml), ("tide.yaml", tide_yaml)):
        (ws / name).write_text(body)
    for line in remote.strip().splitlines():
        tide(*line.split()[1:], cwd=ws)
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "guide")
    made = tide("ci", "init", "github", "--cloud-region", "eu-west", "--stdout", cwd=ws).stdout
    assert made == shown, "docs/from-cml.md: paste the workflow 'tide ci init github --cloud-region eu-west' writes"
