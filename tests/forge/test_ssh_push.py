"""`tide pr` pushes over a real OpenSSH sshd on loopback (the suite's one ``sshd``, tests/fakes)."""

from __future__ import annotations

import pytest

from .conftest import git


@pytest.mark.parametrize("hosted_setup", ["github"], indirect=True)
def test_pr_pushes_over_ssh(hosted_setup, sshd, monkeypatch):
    from tide.ops.pr import create_pr

    s = hosted_setup
    monkeypatch.setenv("GIT_SSH_COMMAND", f"ssh -i {sshd.client_key} -o StrictHostKeyChecking=no "
                                          "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")
    git(s.work, "remote", "set-url", "origin", sshd.url(str(s.bare)))
    (s.work / "model.bin").write_bytes(b"\x00weights")
    res = create_pr(["model.bin"], path=str(s.work), env=s.env)
    assert res is not None and res.created
    assert git(s.bare, "cat-file", "-p", f"{res.branch}:model.bin") == "\x00weights"
    assert s.fake.pulls[res.number]["head"] == res.branch
