"""Issue 18: CML's command lines carry over to tide.

The seed's workflow (dvc.org blog "Training and saving models with CML on a dedicated AWS EC2 runner
(part 2)", repository iterative/example_model_export_cml) runs these CML lines; they run here
unchanged, with ``cml`` a shell function that calls tide, against the embedded local forge and the
stateful fake GitHub, and the result is read back from the forge.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import breadth
from tests.runners.conftest import aws_env  # noqa: F401 - the fixture of the runner test
from tide.forge.base import Target
from tide.forge.report import WATERMARK_URL

from .conftest import TOKEN, git

# The seed's CML lines, verbatim (its 'Train model' and 'Deploy runner on EC2' steps).
SEED_REPORT_LINES = """\
cml ci
cml pr .
cat model/metrics.txt > report.md
cml publish model/confusion_matrix.png --md >> report.md
cml send-comment --pr --update report.md
"""
SEED_RUNNER = """\
cml runner \\
    --cloud=aws \\
    --cloud-region=eu-west \\
    --cloud-type=t2.micro \\
    --labels=cml-runner \\
    --single
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def _env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("_TOKEN") and k not in ("GITHUB_ACTIONS", "GITLAB_CI", "CI_PROJECT_URL")}
    env.update({"REPO_TOKEN": TOKEN, "TIDE_PY": sys.executable, **(extra or {})})
    return env


def cml(cwd, script: str, extra: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``script`` in bash as a workflow step does (set -e), with ``cml`` calling tide."""
    prog = 'set -euo pipefail\ncml() { "$TIDE_PY" -m tide "$@"; }\n' + script
    return subprocess.run(["bash", "-c", prog], cwd=cwd, capture_output=True, text=True, env=_env(extra),
                          check=False)


def tide(cwd, *args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tide", *args], cwd=cwd, capture_output=True, text=True,
                          env=_env(extra), check=False)


def _train(work, accuracy: str) -> None:
    """What the seed's get_data.py/train.py leave behind (the model itself is a DVC output)."""
    (work / "model").mkdir(exist_ok=True)
    (work / "model" / "metrics.txt").write_text(f"Accuracy: {accuracy}\n")
    (work / "model" / "confusion_matrix.png").write_bytes(PNG + accuracy.encode())
    (work / "data").mkdir(exist_ok=True)
    (work / "data" / "train_labels.csv").write_text(f"{accuracy}\n")


def _fresh_checkout(s, day: int):
    """Each scheduled run starts from a new checkout of main (actions/checkout)."""
    work = s.work.parent / f"day{day}"
    subprocess.run(["git", "clone", "-q", str(s.bare), str(work)], check=True)
    git(work, "config", "user.email", "dev@example.com")
    git(work, "config", "user.name", "dev")
    return work


def _seed_pr(ctx, work):
    """The one open PR 'cml pr .' opened from main's head (CML's <base>-cml-pr-<sha8> branch)."""
    sha = git(work, "rev-parse", "HEAD")
    pr = ctx.forge.find_pr(f"main-cml-pr-{sha[:8]}", "main")
    assert pr is not None and pr.state == "open"
    return pr


@pytest.mark.parametrize("hosted_setup", ["local", "github"], indirect=True)
def test_issue18_cml_seed_report_lines_run_unchanged(hosted_setup):
    s = hosted_setup
    posted = []
    for day, acc in ((1, "0.868"), (2, "0.872")):
        work = _fresh_checkout(s, day)
        _train(work, acc)
        res = cml(work, SEED_REPORT_LINES)
        assert res.returncode == 0, res.stderr
        notes = [ln for ln in res.stderr.splitlines() if "deprecated name" in ln]
        assert notes == ["tide: 'publish' is CML's deprecated name; use 'tide asset publish'",
                         "tide: 'send-comment' is CML's deprecated name; use 'tide comment create'"], res.stderr
        report = (work / "report.md").read_text()
        assert report.startswith(f"Accuracy: {acc}\n![](") and report.count("\n") == 2, report
        posted.append((work, report))
    ctx = s.open()
    pr = _seed_pr(ctx, posted[0][0])
    comments = ctx.forge.list_comments(Target("pr", str(pr.number)))
    assert len(comments) == 1, [c.body for c in comments]          # updated, never duplicated
    body = comments[0].body
    assert "Accuracy: 0.872" in body and "0.868" not in body
    image_url = posted[1][1].splitlines()[1][len("!["):].split("(", 1)[1].split(")")[0]
    assert image_url in body
    if s.fake is not None:   # the image is on the forge (GitHub: tide's assets branch)
        assert PNG + b"0.872" in s.fake.contents.values()
    else:
        from pathlib import Path
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        assert Path(url2pathname(urlsplit(image_url).path)).read_bytes() == PNG + b"0.872"


@pytest.mark.parametrize("hosted_setup", ["local", "github"], indirect=True)
def test_issue18_cml_historical_send_comment_forms(hosted_setup):
    """Forms from the seed repository's history: --commit-sha=HEAD --pr, and --commit-sha with no value."""
    s = hosted_setup
    work = s.work
    _train(work, "0.86")
    assert tide(work, "pr", ".").returncode == 0
    (work / "report.md").write_text("Accuracy: 0.86\n")
    first = cml(work, "cml send-comment --commit-sha=HEAD --pr --update report.md")
    second = cml(work, "cml send-comment --commit-sha --pr --update report.md")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout and first.stdout.strip()
    ctx = s.open()
    pr = _seed_pr(ctx, work)
    assert len(ctx.forge.list_comments(Target("pr", str(pr.number)))) == 1


@pytest.mark.parametrize("hosted_setup", ["local", "github"], indirect=True)
def test_issue18_cml_rm_watermark_and_native(hosted_setup):
    s = hosted_setup
    (s.work / "plot.png").write_bytes(PNG)
    (s.work / "report.md").write_text("# r\n\n![](./plot.png)\n")
    plain = tide(s.work, "comment", "create", "report.md", "--target", "commit", "--rm-watermark", "--native")
    assert plain.returncode == 0, plain.stderr
    ctx = s.open()
    head = git(s.work, "rev-parse", "HEAD")
    [c] = ctx.forge.list_comments(Target("commit", head))
    assert WATERMARK_URL not in c.body and "./plot.png" not in c.body
    marked = tide(s.work, "comment", "create", "report.md", "--target", "commit", "--native")
    assert marked.returncode == 0, marked.stderr
    assert WATERMARK_URL in ctx.forge.list_comments(Target("commit", head))[-1].body
    both = tide(s.work, "comment", "update", "report.md", "--rm-watermark")
    assert both.returncode == 2 and both.stderr.startswith("ERROR: --rm-watermark cannot be combined with update")
    clash = tide(s.work, "comment", "create", "report.md", "--native", "--publish-url", "http://127.0.0.1:9/")
    assert clash.returncode == 2 and len(clash.stderr.splitlines()) == 1 and "--native" in clash.stderr


class _AssetHost(BaseHTTPRequestHandler):
    """CML's asset server protocol (asset.cml.dev, iterative/minroud-s3): POST the raw file, the
    answer is its public URL."""

    stored: dict[str, tuple[bytes, dict]] = {}

    def log_message(self, *a):
        pass

    def do_POST(self):
        data = self.rfile.read(int(self.headers["content-length"]))
        key = f"a{len(self.stored)}"
        self.stored[key] = (data, {k.lower(): v for k, v in self.headers.items()})
        out = f"http://assets.example/{key}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture
def asset_host():
    _AssetHost.stored = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _AssetHost)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://uploader:s3cr3t-pass@127.0.0.1:{httpd.server_address[1]}/", _AssetHost.stored
    httpd.shutdown()
    httpd.server_close()


def test_issue18_cml_publish_url_uses_the_named_asset_host(local_setup, asset_host):
    s = local_setup
    url, stored = asset_host
    (s.work / "cm.png").write_bytes(PNG)
    res = cml(s.work, f"cml publish cm.png --md --url {url} -f out.md")
    assert res.returncode == 0, res.stderr
    assert (s.work / "out.md").read_text() == "![](http://assets.example/a0)\n"
    data, headers = stored["a0"]
    assert data == PNG and headers["content-type"] == "image/png"
    assert headers["content-disposition"] == 'inline; filename="cm.png"'
    assert headers["authorization"].startswith("Basic ")
    (s.work / "report.md").write_text("![](cm.png)\n")
    res = tide(s.work, "comment", "create", "report.md", "--target", "commit", "--publish-url", url)
    assert res.returncode == 0, res.stderr
    [c] = s.open().forge.list_comments(Target("commit", git(s.work, "rev-parse", "HEAD")))
    assert "http://assets.example/a1" in c.body
    assert "s3cr3t-pass" not in res.stdout + res.stderr


def test_issue18_cml_watch_reposts_on_change_bounded(local_setup):
    from tide.ops.comment import watch_comment

    s = local_setup
    report = s.work / "report.md"
    report.write_text("Accuracy: 0.1\n")
    steps = iter([
        lambda: None,                                                   # unchanged
        lambda: report.write_text("Accuracy: 0.2\n"),                  # changed ...
        lambda: None,                                                   # ... and stable: posted
        lambda: ((s.work / "plot.png").write_bytes(PNG), report.write_text("Accuracy: 0.2\n![](plot.png)\n")),
        lambda: None,                                                   # posted (report and its image)
        lambda: (s.work / "plot.png").write_bytes(PNG + b"x"),          # only the image changes
        lambda: None,                                                   # posted
    ])
    clock = [0.0]

    def sleep(sec):
        clock[0] += sec
        next(steps, lambda: None)()

    posts = watch_comment(str(report), interval=1, timeout=9, target="commit", sleep=sleep,
                          clock=lambda: clock[0], path=str(s.work), env=s.env)
    assert [p.updated for p in posts] == [False, True, True, True]
    assert len({p.id for p in posts}) == 1
    [c] = s.open().forge.list_comments(Target("commit", git(s.work, "rev-parse", "HEAD")))
    assert c.body.startswith("Accuracy: 0.2\n![](") and "](plot.png)" not in c.body
    assert clock[0] >= 9          # it stopped at the bound, not before, not never


def test_issue18_cml_watch_cli_stops_when_the_report_goes(local_setup):
    s = local_setup
    report = s.work / "report.md"
    report.write_text("v1\n")
    proc = subprocess.Popen([sys.executable, "-m", "tide", "comment", "create", "report.md", "--target", "commit",
                             "--watch", "--watch-interval", "0.2", "--watch-timeout", "60"], cwd=s.work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    first = proc.stdout.readline()
    report.write_text("v2\n")
    second = proc.stdout.readline()
    report.unlink()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert first and first == second
    [c] = s.open().forge.list_comments(Target("commit", git(s.work, "rev-parse", "HEAD")))
    assert c.body.startswith("v2\n")


@pytest.mark.parametrize("hosted_setup", ["local", "github"], indirect=True)
@pytest.mark.parametrize("conclusion", breadth(["failure", "action_required", "success", "neutral", "cancelled",
                                                "skipped", "timed_out"], keep=2))
def test_issue18_cml_check_create_every_conclusion(hosted_setup, conclusion):
    s = hosted_setup
    (s.work / "report.md").write_text("# check\n")
    res = tide(s.work, "check", "create", "report.md", "--conclusion", conclusion)
    assert res.returncode == 0, res.stderr
    if s.fake is not None:
        assert s.fake.checks[-1]["conclusion"] == conclusion and s.fake.checks[-1]["status"] == "completed"
    else:
        [rec] = s.open().forge.snapshot()["checks"][git(s.work, "rev-parse", "HEAD")]
        assert rec["conclusion"] == conclusion


@pytest.mark.parametrize("hosted_setup", ["github"], indirect=True)
def test_issue18_cml_check_create_status(hosted_setup):
    s = hosted_setup
    (s.work / "report.md").write_text("# running\n")
    res = cml(s.work, "cml send-github-check report.md --status in_progress")
    assert res.returncode == 0, res.stderr
    assert "'send-github-check' is CML's deprecated name; use 'tide check create'" in res.stderr
    check = s.fake.checks[-1]
    assert check["status"] == "in_progress" and "conclusion" not in check
    bad = tide(s.work, "check", "create", "report.md", "--status", "queued", "--conclusion", "failure")
    assert bad.returncode == 2 and bad.stderr.startswith("ERROR: a check that is queued has no conclusion")


def test_issue18_cml_global_options_after_the_action(tmp_path):
    for argv in (["runner", "list", "-v"], ["runner", "list", "--log", "debug"], ["runner", "-v", "list", "-q"],
                 ["--log", "error", "runner", "list"], ["runner", "list", "--log=warn"]):
        res = tide(tmp_path, *argv, extra={"HOME": str(tmp_path)})
        assert res.returncode == 0, (argv, res.stderr)
    quiet = tide(tmp_path, "runner", "list", "--log", "error", extra={"HOME": str(tmp_path)})
    assert quiet.stdout == ""
    bad = tide(tmp_path, "runner", "list", "--log", "loud")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_issue18_cml_refused_with_the_equivalent(local_setup):
    s = local_setup
    for argv, words in ((["tensorboard-dev", "--md"], "TensorBoard.dev was shut down"),
                        (["rerun-workflow"], "gh run rerun"),
                        (["runner", "--cloud=aws", "--tpi-version", ">=0.9"], "without Terraform"),
                        (["runner", "launch", "--cloud=aws", "--cml-version", "0.20.6"], "without Terraform"),
                        (["runner", "--cloud=aws", "--workdir", "/tmp/x"], "work directory")):
        res = tide(s.work, *argv)
        assert res.returncode == 2, (argv, res.stderr)
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("ERROR: ") and words in lines[0], (argv, res.stderr)


def test_issue18_cml_runner_without_action_launches(hosted_setup_github, aws_env, tmp_path):  # noqa: F811
    """The seed's 'Deploy runner on EC2' step, unchanged: an EC2 machine labelled cml-runner in
    eu-west-1, its agent registered with a token minted on the forge; then torn down."""
    import boto3

    s = hosted_setup_github
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    # the Ubuntu image tide looks up by name (Canonical's, on real AWS): moto's account owns it here
    base = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.copy_image(Name="ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240101", SourceImageId=base,
                   SourceRegion="eu-west-1")
    res = cml(s.work, SEED_RUNNER, extra={"HOME": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    assert any(p.endswith("/actions/runners/registration-token") for _, p, _ in s.fake.log)
    insts = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
             if i["State"]["Name"] in ("pending", "running")]
    mine = [i for i in insts if "cml-runner" in str(i.get("Tags"))]
    assert len(mine) == 1 and mine[0]["InstanceType"] == "t2.micro"
    name = {t["Key"]: t["Value"] for t in mine[0]["Tags"]}["tide-runner"]
    stop = tide(s.work, "runner", "stop", name, "--cloud", "aws", "--cloud-region", "eu-west",
                extra={"HOME": str(tmp_path)})
    assert stop.returncode == 0, stop.stderr
    left = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
            if i["State"]["Name"] in ("pending", "running") and i["InstanceId"] == mine[0]["InstanceId"]]
    assert left == []
    assert TOKEN not in res.stdout + res.stderr


@pytest.fixture
def hosted_setup_github(tmp_path):
    from .conftest import _setup

    yield from _setup("github", tmp_path)


def test_issue18_cml_watch_trigger_file_posts_on_each_trigger(local_setup):
    from tide.ops.comment import watch_comment

    s = local_setup
    report, trigger = s.work / "report.md", s.work / "post.now"
    report.write_text("epoch 1\n")
    steps = iter([
        lambda: report.write_text("epoch 2\n"),        # the report alone changing posts nothing
        lambda: trigger.write_text("x"),               # the trigger appears ...
        lambda: None,                                  # ... stays: posted, then deleted
        lambda: None,
        lambda: (report.write_text("epoch 3\n"), trigger.write_text("y")),
        lambda: None,                                  # posted again
    ])
    clock = [0.0]

    def sleep(sec):
        clock[0] += sec
        next(steps, lambda: None)()

    posts = watch_comment(str(report), interval=1, timeout=8, trigger_file=str(trigger), target="commit",
                          sleep=sleep, clock=lambda: clock[0], path=str(s.work), env=s.env)
    assert len(posts) == 2 and not trigger.exists()
    [c] = s.open().forge.list_comments(Target("commit", git(s.work, "rev-parse", "HEAD")))
    assert c.body.startswith("epoch 3\n")


@pytest.mark.parametrize("hosted_setup", ["gitlab", "bitbucket", "gitea"], indirect=True)
def test_issue18_cml_check_states_on_commit_status_forges(hosted_setup):
    """Every conclusion and pending status maps to a state the forge's API accepts (the fakes
    validate them as the documented APIs do), and the same conclusion always to the same state."""
    from tide.forge.base import CHECK_STATUSES, CONCLUSIONS
    from tide.ops.check import create_check

    s = hosted_setup
    (s.work / "report.md").write_text("# check\n")
    seen = {}
    for status in CHECK_STATUSES:
        for conclusion in CONCLUSIONS if status == "completed" else (None,):
            create_check(str(s.work / "report.md"), conclusion=conclusion, status=status, **s.options())
            seen[conclusion or status] = s.fake.statuses[-1]["state"]
    assert len(seen) == len(CONCLUSIONS) + 2
    assert seen["success"] != seen["failure"] and seen["in_progress"] not in (seen["success"], seen["failure"])


def test_issue18_cml_cloud_type_with_gpu():
    """CML's documented --cloud-type m+k80 / l+v100 (size+GPU) resolve as --cloud-type m --cloud-gpu k80;
    a native GCP 'machine+accelerator' type passes through."""
    from tide.core.errors import UsageError
    from tide.runners.catalog import resolve

    assert resolve("aws", "eu-west", "m+k80", "") == resolve("aws", "eu-west", "m", "k80")
    assert resolve("aws", "us-west", "l+v100", "nogpu").type == "p3.8xlarge"
    assert resolve("azure", "us-west", "m+tesla", "").type == "Standard_NC6s_v3"
    assert resolve("gcp", "us-west", "n1-standard-4+nvidia-tesla-t4*1", "").type == "n1-standard-4+nvidia-tesla-t4*1"
    with pytest.raises(UsageError):
        resolve("aws", "us-west", "m+k80", "t4")
