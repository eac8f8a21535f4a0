{ config, lib, ... }:
{
  options.nixpkgs.hostPlatform = lib.mkOption {
    type = lib.types.str;
    example = "aarch64-linux";
    description = "The platform the configuration is built for.";
  };

  config._module.args.pkgs = import ../../../pkgs { inherit lib; system = config.nixpkgs.hostPlatform; };
}
