"""The startup script (cloud-init user data) that turns a fresh machine into a tide runner.

Rendered per machine from :class:`RunnerSpec`, the kind's :class:`Capabilities` and the forge's
agent recipe. Blobs (the user's script, the watchdog, its config) travel base64-encoded in quoted
heredocs, so no value can break the shell. The script:

1. exits at once if it already ran (reboots);
2. runs the user's ``--cloud-startup-script``;
3. makes sure ``python3`` and ``curl`` exist (apt-get when missing);
4. installs and registers the forge agent (skipped when ``TIDE_SKIP_AGENT=1``);
5. starts the watchdog detached (systemd-run when systemd runs, else setsid+nohup).

Run-time overrides: ``TIDE_HOME`` (install directory), ``TIDE_SKIP_AGENT=1`` and
``TIDE_POWEROFF`` (what ends the machine; empty = only stop tide's processes),
``TIDE_FOREGROUND=1`` (exec the watchdog: containers, where it must be the main process).
The script carries the forge's *registration* token only: never the launcher's cloud
credentials nor its forge token.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
from dataclasses import dataclass

from tide.runners.agents import AgentRecipe
from tide.runners.base import Capabilities, RunnerSpec


@dataclass(frozen=True)
class Registration:
    """The agent's credential and where it registers (a forge ``RunnerRegistration``)."""

    url: str
    token: str

    def __repr__(self) -> str:
        return f"Registration(url={self.url!r})"


def _b64_heredoc(path: str, data: bytes, mode: str = "600") -> str:
    enc = base64.b64encode(data).decode()
    lines = [enc[i : i + 76] for i in range(0, len(enc), 76)] or [""]
    body = "\n".join(lines)
    return f"base64 -d > \"{path}\" <<'TIDE_B64'\n{body}\nTIDE_B64\nchmod {mode} \"{path}\"\n"


def watchdog_source() -> bytes:
    from tide.runners import watchdog

    with open(watchdog.__file__, "rb") as f:
        return f.read()


def watchdog_config(spec: RunnerSpec, caps: Capabilities, agent: AgentRecipe | None, deadline: int | None,
                    home: str = "$TIDE_HOME") -> dict:
    """The watchdog's config; paths use ``home`` (expanded by the script at run time)."""
    cfg: dict = {
        "name": spec.name,
        "agent": "bash \"$TIDE_HOME/agent-run.sh\"" if agent else None,
        "patterns": dict(agent.patterns) if agent else {},
        "idle_timeout": spec.idle_timeout,
        "single": spec.single,
        "max_runtime": spec.max_runtime,
        "started_at": None,
        "deadline": deadline,
        "events": f"{home}/events.jsonl",
        "state": f"{home}/state.json",
        "log": f"{home}/agent.log",
        "cwd": home,
        "poweroff": caps.poweroff,
    }
    if caps.spot_notice and spec.spot:
        n = caps.spot_notice
        cfg["spot"] = {"url": n.url, "kind": n.kind, "headers": dict(n.headers), "token_url": n.token_url,
                       "token_header": n.token_header, "interval": 5}
    return cfg


def render(spec: RunnerSpec, caps: Capabilities, agent: AgentRecipe | None,
           registration: Registration | None, deadline: int | None, home: str = "") -> str:
    """The startup script for one machine (bash, shellcheck-clean)."""
    home = home or f"/opt/tide-runner/{spec.name}"
    cfg = watchdog_config(spec, caps, agent, deadline)
    default_poweroff = caps.poweroff
    out = [
        "#!/usr/bin/env bash",
        f"# tide runner startup script for '{spec.name}' ({spec.cloud}); rendered by tide, safe to re-run.",
        "set -euo pipefail",
        f"TIDE_HOME=\"${{TIDE_HOME:-{home}}}\"",
        "export TIDE_HOME",
        "TIDE_SKIP_AGENT=\"${TIDE_SKIP_AGENT:-0}\"",
        f"TIDE_POWEROFF=\"${{TIDE_POWEROFF-{default_poweroff}}}\"",
        'if [ -e "$TIDE_HOME/.started" ]; then echo "tide: runner already set up in $TIDE_HOME" >&2; exit 0; fi',
        'mkdir -p "$TIDE_HOME"',
        'chmod 700 "$TIDE_HOME"',
        'cd "$TIDE_HOME"',
        "",
        "# 1. the user's startup script",
        _b64_heredoc("$TIDE_HOME/user-startup.sh", spec.startup_script.encode(), "700"),
        'bash "$TIDE_HOME/user-startup.sh"',
        "",
        "# 2. python3 and curl",
        "if ! command -v python3 >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then",
        "  if command -v apt-get >/dev/null 2>&1; then",
        "    export DEBIAN_FRONTEND=noninteractive",
        "    apt-get update -qq",
        "    apt-get install -y -qq python3 curl ca-certificates",
        "  fi",
        "fi",
        "",
        "# 3. the watchdog",
        _b64_heredoc("$TIDE_HOME/watchdog.py", watchdog_source()),
        _b64_heredoc("$TIDE_HOME/watchdog.tmpl.json", json.dumps(cfg, indent=1).encode()),
        # expand $TIDE_HOME in the config and stamp the start time (max-runtime survives reboots)
        'python3 - "$TIDE_HOME" <<\'TIDE_PY\'',
        "import json, os, sys, time",
        "home = sys.argv[1]",
        "raw = open(os.path.join(home, 'watchdog.tmpl.json')).read().replace('$TIDE_HOME', home)",
        "cfg = json.loads(raw)",
        "cfg['started_at'] = time.time()",
        "tmp = os.path.join(home, 'watchdog.json.tmp')",
        "with open(tmp, 'w') as f:",
        "    json.dump(cfg, f)",
        "os.replace(tmp, os.path.join(home, 'watchdog.json'))",
        "TIDE_PY",
        "",
    ]
    if agent:
        reg = registration or Registration("", "")
        out += [
            "# 4. the forge agent",
            f"REG_URL={shlex.quote(reg.url)}",
            f"RUNNER_NAME={shlex.quote(spec.name)}",
            f"RUNNER_LABELS={shlex.quote(','.join(spec.labels))}",
            f"RUNNER_SINGLE={1 if spec.single else 0}",
            f"IDLE_TIMEOUT={int(spec.idle_timeout)}",
            "ARCH=x64",
            'if [ "$(uname -m)" = aarch64 ]; then ARCH=arm64; fi',
            "export REG_URL RUNNER_NAME RUNNER_LABELS RUNNER_SINGLE IDLE_TIMEOUT ARCH",
            _b64_heredoc("$TIDE_HOME/agent-token", reg.token.encode()),
            'REG_TOKEN="$(cat "$TIDE_HOME/agent-token")"',
            "export REG_TOKEN",
            "{",
            "  echo '#!/usr/bin/env bash'",
            "  echo 'set -euo pipefail'",
            '  printf "export REG_URL=%q RUNNER_NAME=%q RUNNER_LABELS=%q" "$REG_URL" "$RUNNER_NAME" "$RUNNER_LABELS"',
            '  printf " RUNNER_SINGLE=%q IDLE_TIMEOUT=%q ARCH=%q\\n" \\',
            '    "$RUNNER_SINGLE" "$IDLE_TIMEOUT" "$ARCH"',
            "  # shellcheck disable=SC2016  # expanded when agent-run.sh runs",
            "  echo 'REG_TOKEN=\"$(cat \"$TIDE_HOME/agent-token\")\"; export REG_TOKEN'",
            "} > \"$TIDE_HOME/agent-run.sh\"",
            _b64_heredoc("$TIDE_HOME/agent-run.part", agent.run.encode() + b"\n"),
            'cat "$TIDE_HOME/agent-run.part" >> "$TIDE_HOME/agent-run.sh"',
            'chmod 700 "$TIDE_HOME/agent-run.sh"',
            'if [ "$TIDE_SKIP_AGENT" != 1 ]; then',
            _b64_heredoc("$TIDE_HOME/agent-install.sh", agent.install.encode(), "700"),
            '  (bash "$TIDE_HOME/agent-install.sh")',
            "fi",
            "",
        ]
    out += [
        "# 5. start the watchdog, detached",
        "WD_ARGS=()",
        'if [ "$TIDE_SKIP_AGENT" = 1 ]; then WD_ARGS+=(--no-agent); fi',
        'WD_ARGS+=(--poweroff "$TIDE_POWEROFF")',
        ': > "$TIDE_HOME/.started"',
        'if [ -n "${TIDE_FOREGROUND:-}" ]; then  # containers: the watchdog is the main process',
        '  exec python3 "$TIDE_HOME/watchdog.py" "$TIDE_HOME/watchdog.json" "${WD_ARGS[@]}"',
        "fi",
        'if [ "$(id -u)" = 0 ] && [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 \\',
        '   && [ -z "${TIDE_NO_SYSTEMD:-}" ]; then',
        '  systemd-run --unit "tide-watchdog-$RANDOM" --property=Restart=on-failure \\',
        '    python3 "$TIDE_HOME/watchdog.py" "$TIDE_HOME/watchdog.json" "${WD_ARGS[@]}"',
        "else",
        '  nohup setsid python3 "$TIDE_HOME/watchdog.py" "$TIDE_HOME/watchdog.json" "${WD_ARGS[@]}" \\',
        '    >> "$TIDE_HOME/watchdog.log" 2>&1 < /dev/null &',
        '  echo "$!" > "$TIDE_HOME/watchdog.pid"',
        "fi",
        'echo "tide: runner $TIDE_HOME started"',
    ]
    return "\n".join(out) + "\n"


def local_home(base: str, name: str) -> str:
    return os.path.join(base, name)
