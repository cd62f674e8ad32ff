"""``tide ui`` in a real browser (Debian's chromium through Selenium): every page on a demo-like repository
(made by tide: tracked data, a pipeline's metrics, versions registered and decided by the promotion gate,
promoted and rejected) and on a repository made by real dvc. The numbers shown are checked against
``tide metrics show --json`` / ``tide model show --json`` / ``tide metrics diff --json``; a console error or a
request to another host fails (tests/ui/conftest.py). One browser session serves all pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git
from tests.ui.conftest import SCREENSHOTS, check_clean, settle, visit

PAGES = [("", "overview"), ("trends", "trends"), ("registry", "registry"), ("runs", "runs"), ("data", "data"),
         ("plots", "plots")]

TIDE_YAML = """registry:
  model: demo-model
  path: model.bin
  data: data
gate:
  metrics: metrics.json
  primary:
    metric: accuracy
    min_improvement: 0.0
  guards:
  - metric: recall
    max_worsening: 0.05
retrain:
  base: main
  stage: prod
runners:  # the overview lists these clouds' runners when the credentials are there (tide/ui/runners.py)
  trainer:
    on: aws:s:us-east
  tpu:
    on: gcp:s
"""
GCP_TOKEN = "ya29.canary-gcp-token-never-shown"

DVC_YAML = """metrics:
- metrics.json
plots:
- loss.csv:
    x: step
    y: loss
"""

DAYS = [  # (accuracy, recall, rows): day 3 is worse and rejected, the others promoted
    (0.81, 0.80, 100), (0.85, 0.82, 200), (0.83, 0.70, 300), (0.88, 0.84, 400)]


def _day(ws: Path, tide, n: int, acc: float, rec: float, rows: int) -> None:
    (ws / "data").mkdir(exist_ok=True)
    (ws / "data" / "train.csv").write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(rows)))
    (ws / "model.bin").write_bytes(bytes([n]) * (1000 + rows))
    (ws / "metrics.json").write_text(json.dumps({"accuracy": acc, "recall": rec, "rows": rows}))
    (ws / "params.yaml").write_text(f"train:\n  rows: {rows}\n  depth: {3 + n}\n")
    (ws / "loss.csv").write_text("step,loss\n" + "".join(f"{s},{round(1 / (s + n + 1), 4)}\n" for s in range(5)))
    tide("add", "-q", "data", "model.bin", cwd=ws)
    git(ws, "add", "-A")
    # a subject that would load an image from another host if the UI ever rendered repository text as HTML
    xss = ' <img src="http://evil.invalid/x.png">' if n == 0 else ""
    git(ws, "commit", "-qm", f"day {n + 1}: retrain on {rows} rows{xss}")


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory):
    """The demo's loop without its runner and forge: each day new data and a model are committed, registered
    and put through the promotion gate (``tide model promote``); a rejected candidate stays off main."""
    import sys

    from tests.conftest import _run

    def tide(*args, cwd=None, check=True):
        return _run([sys.executable, "-m", "tide", *map(str, args)], cwd, check)

    ws = tmp_path_factory.mktemp("demo-like")
    git(ws, "init", "-q", "-b", "main")
    tide("init", "-q", cwd=ws)
    (ws / "tide.yaml").write_text(TIDE_YAML)
    (ws / "dvc.yaml").write_text(DVC_YAML)
    storage = tmp_path_factory.mktemp("demo-storage")
    tide("remote", "add", "-d", "storage", storage, cwd=ws)
    for n, (acc, rec, rows) in enumerate(DAYS):
        rejected = n == 2
        if rejected:
            git(ws, "checkout", "-q", "-b", "candidate-3")
        _day(ws, tide, n, acc, rec, rows)
        tide("model", "register", "demo-model", cwd=ws)
        res = tide("model", "promote", "demo-model", cwd=ws, check=False)
        assert res.returncode == (1 if rejected else 0), res.stdout + res.stderr
        if rejected:
            git(ws, "checkout", "-q", "main")
            tide("checkout", "-q", "-f", cwd=ws)
    tide("push", "-q", "-A", cwd=ws)
    return ws


def _cloud_runner(moto_s3, monkeypatch) -> str:
    """An AWS runner alive in moto (as `tide runner launch --cloud aws` makes it), the AWS settings in the
    environment, and GCP credentials whose API answers an error (the overview shows it as a tooltip)."""
    import boto3

    from tide.ops import runner as ops
    from tide.runners.aws import AwsProvisioner
    from tide.runners.base import RunnerSpec

    for k, v in {"AWS_ACCESS_KEY_ID": "AKIAUITESTKEY0000001", "AWS_SECRET_ACCESS_KEY": "ui-test-secret-access-key",
                 "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto_s3.endpoint,
                 "GOOGLE_OAUTH_ACCESS_TOKEN": GCP_TOKEN, "GOOGLE_CLOUD_PROJECT": "tide-ui-test",
                 "TIDE_GCP_ENDPOINT": moto_s3.endpoint}.items():
        monkeypatch.setenv(k, v)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    spec = RunnerSpec(name="ui-cloud-runner", cloud="aws", region="us-east", type="s", image=image)
    return ops.launch(spec, no_agent=True, prov=AwsProvisioner("us-east", client=ec2), emit=lambda e: None).machine.id


def test_ui_pages_on_demo_like_repository(demo_like, browser, ui_server, tide, moto_s3, monkeypatch):
    ws = demo_like
    machine = _cloud_runner(moto_s3, monkeypatch)
    server = ui_server(ws)
    for page, shot in PAGES:
        visit(browser, server.url, page, f"demo-{shot}")
        if page == "":
            _check_overview(browser, ws, tide)
            _wait(browser, "#runner-providers [data-provider=aws][data-state=ok]")
            # read at once: the list is drawn again while a provider's first answer is out
            cells = browser.execute_script(
                "return [...document.querySelectorAll('#runner-table tbody tr')].map((r) => r.textContent)")
            assert any("ui-cloud-runner" in t and machine in t and "aws" in t for t in cells), cells
            # the GCP API answers 404 (moto is no GCP): an error in a tooltip, without the token
            _wait(browser, "#runner-providers [data-provider=gcp][data-state=error]")
            tip = browser.execute_script(
                "return document.querySelector('#runner-providers [data-provider=gcp]').title")
            assert tip.startswith("gcp ") and "HTTP 404" in tip, tip
            assert GCP_TOKEN not in browser.page_source and "ui-test-secret-access-key" not in browser.page_source
            browser.execute_script("document.getElementById('runners').scrollIntoView()")
            browser.save_screenshot(str(SCREENSHOTS / "demo-overview-runners.png"))
        elif page == "trends":
            assert browser.find_elements("css selector", "#trend-chart svg"), "no trend chart"
            outcomes = [e.get_attribute("data-outcome") for e in css(browser, "#decisions [data-outcome]")]
            assert outcomes == ["promoted", "promoted", "rejected", "promoted"], outcomes
            from selenium.webdriver.support.ui import Select

            Select(browser.find_element("id", "metric")).select_by_value("metrics.json:recall")
            settle(browser)
            check_clean(browser, server.url, "trends after picking recall")
        elif page == "registry":
            shown = json.loads(tide("model", "show", "--json", cwd=ws).stdout)
            latest = browser.find_element("css selector", "[data-testid=latest][data-model=demo-model]").text
            assert latest == shown["demo-model"]["version"] == "v0.0.4"
            stages = {e.get_attribute("data-stages"): e.text for e in css(browser, "td[data-stages]")}
            # only the version production is now shows the stage (v0.0.1 and v0.0.2 held it before)
            assert stages == {"v0.0.4": "prod", "v0.0.3": "", "v0.0.2": "", "v0.0.1": ""}, stages
        elif page == "runs":
            _check_runs(browser, server.url, ws, tide)
        elif page == "data":
            _check_data(browser, server.url, ws)
        elif page == "plots":
            assert browser.find_elements("css selector", "[data-plot='loss.csv'] svg"), "loss.csv not drawn"


def _metric_cells(browser) -> dict[str, float]:
    return {e.get_attribute("data-metric"): float(e.text) for e in css(browser, "td[data-metric]")}


def css(browser, selector: str) -> list:
    return browser.find_elements("css selector", selector)


def _check_overview(browser, ws: Path, tide) -> None:
    shown = json.loads(tide("model", "show", "--json", cwd=ws).stdout)
    prod = browser.find_element("css selector", "[data-testid=production][data-model=demo-model]").text
    assert prod == shown["demo-model"]["stage"]["prod"] == "v0.0.4"
    assert "rejected" not in browser.find_element("css selector", "[data-testid=last-retrain]").text
    assert "null" not in browser.find_element("tag name", "main").text.splitlines()  # no PR: nothing, not "null"
    metrics = json.loads(tide("metrics", "show", "--json", cwd=ws).stdout)[""]["data"]
    want = {f"{f}:{k}": v for f, e in metrics.items() for k, v in e["data"].items()}
    assert want["metrics.json:accuracy"] == DAYS[-1][0]
    assert _metric_cells(browser) == pytest.approx(want)


def _check_runs(browser, base: str, ws: Path, tide) -> None:
    rows = browser.find_elements("css selector", "#runs tbody tr")
    count = int(git(ws, "rev-list", "--first-parent", "--count", "main"))
    assert len(rows) == count
    # sortable: accuracy descending puts the best run first
    col = "metrics|metrics.json|accuracy"
    browser.find_element("css selector", f"th[data-col='{col}']").click()
    first = browser.find_element("css selector", f"#runs tbody tr td[data-col='{col}']").text
    assert float(first) == max(a for i, (a, _, _) in enumerate(DAYS) if i != 2)
    # compare the last two commits of main: metrics diff as tide metrics diff says
    browser.find_element("id", "compare-btn").click()
    _wait(browser, "#compare h2")
    check_clean(browser, base, "runs compare")
    a, b = git(ws, "rev-parse", "main~1", "main").split()
    diff = json.loads(tide("metrics", "diff", a, b, "--json", cwd=ws).stdout)
    cells = browser.find_elements("css selector", "#metrics-diff tbody tr")
    got = {r.find_elements("tag name", "td")[1].text: float(r.find_elements("tag name", "td")[3].text) for r in cells}
    assert got == pytest.approx({k: e["new"] for k, e in diff["metrics.json"].items()})
    changed = [r.text for r in browser.find_elements("css selector", "#files-changed tbody tr")]
    assert any("metrics.json" in t for t in changed) and any("data.dvc" in t for t in changed), changed


def _check_data(browser, base: str, ws: Path) -> None:
    sizes = [int(e.get_attribute("data-size")) for e in
             browser.find_elements("css selector", "table[data-path='data'] td[data-size]")]
    want = (ws / "data" / "train.csv").stat().st_size
    assert sizes[0] == want and len(sizes) == 3  # three versions on main, newest first
    _wait(browser, "td[data-remote]", lambda els: all(e.text in ("yes", "no", "-") for e in els))
    assert {e.text for e in browser.find_elements("css selector", "table[data-path='data'] td[data-remote]")} == {"yes"}
    browser.find_element("id", "data-diff-btn").click()
    _wait(browser, "#data-diff .data-diff")
    check_clean(browser, base, "data compare")
    assert "data/train.csv" in browser.find_element("id", "data-diff").text


def _wait(browser, css: str, ok=lambda els: bool(els), timeout: float = 20) -> None:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        els = browser.find_elements("css selector", css)
        if els and ok(els):
            return
        time.sleep(0.05)
    raise AssertionError(f"{css} did not appear")


TRAIN_PY = """import json, yaml
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
rows = sum(1 for _ in open("data.csv")) - 1
open("model.bin", "w").write("w" * rows)
json.dump({"acc": round(0.5 + lr, 4), "loss": round(1 - lr, 4), "rows": rows}, open("metrics.json", "w"))
open("loss.csv", "w").write("epoch,loss\\n" + "".join(f"{e},{round((1 - lr) / (e + 1), 4)}\\n" for e in range(4)))
"""


@pytest.fixture(scope="module")
def dvc_made(tmp_path_factory):
    """A pipeline made and run by real dvc at two commits (the learning rate and the data change), and one
    experiment (``dvc exp run --temp``)."""
    import sys

    from tests.conftest import _run, dvc_bin

    def dvc(*args):
        return _run([dvc_bin(), *map(str, args)], ws, True)

    ws = tmp_path_factory.mktemp("dvc-made")
    git(ws, "init", "-q", "-b", "main")
    dvc("init", "-q")
    (ws / "train.py").write_text(TRAIN_PY)
    (ws / "params.yaml").write_text("train:\n  lr: 0.1\n")
    (ws / "data.csv").write_text("x\n" + "1\n" * 10)
    dvc("add", "-q", "data.csv")
    dvc("stage", "add", "-q", "-n", "train", "-p", "train.lr", "-d", "train.py", "-d", "data.csv", "-o", "model.bin",
        "-M", "metrics.json", "--plots", "loss.csv", f"{sys.executable} train.py")
    for n, lr in enumerate((0.1, 0.3)):
        (ws / "params.yaml").write_text(f"train:\n  lr: {lr}\n")
        if n == 1:
            (ws / "data.csv").write_text("x\n" + "1\n" * 30)
            dvc("add", "-q", "data.csv")
        dvc("repro", "-q")
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", f"lr {lr}")
    dvc("exp", "run", "-q", "--temp", "-S", "train.lr=0.5", "-n", "lr-half")  # refs/exps/..., workspace untouched
    return ws


def test_ui_pages_on_repository_made_by_dvc(dvc_made, browser, ui_server, tide):
    ws = dvc_made
    server = ui_server(ws)
    metrics = json.loads(tide("metrics", "show", "--json", cwd=ws).stdout)[""]["data"]
    want = {f"{f}:{k}": v for f, e in metrics.items() for k, v in e["data"].items()}
    assert want == {"metrics.json:acc": 0.8, "metrics.json:loss": 0.7, "metrics.json:rows": 30}
    for page, shot in PAGES:
        visit(browser, server.url, page, f"dvc-{shot}")
        if page == "":
            assert _metric_cells(browser) == pytest.approx(want)
            assert not css(browser, "[data-testid=production]")  # no registry here
        elif page == "trends":
            assert css(browser, "#trend-chart svg"), "no trend chart"
        elif page == "runs":
            rows = css(browser, "#runs tbody tr")
            assert len(rows) == 3  # two commits of main and dvc's experiment
            exp = css(browser, "#runs tr[data-experiment='lr-half']")
            assert len(exp) == 1 and "experiment lr-half" in exp[0].text
            accs = [float(e.text) for e in css(browser, "#runs td[data-col='metrics|metrics.json|acc']")]
            assert accs == pytest.approx([1.0, 0.8, 0.6])  # newest first: the experiment ran last
            lrs = [float(e.text) for e in css(browser, "#runs td[data-col='params|params.yaml|train.lr']")]
            assert lrs == pytest.approx([0.5, 0.3, 0.1])
        elif page == "data":
            sizes = [int(e.get_attribute("data-size")) for e in css(browser, "[data-path='data.csv'] [data-size]")]
            assert sizes == [(ws / "data.csv").stat().st_size, 22]
            assert css(browser, "table[data-path='model.bin']")
        elif page == "plots":
            assert css(browser, "[data-plot='loss.csv'] svg"), "loss.csv not drawn"
            # two revisions in one chart, named by their short ids in the legend (as dvc plots diff)
            from selenium.webdriver.support.ui import Select

            first, head = git(ws, "rev-list", "--reverse", "main").split()[0], git(ws, "rev-parse", "main").strip()
            Select(browser.find_element("id", "plots-other")).select_by_value(first)
            _wait(browser, "[data-plot='loss.csv'] svg", lambda els, want=first[:8]: want in els[0].text)
            check_clean(browser, server.url, "plots of two revisions")
            assert head[:8] in css(browser, "[data-plot='loss.csv'] svg")[0].text
    # a link into the comparison (what a PR page can point at): /runs?a=BASE&b=HEAD
    first = git(ws, "rev-list", "--reverse", "main").split()[0]
    visit(browser, server.url, f"runs?a={first}&b=main", "dvc-runs-compare")
    _wait(browser, "#metrics-diff")
    diff = json.loads(tide("metrics", "diff", first, "main", "--json", cwd=ws).stdout)["metrics.json"]
    shown = {r.find_elements("tag name", "td")[1].text: float(r.find_elements("tag name", "td")[3].text)
             for r in css(browser, "#metrics-diff tbody tr")}
    assert shown == pytest.approx({k: e["new"] for k, e in diff.items()}) and shown["acc"] == 0.8
    browser.find_element("id", "compare-plots").click()  # the comparison's plots, overlaid
    head = git(ws, "rev-parse", "main").strip()
    _wait(browser, "[data-plot='loss.csv'] svg", lambda els: first[:8] in els[0].text and head[:8] in els[0].text)
    assert "/plots?" in browser.current_url
    settle(browser)
    check_clean(browser, server.url, "plots of a comparison")
