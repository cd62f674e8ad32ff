"""Issue 20: plots as dvc does them. tide and real dvc 3.67.1 run on the SAME repository and their
``plots show/diff --json`` outputs are compared structurally (parsed JSON, equal as Python values).

Nothing is ignored in the Vega-Lite specs; the only inherently run-dependent values are image ``url``s
(absolute paths under the output directory, which differ because each tool writes to its own ``-o`` directory):
they are compared after mapping the directory away."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import git

PLOTS = """plots:
- loss.csv:
    x: step
    y: loss
    template: smooth
- cm.json:
    template: confusion_normalized
    x: actual
    y: predicted
- img.png
- tr.json
- both:
    x: step
    y:
      loss.csv: [loss, acc]
      tr.json: loss
    template: scatter
"""


@pytest.fixture
def plots_repo(tmp_path, dvc):
    d = tmp_path / "repo"
    d.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
    dvc("init", "-q", cwd=d)
    (d / "loss.csv").write_text("step,loss,acc\n0,1.0,0.5\n1,0.5,0.7\n")
    (d / "cm.json").write_text(json.dumps([{"actual": a, "predicted": p} for a, p in ((0, 0), (1, 1), (1, 0))]))
    (d / "tr.json").write_text(json.dumps({"train": [{"step": 0, "loss": 1.0}, {"step": 1, "loss": 0.4}]}))
    (d / "img.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (d / "dvc.yaml").write_text(PLOTS)
    git(d, "add", "-A")
    git(d, "commit", "-qm", "plots")
    git(d, "tag", "v1")
    (d / "loss.csv").write_text("step,loss,acc\n0,0.9,0.5\n1,0.4,0.8\n")
    return d


def _both(tide, dvc, d, *argv):
    outs = []
    for name, run in (("tide", tide), ("dvc", dvc)):
        res = run(*argv, "-o", f"out-{name}", cwd=d)
        text = res.stdout.replace(str(d / f"out-{name}"), "OUT")
        outs.append(json.loads(text))
    return outs


@pytest.mark.parametrize("argv", [
    ("plots", "show", "--json"),
    ("plots", "show", "--json", "--split"),
    ("plots", "diff", "--json"),
    ("plots", "diff", "v1", "--json", "--split"),
    ("plots", "show", "loss.csv", "--json", "-t", "linear"),  # a target both a file and a dvc.yaml id
    ("plots", "show", "tr.json", "cm.json", "--json"),
    ("plots", "show", "bo", "--json", "--split"),  # targets are regexes matched from the start, as dvc's
    ("plots", "diff", "v1", "--targets", "loss.csv", "--json"),
    ("plots", "show", "--json", "-x", "acc", "-y", "loss", "--title", "T"),  # errors listed as dvc's
])
def test_issue20_plots_json_is_dvcs(plots_repo, tide, dvc, argv):
    ours, theirs = _both(tide, dvc, plots_repo, *argv)
    assert ours == theirs
    assert any(v and v[0]["type"] == "vega" for v in ours["data"].values())


def test_issue20_plots_templates_are_dvcs(plots_repo, tide, dvc):
    assert tide("plots", "templates", cwd=plots_repo).stdout == dvc("plots", "templates", cwd=plots_repo).stdout
    for name in dvc("plots", "templates", cwd=plots_repo).stdout.split():
        ours = json.loads(tide("plots", "templates", name, cwd=plots_repo).stdout)
        assert ours == json.loads(dvc("plots", "templates", name, cwd=plots_repo).stdout)
    bad = tide("plots", "templates", "pie", cwd=plots_repo, check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "pie" in bad.stderr


def test_issue20_plots_custom_template_under_dot_dvc_plots(plots_repo, tide, dvc):
    tmpl = json.loads(dvc("plots", "templates", "simple", cwd=plots_repo).stdout)
    tmpl["title"] = {"text": "<DVC_METRIC_TITLE>", "subtitle": "custom"}
    os.makedirs(plots_repo / ".dvc" / "plots", exist_ok=True)
    (plots_repo / ".dvc" / "plots" / "mine.json").write_text(json.dumps(tmpl))
    ours, theirs = _both(tide, dvc, plots_repo, "plots", "show", "loss.csv", "--json", "-t", "mine")
    assert ours == theirs
    assert ours["data"]["loss.csv"][0]["content"]["title"]["subtitle"] == "custom"


def test_issue20_item11_plots_show_needs_no_matplotlib(plots_repo, tmp_path):
    """Behaviour item 11: matplotlib made unimportable; HTML as dvc (vega-embed), PNG asks for the extra."""
    block = tmp_path / "block"
    block.mkdir()
    (block / "matplotlib.py").write_text("raise ImportError('No module named matplotlib')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(block), os.environ.get("PYTHONPATH", "")])}

    def run(*argv):
        return subprocess.run([sys.executable, "-m", "tide", *argv], cwd=plots_repo, env=env,
                              capture_output=True, text=True)

    res = run("plots", "show")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    page = (plots_repo / "dvc_plots" / "index.html").read_text()
    assert "vegaEmbed('#loss_csv', spec)" in page and "vega-embed" in page
    assert '<img src="static/workspace_img.png">' in page
    assert (plots_repo / "dvc_plots" / "static" / "workspace_img.png").read_bytes().startswith(b"\x89PNG")
    png = run("plots", "show", "--png")
    assert png.returncode != 0 and "Traceback" not in png.stderr
    assert len(png.stderr.strip().splitlines()) == 1 and "plots" in png.stderr
    rep = run("report", "-o", "r/r.md")  # a report says the PNGs are unavailable, not "no plots declared"
    assert rep.returncode == 0 and "Traceback" not in rep.stderr
    assert "_plots unavailable: PNG plots need matplotlib" in (plots_repo / "r" / "r.md").read_text()


def test_issue20_plots_show_vega_prints_one_spec(plots_repo, tide, dvc):
    ours = json.loads(tide("plots", "show", "--show-vega", "cm.json", cwd=plots_repo).stdout)
    theirs = json.loads(dvc("plots", "show", "--show-vega", "cm.json", cwd=plots_repo).stdout)
    assert ours == theirs
    assert ours["title"]["text"] == "dvc.yaml::cm.json"  # named both as a file and in dvc.yaml, as dvc names it
    err = tide("plots", "show", "--show-vega", cwd=plots_repo, check=False)
    assert err.returncode != 0 and "please specify a target" in err.stderr


MOD_PIPE = ("# kept: comments outside the edited stage\nstages:\n  s:\n    cmd: printf 'a,b\\n1,2\\n' > o.csv\n"
            "    outs:\n    - o.csv\n    plots:\n    - p.csv:\n        cache: false\n  t:\n    cmd: echo t  # mine\n")


MODIFY_ARGVS = [
    ("o.csv", "-x", "a", "--title", "T"),       # an out becomes a plot: moved to plots:, sorted by path
    ("p.csv", "-t", "scatter", "-y", "y"),      # options kept, properties appended
    ("p.csv", "--unset", "cache"),              # cache is no display property: an error, as dvc
    ("o.csv", "--unset", "x"),                  # not a plot: an error
    ("nope.csv", "-x", "a"),
    ("o.csv", "-t", "pie"),
]


def test_issue20_plots_modify_writes_dvc_yaml_as_dvc(tmp_path, tide, dvc):
    d = tmp_path / "repo"
    d.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
    dvc("init", "-q", cwd=d)
    (d / "p.csv").write_text("x,y\n1,2\n")
    for argv in MODIFY_ARGVS:  # one repository, dvc.yaml rewritten before each run
        seen = []
        for run in (dvc, tide):
            (d / "dvc.yaml").write_text(MOD_PIPE)
            res = run("plots", "modify", *argv, cwd=d, check=False)
            assert "Traceback" not in res.stderr
            seen.append((res.returncode == 0, (d / "dvc.yaml").read_text()))
        assert seen[0] == seen[1], argv


def test_issue20_plots_modify_refuses_dvc_files(tmp_path, tide, dvc):
    """dvc 3.67.1 writes 'plot:' into a .dvc file and then fails to load it; tide refuses, one line."""
    d = tmp_path / "repo"
    d.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
    dvc("init", "-q", cwd=d)
    (d / "d.csv").write_text("x\n1\n")
    tide("add", "-q", "d.csv", cwd=d)
    before = (d / "d.csv.dvc").read_text()
    res = tide("plots", "modify", "d.csv", "-x", "x", cwd=d, check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert (d / "d.csv.dvc").read_text() == before
    dvc("status", cwd=d)  # still loads


def _page(path):
    import re

    text = path.read_text()
    specs = [json.loads(s) for s in re.findall(r"var spec = (.*);\n", text)]
    return (re.findall(r"id *= *\"([^\"]*)\"", text), re.findall(r"vegaEmbed\('([^']*)'", text),
            re.findall(r"<img src=\"([^\"]*)\"", text), specs, "vega-embed@" in text)


def test_issue20_plots_html_is_dvcs(plots_repo, tide, dvc):
    """The page: same element ids, same Vega-Lite specs embedded, same image links, vega-embed scripts."""
    for name, run in (("tide", tide), ("dvc", dvc)):
        res = run("plots", "diff", "v1", "-o", f"out-{name}", cwd=plots_repo)
        assert res.stdout.strip() == (plots_repo / f"out-{name}" / "index.html").as_uri()
    ours, theirs = _page(plots_repo / "out-tide" / "index.html"), _page(plots_repo / "out-dvc" / "index.html")
    assert ours == theirs
    assert len(ours[3]) == 4 and ours[4]  # loss.csv, cm.json, tr.json, both
    assert sorted(ours[2]) == ["static/v1_img.png", "static/workspace_img.png"]
    for src in ours[2]:
        assert (plots_repo / "out-tide" / src).read_bytes() == (plots_repo / "out-dvc" / src).read_bytes()


def test_issue20_plots_ids_relative_to_cwd_and_stage_outputs(tmp_path, tide, dvc):
    """Stage output plots come after top-level ones and are never listed twice; run from a subdirectory,
    ids and file names are relative to it (as dvc shows them)."""
    d = tmp_path / "repo"
    (d / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
    dvc("init", "-q", cwd=d)
    (d / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n    plots:\n    - o.csv:\n        cache: false\n"
                                "        x: a\n")
    (d / "o.csv").write_text("a,b\n1,2\n")
    (d / "sub" / "dvc.yaml").write_text("plots:\n- q.csv:\n    y: v\n- g:\n    y:\n      q.csv: v\n      r.json: w\n")
    (d / "sub" / "q.csv").write_text("k,v\n1,2\n")
    (d / "sub" / "r.json").write_text('[{"w": 3}]')
    for cwd, argv in ((d, ()), (d / "sub", ()), (d / "sub", ("q.csv",)), (d / "sub", ("../o.csv", "--split"))):
        ours = json.loads(tide("plots", "show", "--json", *argv, cwd=cwd).stdout)
        theirs = json.loads(dvc("plots", "show", "--json", *argv, cwd=cwd).stdout)
        assert ours == theirs and list(ours["data"]) == list(theirs["data"])


def test_issue20_plots_config_out_dir_and_html_template(plots_repo, tide, dvc):
    """plots.out_dir and plots.html_template (relative to .dvc/) from the config, as dvc reads them."""
    (plots_repo / ".dvc" / "page.html").write_text("<html><head>{scripts}</head><body><h1>mine</h1>{plot_divs}"
                                                   "</body></html>")
    dvc("config", "plots.out_dir", "pl_out", cwd=plots_repo)
    dvc("config", "plots.html_template", "page.html", cwd=plots_repo)
    pages = []
    for run in (dvc, tide):
        res = run("plots", "show", cwd=plots_repo)
        assert res.stdout.strip() == (plots_repo / "pl_out" / "index.html").as_uri()
        text = (plots_repo / "pl_out" / "index.html").read_text()
        assert text.startswith("<html><head>") and "<h1>mine</h1>" in text
        pages.append(_page(plots_repo / "pl_out" / "index.html"))
    assert pages[0] == pages[1]


def test_issue20_plots_corrupted_files_reported_as_dvc(plots_repo, tide, dvc):
    (plots_repo / "bad.json").write_text("{bad")
    (plots_repo / "bad.yaml").write_text("a: [1\n")
    (plots_repo / "nh.csv").write_text("1,2\n3,4\n")
    for argv in (("bad.json", "bad.yaml"), ("nh.csv", "--no-header")):
        ours, theirs = _both(tide, dvc, plots_repo, "plots", "show", "--json", *argv)
        assert ours == theirs
    assert [e["type"] for e in _both(tide, dvc, plots_repo, "plots", "show", "--json", "bad.json")[0]["errors"]] \
        == ["JSONFileCorruptedError"]
