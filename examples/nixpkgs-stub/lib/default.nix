# The library of this offline stand-in for nixpkgs: `lib.mkDerivation` (stdenv-like), a small but faithful copy
# of the nixpkgs module system (`evalModules`, `mkOption`, `types`, `mkIf`, …) and `nixosSystem`, with the
# helpers they need under their nixpkgs names (`lib.strings.toUpper`, `lib.optional`, …).
{ }:
let
  lib =
    let
      call = file: import file { inherit lib; };
      trivial = call ./trivial.nix;
      lists = call ./lists.nix;
      strings = call ./strings.nix;
      attrsets = call ./attrsets.nix;
      generators = call ./generators.nix;
      options = call ./options.nix;
      types = call ./types.nix;
      modules = call ./modules.nix;
      derivation = call ./derivation.nix;
    in
    trivial // lists // strings // attrsets // options // modules // derivation // {
      inherit trivial lists strings attrsets generators options types modules;
      inherit (derivation) mkDerivation;
      inherit (trivial) min max;

      # Evaluates a NixOS-like configuration (nixpkgs' flake.nix `lib.nixosSystem`).
      nixosSystem = import ../nixos/lib/eval-config.nix { inherit lib; };
    };
in
lib
