"""``tide ui``'s server without a browser: read-only, loopback hosts only, user errors as one line."""

from __future__ import annotations

import pytest

from tests.conftest import git


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    import warnings

    with warnings.catch_warnings():  # starlette 1.x would rather have httpx2; httpx is what tide's [forge] has
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient

    from tide.ui.app import create_app
    from tide.workspace.repo import Repo

    ws = tmp_path_factory.mktemp("ui-app")
    git(ws, "init", "-q", "-b", "main")
    from tide.ops.init import init

    init(str(ws))
    (ws / "dvc.yaml").write_text("metrics:\n- m.json\n")
    (ws / "m.json").write_text('{"acc": 0.5}')
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "one")
    repo = Repo(str(ws))
    with TestClient(create_app(repo, warm=False), base_url="http://127.0.0.1:8765") as c:
        yield c, ws
    repo.close()


def test_ui_api_is_read_only_and_answers_loopback_hosts_only(client):
    c, ws = client
    assert c.get("/api/runs").json()["rows"][0]["metrics"] == {"m.json": {"acc": 0.5}}
    assert c.post("/api/runs").status_code == 405
    assert c.get("/api/runs", headers={"Host": "evil.example:8765"}).status_code == 400  # DNS rebinding
    page = c.get("/runs")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert c.get("/static/vendor/vega-lite.min.js").status_code == 200


def test_ui_bad_revision_is_one_line_error_not_a_traceback(client):
    c, _ = client
    for rev in ("nope", "--output=/tmp/x", ""):
        r = c.get("/api/compare", params={"a": rev, "b": "HEAD"})
        assert r.status_code == 400 and r.json()["error"].startswith("unknown revision"), r.text


def test_ui_commit_cache_is_reused_and_keyed_by_commit(client):
    from tide.ui.facts import Facts
    from tide.workspace.repo import Repo

    c, ws = client
    c.get("/api/trends")
    sha = git(ws, "rev-parse", "HEAD").strip()
    repo = Repo(str(ws))
    try:
        f = Facts(repo)  # a new server: the commit is read from .dvc/tmp/tide-ui, not from git again
        assert f.commits[sha]["metrics"] == {"m.json": {"acc": 0.5}}
        f.commits[sha]["metrics"] = {"m.json": {"acc": 0.25}}  # what is cached is what is shown
        from tide.ui import pages

        assert pages.runs(f)["rows"][0]["metrics"] == {"m.json": {"acc": 0.25}}
    finally:
        repo.close()


def test_ui_port_out_of_range_is_a_usage_error(tmp_path, tide):
    git(tmp_path, "init", "-q")
    tide("init", "-q", cwd=tmp_path)
    res = tide("ui", "--port", "70000", cwd=tmp_path, check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [res.stderr.strip().splitlines()[-1]]


def test_ui_bound_to_every_address_answers_the_names_it_is_reached_by(client):
    import warnings

    from tide.ui.app import create_app
    from tide.workspace.repo import Repo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient

    _, ws = client
    repo = Repo(str(ws))
    try:
        with TestClient(create_app(repo, host="0.0.0.0", warm=False), base_url="http://192.0.2.5:8765") as c:
            assert c.get("/api/registry").status_code == 200
    finally:
        repo.close()


def test_issue25_overview_links_the_last_retrains_pull_request():
    """The overview's last retrain links the PR `tide retrain` opened (kept in the promotion record's
    ``extra``); a value that is not an http(s) or file address is never offered as a link."""
    from tide.ui.pages import _pr_url

    assert _pr_url({"extra": {"pr_url": "https://github.com/o/r/pull/7"}}) == "https://github.com/o/r/pull/7"
    assert _pr_url({"extra": {"pr_url": "file:///w/forge/site/pr-2.html"}}) == "file:///w/forge/site/pr-2.html"
    for bad in ("javascript:alert(1)", "data:text/html,x", 7, None, "https://x/\nSet-Cookie: a"):
        assert _pr_url({"extra": {"pr_url": bad}}) is None
    assert _pr_url(None) is None and _pr_url({"extra": "x"}) is None


def test_issue25_report_links_into_tide_ui_only_at_a_checked_address():
    """Where report comments link into tide ui: TIDE_UI_URL, else tide.yaml's ui.url, else the default
    address for the local forge only; an address with credentials, a query or markup is refused."""
    from tide.core.config import Env
    from tide.core.errors import ConfigError
    from tide.core.settings import Settings, ui_url

    none, conf = Settings("/w/tide.yaml"), Settings("/w/tide.yaml", {"ui": {"url": "http://ui.lan:8765/"}})
    assert ui_url(none, Env({})) == "" and ui_url(none, Env({}), local_forge=True) == "http://127.0.0.1:8765"
    assert ui_url(conf, Env({})) == "http://ui.lan:8765"
    assert ui_url(conf, Env({"TIDE_UI_URL": "https://x.example/ui"})) == "https://x.example/ui"
    for bad in ("http://user:secret@ui.lan/", "javascript:alert(1)", "http://ui.lan/a b", "http://ui.lan/?q=1",
                "http://ui.lan/x)[y](http://evil", "ftp://ui.lan", "http://ui.lan/\nx"):
        with pytest.raises(ConfigError) as exc:
            ui_url(none, Env({"TIDE_UI_URL": bad}))
        assert "secret" not in str(exc.value)
    with pytest.raises(ConfigError):
        ui_url(Settings("/w/tide.yaml", {"ui": {"adress": "http://x"}}), Env({}))


def test_issue25_runners_page_never_waits_on_a_cloud_and_shows_errors_without_secrets(monkeypatch):
    """The overview's runners: every provider is asked in its own thread; a snapshot answers at once (pending,
    then the late provider as an error, then its answer when it lands); errors are one redacted line."""
    import threading
    import time

    from tide.core.errors import RunnerError
    from tide.ui.runners import Watch

    monkeypatch.setenv("TIDE_TEST_API_TOKEN", "canary-value-1234567")
    release = threading.Event()

    def lister(kind, region, env):
        if kind == "aws":
            release.wait(10)
            return [{"name": "r1", "id": "i-1", "cloud": "aws", "state": "running"}]
        if kind == "gcp":
            raise RunnerError("gcp: 401 for token canary-value-1234567\nsecond line")
        return []

    w = Watch(lambda: [("local", ""), ("aws", "us-east"), ("gcp", "us-west")], lister=lister, timeout=0.5)
    t = time.monotonic()
    first = w.snapshot()
    assert time.monotonic() - t < 0.2 and first["pending"] and first["machines"] == []
    time.sleep(0.7)
    late = {p["kind"]: p for p in w.snapshot()["providers"]}
    assert late["aws"]["error"].startswith("aws: no answer within") and not late["aws"]["pending"]
    gcp = late["gcp"]["error"]
    assert gcp.startswith("gcp: 401 for token ***") and "canary" not in gcp and "\n" not in gcp
    assert late["local"]["error"] is None
    release.set()
    for _ in range(100):
        done = w.snapshot()
        if done["machines"]:
            break
        time.sleep(0.02)
    assert [m["name"] for m in done["machines"]] == ["r1"] and not done["pending"]


def test_issue25_runner_clouds_asked_are_the_configured_ones_with_credentials(tmp_path):
    """ui.runners as named; without it the clouds tide.yaml's runners name, only when their credentials are there."""
    from tide.core.config import Env
    from tide.core.errors import ConfigError
    from tide.ui.runners import targets

    (tmp_path / "tide.yaml").write_text("retrain:\n  runner: aws:s:eu-west\nrunners:\n  g:\n    on: gcp:m\n")
    home = {"HOME": str(tmp_path)}  # no ~/.aws/credentials, no ~/.kube/config
    assert targets(str(tmp_path), Env(home)) == [("local", "")]  # no credentials: nothing asked
    creds = {**home, "AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"}
    assert targets(str(tmp_path), Env(creds)) == [("local", ""), ("aws", "eu-west")]
    (tmp_path / "tide.yaml").write_text("ui:\n  runners: [kubernetes, azure:eu-north]\n")
    assert targets(str(tmp_path), Env({})) == [("local", ""), ("kubernetes", ""), ("azure", "eu-north")]
    (tmp_path / "tide.yaml").write_text("ui:\n  runners: [ec2]\n")
    with pytest.raises(ConfigError):
        targets(str(tmp_path), Env({}))
