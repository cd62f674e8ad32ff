"""One conformance suite, run against every forge driver (hosted ones through their fake servers)."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from tide.core.errors import ForgeError, MissingError
from tide.forge.base import Target
from tide.forge.report import watermark

from .conftest import git


def png_bytes(color=(255, 0, 0)) -> bytes:
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    raw = b"\x00" + bytes(color)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def open_pr(setup, name="model.txt", content="v1\n", **kw):
    from tide.ops.pr import create_pr

    (setup.work / name).write_text(content)
    return create_pr([name], **setup.options(), **kw)


def test_pr_create_then_update_same_branch(forge_setup):
    s = forge_setup
    first = open_pr(s, skip_ci=True)
    assert first.created and first.number >= 1
    assert first.branch == f"main-cml-pr-{git(s.work, 'rev-parse', 'HEAD')[:8]}"
    msg = git(s.bare, "log", "-1", "--format=%s", first.branch)
    assert msg.endswith("[skip ci]") and msg.startswith("CML PR for ")
    assert git(s.bare, "show", f"{first.branch}:model.txt") == "v1"
    # the user's checkout is untouched: same branch, file still uncommitted
    assert git(s.work, "branch", "--show-current") == "main"
    assert "model.txt" in git(s.work, "status", "--porcelain")
    # retraining again from the same commit updates the branch and the same PR (not a stale answer)
    second = open_pr(s, content="v2\n", title="retrained")
    assert not second.created and second.number == first.number and second.url == first.url
    assert git(s.bare, "show", f"{first.branch}:model.txt") == "v2"
    ctx = s.open()
    pr = ctx.forge.find_pr(first.branch, "main")
    assert pr is not None and pr.title.startswith("retrained")


def test_pr_nothing_matching_returns_none(forge_setup):
    from tide.ops.pr import create_pr

    (forge_setup.work / "other.txt").write_text("x")
    assert create_pr(["nothing-*.bin"], **forge_setup.options()) is None


def test_pr_merge_flag(forge_setup):
    s = forge_setup
    res = open_pr(s, merge="squash" if s.driver != "github" else "merge")
    caps = s.open().forge.capabilities
    assert res.merge == ("auto" if caps.auto_merge else "merged")
    if res.merge == "merged":
        assert git(s.bare, "show", "main:model.txt") == "v1"
    # no message and a merge flag: no [skip ci], so CI runs on the merge
    assert "[skip ci]" not in git(s.bare, "log", "-1", "--format=%s", res.branch)


def test_comment_update_finds_newest_watermark_over_pages(forge_setup):
    from tide.ops.comment import create_comment

    s = forge_setup
    pr = open_pr(s)
    ctx = s.open()
    if s.fake is not None:
        s.fake.per_page = 3
    target = Target("pr", str(pr.number))
    for i in range(7):  # more than two pages of unrelated comments
        ctx.forge.create_comment(target, f"chatter {i}")
    first = create_comment(markdown="# Report v1", target=f"pr#{pr.number}", update=True, ctx=ctx)
    assert not first.updated
    for i in range(4):
        ctx.forge.create_comment(target, f"more chatter {i}")
    second = create_comment(markdown="# Report v2", target=f"pr#{pr.number}", update=True, ctx=ctx)
    assert second.updated and second.id == first.id
    bodies = [c.body for c in ctx.forge.list_comments(target)]
    assert len(bodies) == 12
    assert sum("CML watermark" in b for b in bodies) == 1
    assert any(b.startswith("# Report v2") for b in bodies)
    # a different watermark title is a different comment
    third = create_comment(markdown="other", target=f"pr#{pr.number}", update=True, watermark_title="nightly", ctx=ctx)
    assert not third.updated and third.id != first.id


def test_comment_updates_comment_made_by_cml(forge_setup):
    from tide.ops.comment import create_comment

    s = forge_setup
    pr = open_pr(s)
    ctx = s.open()
    target = Target("pr", str(pr.number))
    cml = ctx.forge.create_comment(target, "old CML report\n\n" + watermark("", "deadbeef"))
    ctx.forge.create_comment(target, "unrelated")
    res = create_comment(markdown="new report", target=f"pr#{pr.number}", update=True, ctx=ctx)
    assert res.updated and res.id == cml.id


def test_commit_comment_and_update(forge_setup):
    from tide.ops.comment import create_comment

    ctx = forge_setup.open()
    head = git(forge_setup.work, "rev-parse", "HEAD")
    if not ctx.forge.capabilities.commit_comments:
        with pytest.raises(ForgeError, match="commits are not supported"):
            create_comment(markdown="on commit", target="commit", ctx=ctx)
        return
    a = create_comment(markdown="on commit", target="commit", update=True, ctx=ctx)
    assert a.target == Target("commit", head) and not a.updated
    b = create_comment(markdown="on commit again", target="commit/HEAD", update=True, ctx=ctx)
    assert b.updated and b.id == a.id
    assert [c.body.split("\n")[0] for c in ctx.forge.list_comments(a.target)] == ["on commit again"]


def test_auto_target_finds_pr_opened_by_tide(forge_setup):
    from tide.ops.comment import create_comment

    s = forge_setup
    pr = open_pr(s)
    res = create_comment(markdown="auto", target="auto", **s.options())
    assert res.target == Target("pr", str(pr.number))


def test_report_images_uploaded_and_rewritten(forge_setup):
    from tide.ops.comment import create_comment

    s = forge_setup
    pr = open_pr(s)
    (s.work / "plots").mkdir()
    (s.work / "plots" / "cm.png").write_bytes(png_bytes())
    data_uri = "data:image/png;base64," + base64.b64encode(png_bytes((0, 0, 255))).decode()
    report = s.work / "report.md"
    report.write_text(f"# Metrics\n\n![confusion](plots/cm.png \"cm\")\n\n![inline]({data_uri})\n\n"
                      "```\n![not an image](nowhere.png)\n```\n")
    res = create_comment(report, target=f"pr#{pr.number}", **s.options())
    body = next(c.body for c in s.open().forge.list_comments(res.target) if c.id == res.id)
    assert "plots/cm.png" not in body and "data:image" not in body
    assert body.count("![confusion](") == 1 and '"cm")' in body
    assert "![not an image](nowhere.png)" in body  # code blocks are left alone
    if s.driver == "local":
        import urllib.parse

        url = body.split("![confusion](")[1].split(" ")[0]
        path = urllib.parse.urlparse(url).path
        with open(path, "rb") as f:
            assert f.read() == png_bytes()
    elif s.driver == "gitlab":
        assert sorted(s.fake.uploads.values()) == sorted([png_bytes(), png_bytes((0, 0, 255))])


def test_missing_image_is_an_error(forge_setup):
    from tide.ops.comment import create_comment

    s = forge_setup
    pr = open_pr(s)
    (s.work / "report.md").write_text("![gone](plots/missing.png)\n")
    with pytest.raises(MissingError, match="missing.png"):
        create_comment(s.work / "report.md", target=f"pr#{pr.number}", **s.options())
    assert all("gone" not in c.body for c in s.open().forge.list_comments(Target("pr", str(pr.number))))


def test_check_create(forge_setup):
    from tide.ops.check import create_check

    s = forge_setup
    (s.work / "report.md").write_text("# Accuracy 0.91\n\nbetter than main\n")
    url = create_check(str(s.work / "report.md"), title="tide report", conclusion="failure", **s.options())
    assert url
    head = git(s.work, "rev-parse", "HEAD")
    if s.driver == "github":
        (check,) = s.fake.checks
        assert check["head_sha"] == head and check["conclusion"] == "failure"
        assert check["output"]["summary"].startswith("# Accuracy 0.91")
    elif s.fake is not None:
        (status,) = s.fake.statuses
        assert status["sha"] == head and status["state"] in ("failed", "failure", "FAILED")
    else:
        snap = s.open().forge.snapshot()
        assert snap["checks"][head][0]["conclusion"] == "failure"


def test_runners_where_supported(forge_setup):
    ctx = forge_setup.open()
    caps = ctx.forge.capabilities
    if not caps.runner_tokens:
        with pytest.raises(ForgeError, match="not supported"):
            ctx.forge.runner_registration("r1", ("cml",))
        return
    reg = ctx.forge.runner_registration("r1", ("cml", "gpu"))
    assert reg.token and reg.kind == caps.runner_token_kind
    assert reg.token not in str(reg) and reg.token not in repr(reg)
    if not caps.runner_admin:
        return
    fake = forge_setup.fake
    for i in range(3):
        if hasattr(fake, "add_runner"):  # runners that registered through the agent
            fake.add_runner(f"extra-{i}", ["cml"])
        else:  # GitLab: the runner exists as soon as its token is created
            ctx.forge.runner_registration(f"extra-{i}", ("cml",))
    fake.per_page = 2
    runners = ctx.forge.list_runners()
    assert len(runners) >= 2 and len({r.id for r in runners}) == len(runners)
    victim = runners[0]
    ctx.forge.remove_runner(victim.id)
    assert victim.id not in {r.id for r in ctx.forge.list_runners()}
