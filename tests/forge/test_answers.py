"""Issue 21 item 7: forge drivers validate API answers where they parse them (one ForgeError naming
the field) and do not hide their own bugs (no wrapper turns a KeyError into "unexpected answer")."""

from __future__ import annotations

import json

import httpx
import pytest

from tide.core.errors import ForgeError
from tide.forge.answer import Answer, answers
from tide.forge.base import Target
from tide.forge.detect import ForgeChoice, Token
from tide.forge.drivers import open_driver


def driver(name: str, status: int, body):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": "application/json"})

    forge = open_driver(ForgeChoice(name, "o/r", "http://forge.invalid", "http://forge.invalid/api"),
                        Token("token-value", "TEST"))
    forge.api.sleep = lambda s: None
    forge.api._client = httpx.Client(base_url=forge.api.base_url, transport=httpx.MockTransport(handler))
    return forge


PR = {"number": 7, "html_url": "http://x/pr/7", "head": {"ref": "feature", "sha": "a" * 40}, "base": {"ref": "main"}}


@pytest.mark.parametrize("body, field", [
    ({**PR, "number": "7"}, "'number' is a string, not an integer"),
    ({**PR, "head": None}, "'head' is missing"),
    ({**PR, "head": ["feature"]}, "'head' is a list, not an object"),
    ({**PR, "base": {"ref": 3}}, "'base.ref' is an integer, not a string"),
    ({**PR, "title": {"t": 1}}, "'title' is an object, not a string"),  # optional, but of the wrong type
    ([PR], "the answer is a list, not an object"),
    (None, "the answer is null, not an object"),
])
def test_issue21_malformed_answer_is_a_forge_error_naming_the_field(body, field):
    forge = driver("github", 201, body if body is not None else b"")
    with pytest.raises(ForgeError) as err:
        forge.create_pr("feature", "main", "t", "b")
    assert str(err.value) == f"github: create pull request: unexpected answer from the API: {field}"


def test_issue21_a_list_page_that_is_not_a_list_of_objects_names_the_item():
    forge = driver("gitea", 200, [{"id": 1, "body": "x"}, "oops"])
    with pytest.raises(ForgeError, match=r"gitea: list comments: unexpected answer from the API: "
                                         r"'\[1\]' is a string, not an object"):
        forge.list_comments(Target("pr", "1"))


def test_issue21_page_under_a_key_is_checked():
    forge = driver("github", 200, {"runners": {"id": 1}})
    with pytest.raises(ForgeError, match="'runners' is an object, not a list"):
        forge.list_runners()


def test_issue21_a_driver_bug_is_not_turned_into_unexpected_answer(monkeypatch):
    from tide.forge.github import GitHubForge

    def buggy(d):
        return {}["typo"]  # a programming error inside a driver

    monkeypatch.setattr(GitHubForge, "_pr", staticmethod(buggy))
    forge = driver("github", 201, PR)
    with pytest.raises(KeyError):
        forge.create_pr("feature", "main", "t", "b")


def test_issue21_answer_defaults_apply_only_to_absent_or_null_fields():
    a = Answer({"s": "x", "n": None, "o": {"k": "v"}, "b": True, "l": ["a"]}, "f: op")
    assert a.str("s") == "x" and a.str("n", "d") == "d" and a.str("absent", "") == ""
    assert a.obj("o").str("k") == "v" and a.obj("absent", None).str("k", "") == ""
    assert a.flag("b") and not a.flag("absent") and a.strs("l") == ["a"] and a.id("absent", "") == ""
    assert Answer({"id": 5}, "f: op").id("id") == "5"
    with pytest.raises(ForgeError, match="'o.k' is a string, not an integer"):
        a.obj("o").int("k")
    with pytest.raises(ForgeError, match="'b' is a boolean, not an integer"):
        a.int("b")  # JSON true is not the number 1
    with pytest.raises(ForgeError, match=r"'l\[0\]' is a string, not an object"):
        a.objs("l")
    assert [x.int("i") for x in answers([{"i": 1}], "f: op")] == [1]
