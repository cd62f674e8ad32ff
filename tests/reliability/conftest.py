"""Fixtures of the reliability suite: a generated template repository for crash trials."""

from __future__ import annotations

import pytest

from tests.reliability import crashlib


@pytest.fixture(scope="module")
def crash_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("crash-home")
    return crashlib.isolated_env(str(home))


@pytest.fixture(scope="module")
def template(tmp_path_factory, crash_env):
    where = tmp_path_factory.mktemp("crash-template")
    return crashlib.make_template(where, crash_env, seed=20261127, scale=0.5)

