"""Forge runner agents as data: how each forge's self-hosted agent is installed, started and read.

The startup script runs ``install`` then hands ``run`` to the watchdog, which matches the agent's
output against ``patterns`` to emit ``ready``/``job_started``/``job_ended``. Both snippets are
bash and see ``$TIDE_HOME``, ``$REG_URL``, ``$REG_TOKEN``, ``$RUNNER_NAME``, ``$RUNNER_LABELS``,
``$RUNNER_SINGLE`` (1 or 0), ``$IDLE_TIMEOUT`` and ``$ARCH`` (x64 or arm64).
"""

from __future__ import annotations

from dataclasses import dataclass

from tide.core.errors import UsageError


@dataclass(frozen=True)
class AgentRecipe:
    install: str
    run: str
    patterns: tuple[tuple[str, str], ...]
    token_kind: str  # the RunnerRegistration.kind this agent needs


GITHUB = AgentRecipe(
    install="""GH_RUNNER_VERSION=2.321.0
mkdir -p "$TIDE_HOME/agent"
cd "$TIDE_HOME/agent" || exit 1
curl -fsSL --retry 5 -o runner.tgz \\
  "https://github.com/actions/runner/releases/download/v${GH_RUNNER_VERSION}/actions-runner-linux-${ARCH}-${GH_RUNNER_VERSION}.tar.gz"
tar xzf runner.tgz
EPHEMERAL=()
if [ "$RUNNER_SINGLE" = 1 ]; then EPHEMERAL=(--ephemeral); fi
RUNNER_ALLOW_RUNASROOT=1 ./config.sh --unattended --replace --url "$REG_URL" --token "$REG_TOKEN" \\
  --name "$RUNNER_NAME" --labels "$RUNNER_LABELS" --work _work "${EPHEMERAL[@]}"
""",
    run='cd "$TIDE_HOME/agent" && RUNNER_ALLOW_RUNASROOT=1 exec ./run.sh',
    patterns=(("ready", r"Listening for Jobs"), ("job_started", r"Running job"),
              ("job_ended", r"completed with result")),
    token_kind="registration",
)

GITLAB = AgentRecipe(
    install="""mkdir -p "$TIDE_HOME/agent"
GL_ARCH=amd64
if [ "$ARCH" = arm64 ]; then GL_ARCH=arm64; fi
curl -fsSL --retry 5 -o "$TIDE_HOME/agent/gitlab-runner" \\
  "https://gitlab-runner-downloads.s3.amazonaws.com/latest/binaries/gitlab-runner-linux-${GL_ARCH}"
chmod +x "$TIDE_HOME/agent/gitlab-runner"
""",
    run='MAX=(); if [ "$RUNNER_SINGLE" = 1 ]; then MAX=(--max-builds 1); fi; '
        'exec "$TIDE_HOME/agent/gitlab-runner" --log-format=json run-single --url "$REG_URL" '
        '--token "$REG_TOKEN" --name "$RUNNER_NAME" --executor shell --builds-dir "$TIDE_HOME/builds" '
        '--cache-dir "$TIDE_HOME/cache" --wait-timeout "$IDLE_TIMEOUT" "${MAX[@]}"',
    patterns=(("ready", r"Starting runner for"), ("job_started", r'"job":\s*\d+.*received|job=\d+.*received'),
              ("job_ended", r'"duration_s":|Job succeeded|Job failed')),
    token_kind="authentication",
)

GITEA = AgentRecipe(
    install="""ACT_VERSION=0.2.11
mkdir -p "$TIDE_HOME/agent"
cd "$TIDE_HOME/agent" || exit 1
curl -fsSL --retry 5 -o act_runner "https://dl.gitea.com/act_runner/${ACT_VERSION}/act_runner-${ACT_VERSION}-linux-amd64"
chmod +x act_runner
./act_runner register --no-interactive --instance "$REG_URL" --token "$REG_TOKEN" \\
  --name "$RUNNER_NAME" --labels "$RUNNER_LABELS"
""",
    run='cd "$TIDE_HOME/agent" && ONCE=(); if [ "$RUNNER_SINGLE" = 1 ]; then ONCE=(--once); fi; '
        'exec ./act_runner daemon "${ONCE[@]}"',
    patterns=(("ready", r"declare successfully|runner: .* started"), ("job_started", r"task \d+ repo is"),
              ("job_ended", r"task \d+ .*(finished|result)")),
    token_kind="registration",
)

AGENTS: dict[str, AgentRecipe] = {"github": GITHUB, "gitlab": GITLAB, "gitea": GITEA, "forgejo": GITEA}


def recipe(forge: str) -> AgentRecipe:
    try:
        return AGENTS[forge]
    except KeyError:
        raise UsageError(f"no self-hosted runner agent for forge '{forge}' (known: {', '.join(sorted(AGENTS))})")
