{ config, lib, pkgs, ... }:
{
  options = {
    environment.systemPackages = lib.mkOption {
      type = lib.types.listOf lib.types.package;
      default = [ ];
      example = lib.literalExpression "[ pkgs.git ]";
      description = "The packages installed in the system profile.";
    };
    system.build.path = lib.mkOption {
      type = lib.types.package;
      internal = true;
      readOnly = true;
      description = "The packages of the system profile, joined.";
    };
  };

  config = {
    # Like NixOS's requiredPackages: always there.
    environment.systemPackages = [ pkgs.bashInteractive pkgs.coreutils ];

    system.build.path = lib.mkDerivation {
      name = "system-path";
      system = config.nixpkgs.hostPlatform;
      paths = config.environment.systemPackages;
      buildPhase = "echo joining ${toString (builtins.length config.environment.systemPackages)} packages";
      installPhase = ''
        mkdir -p $out/bin
        for p in $paths; do
          if [ -d $p/bin ]; then
            for f in $p/bin/*; do ln -sf $f $out/bin/; done
          fi
        done
      '';
    };
  };
}
