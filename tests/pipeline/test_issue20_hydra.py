"""Issue 20: ``exp run`` with ``hydra.enabled`` composes params.yaml from the Hydra config as dvc 3.67.1 does
(config groups, ``+``/``~`` overrides, a search-path plugin from ``hydra.plugins_path``, sweeps queued as
several experiments), proved against real dvc on the same repository; its errors are one line."""

from __future__ import annotations

import json
import os
import re
import textwrap

import pytest

from tests.conftest import breadth, git
from tests.pipeline.expproject import train_project

TRAIN = textwrap.dedent('''
    import json, yaml
    p = yaml.safe_load(open("params.yaml"))
    open("model.txt", "w").write(str(p["train"]["lr"] * p["train"]["n"]))
    json.dump({"score": p["train"]["lr"] * p["train"]["n"]}, open("metrics.json", "w"))
''')

# a search-path plugin found through hydra.plugins_path: it adds extra_conf/ (an 'extra' config group)
PLUGIN = textwrap.dedent('''
    import os
    from hydra.core.config_search_path import ConfigSearchPath
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    class ExtraConf(SearchPathPlugin):
        def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
            here = os.path.dirname(os.path.abspath(__file__))
            search_path.append("extra", "file://" + os.path.join(here, "..", "..", "..", "extra_conf"))
''')

CONF = {
    "conf/config.yaml": "defaults:\n  - db: mysql\n  - _self_\ntrain:\n  lr: 0.1\n  n: 3\n"
                        "  name: run-${train.n}-${db.driver}\nseed: 1\n",
    "conf/db/mysql.yaml": "driver: mysql\nport: 3306\n",
    "conf/db/postgres.yaml": "driver: postgres\nport: 5432\n",
    "extra_conf/extra/big.yaml": "size: 1000\n",
    "plugins/hydra_plugins/tide_test_extra/__init__.py": "",
    "plugins/hydra_plugins/tide_test_extra/extra.py": PLUGIN,
}
STALE = "# written by hand before Hydra\ntrain:\n  lr: 0.0\n  n: 1\n"
ARGS = ("-S", "db=postgres", "-S", "train.lr=0.5", "-S", "+extra=big", "-S", "~seed")


def _project(d, tide, **config):
    d = train_project(d, tide, TRAIN, STALE, files=CONF)
    with open(d / ".dvc" / "config", "a") as f:  # as `dvc config hydra.enabled true` ... writes it
        f.write("[hydra]\n" + "".join(f"    {k} = {v}\n" for k, v in
                                      {"enabled": "true", "plugins_path": "plugins", **config}.items()))
    git(d, "commit", "-qam", "hydra on")
    return d


def _exp_params(d, run, names):
    """name -> params of that experiment in ``exp show --json`` (dvc's shape)."""
    out = {}
    for base in json.loads(run("exp", "show", "--json", cwd=d).stdout):
        for e in base.get("experiments") or []:
            for r in e["revs"]:
                if r["name"] in names:
                    out[r["name"]] = r["data"]["params"]
    return out


def _queued(d, ref, pattern):
    """name -> params.yaml bytes of each queued experiment (dvc: its stash reflog; tide: its queue refs)."""
    if ref.endswith("stash"):
        commits = git(d, "log", "-g", "--format=%H %s", ref).splitlines()
    else:
        commits = git(d, "for-each-ref", "--format=%(objectname) %(contents:subject)", ref).splitlines()
    out = {}
    for line in commits:
        sha, msg = line.split(" ", 1)
        m = re.search(pattern, msg)
        if m:
            out[m.group(1)] = git(d, "show", f"{sha}:params.yaml")
    return out


def test_issue20_hydra_exp_run_composes_params_yaml_as_dvc(tmp_path, tide, dvc):
    d = _project(tmp_path / "p", tide)
    head = git(d, "rev-parse", "HEAD").strip()
    dvc("exp", "run", "-n", "by-dvc", *ARGS, cwd=d)
    made = (d / "params.yaml").read_bytes()
    git(d, "checkout", "-q", "--", "params.yaml")
    tide("exp", "run", "-n", "by-tide", *ARGS, cwd=d)
    # byte for byte what dvc wrote: the group chosen, +/~ applied, the plugin's group found, ${} resolved
    assert (d / "params.yaml").read_bytes() == made
    assert made == (b"db:\n  driver: postgres\n  port: 5432\ntrain:\n  lr: 0.5\n  'n': 3\n"
                    b"  name: run-3-postgres\nextra:\n  size: 1000\n")
    pref = f"refs/exps/{head[:2]}/{head[2:]}/"
    assert git(d, "show", f"{pref}by-tide:params.yaml") == git(d, "show", f"{pref}by-dvc:params.yaml")
    names = {"by-dvc", "by-tide"}
    shown = _exp_params(d, tide, names)
    assert shown["by-tide"] == shown["by-dvc"] and shown == _exp_params(d, dvc, names)
    # --temp goes through the queue's code: the same file, and the workspace left as it was
    git(d, "checkout", "-q", "--", "params.yaml")
    tide("exp", "run", "--temp", "-n", "tmp-tide", *ARGS, cwd=d)
    assert git(d, "show", f"{pref}tmp-tide:params.yaml") == made.decode()
    assert (d / "params.yaml").read_text() == STALE
    # a sweep queues dvc's experiments: the same names, order, printed overrides and params.yaml
    sweep = ("-S", "train.lr=0.2,0.3", "-S", "db=mysql,postgres")
    by_dvc = dvc("exp", "run", "--queue", "-n", "sw", *sweep, cwd=d).stdout
    by_tide = tide("exp", "run", "--queue", "-n", "sw", *sweep, cwd=d).stdout
    assert by_tide == by_dvc and by_tide.count("Queued experiment 'sw-") == 4
    assert "'params.yaml': ['train.lr=0.3', 'db=mysql']" in by_tide
    dq = _queued(d, "refs/exps/celery/stash", r"^dvc-exp:\w+:\w+:(.+)$")
    tq = _queued(d, "refs/tide/queue/", r"^tide-exp-queue:\w+:(.+)$")
    assert tq == dq and sorted(tq) == ["sw-1", "sw-2", "sw-3", "sw-4"]
    assert "driver: postgres" in tq["sw-4"] and "lr: 0.3" in tq["sw-4"]
    # --no-hydra: params.yaml is edited in place, as without Hydra
    out = tide("exp", "run", "--queue", "--no-hydra", "-n", "plain", "-S", "train.lr=0.9", cwd=d).stdout
    assert "Queued experiment 'plain'" in out
    assert _queued(d, "refs/tide/queue/", r"^tide-exp-queue:\w+:(plain)$")["plain"] == STALE.replace("0.0", "0.9")


ERRORS = [  # (hydra options, -S arguments, what the one line says)
    ({}, ("-S", "db=oracle"), "Could not find 'db/oracle' (Available options in 'db': mysql, postgres)"),
    ({}, ("-S", "train.lr=[1,"), "invalid -S/--set-param for Hydra: no viable alternative at input '[1,'"),
    ({"config_dir": "nodir"}, (), "Primary config directory not found"),
    ({"config_name": "nope"}, (), "Cannot find primary config 'nope'"),
    ({}, ("-S", "nokey=1"), "Could not override 'nokey'. To append to your config use +nokey=1"),
    ({}, ("-S", "train.lr=0.1,0.2"), "can't be used without --queue"),
    ({}, ("--queue", "-S", "db=glob(*)"), "Glob override 'db=glob(*)' is not supported."),
    ({}, ("--queue", "-S", "db=mysql,oracle"), "Could not find 'db/oracle'"),  # dvc queues db=mysql first
]


@pytest.mark.parametrize("options,args,says", breadth([pytest.param(*e, id=e[2][:30]) for e in ERRORS], keep=2))
def test_issue20_hydra_errors_are_one_line_and_change_nothing(tmp_path, tide, dvc, options, args, says):
    d = _project(tmp_path / "p", tide, **options)
    before = (d / "params.yaml").read_bytes()
    res = tide("exp", "run", *args, cwd=d, check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and says in res.stderr, res.stderr
    assert (d / "params.yaml").read_bytes() == before and git(d, "for-each-ref", "refs/exps", "refs/tide") == ""
    assert dvc("exp", "run", *args, cwd=d, check=False).returncode != 0  # real dvc refuses it too


def test_issue20_hydra_missing_hydra_core_is_one_line(tmp_path, tide):
    d = _project(tmp_path / "p", tide)
    shadow = tmp_path / "shadow" / "hydra"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('hydra-core is not installed here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shadow.parent), os.environ.get("PYTHONPATH", "")]))
    res = tide("exp", "run", "-S", "db=postgres", cwd=d, check=False, env=env)
    assert res.returncode != 0 and "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    assert "hydra-core is not installed: pip install 'tide-ml[hydra]'" in res.stderr
    # --no-hydra runs without it (params.yaml edited in place)
    tide("exp", "run", "--no-hydra", "-n", "plain", "-S", "train.lr=0.4", cwd=d, env=env)
    assert (d / "params.yaml").read_text() == STALE.replace("0.0", "0.4")
