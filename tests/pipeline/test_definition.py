"""dvc.yaml parsing: interpolation, vars, foreach/matrix names, strict validation (in-process, fast)."""

from __future__ import annotations

import pytest

from tide.core import yamlio
from tide.core.errors import FileFormatError, OverlapError, PipelineError, TideError
from tide.pipeline import definition, graph, interpolate
from tide.pipeline.metrics import diff, parse_text_metrics
from tide.pipeline.runcache import key_of, value_of


def parse(tmp_path, text, files=None):
    for name, body in (files or {}).items():
        (tmp_path / name).write_text(body)
    path = tmp_path / "dvc.yaml"
    return definition.parse(yamlio.loads(text, "dvc.yaml"), str(path), str(tmp_path))


def test_interpolation_types_and_text():
    ctx = {"a": {"b": [1, 2]}, "flag": True, "lr": 0.1, "opts": {"x": 1, "v": True}}
    assert interpolate.resolve_str("${a.b}", ctx) == [1, 2]
    assert interpolate.resolve_str("${a.b[1]}", ctx) == 2
    assert interpolate.resolve_str("lr=${lr} ${flag}", ctx) == "lr=0.1 true"
    assert interpolate.resolve_str("run ${opts}", ctx, in_cmd=True) == "run --x 1 --v"
    assert interpolate.resolve_str(r"keep \${lr}", ctx) == "keep ${lr}"
    with pytest.raises(interpolate.InterpolationError, match="'nope' is not defined"):
        interpolate.resolve_str("${nope}", ctx)
    with pytest.raises(interpolate.InterpolationError, match="cannot be put inside a string"):
        interpolate.resolve_str("x ${a}", ctx)


def test_foreach_matrix_and_vars(tmp_path):
    p = parse(tmp_path, """
vars:
- extra.yaml:opt
- local: 3
stages:
  gen:
    foreach: ${models}
    do:
      cmd: echo ${item} ${seed} ${opt.k} ${local}
      outs:
      - out-${item}.txt
  d:
    foreach:
      us: {n: 1}
      eu: {n: 2}
    do:
      cmd: echo ${key} ${item.n}
  grid:
    matrix:
      m: [x, y]
      cfg: [{a: 1}, {a: 2}]
    cmd: echo ${item.m} ${item.cfg.a}
""", {"params.yaml": "seed: 7\nmodels: [a, b]\n", "extra.yaml": "opt: {k: K}\nother: 1\n"})
    names = [s.name for s in p.stages]
    assert names == ["gen@a", "gen@b", "d@us", "d@eu", "grid@x-cfg0", "grid@x-cfg1", "grid@y-cfg0", "grid@y-cfg1"]
    assert p.stages[1].cmd == "echo b 7 K 3" and p.stages[1].outs[0].path == "out-b.txt"
    assert p.stages[3].cmd == "echo eu 2" and p.stages[7].cmd == "echo y 2"


@pytest.mark.parametrize("text, message", [
    ("stages:\n  s:\n    cmd: x\n    bogus: 1\n", "dvc.yaml: stages > s: unknown key 'bogus'"),
    ("stagez: {}\n", "dvc.yaml: unknown key 'stagez'"),
    ("stages:\n  s:\n    cmd: echo ${missing}\n", "dvc.yaml: stage 's': 'missing' is not defined"),
    ("stages:\n  s:\n    deps: [a]\n", "dvc.yaml: stages > s: required key 'cmd' is missing"),
    ("stages:\n  s:\n    cmd: x\n    outs:\n    - o:\n        cache: maybe\n", "cache: expected true or false"),
    ("stages:\n  s:\n    cmd: x\n    outs: [../o]\n", "outside the repository"),
    ("stages:\n  s:\n    foreach: [1]\n    do: {cmd: x}\n    cmd: y\n", "stages > s: unknown key 'cmd'"),
])
def test_invalid_files_name_file_and_stage(tmp_path, text, message):
    with pytest.raises(TideError) as exc:
        parse(tmp_path, text)
    assert message in str(exc.value)


def _stages(tmp_path, text):
    return list(parse(tmp_path, text).stages)


def test_graph_checks(tmp_path):
    root = str(tmp_path)
    dup = _stages(tmp_path, "stages:\n  a: {cmd: x, outs: [o]}\n  b: {cmd: y, outs: [o]}\n")
    with pytest.raises(OverlapError, match="output 'o' of stage 'b' is also an output of stage 'a'"):
        graph.build(dup, root)
    nested = _stages(tmp_path, "stages:\n  a: {cmd: x, outs: [d]}\n  b: {cmd: y, outs: [d/f]}\n")
    with pytest.raises(OverlapError, match="'d/f' of stage 'b' is inside output 'd' of stage 'a'"):
        graph.build(nested, root)
    cyc = _stages(tmp_path, "stages:\n  a: {cmd: x, deps: [q], outs: [p]}\n  b: {cmd: y, deps: [p], outs: [q]}\n")
    with pytest.raises(PipelineError, match="dvc.yaml: the pipeline has a cycle: .*a.*b"):
        graph.build(cyc, root)
    tracked = _stages(tmp_path, "stages:\n  a: {cmd: x, outs: [data]}\n")
    with pytest.raises(OverlapError, match="already tracked by 'data.dvc'"):
        graph.build(tracked, root, [(str(tmp_path / "data"), str(tmp_path / "data.dvc"))])


def test_plan_is_dvc_postorder(tmp_path):
    st = _stages(tmp_path, """
stages:
  e: {cmd: x, deps: [d.txt], outs: [e.txt]}
  d: {cmd: x, deps: [b.txt, c.txt], outs: [d.txt]}
  b: {cmd: x, deps: [a.txt], outs: [b.txt]}
  c: {cmd: x, deps: [a.txt], outs: [c.txt]}
  a: {cmd: x, outs: [a.txt]}
""")
    g = graph.build(st, str(tmp_path))
    assert [g.stages[i].name for i in g.postorder()] == ["a", "b", "c", "d", "e"]


def test_run_cache_key_matches_dvc_vector():
    # a vector computed with dvc 3.67.1's dvc.stage.cache._get_cache_hash for this lock entry
    entry = {"cmd": "echo", "deps": [{"path": "a", "hash": "md5", "md5": "60b725f10c9c85c70d97880dfe8191b3",
                                      "size": 2}],
             "outs": [{"path": "b", "hash": "md5", "md5": "3b5d5c3712955042212316173ccf37be", "size": 2}]}
    assert key_of(entry) == "2e2d0ab38754e6c5db9126df21fbae1616a5f6291bde1df7516ef5cb9df7aa30"
    assert value_of(entry) == "046e05ccb124173ac14371f0a44558dfe95b4688a3a603e9580545dd6dccef6e"


def test_text_metrics_and_diff():
    assert parse_text_metrics("Accuracy: 0.868\n# c\nloss = 1e-3\nname: rf\npct: 90%\n") == {
        "Accuracy": 0.868, "loss": 0.001, "name": "rf", "pct": 90.0}
    d = diff({"m.txt": {"data": {"Accuracy": 0.8}}}, {"m.txt": {"data": {"Accuracy": 0.868, "n": 1}}})
    assert d["m.txt"]["Accuracy"]["diff"] == pytest.approx(0.068) and d["m.txt"]["n"] == {"old": None, "new": 1}


def test_invalid_yaml_is_one_line(tmp_path):
    with pytest.raises(FileFormatError, match=r"dvc.yaml: invalid YAML \(line \d+\)"):
        yamlio.loads("stages:\n  s: [\n", "dvc.yaml")
