#!/usr/bin/env bash
# Makes sure this machine has what the extension's tests and `npm start` need, installing what is missing:
#   - nix (Debian's nix-bin), Chromium, git, ripgrep, and the headers code-server's native modules build against
#     (apt, when run as root; otherwise it says exactly what to install);
#   - npm dependencies (npm ci, when node_modules is missing or stale);
#   - code-server 4.100.3 in a cache folder (scripts/install-code-server.sh).
# Usage: bash scripts/setup.sh [--quiet]
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=${1:-}
say() { [ "$quiet" = --quiet ] || echo "setup: $*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is needed (found $(node --version 2>/dev/null || echo none)). Debian 12's apt has 18: install Node 20 from nodejs.org or NodeSource." >&2
  exit 1
fi

need=()
command -v nix >/dev/null || need+=(nix-bin)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
command -v git >/dev/null || need+=(git)
command -v rg >/dev/null || need+=(ripgrep)
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)
# The deploy tests' second machine: sshd on 127.0.0.1 and the ssh client (test/support/testHost.ts).
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
[ -f /usr/include/krb5.h ] || [ -f /usr/include/krb5/krb5.h ] || need+=(libkrb5-dev)
fc-list 2>/dev/null | grep -qi liberation || need+=(fonts-liberation)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing with apt: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: missing packages: ${need[*]}" >&2
    echo "setup: install them with: sudo apt-get install --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
fi

# Node's headers for native modules (code-server's argon2, kerberos, node-pty…): the system's, never downloaded.
if [ -z "${npm_config_nodedir:-}" ]; then
  for d in /usr /usr/local "$(dirname "$(dirname "$(command -v node)")")"; do
    if [ -f "$d/include/node/node.h" ]; then export npm_config_nodedir=$d; break; fi
  done
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

bash scripts/install-code-server.sh >/dev/null
say "ready: $(nix --version), $("${CHROMIUM_PATH:-/usr/bin/chromium}" --version 2>/dev/null | head -1), code-server 4.100.3"
