#!/usr/bin/env bash
# Installs the Nix versions the tests run on, each from Debian's own binary packages into a cache folder of its own,
# never over the system's nix:
#   2.8   Debian 12 (bookworm)      2.26  Debian 13 (trixie)      current  Debian unstable (sid)
# A separate apt state per suite leaves the machine's apt alone; each version's `nix` is patched to load its own
# libraries, so all of them run side by side on any Debian 12 or 13 machine. Idempotent, and offline once cached.
#
# Usage: bash scripts/nix-versions.sh [SUITE...]     (default: bookworm trixie sid)
# Prints one line per version: `<suite> <version> <path of its nix>`.
# Needs root for apt (patchelf is installed when missing); otherwise it says what to install.
set -euo pipefail

cache=${NIX_FLAKES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nix-flakes-dev}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie sid)
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
say() { echo "nix-versions: $*" >&2; }

# The mirror the machine already uses (deb822 sources or a one-line list), so nothing else is contacted.
mirror() {
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
  [ -n "$uri" ] || uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# Packages a `nix` binary does not load: scripts, tools and the package system itself.
skip='^(perl|perl-base|perl-modules-.*|libperl.*|lib.*-perl|debconf|debconf-.*|dpkg|coreutils|tar|curl|bash-static|bzip2|xz-utils|init-system-helpers|adduser|passwd|login|sensible-utils|debianutils|libc-bin|base-files|base-passwd|mawk|gawk|sed|grep|findutils|diffutils|gzip|hostname|ncurses-bin|usrmerge|systemd.*|libsystemd.*|nix-setup-systemd|nix-bin)$'

install_suite() {
  local suite=$1 d="$cache/nix-$1"
  local nix="$d/bin/nix"
  if [ -x "$nix" ] && [ -f "$d/.complete" ] && "$nix" --version >/dev/null 2>&1; then
    echo "$suite $("$nix" --version | awk '{print $NF}') $nix"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    say "installing Nix from Debian $suite needs root (apt-get); run: sudo bash scripts/nix-versions.sh $suite"
    return 1
  fi
  command -v patchelf >/dev/null || { say "installing patchelf"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patchelf >/dev/null; }
  say "installing Nix from Debian $suite into $d (about 30 s)"
  rm -rf "$d"
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/debs" "$d/root" "$d/bin"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) $suite main" >"$d/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$d/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$d/lists"
    -o "Dir::Cache=$d/cache" -o "APT::Architecture=$arch" -o Acquire::Languages=none -o Debug::NoLocking=1
    -o "Dir::State::status=$d/status")
  : >"$d/status"
  apt-get "${opts[@]}" -qq update >"$d/apt.log" 2>&1 || { tail -20 "$d/apt.log" >&2; return 1; }
  local pkgs
  pkgs=$(apt-cache "${opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances --no-pre-depends nix-bin | grep -vE '^[ <]' | sed 's/:.*//' | sort -u | grep -vE "$skip" || true)
  pkgs="nix-bin $pkgs"
  # shellcheck disable=SC2086
  (cd "$d/debs" && apt-get "${opts[@]}" -qq download $pkgs >>"$d/apt.log" 2>&1) || { tail -20 "$d/apt.log" >&2; return 1; }
  for f in "$d"/debs/*.deb; do dpkg-deb -x "$f" "$d/root"; done
  local lib="$d/root/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"
  [ -d "$lib" ] || lib=$(dirname "$(find "$d/root" -name 'ld-linux*.so*' | head -1)")
  local ld
  ld=$(find "$d/root" -name 'ld-linux*.so*' | head -1)
  # Nix reads its own name: the copy must be called `nix`.
  cp "$d/root/usr/bin/nix" "$nix"
  patchelf --set-interpreter "$ld" --force-rpath --set-rpath "$lib:$d/root/usr/lib/nix:$d/root/usr/lib" "$nix"
  for n in nix-build nix-store nix-instantiate nix-env nix-shell nix-daemon nix-collect-garbage nix-copy-closure nix-channel nix-hash nix-prefetch-url; do
    ln -sf nix "$d/bin/$n"
  done
  rm -rf "$d/debs" "$d/cache" "$d/lists"
  "$nix" --version >/dev/null || { say "the Nix of $suite does not run"; return 1; }
  touch "$d/.complete"
  echo "$suite $("$nix" --version | awk '{print $NF}') $nix"
}

status=0
for s in "${suites[@]}"; do install_suite "$s" || status=1; done
exit $status
