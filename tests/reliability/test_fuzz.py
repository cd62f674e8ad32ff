"""Fuzzing every parser with hypothesis: never a traceback, always a clear one-line TideError.

``TIDE_FUZZ_EXAMPLES`` sets the number of inputs per parser (150 here; ``make torture`` uses 10,000).
"""

from __future__ import annotations

import importlib
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability import fuzzlib as fz

EXAMPLES = int(os.environ.get("TIDE_FUZZ_EXAMPLES") or 150)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 500,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


INSERTS = ["\x00", ":", "-", "{", "[", "'", '"', "\t", "&a", "*a", "!!python/x", "\ufeff", "\n  ", "%"]


@st.composite
def damaged(draw, texts):
    """A text, sometimes truncated or with a character inserted or removed."""
    s = draw(texts)
    how = draw(st.integers(0, 5))
    if s and how == 1:
        s = s[: draw(st.integers(0, len(s) - 1))]
    elif how == 2:
        i = draw(st.integers(0, len(s)))
        s = s[:i] + draw(st.sampled_from(INSERTS)) + s[i:]
    elif s and how == 3:
        i = draw(st.integers(0, len(s) - 1))
        s = s[:i] + s[i + 1:]
    return s


def docs_as_text(docs):
    return damaged(st.builds(fz.to_text, docs, st.integers(0, 2)))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return fz.make_root(str(tmp_path_factory.mktemp("fuzz")))


@pytest.mark.parametrize("target", fz.TARGETS, ids=[t.name for t in fz.TARGETS])
def test_every_fuzzed_parser_imports(target):
    """A parser whose module does not import fails here (it used to be skipped, unfuzzed)."""
    importlib.import_module(target.needs)


@FUZZ
@given(text=st.one_of(docs_as_text(fz.pointer_docs), st.text(max_size=200)))
def test_pointer_files(root, text):
    fz.t_pointer(text, root)


@FUZZ
@given(raw=st.one_of(damaged(st.builds(lambda d: fz.to_text(d, 0), fz.manifest_docs)).map(str.encode),
                     st.binary(max_size=200)))
def test_dir_manifests(root, raw):
    fz.t_manifest(raw, root)


@FUZZ
@given(text=st.one_of(docs_as_text(fz.lock_docs()), st.text(max_size=200)))
def test_dvc_lock(root, text):
    fz.t_lock(text, root)


@FUZZ
@given(text=st.one_of(damaged(fz.config_texts()), st.text(max_size=200)))
def test_dvc_config(root, text):
    fz.t_config(text, root)


@FUZZ
@given(text=st.one_of(docs_as_text(fz.pipeline_docs()), st.text(max_size=200)))
def test_dvc_yaml(root, text):
    fz.t_pipeline(text, root)


@FUZZ
@given(text=st.one_of(docs_as_text(fz.json_values), st.text(max_size=200),
                      st.sampled_from(["a = 1\nb = [1, 2]\n", "x: {y: 1}", "def f(): pass\nX = f()", "[t]\nk = 'v'"])))
def test_params_files(root, text):
    fz.t_params(text, root)


@FUZZ
@given(text=st.one_of(docs_as_text(st.dictionaries(st.sampled_from(["forge", "pipeline", "registry", "runners",
                                                                    "schedule", "x"]), fz.json_values, max_size=4)),
                      st.text(max_size=200)))
def test_tide_yaml(root, text):
    fz.t_settings(text, root)


# --- regressions found by the fuzzers -------------------------------------------------------------
def test_regression_nul_byte_in_vars_file_name(root):
    """``vars: ["\\x00"]`` made open() raise ValueError (a traceback) instead of a FileFormatError."""
    fz.t_pipeline('{"stages": {}, "vars": ["\\u0000"]}', root)


def test_regression_line_break_in_stage_name_gives_one_line(root):
    """A stage named "\\n" produced a two-line error message."""
    fz.t_pipeline('{"stages": {"\\n": null}}', root)
    fz.t_pipeline('{"\\n": null}', root)


@settings(FUZZ, max_examples=EXAMPLES if EXAMPLES > 500 else 60)  # each input builds a driver and a client
@given(case=st.tuples(
    st.integers(0, 3), st.integers(0, 7),
    st.sampled_from([200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500]),
    st.one_of(st.builds(lambda d: fz.to_text(d, 0).encode(), fz.json_values),
              st.builds(lambda d: fz.to_text(d, 0).encode(), st.dictionaries(
                  st.sampled_from(["id", "number", "html_url", "head", "base", "body", "iid", "web_url", "token",
                                   "runners", "values", "links", "state", "message", "errors", "total_count"]),
                  fz.json_values, max_size=6)),
              st.binary(max_size=60))))
def test_forge_api_responses(root, case):
    fz.t_forge(case, root)


DEEP = ["[" * 5000 + "]" * 5000, "{a: " * 3000 + "1" + "}" * 3000, "x = " + "-" * 100_000 + "1",
        "a = " + "[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000, "x = {[]: 1}\ny = {{1}, 2}\nz = 3",
        "- -_: null\n", "b: ._\n"]


@pytest.mark.parametrize("text", DEEP, ids=["list", "flow-map", "unary", "toml", "json-map", "unhashable",
                                            "int-like", "float-like"])
def test_regression_deep_nesting_and_unbuildable_literals(root, text):
    """Found by `make torture` (params fuzzer): deep nesting raised RecursionError/MemoryError in the
    JSON, TOML and Python params readers and the manifest reader; `{[]: 1}` raised TypeError; YAML
    scalars that look like numbers but are not (`-_`, `._`) raised ValueError."""
    for target in fz.all_targets():
        if target.name == "forge API responses":
            continue
        target.fn(text.encode() if target.name == "manifest (.dir)" else text, root)
