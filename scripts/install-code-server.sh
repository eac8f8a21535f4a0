#!/usr/bin/env bash
# Installs code-server (VS Code 1.100 server + web workbench) into a cache folder, offline-safe:
# only the npm registry is contacted. Prints the package directory on stdout.
set -euo pipefail

version=4.100.3
cache=${NIX_FLAKES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nix-flakes-dev}
prefix="$cache/code-server-$version"
pkg="$prefix/node_modules/code-server"

if [ -f "$pkg/out/node/entry.js" ] && [ -f "$prefix/.complete" ]; then
  echo "$pkg"
  exit 0
fi

command -v rg >/dev/null || { echo "install-code-server: ripgrep (rg) is needed: apt-get install ripgrep" >&2; exit 1; }

# @vscode/ripgrep's postinstall downloads rg from GitHub; give it Debian's instead.
tmp=${TMPDIR:-/tmp}
rgcache="$tmp/vscode-ripgrep-cache-1.15.11"
mkdir -p "$rgcache"
tar czf "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg

rm -rf "$prefix"
mkdir -p "$prefix"
echo "install-code-server: installing code-server@$version into $prefix (about a minute)" >&2
# unsafe_perm: postinstall refuses root otherwise; yes: node-pty's postinstall runs npx node-gyp;
# nodedir: build native modules against the system's Node headers instead of downloading them.
npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=${npm_config_nodedir:-/usr} \
  npm install --no-save --no-audit --no-fund --prefix "$prefix" "code-server@$version" --foreground-scripts >"$prefix/install.log" 2>&1 \
  || { tail -40 "$prefix/install.log" >&2; exit 1; }
touch "$prefix/.complete"
echo "$pkg"
