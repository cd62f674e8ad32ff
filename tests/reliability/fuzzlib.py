"""Fuzz targets and hypothesis strategies for every parser of tide.

The contract checked for each parser: any input either parses, and then what it yields is safe (every
output path lies inside the repository, outside .dvc/ and .git/), or raises a ``TideError`` whose
message is one non-empty line. Any other exception (KeyError, TypeError, RecursionError...) is a bug:
the CLI would show a traceback.

A target is ``fn(data, root)`` where ``root`` is a scratch repository made by ``make_root`` (it has a
``.dvc`` directory and a symlink ``escape`` that leads outside). Every target's module must import
(``all_targets``): a parser that cannot be loaded fails the run, it is never left out.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tide.core.errors import TideError

# --- strategies -----------------------------------------------------------------------------------
NASTY_SEGMENTS = ["..", ".", "", ".dvc", ".git", "escape", "data", "~", "a b", "é", "\\", "C:", "\x00", "\n",
                  "%2e%2e", "....", "*", "?", "${x}", "-", "\u202e", "\t"]


@st.composite
def paths(draw) -> str:
    """Relative and absolute paths built from segments chosen to escape a repository."""
    segs = draw(st.lists(st.one_of(st.sampled_from(NASTY_SEGMENTS), st.text(min_size=1, max_size=6)),
                         min_size=1, max_size=5))
    sep = draw(st.sampled_from(["/", "/", "/", "\\", "//"]))
    prefix = draw(st.sampled_from(["", "", "", "/", "./", "../", "file://", "s3://b/", "~/"]))
    return prefix + sep.join(segs)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True), st.text(max_size=20), paths(),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
md5s = st.one_of(
    st.from_regex(r"\A[0-9a-f]{32}\Z"), st.from_regex(r"\A[0-9a-f]{32}\.dir\Z"),
    st.text(max_size=40), st.integers(), st.none(),
)


def maybe(strategy, junk=json_values):
    """Mostly the well-typed value, sometimes anything."""
    return st.one_of(strategy, strategy, strategy, junk)


@st.composite
def out_entries(draw) -> Any:
    d: dict[str, Any] = {"path": draw(maybe(paths()))}
    if draw(st.booleans()):
        d["md5"] = draw(md5s)
    for k, v in (("size", st.integers(-5, 2**40)), ("nfiles", st.integers(-2, 10**6)), ("isexec", st.booleans()),
                 ("hash", st.sampled_from(["md5", "md5-dos2unix", "sha256"])), ("cache", st.booleans()),
                 ("persist", st.booleans()), ("push", st.booleans()), ("remote", st.text(max_size=8))):
        if draw(st.integers(0, 3)) == 0:
            d[k] = draw(maybe(v))
    if draw(st.integers(0, 5)) == 0:
        d[draw(st.text(max_size=8))] = draw(json_values)
    return d if draw(st.integers(0, 12)) else draw(json_values)


pointer_docs = st.one_of(
    st.fixed_dictionaries({"outs": maybe(st.lists(out_entries(), min_size=0, max_size=4))},
                          optional={"md5": md5s, "frozen": json_values, "deps": json_values,
                                    "wdir": maybe(paths())}),
    json_values,
)
manifest_docs = st.one_of(
    st.lists(st.one_of(st.fixed_dictionaries({"md5": md5s, "relpath": maybe(paths())}), json_values), max_size=5),
    json_values,
)


@st.composite
def lock_docs(draw) -> Any:
    stage = st.fixed_dictionaries(
        {"cmd": maybe(st.text(max_size=20))},
        # no `wdir`: dvc.lock has none (dvc's schema refuses it), so more inputs get past the schema check
        optional={"deps": maybe(st.lists(out_entries(), max_size=3)),
                  "outs": maybe(st.lists(out_entries(), max_size=3)), "params": json_values},
    )
    stages = st.dictionaries(st.text(min_size=1, max_size=10), maybe(stage), max_size=3)
    if draw(st.booleans()):
        return {"schema": draw(maybe(st.just("2.0"))), "stages": draw(maybe(stages))}
    return draw(st.one_of(stages, json_values))


@st.composite
def pipeline_docs(draw) -> Any:
    interp = st.sampled_from(["${a}", "${a.b}", "${item}", "${key}", "${ x }", "${", "${a[0]}", "${vars}", "$${a}"])
    text_or_interp = st.one_of(st.text(max_size=12), interp, paths())
    stage = st.fixed_dictionaries(
        {"cmd": maybe(st.one_of(text_or_interp, st.lists(text_or_interp, max_size=3)))},
        optional={
            "wdir": maybe(paths()), "deps": maybe(st.lists(text_or_interp, max_size=3)),
            "outs": maybe(st.lists(st.one_of(text_or_interp, st.dictionaries(text_or_interp, json_values,
                                                                           max_size=2)), max_size=3)),
            "params": maybe(st.lists(st.one_of(text_or_interp, st.dictionaries(paths(), json_values, max_size=2)),
                                     max_size=3)),
            "metrics": json_values, "plots": json_values, "frozen": json_values, "always_changed": json_values,
            "foreach": maybe(st.one_of(st.lists(json_values, max_size=3), st.dictionaries(
                st.text(max_size=5), json_values, max_size=3), interp)),
            "do": json_values, "matrix": json_values, "vars": json_values, "desc": json_values,
        },
    )
    doc = st.fixed_dictionaries(
        {"stages": maybe(st.dictionaries(st.text(min_size=1, max_size=10), maybe(stage), max_size=3))},
        optional={"vars": maybe(st.lists(st.one_of(paths(), st.dictionaries(st.text(max_size=5), json_values,
                                                                            max_size=3)), max_size=3)),
                  "params": json_values, "metrics": json_values, "plots": json_values, "artifacts": json_values},
    )
    return draw(st.one_of(doc, doc, json_values))


config_keys = st.sampled_from(["remote", "url", "dir", "type", "shared", "no_scm", "autostage", "checksum_jobs",
                               "hardlink_lock", "credentialpath", "keyfile", "endpointurl", "x", "password"])
config_values = st.one_of(st.text(max_size=20), paths(), st.sampled_from(
    ["true", "false", "maybe", "-1", "99999999999999999999", "reflink,copy", "hardlink", "nope,copy", "", '"',
     "'''", '"""', "[a]", "a,b,", "group", "%(x)s", "$HOME"]))
config_sections = st.one_of(
    st.sampled_from(["core", "cache", "state", "index", "remote \"r\"", "'remote \"s3\"'", "machine \"m\"",
                     "db \"d\"", "feature", "studio", "bogus", "remote \"\"", "remote", "CORE"]),
    st.text(max_size=10),
)


@st.composite
def config_texts(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        sec = draw(config_sections)
        lines.append(draw(st.sampled_from(["[{}]", "[[{}]]", "[{}", "{}]", "[ {} ]"])).format(sec))
        for _ in range(draw(st.integers(0, 4))):
            lines.append(f"{draw(st.sampled_from(['    ', '', chr(9)]))}{draw(config_keys)}"
                         f"{draw(st.sampled_from([' = ', '=', ' : ', ' ']))}{draw(config_values)}")
    if draw(st.integers(0, 6)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=30)))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


# --- contract -------------------------------------------------------------------------------------
def clean_error(exc: TideError) -> None:
    msg = str(exc)
    assert msg.strip(), f"{type(exc).__name__} with an empty message"
    assert "\n" not in msg and "\r" not in msg, f"error message spans several lines: {msg!r}"
    assert len(msg) < 2000, f"error message is {len(msg)} characters long"


def expect_clean(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a TideError must have a clear one-line message, anything else propagates (a bug)."""
    try:
        return fn()
    except TideError as exc:
        clean_error(exc)
        return None


def assert_inside(root: str, abspath: str, what: str) -> None:
    real_root = os.path.realpath(root)
    rel = os.path.relpath(abspath, root)
    assert not (rel == "." or rel == ".." or rel.startswith(".." + os.sep)), f"{what}: {abspath} escapes {root}"
    assert rel.split(os.sep)[0] not in (".dvc", ".git"), f"{what}: {abspath} is inside .dvc/ or .git/"
    parent = os.path.realpath(os.path.dirname(abspath))
    assert parent == real_root or parent.startswith(real_root + os.sep), f"{what}: {abspath} escapes via a symlink"


def make_root(base: str) -> str:
    root = os.path.join(base, "fuzzroot")
    outside = os.path.join(base, "outside")
    os.makedirs(os.path.join(root, ".dvc"), exist_ok=True)
    os.makedirs(os.path.join(root, "data", "sub"), exist_ok=True)
    os.makedirs(outside, exist_ok=True)
    if not os.path.lexists(os.path.join(root, "escape")):
        os.symlink(outside, os.path.join(root, "escape"))
    return root


def to_text(doc: Any, form: int) -> str:
    """Serialize a generated document as YAML (block or flow) or JSON, which YAML also reads."""
    import yaml

    if form == 0:
        return json.dumps(doc, allow_nan=True, default=str)
    return yaml.safe_dump(doc, default_flow_style=(form == 2), allow_unicode=True)


# --- targets --------------------------------------------------------------------------------------
def t_pointer(text: str, root: str) -> None:
    from tide.core import yamlio
    from tide.workspace import pointers

    path = os.path.join(root, "data.dvc")

    def run() -> None:
        pf = pointers.parse(yamlio.loads(text, "data.dvc"), path, root)
        for out in pf.outs:
            assert_inside(root, out.abspath, "pointer output")
        yamlio.dumps(pf.dump())  # what was accepted can be written back

    expect_clean(run)


def t_manifest(raw: bytes, root: str) -> None:
    from tide.core import manifest

    def run() -> None:
        for e in manifest.parse(raw):
            assert_inside(root, os.path.join(root, "data", e.relpath), "manifest entry")
        manifest.serialize(manifest.parse(raw))

    expect_clean(run)


def t_lock(text: str, root: str) -> None:
    from tide.core import yamlio
    from tide.pipeline.lockfile import parse_lock

    def run() -> None:
        for _, out in parse_lock(yamlio.loads(text, "dvc.lock"), root, os.path.join(root, "dvc.lock")):
            assert_inside(root, out.abspath, "lock output")

    expect_clean(run)


def t_config(text: str, root: str) -> None:
    from tide.core.config import Config, Env
    from tide.workspace.repo import Repo

    cfg = os.path.join(root, ".dvc", "config")
    with open(cfg, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    env = Env({"HOME": root, "DVC_GLOBAL_CONFIG_DIR": os.path.join(root, "g"),
               "DVC_SYSTEM_CONFIG_DIR": os.path.join(root, "s")})

    def run() -> None:
        Config(os.path.join(root, ".dvc"), env).merged()
        repo = Repo(root, env)
        repo.link_types, repo.no_scm, repo.autostage, repo.cache_dir  # noqa: B018
        repo.hasher  # noqa: B018

    try:
        expect_clean(run)
    finally:
        os.unlink(cfg)


def t_pipeline(text: str, root: str) -> None:
    from tide.core import yamlio
    from tide.pipeline import definition

    def run() -> None:
        pipe = definition.parse(yamlio.loads(text, "dvc.yaml"), os.path.join(root, "dvc.yaml"), root)
        for stage in pipe.stages:
            for out in getattr(stage, "outs", ()):
                p = getattr(out, "abspath", None) or getattr(out, "path", None)
                if isinstance(p, str) and os.path.isabs(p):
                    assert_inside(root, p, f"stage {stage.name} output")

    expect_clean(run)


def t_params(text: str, root: str) -> None:
    from tide.pipeline import params

    for name in ("params.yaml", "params.json", "params.toml", "params.py"):
        expect_clean(lambda name=name: params.parse_text(text, name, name))


def t_settings(text: str, root: str) -> None:
    from tide.core import settings

    path = os.path.join(root, settings.FILE_NAME)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    try:
        expect_clean(lambda: settings.load(root))
    finally:
        os.unlink(path)


# --- forge API responses ----------------------------------------------------------------------------
FORGE_CALLS = (
    ("list_comments", lambda f, t: f.list_comments(t)),
    ("create_comment", lambda f, t: f.create_comment(t, "report")),
    ("find_pr", lambda f, t: f.find_pr("feature", "main")),
    ("create_pr", lambda f, t: f.create_pr("feature", "main", "title", "body")),
    ("prs_for_commit", lambda f, t: f.prs_for_commit("a" * 40)),
    ("list_runners", lambda f, t: f.list_runners()),
    ("runner_registration", lambda f, t: f.runner_registration("r1", ("tide",))),
    ("create_check", lambda f, t: f.create_check("a" * 40, "t", "s", "success")),
)


def t_forge(case: tuple[str, int, int, bytes], root: str) -> None:
    """One driver, one call, every HTTP answer ``(status, body)`` from a fuzzed fake server."""
    import httpx

    from tide.forge.base import Target
    from tide.forge.detect import ForgeChoice, Token
    from tide.forge.drivers import REGISTRY, open_driver

    driver, call, status, body = case
    name, fn = FORGE_CALLS[call % len(FORGE_CALLS)]
    drv_name = sorted(n for n in REGISTRY if n != "local")[driver % 4]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    choice = ForgeChoice(drv_name, "o/r", "http://forge.invalid", "http://forge.invalid/api")
    forge = open_driver(choice, Token("token-value", "TEST"))
    api = forge.api
    api.sleep = lambda s: None
    api._client = httpx.Client(base_url=api.base_url, transport=httpx.MockTransport(handler))

    def run() -> None:
        try:
            fn(forge, Target("pr", "1"))
        finally:
            forge.close()

    expect_clean(run)


@dataclass(frozen=True)
class Target:
    name: str
    fn: Callable[[Any, str], None]
    needs: str  # module that must exist for the target to run


TARGETS = (
    Target("pointer (.dvc)", t_pointer, "tide.workspace.pointers"),
    Target("manifest (.dir)", t_manifest, "tide.core.manifest"),
    Target("dvc.lock", t_lock, "tide.pipeline.lockfile"),
    Target(".dvc/config", t_config, "tide.core.config"),
    Target("dvc.yaml", t_pipeline, "tide.pipeline.definition"),
    Target("params", t_params, "tide.pipeline.params"),
    Target("tide.yaml", t_settings, "tide.core.settings"),
    Target("forge API responses", t_forge, "tide.forge.drivers"),
)


def all_targets() -> list[Target]:
    """Every target, after importing each one's module: an ImportError fails the caller, so a parser
    that cannot be loaded is never silently left unfuzzed."""
    for t in TARGETS:
        importlib.import_module(t.needs)
    return list(TARGETS)
