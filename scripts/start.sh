#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the extension, and starts a real VS Code (code-server) on
# 127.0.0.1 with the extension loaded on the bundled example flake (examples/hello). Prints the URL to open.
#   PORT=8080 npm start            choose the port (default 8080)
#   npm start -- --screenshot F    also open it in headless Chromium, save a screenshot, and stop
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/build.mjs --tests --only 'harness|support|e2e'
node scripts/build.mjs
exec node out/test/harness/start.js "$@"
