"""Run a GitHub Actions workflow file the way GitHub does, against the rehearsal's world.

Jobs run in ``needs`` order (a job whose need failed is skipped, unless its ``if:`` says otherwise);
each on a fresh hosted machine (``ubuntu-latest``), or, for ``runs-on: [self-hosted, LABEL...]``, on
an online runner registered on the fake GitHub with all those labels (launched by an earlier job and
booted by the cloud), which the job is handed to as GitHub's broker would. Steps: ``run:`` in bash
(``bash --noprofile --norc -eo pipefail``) with GitHub's variables, ``GITHUB_ENV``/``GITHUB_PATH``/
``GITHUB_OUTPUT`` honoured; ``actions/checkout`` (a clone of the fake forge's repository at the event's
commit, on the branch, as checkout does for a branch event) and ``actions/setup-python`` (a venv of
this interpreter). Expressions are evaluated strictly (expr.py). Anything else (another action, an
unknown key the rehearsal would silently ignore) is an error.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.retrain.rehearsal.expr import Evaluator, ExpressionError, condition, substitute
from tests.retrain.rehearsal.machines import Machine, RehearsalError

JOB_KEYS = {"name", "runs-on", "needs", "if", "steps", "env", "permissions", "timeout-minutes", "outputs",
            "concurrency", "defaults", "continue-on-error"}
STEP_KEYS = {"name", "id", "uses", "with", "run", "env", "if", "shell", "working-directory", "timeout-minutes",
             "continue-on-error"}
CHECKOUT_WITH = {"fetch-depth", "ref", "token", "persist-credentials", "fetch-tags"}
SETUP_PYTHON_WITH = {"python-version", "cache"}


@dataclass
class StepLog:
    job: str
    name: str
    outcome: str          # success | failure | skipped
    output: str = ""
    seconds: float = 0.0


@dataclass
class RunResult:
    conclusion: str = "success"
    jobs: dict[str, str] = field(default_factory=dict)         # job -> success | failure | skipped
    steps: list[StepLog] = field(default_factory=list)
    error: str = ""
    tokens: list[str] = field(default_factory=list)     # the GITHUB_TOKEN of each job

    def log(self) -> str:
        return "\n".join(f"--- {s.job} / {s.name}: {s.outcome} ({s.seconds:.1f}s)\n{s.output}" for s in self.steps) + (
            f"\n!!! {self.error}" if self.error else "")


def triggers(doc: dict) -> dict:
    on = doc.get(True, doc.get("on"))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on or {}


def order(jobs: dict) -> list[str]:
    done: list[str] = []
    left = dict(jobs)
    while left:
        ready = [j for j, spec in left.items() if all(n in done for n in _needs(spec))]
        if not ready:
            raise RehearsalError(f"jobs with unknown or circular needs: {sorted(left)}")
        for j in ready:
            done.append(j)
            del left[j]
    return done


def _needs(spec: dict) -> list[str]:
    n = spec.get("needs") or []
    return [n] if isinstance(n, str) else list(n)


class GitHubRun:
    """One workflow run. ``world`` provides: ``fake`` (FakeGitHub), ``bare`` (its repository),
    ``hosted_machine()``, ``runner_machine(name)`` (the booted machine whose agent registered as ``name``),
    ``after_job()`` (the cloud boots what was launched)."""

    def __init__(self, world, path: Path, event: str, secrets: dict[str, str], inputs: dict | None = None,
                 run_number: int = 1) -> None:
        import yaml

        self.world = world
        self.doc = yaml.safe_load(path.read_text())
        self.name = self.doc.get("name") or path.name
        self.event = event
        self.secrets = dict(secrets)
        self.inputs = inputs or {}
        self.run_id = str(9000 + run_number)
        self.run_number = str(run_number)
        on = triggers(self.doc)
        if event not in on:
            raise RehearsalError(f"the workflow does not run on '{event}' (on: {sorted(on)})")
        self.cron = (on.get("schedule") or [{}])[0].get("cron", "") if event == "schedule" else ""
        self.sha = world.fake.branch_sha("main")
        repo = world.fake.repo
        self.payload: dict = {"repository": {"full_name": repo, "name": repo.split("/")[1],
                                             "owner": {"login": repo.split("/")[0]}, "default_branch": "main"},
                              "sender": {"login": "octocat"}}
        if event == "schedule":
            self.payload["schedule"] = self.cron
        elif event == "workflow_dispatch":
            self.payload.update(inputs=self.inputs, ref="refs/heads/main")
        self.result = RunResult()

    # --- contexts -------------------------------------------------------------------------------
    def github_ctx(self, job: str, workspace: str, event_path: str) -> dict:
        fake = self.world.fake
        return {"event_name": self.event, "event": self.payload, "sha": self.sha, "ref": "refs/heads/main",
                "ref_name": "main", "ref_type": "branch", "repository": fake.repo,
                "repository_owner": fake.repo.split("/")[0], "run_id": self.run_id, "run_number": self.run_number,
                "run_attempt": "1", "job": job, "actor": "octocat", "workflow": self.name,
                "workspace": workspace, "event_path": event_path, "server_url": self.world.server_url,
                "api_url": fake.base_url, "graphql_url": self.world.server_url + "/api/graphql",
                "action": "", "head_ref": "", "base_ref": ""}

    def base_env(self, job: str, m: Machine, workspace: Path, runner_name: str) -> dict[str, str]:
        fake = self.world.fake
        temp = m.root / "runner-temp" / job
        temp.mkdir(parents=True, exist_ok=True)
        event_path = temp / "event.json"
        event_path.write_text(json.dumps(self.payload))
        return {**m.env, "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": self.name,
                "GITHUB_RUN_ID": self.run_id, "GITHUB_RUN_NUMBER": self.run_number, "GITHUB_RUN_ATTEMPT": "1",
                "GITHUB_JOB": job, "GITHUB_ACTOR": "octocat", "GITHUB_REPOSITORY": fake.repo,
                "GITHUB_REPOSITORY_OWNER": fake.repo.split("/")[0], "GITHUB_EVENT_NAME": self.event,
                "GITHUB_EVENT_PATH": str(event_path), "GITHUB_SHA": self.sha, "GITHUB_REF": "refs/heads/main",
                "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch", "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_SERVER_URL": self.world.server_url, "GITHUB_API_URL": fake.base_url,
                "GITHUB_GRAPHQL_URL": self.world.server_url + "/api/graphql", "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64", "RUNNER_NAME": runner_name, "RUNNER_TEMP": str(temp),
                "RUNNER_TOOL_CACHE": str(m.root / "toolcache")}

    # --- the run --------------------------------------------------------------------------------
    def run(self) -> RunResult:
        jobs = self.doc.get("jobs") or {}
        needs_ctx: dict[str, dict] = {}
        try:
            for job in order(jobs):
                spec = jobs[job]
                unknown = set(spec) - JOB_KEYS
                if unknown:
                    raise RehearsalError(f"job {job}: keys the rehearsal does not know: {sorted(unknown)}")
                deps = _needs(spec)
                status = "success" if all(self.result.jobs[n] == "success" for n in deps) else "failure"
                ctx = {"github": self.github_ctx(job, "", ""), "needs": {n: needs_ctx[n] for n in deps},
                       "inputs": self.inputs, "vars": {}}
                if not condition(spec.get("if"), Evaluator(ctx, status)):
                    self.result.jobs[job] = "skipped"
                    needs_ctx[job] = {"result": "skipped", "outputs": {}}
                    continue
                outcome, outputs = self.run_job(job, spec, {n: needs_ctx[n] for n in deps})
                self.result.jobs[job] = outcome
                needs_ctx[job] = {"result": outcome, "outputs": outputs}
                self.world.after_job()
        except (RehearsalError, ExpressionError) as exc:
            self.result.error = str(exc)
            self.result.conclusion = "failure"
            return self.result
        if any(v == "failure" for v in self.result.jobs.values()):
            self.result.conclusion = "failure"
        return self.result

    def _machine_for(self, job: str, spec: dict) -> tuple[Machine, str, object]:
        runs_on = spec.get("runs-on")
        labels = [runs_on] if isinstance(runs_on, str) else list(runs_on or [])
        if labels == ["ubuntu-latest"]:
            return self.world.hosted_machine(), "GitHub Actions 1", None
        if not labels or labels[0] != "self-hosted":
            raise RehearsalError(f"job {job}: runs-on {runs_on!r} is not a machine the rehearsal has")
        want = {x.lower() for x in labels}
        end = time.monotonic() + self.world.queue_timeout
        while True:
            for r in list(self.world.fake.runners.values()):
                have = {lab["name"].lower() for lab in r["labels"]}
                if r["status"] == "online" and not r["busy"] and want <= have:
                    r["busy"] = True
                    return self.world.runner_machine(r["name"]), r["name"], r
            if time.monotonic() > end:
                raise RehearsalError(f"job {job}: no online runner with labels {sorted(want)} "
                                     f"(it would stay queued; runners: {self._runners()})")
            time.sleep(0.1)

    def _runners(self) -> list:
        return [(r["name"], r["status"], [x["name"] for x in r["labels"]]) for r in self.world.fake.runners.values()]

    def run_job(self, job: str, spec: dict, needs: dict) -> tuple[str, dict]:
        m, runner_name, runner = self._machine_for(job, spec)
        perms = spec.get("permissions", self.doc.get("permissions", {"contents": "read"}))
        if not isinstance(perms, dict):
            raise RehearsalError(f"job {job}: permissions {perms!r} are not rehearsed (name each scope)")
        token = self.world.fake.job_token(perms)         # GitHub mints one GITHUB_TOKEN per job
        self.result.tokens.append(token)
        secrets = {**self.secrets, "GITHUB_TOKEN": token}
        repo_name = self.world.fake.repo.split("/")[1]
        workspace = (m.root / "work" / repo_name / repo_name) if runner is None else (
            Path(m.agent_dir) / "_work" / repo_name / repo_name)  # type: ignore[attr-defined]
        workspace.mkdir(parents=True, exist_ok=True)
        env = self.base_env(job, m, workspace, runner_name)
        if runner is not None:
            self.world.hand_job(runner_name, {"name": job})
        steps_ctx: dict[str, dict] = {}
        job_env = dict(self.doc.get("env") or {})
        status = "success"
        timeout = float(spec.get("timeout-minutes", 360)) * 60
        deadline = time.monotonic() + timeout
        try:
            for n, step in enumerate(spec.get("steps") or []):
                unknown = set(step) - STEP_KEYS
                if unknown:
                    raise RehearsalError(f"job {job} step {n}: keys the rehearsal does not know: {sorted(unknown)}")
                name = step.get("name") or step.get("uses") or (step.get("run") or "").splitlines()[0]
                contexts = {"github": self.github_ctx(job, str(workspace), env["GITHUB_EVENT_PATH"]),
                            "secrets": secrets, "needs": needs, "steps": steps_ctx, "inputs": self.inputs,
                            "runner": {"os": "Linux", "arch": "X64", "temp": env["RUNNER_TEMP"],
                                       "tool_cache": env["RUNNER_TOOL_CACHE"], "name": runner_name},
                            "job": {"status": status}}
                ev = Evaluator(dict(contexts, env={**job_env}), status)
                for k, v in (spec.get("env") or {}).items():
                    job_env[k] = substitute(str(v), ev)
                ev = Evaluator(dict(contexts, env=dict(job_env)), status)
                if not condition(step.get("if"), ev):
                    self.result.steps.append(StepLog(job, name, "skipped"))
                    continue
                step_env = {k: substitute(str(v), ev) for k, v in (step.get("env") or {}).items()}
                ev = Evaluator(dict(contexts, env={**job_env, **step_env}), status)
                t0 = time.monotonic()
                ok, output, outputs = self.run_step(job, step, ev, m, env, {**job_env, **step_env}, workspace,
                                                    deadline - t0)
                if step.get("id"):
                    steps_ctx[step["id"]] = {"outputs": outputs, "outcome": "success" if ok else "failure",
                                             "conclusion": "success" if ok else "failure"}
                self.result.steps.append(StepLog(job, name, "success" if ok else "failure", output,
                                                 time.monotonic() - t0))
                if not ok and not step.get("continue-on-error"):
                    status = "failure"
            outputs = {}
            if spec.get("outputs") and status == "success":  # a failed job's outputs are whatever was written
                ev = Evaluator({"steps": steps_ctx, "needs": needs, "github": contexts["github"]}, status)
                outputs = {k: substitute(str(v), ev) for k, v in spec["outputs"].items()}
            return status, outputs
        finally:
            if runner is not None:
                self.world.job_done(runner_name, "Succeeded" if status == "success" else "Failed", runner)

    def run_step(self, job: str, step: dict, ev: Evaluator, m: Machine, env: dict, extra_env: dict,
                 workspace: Path, left: float) -> tuple[bool, str, dict]:
        temp = Path(env["RUNNER_TEMP"])
        files = {k: temp / f"{k.lower()}_{time.monotonic_ns()}" for k in ("GITHUB_ENV", "GITHUB_PATH",
                                                                         "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}
        for f in files.values():
            f.write_text("")
        full = {**env, **extra_env, **{k: str(v) for k, v in files.items()}}
        if "uses" in step:
            ok, out = self.action(job, step, ev, m, full, workspace)
        else:
            script = substitute(step["run"], ev)
            shell = step.get("shell", "bash")
            if shell != "bash":
                raise RehearsalError(f"job {job}: shell {shell!r} is not rehearsed")
            path = temp / f"step_{time.monotonic_ns()}.sh"
            path.write_text(script)
            cwd = workspace / step["working-directory"] if step.get("working-directory") else workspace
            try:
                proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=cwd,
                                      env=full, capture_output=True, text=True, timeout=max(left, 1))
            except subprocess.TimeoutExpired as exc:
                return False, f"timed out\n{exc.stdout or ''}{exc.stderr or ''}", {}
            ok, out = proc.returncode == 0, proc.stdout + proc.stderr + (
                f"\nProcess completed with exit code {proc.returncode}." if proc.returncode else "")
        # files the step appended to: environment, PATH, outputs for later steps
        env.update(_kv(files["GITHUB_ENV"].read_text()))
        for line in reversed(files["GITHUB_PATH"].read_text().splitlines()):
            if line.strip():
                env["PATH"] = line.strip() + ":" + env["PATH"]
        return ok, out, _kv(files["GITHUB_OUTPUT"].read_text())

    def action(self, job: str, step: dict, ev: Evaluator, m: Machine, env: dict, workspace: Path) -> tuple[bool, str]:
        uses = step["uses"]
        with_ = {k: substitute(str(v), ev) for k, v in (step.get("with") or {}).items()}
        name = uses.split("@")[0]
        if name == "actions/checkout":
            unknown = set(with_) - CHECKOUT_WITH
            if unknown:
                raise RehearsalError(f"actions/checkout: inputs not rehearsed: {sorted(unknown)}")
            depth = int(with_.get("fetch-depth", "1"))
            url = "file://" + str(self.world.bare)
            git = ["git", "-C", str(workspace)]
            genv = {**env, "GIT_TERMINAL_PROMPT": "0"}
            cmds = [[*git, "init", "-q"], [*git, "remote", "add", "origin", url]]
            fetch = [*git, "fetch", "-q", "--no-tags", "--prune"] + (["--depth", str(depth)] if depth else [])
            if depth == 0:
                fetch[fetch.index("--no-tags")] = "--tags"
                fetch += ["origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
            else:
                fetch += ["origin", f"+{self.sha}:refs/remotes/origin/main"]
            cmds += [fetch, [*git, "checkout", "-q", "--force", "-B", "main", "refs/remotes/origin/main"]]
            out = []
            for c in cmds:
                p = subprocess.run(c, env=genv, capture_output=True, text=True)
                out.append(p.stdout + p.stderr)
                if p.returncode != 0:
                    return False, "".join(out)
            head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
            if head != self.sha:
                return False, f"checked out {head}, the event's commit is {self.sha}"
            return True, "".join(out)
        if name == "actions/setup-python":
            unknown = set(with_) - SETUP_PYTHON_WITH
            if unknown:
                raise RehearsalError(f"actions/setup-python: inputs not rehearsed: {sorted(unknown)}")
            bindir = m.python(with_.get("python-version", ""))
            with open(env["GITHUB_PATH"], "a") as f:     # as the action does: core.addPath, core.exportVariable
                f.write(f"{bindir}\n")
            with open(env["GITHUB_ENV"], "a") as f:
                f.write(f"pythonLocation={bindir.parent}\n")
            return True, f"Successfully set up CPython ({m.image.version})"
        raise RehearsalError(f"job {job}: action {uses!r} is not rehearsed")


def _kv(text: str) -> dict[str, str]:
    """GITHUB_ENV / GITHUB_OUTPUT: ``NAME=value`` lines and ``NAME<<DELIM`` ... ``DELIM`` blocks."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^([^=<]+)<<(.+)$", line)
        if m:
            end = lines.index(m.group(2), i + 1)
            out[m.group(1)] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
        elif line.strip():
            raise RehearsalError(f"invalid line in a GitHub file command: {line!r}")
        i += 1
    return out
