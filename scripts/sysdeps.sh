#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only when they are missing.
# `sysdeps.sh bench`: only what `make bench` needs (GNU time, for the peak-memory column).
set -euo pipefail
need=()
[ -x /usr/bin/time ] || need+=(time)
if [ "${1:-}" != bench ]; then
command -v git >/dev/null || need+=(git)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v shellcheck >/dev/null || need+=(shellcheck)
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || need+=(postgresql)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v npm >/dev/null || need+=(npm)  # brings node; for Azurite below
command -v chromium >/dev/null || need+=(chromium)  # tests/ui drive tide ui in a real browser
command -v chromedriver >/dev/null || need+=(chromium-driver)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "sysdeps: missing ${need[*]}; install them (needs root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ "${1:-}" != bench ] || exit 0
# Azurite, Microsoft's Azure Storage emulator (npm), for the azure:// storage conformance tests
AZURITE_DIR="${AZURITE_DIR:-.venv/azurite}"
if [ ! -x "$AZURITE_DIR/node_modules/.bin/azurite-blob" ]; then
  mkdir -p "$AZURITE_DIR"
  npm install --silent --no-audit --no-fund --prefix "$AZURITE_DIR" 'azurite@3' >/dev/null
fi
