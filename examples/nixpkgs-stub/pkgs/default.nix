# A few stand-in packages for NixOS configurations (`pkgs` in modules): each a small mkDerivation with a
# program in bin/.
{ lib, system ? "x86_64-linux" }:
let
  stub = pname: version: description: program: lib.mkDerivation {
    inherit pname version system;
    buildPhase = "echo building ${pname}";
    installPhase = ''
      mkdir -p $out/bin
      printf '#!/bin/sh\necho "${pname} ${version} (stand-in)"\n' > $out/bin/${program}
      chmod +x $out/bin/${program}
    '';
    meta.description = description;
  };
in
{
  inherit lib system;
  # The tree itself, as nixpkgs' `pkgs.path` (home-manager imports nixos/modules/misc/assertions.nix from it).
  path = ../.;
  bashInteractive = stub "bash-interactive" "5.2" "GNU Bourne-Again Shell" "bash";
  coreutils = stub "coreutils" "9.5" "The GNU Core Utilities" "ls";
  hello = stub "hello" "2.12.1" "A program that produces a familiar, friendly greeting" "hello";
  git = stub "git" "2.45.2" "Distributed version control system" "git";
  htop = stub "htop" "3.3.0" "An interactive process viewer" "htop";
  openssh = stub "openssh" "9.8p1" "An implementation of the SSH protocol" "sshd";
  nginx = stub "nginx" "1.26.1" "A reverse proxy and lightweight webserver" "nginx";
  postgresql = stub "postgresql" "16.3" "A powerful, open source object-relational database system" "postgres";
  k3s = stub "k3s" "1.30.2" "A lightweight Kubernetes distribution" "k3s";
}
