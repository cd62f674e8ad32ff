"""dvc.lock bytes: tide's emitter against ruamel.yaml as dvc configures it (run in dvc's own venv)."""

from __future__ import annotations

import json
import os
import random
import subprocess

from tests.conftest import dvc_bin
from tide.core.yamlstyle import dumps

WORDS = ["python", "train.py", "--lr", "0.01", "yes", "no", "on", "0755", "1e5", "a: b", "it's", "x\ny", "#c",
         "-x", "é", "", "null", "True", "2020-01-01", "~", "=", "a" * 30, "b" * 90, "https://x.y/z?q=1", "@at",
         "`bt`", "%p", "[x]", "{y}", "*", "&a", "!t", "a#b", " lead", "trail ", "tab\tx", ">", "|", "3.0", "-1",
         "0x1F", "0o17", "1_000", ".5", "inf", ".inf", "'q'", '"dq"']

ORACLE = """
import io, json, sys
from collections import OrderedDict
from ruamel.yaml import YAML
y = YAML(); y.default_flow_style = False
out = []
for d in json.load(sys.stdin):
    s = io.StringIO(); y.dump(d, s); out.append(s.getvalue())
json.dump(out, sys.stdout)
"""


def _value(rnd: random.Random, depth: int = 0):
    r = rnd.random()
    if depth > 2 or r < 0.55:
        c = rnd.random()
        if c < 0.55:
            return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 14)))
        if c < 0.65:
            return rnd.choice([1, -3, 0, 10**20])
        if c < 0.8:
            return rnd.choice([0.01, 1e-05, 1e20, 1.0, 3.14159, 123456.789, 1e-300, 0.868])
        if c < 0.87:
            return rnd.choice([True, False])
        return rnd.choice(WORDS)
    if r < 0.75:
        return [_value(rnd, depth + 1) for _ in range(rnd.randint(1, 3))]
    return {rnd.choice(WORDS) or "k": _value(rnd, depth + 1) for _ in range(rnd.randint(1, 3))}


def test_lock_yaml_matches_ruamel_byte_for_byte():
    rnd = random.Random(1234)
    docs = [{"schema": "2.0", "stages": {f"s{i}": {"cmd": _value(rnd, 3), "params": {"params.yaml": _value(rnd)}}}}
            for i in range(300)]
    docs.append({"schema": "2.0", "stages": {"train": {
        "cmd": "python train.py --data data/train_features.csv --labels data/train_labels.csv --out model",
        "deps": [{"path": "data", "hash": "md5", "md5": "f8ea1f93c4515869d81423e3449de5f7.dir", "size": 800,
                  "nfiles": 4}]}}})
    python = os.path.join(os.path.dirname(dvc_bin()), "python")
    proc = subprocess.run([python, "-c", ORACLE], input=json.dumps(docs), capture_output=True, text=True,
                          check=True)
    expected = json.loads(proc.stdout)
    mismatches = [(d, e) for d, e in zip(docs, expected, strict=True) if dumps(d) != e]
    assert not mismatches, f"{len(mismatches)} differ; first:\n{mismatches[0][1]}\nvs\n{dumps(mismatches[0][0])}"
