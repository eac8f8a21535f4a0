#!/usr/bin/env bash
# `npm test`: installs what is missing (see scripts/setup.sh), then runs every test layer (scripts/test.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/test.mjs "$@"
