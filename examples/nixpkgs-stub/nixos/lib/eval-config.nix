# `lib.nixosSystem` (nixpkgs nixos/lib/eval-config.nix, much reduced): the base NixOS modules of this stand-in
# plus the given ones, evaluated with `lib.evalModules`. The result has `config` and `options` like NixOS's;
# `config.system.build.toplevel` is what `nixos-rebuild dry-build --flake .#host` builds.
{ lib }:
{ modules
, system ? "x86_64-linux"
, specialArgs ? { }
, prefix ? [ ]
, baseModules ? import ../modules/module-list.nix
, extraModules ? [ ]
}:
let
  # The platform given to nixosSystem, as nixpkgs' `nixpkgs.system` (a default the configuration can override).
  pkgsModule = rec {
    _file = toString ./eval-config.nix;
    key = _file;
    config.nixpkgs.hostPlatform = lib.mkDefault system;
  };

  eval = lib.evalModules {
    inherit prefix;
    class = "nixos";
    modules = baseModules ++ extraModules ++ [ pkgsModule ] ++ modules;
    specialArgs = { modulesPath = toString ../modules; } // specialArgs;
  };
in
eval // {
  pkgs = eval._module.args.pkgs;
}
