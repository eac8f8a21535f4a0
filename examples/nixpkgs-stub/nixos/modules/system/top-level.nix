{ config, lib, pkgs, ... }:
let
  cfg = config;
  failedAssertions = map (x: x.message) (lib.filter (x: !x.assertion) config.assertions);

  baseSystem = lib.mkDerivation {
    name = "nixos-system-${cfg.networking.hostName}";
    system = cfg.nixpkgs.hostPlatform;
    etc = cfg.system.build.etc;
    sw = cfg.system.build.path;
    # What the configuration amounts to, so that any change to it changes the system.
    configuration = "${cfg.networking.hostName}-${toString cfg.services.openssh.enable}-${cfg.services.k3s.role}-${builtins.toJSON cfg.users.users}";
    buildPhase = "echo building the system configuration of ${lib.escapeShellArg cfg.networking.hostName}";
    installPhase = ''
      mkdir -p $out
      ln -s $etc $out/etc
      ln -s $sw $out/sw
      printf '%s\n' "$configuration" > $out/configuration
      printf '%s\n' ${lib.escapeShellArg cfg.networking.hostName} > $out/host
    '';
  };

  # Handle assertions and warnings (nixos/modules/system/activation/top-level.nix).
  system =
    if failedAssertions != [ ]
    then throw "\nFailed assertions:\n${lib.concatStringsSep "\n" (map (x: "- ${x}") failedAssertions)}"
    else lib.showWarnings config.warnings baseSystem;
in
{
  options.system.build.toplevel = lib.mkOption {
    type = lib.types.package;
    internal = true;
    readOnly = true;
    description = "The system: what `nixos-rebuild` builds and activates.";
  };

  config.system.build.toplevel = system;
}
