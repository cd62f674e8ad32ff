"""CI detection, token lookup, remote parsing and the driver-choice order."""

from __future__ import annotations

import json

import pytest

from tide.core.config import Env
from tide.core.errors import UsageError
from tide.forge.detect import choose, ci_context, find_token, parse_remote


def test_github_actions_pull_request(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": "abc123"}}}))
    ci = ci_context(Env({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": "merge-sha",
                         "GITHUB_EVENT_PATH": str(event), "GITHUB_HEAD_REF": "feature", "GITHUB_RUN_ID": "99",
                         "GITHUB_WORKFLOW": "train", "GITHUB_SERVER_URL": "https://github.com"}))
    assert (ci.provider, ci.repo, ci.sha, ci.branch, ci.pr, ci.run_id, ci.workflow) == (
        "github", "o/r", "abc123", "feature", 7, "99", "train")
    assert ci.api_url == "https://api.github.com"


def test_github_enterprise_recognised_from_ci_without_driver():
    env = Env({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "team/proj", "GITHUB_SHA": "s",
               "GITHUB_REF": "refs/heads/main", "GITHUB_SERVER_URL": "https://ghe.corp",
               "GITHUB_API_URL": "https://ghe.corp/api/v3"})
    c = choose(env, remote_url="https://ghe.corp/team/proj.git")
    assert (c.driver, c.repo, c.web_base, c.api_url) == ("github", "team/proj", "https://ghe.corp",
                                                         "https://ghe.corp/api/v3")


def test_self_hosted_gitlab_under_subpath_from_ci():
    env = Env({"GITLAB_CI": "true", "CI_SERVER_URL": "https://corp.example/gitlab",
               "CI_API_V4_URL": "https://corp.example/gitlab/api/v4", "CI_PROJECT_PATH": "ml/model",
               "CI_COMMIT_SHA": "s", "CI_COMMIT_REF_NAME": "main", "CI_MERGE_REQUEST_IID": "12",
               "CI_PIPELINE_ID": "5", "CI_JOB_ID": "6"})
    ci = ci_context(env)
    assert (ci.provider, ci.pr, ci.workflow, ci.run_id) == ("gitlab", 12, "5", "6")
    c = choose(env, remote_url="https://corp.example/gitlab/ml/model.git")
    assert (c.driver, c.repo, c.api_url) == ("gitlab", "ml/model", "https://corp.example/gitlab/api/v4")


def test_bitbucket_and_gitea_ci():
    bb = ci_context(Env({"BITBUCKET_BUILD_NUMBER": "3", "BITBUCKET_REPO_FULL_NAME": "ws/repo",
                         "BITBUCKET_COMMIT": "c", "BITBUCKET_BRANCH": "dev", "BITBUCKET_PR_ID": "4"}))
    assert (bb.provider, bb.repo, bb.pr, bb.branch) == ("bitbucket", "ws/repo", 4, "dev")
    gt = ci_context(Env({"GITHUB_ACTIONS": "true", "GITEA_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r",
                         "GITHUB_SERVER_URL": "https://git.example", "GITHUB_REF": "refs/pull/9/head"}))
    assert (gt.provider, gt.api_url, gt.pr) == ("gitea", "https://git.example/api/v1", 9)


def test_token_order_follows_cml_then_tide():
    env = Env({"TIDE_TOKEN": "t", "GITLAB_TOKEN": "g", "repo_token": "r"})
    tok = find_token(env)
    assert (tok.value, tok.source) == ("r", "repo_token")
    assert find_token(Env({"TIDE_TOKEN": "t"})).source == "TIDE_TOKEN"
    assert find_token(env, "flag").source == "--token"
    assert "t" not in repr(find_token(Env({"TIDE_TOKEN": "secret-value"})).__repr__().replace("TIDE_TOKEN", ""))
    assert find_token(Env({})) is None


@pytest.mark.parametrize("url,expected", [
    ("https://user:pw@github.com/o/r.git", ("https", "github.com", "o/r")),
    ("git@gitlab.com:g/sub/p.git", ("ssh", "gitlab.com", "g/sub/p")),
    ("ssh://git@bitbucket.org/ws/repo", ("ssh", "bitbucket.org", "ws/repo")),
    ("http://127.0.0.1:8080/gitlab/g/p/", ("http", "127.0.0.1:8080", "gitlab/g/p")),
    ("/srv/forge/p.git", ("file", "", "/srv/forge/p.git")),
])
def test_parse_remote(url, expected):
    info = parse_remote(url)
    assert (info.scheme, info.host, info.path) == expected
    assert "pw" not in info.url


def test_choice_order_flag_then_settings_then_ci_then_remote():
    ci = Env({"GITLAB_CI": "true", "CI_SERVER_URL": "https://gl.example", "CI_PROJECT_PATH": "a/b"})
    assert choose(Env({}), remote_url="https://github.com/o/r").driver == "github"
    assert choose(Env({}), remote_url="/tmp/x.git").driver == "local"
    assert choose(ci, remote_url="https://github.com/o/r").driver == "gitlab"
    assert choose(ci, settings={"driver": "github"}, remote_url="https://github.com/o/r").driver == "github"
    assert choose(ci, driver="bitbucket", settings={"driver": "github"},
                  remote_url="https://bitbucket.org/w/r").driver == "bitbucket"
    with pytest.raises(UsageError, match="--driver"):
        choose(Env({}), remote_url="https://git.corp/o/r")
    with pytest.raises(UsageError, match="unknown forge driver"):
        choose(Env({}), driver="sourceforge", remote_url="/tmp/x.git")
