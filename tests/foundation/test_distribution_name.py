"""The distribution is ``tide-ml`` (PyPI's ``tide`` is an unrelated project): no install line or error
hint may tell users to ``pip install tide`` / ``'tide[extra]'`` (issue 18)."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

# 'pip install' then anything up to the end of that shell command (&&, ;, |, a closing backtick or quote
# of the surrounding prose): the bare project name 'tide' as a requirement in it is the wrong project
_INSTALL = re.compile(r"pip3? install\b([^\n;&|`]*)")
_BARE = re.compile(r"(?<![\w./@-])['\"]?tide(?:\[[^\]]*\])?(?:['\"]|[=<>!~]|\s|$)")


def wrong_install_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        for m in _INSTALL.finditer(line):
            if _BARE.search(m.group(1)):
                out.append(line.strip())
    # prose such as "Needs `tide[db]`" names an extra of the wrong distribution too
    out += [ln.strip() for ln in text.splitlines() if re.search(r"(?<![\w-])tide\[(?!bot\])", ln)]
    return out


def test_issue18_distribution_is_tide_ml():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["name"] == "tide-ml"
    assert meta["scripts"] == {"tide": "tide.cli.main:main"}  # the command stays 'tide'
    assert all(req.startswith("tide-ml[") for req in meta["optional-dependencies"]["all"])


def test_issue18_no_install_hint_names_the_other_tide():
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "src").rglob("*.py")),
             *sorted((ROOT / "bench").rglob("*.py"))]
    bad = {str(p.relative_to(ROOT)): lines for p in files if (lines := wrong_install_lines(p.read_text()))}
    assert not bad, f"install hints naming 'tide' instead of 'tide-ml': {bad}"


def test_issue18_the_check_finds_each_wrong_form():
    for wrong in ("pip install 'tide[s3]'", 'pip install "tide[db]"', "pip install tide", "pip install -U tide==0.1",
                  "run: pip install -r requirements.txt tide", "Needs `tide[db]` (SQLAlchemy)"):
        assert wrong_install_lines(wrong), wrong
    for right in ("pip install 'tide-ml[s3]'", "pip install -r requirements.txt && tide repro",
                  "pip install -r requirements.txt 'tide-ml[s3,forge]==0.1.0'", "--user-name tide[bot]",
                  "pip install ./tide_ml-0.1.0-py3-none-any.whl", "cd x && pip install -r requirements.txt"):
        assert not wrong_install_lines(right), right
