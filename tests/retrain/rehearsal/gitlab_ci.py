"""Run a ``.gitlab-ci.yml`` pipeline the way GitLab does, against the rehearsal's world.

Jobs in ``stages`` order (``needs`` respected), kept or dropped by ``rules`` (``if:`` expressions over
the pipeline's variables: ``$VAR``, ``==``, ``!=``, ``=~``, ``&&``, ``||``, parentheses); each job on a
shared runner (a fresh machine whose ``image: python:X`` is a venv of this interpreter) or, with
``tags:``, on an online project runner carrying those tags (registered by an earlier job, booted by
the cloud, verified with the fake GitLab). The checkout is GitLab's: a clone of the project at
``CI_COMMIT_SHA`` in a detached HEAD, ``GIT_DEPTH`` honoured; ``before_script`` and ``script`` run as
one bash script that stops at the first failing line. Variables: GitLab's predefined ``CI_*`` ones,
the project's CI/CD variables, the schedule's variables and the job's ``variables:``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from pathlib import Path

from tests.retrain.rehearsal.actions import RunResult, StepLog
from tests.retrain.rehearsal.machines import Machine, RehearsalError

RESERVED = {"stages", "variables", "default", "workflow", "include", "image", "services", "before_script",
            "after_script", "cache"}
JOB_KEYS = {"stage", "image", "rules", "before_script", "script", "after_script", "variables", "needs", "tags",
            "timeout", "allow_failure", "when"}


def rule_matches(expr: str, variables: dict[str, str]) -> bool:
    """GitLab's ``rules:if`` language (the common part); an unparsable expression is an error."""
    toks = re.findall(r'\s*(\$[A-Za-z_][A-Za-z0-9_]*|"[^"]*"|\'[^\']*\'|/(?:\\.|[^/])*/|==|!=|=~|!~|&&|\|\||\(|\)'
                      r'|null|\S+)', expr)
    pos = 0

    def value(tok: str):
        if tok.startswith("$"):
            return variables.get(tok[1:])
        if tok[0] in "\"'":
            return tok[1:-1]
        if tok == "null":
            return None
        raise RehearsalError(f"rules: cannot read {tok!r} in {expr!r}")

    def atom() -> bool:
        nonlocal pos
        tok = toks[pos]
        pos += 1
        if tok == "(":
            v = disj()
            if toks[pos] != ")":
                raise RehearsalError(f"rules: ')' expected in {expr!r}")
            pos += 1
            return v
        left = value(tok)
        if pos < len(toks) and toks[pos] in ("==", "!=", "=~", "!~"):
            op, right_tok = toks[pos], toks[pos + 1]
            pos += 2
            if op in ("=~", "!~"):
                if not right_tok.startswith("/"):
                    raise RehearsalError(f"rules: a regex is expected after {op} in {expr!r}")
                hit = left is not None and re.search(right_tok[1:-1], left) is not None
                return hit if op == "=~" else not hit
            right = value(right_tok)
            return (left == right) if op == "==" else (left != right)
        return bool(left)

    def conj() -> bool:
        nonlocal pos
        v = atom()
        while pos < len(toks) and toks[pos] == "&&":
            pos += 1
            v = atom() and v
        return v

    def disj() -> bool:
        nonlocal pos
        v = conj()
        while pos < len(toks) and toks[pos] == "||":
            pos += 1
            v = conj() or v
        return v

    out = disj()
    if pos != len(toks):
        raise RehearsalError(f"rules: unexpected {toks[pos]!r} in {expr!r}")
    return out


class GitLabPipeline:
    """One pipeline. ``world`` provides ``fake`` (FakeGitLab), ``bare``, ``hosted_machine()``,
    ``gitlab_runner_machine(runner)``, ``hand_gitlab_job``/``gitlab_job_done`` and ``after_job()``."""

    def __init__(self, world, path: Path, source: str, variables: dict[str, str],
                 schedule_variables: dict[str, str] | None = None, pipeline_id: int = 1) -> None:
        import yaml

        self.world = world
        self.doc = yaml.safe_load(path.read_text())
        self.source = source
        self.project_vars = dict(variables)
        self.schedule_vars = dict(schedule_variables or {})
        self.pipeline_id = pipeline_id
        self.sha = world.fake.branch_sha("main")
        self.result = RunResult()

    def predefined(self, job: str, job_id: int, project_dir: str) -> dict[str, str]:
        fake = self.world.fake
        server = fake.base_url[: -len("/api/v4")]
        return {"CI": "true", "GITLAB_CI": "true", "CI_SERVER_URL": server, "CI_API_V4_URL": fake.base_url,
                "CI_PROJECT_ID": str(fake.project_num), "CI_PROJECT_PATH": fake.project,
                "CI_PROJECT_NAME": fake.project.rsplit("/", 1)[1], "CI_PROJECT_URL": f"{server}/{fake.project}",
                "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_SHA": self.sha, "CI_COMMIT_SHORT_SHA": self.sha[:8],
                "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_BRANCH": "main", "CI_PIPELINE_ID": str(self.pipeline_id),
                "CI_PIPELINE_SOURCE": self.source, "CI_JOB_ID": str(job_id), "CI_JOB_NAME": job,
                "CI_JOB_TOKEN": "job-token-" + str(job_id), "CI_PROJECT_DIR": project_dir}

    def jobs(self) -> dict[str, dict]:
        out = {}
        for k, v in self.doc.items():
            if k in RESERVED or k.startswith("."):
                continue
            if not isinstance(v, dict) or "script" not in v:
                raise RehearsalError(f"{k!r} is neither a job nor a keyword the rehearsal knows")
            unknown = set(v) - JOB_KEYS
            if unknown:
                raise RehearsalError(f"job {k}: keys the rehearsal does not know: {sorted(unknown)}")
            out[k] = v
        return out

    def run(self) -> RunResult:
        try:
            stages = self.doc.get("stages") or ["build", "test", "deploy"]
            jobs = self.jobs()
            variables = {**self.predefined("", 0, ""), **self.project_vars, **self.schedule_vars}
            kept = {}
            for name, spec in jobs.items():
                rules = spec.get("rules")
                if rules is None or any(rule_matches(r["if"], variables) if "if" in r else True for r in rules):
                    kept[name] = spec
                else:
                    self.result.jobs[name] = "skipped"
            if not kept:
                raise RehearsalError(f"no job runs for a '{self.source}' pipeline")
            ordered = sorted(kept, key=lambda j: stages.index(kept[j].get("stage", "test")))
            for n, name in enumerate(ordered):
                spec = kept[name]
                needs = spec.get("needs")
                deps = needs if needs is not None else [j for j in ordered[:n]
                                                        if stages.index(kept[j].get("stage", "test"))
                                                        < stages.index(spec.get("stage", "test"))]
                if any(self.result.jobs.get(d) != "success" for d in deps):
                    self.result.jobs[name] = "skipped"
                    continue
                self.result.jobs[name] = self.run_job(name, spec, 1000 * self.pipeline_id + n)
                self.world.after_job()
        except RehearsalError as exc:
            self.result.error = str(exc)
            self.result.conclusion = "failure"
            return self.result
        if any(v == "failed" for v in self.result.jobs.values()):
            self.result.conclusion = "failure"
        return self.result

    def _machine(self, name: str, spec: dict) -> tuple[Machine, dict | None]:
        tags = set(spec.get("tags") or [])
        if not tags:
            return self.world.hosted_machine(), None
        end = time.monotonic() + self.world.queue_timeout
        while True:
            for r in list(self.world.fake.runners.values()):
                if r["status"] == "online" and tags <= set(r["tag_list"]) and self.world.polling(r):
                    return self.world.gitlab_runner_machine(r), r
            if time.monotonic() > end:
                raise RehearsalError(f"job {name}: no online runner with tags {sorted(tags)} (it would stay pending)")
            time.sleep(0.1)

    def run_job(self, name: str, spec: dict, job_id: int) -> str:
        m, runner = self._machine(name, spec)
        image = str(spec.get("image") or self.doc.get("image") or "")
        fake = self.world.fake
        base = Path(m.agent_dir) / "builds" if runner else m.root / "builds"  # type: ignore[attr-defined]
        project_dir = base / fake.project
        project_dir.mkdir(parents=True, exist_ok=True)
        declared = {**(self.doc.get("variables") or {}), **(spec.get("variables") or {})}
        job_vars = {k: str(v) for k, v in declared.items()}
        env = {**m.env, **self.predefined(name, job_id, str(project_dir)), **self.project_vars, **self.schedule_vars,
               **job_vars}
        if runner:
            self.world.hand_gitlab_job(runner, {"id": job_id, "name": name})
        ok = False
        try:
            if image:
                m_ = re.fullmatch(r"python:(\d+\.\d+)(?:-\w+)?", image)
                if not m_:
                    raise RehearsalError(f"job {name}: image {image!r} is not rehearsed")
                env["PATH"] = f"{m.python(m_.group(1))}:{env['PATH']}"
            out = self.checkout(project_dir, env, job_vars.get("GIT_DEPTH", "20"))
            lines = list(spec.get("before_script") or self.doc.get("before_script") or []) + list(spec["script"])
            script = "set -eo pipefail\n" + "".join(f"echo {shlex.quote('$ ' + ln)}\n{ln}\n" for ln in lines)
            path = m.root / "tmp" / f"job-{job_id}.sh"
            path.write_text(script)
            timeout = _minutes(spec.get("timeout", "60 minutes")) * 60
            try:
                proc = subprocess.run(["bash", "--noprofile", "--norc", str(path)], cwd=project_dir, env=env,
                                      capture_output=True, text=True, timeout=timeout)
                ok = proc.returncode == 0
                out += proc.stdout + proc.stderr + ("" if ok else f"\nERROR: Job failed: exit code {proc.returncode}")
            except subprocess.TimeoutExpired as exc:
                out += f"{exc.stdout or ''}{exc.stderr or ''}\nERROR: Job failed: execution took longer than timeout"
            self.result.steps.append(StepLog(name, "script", "success" if ok else "failure", out))
            return "success" if ok else "failed"
        finally:
            if runner:
                self.world.gitlab_job_done(runner, "succeeded" if ok else "failed")

    def checkout(self, project_dir: Path, env: dict, depth: str) -> str:
        git = ["git", "-C", str(project_dir)]
        fetch = [*git, "fetch", "-q", "--prune", "--tags"] + (["--depth", depth] if depth not in ("0", "") else [])
        cmds = [[*git, "init", "-q"], [*git, "remote", "add", "origin", "file://" + str(self.world.bare)],
                [*fetch, "origin", "+refs/heads/*:refs/remotes/origin/*"],
                [*git, "checkout", "-f", "-q", self.sha]]   # GitLab: "Checking out SHA as detached HEAD"
        out = ""
        for c in cmds:
            p = subprocess.run(c, env={**env, "GIT_TERMINAL_PROMPT": "0"}, capture_output=True, text=True)
            out += p.stdout + p.stderr
            if p.returncode != 0:
                raise RehearsalError(f"checkout failed: {out}")
        return out + f"Checking out {self.sha[:8]} as detached HEAD (ref is main)...\n"


def _minutes(text) -> float:
    m = re.fullmatch(r"\s*(\d+)\s*(minutes?|m|hours?|h)\s*", str(text))
    if not m:
        raise RehearsalError(f"timeout {text!r} is not rehearsed")
    return float(m.group(1)) * (60 if m.group(2).startswith("h") else 1)
