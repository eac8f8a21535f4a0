# An ISO image of the system (nixpkgs nixos/modules/installer/cd-dvd/iso-image.nix and lib/make-iso9660-image.nix,
# much reduced). Not a base module: a host imports it, as installers do with
# `imports = [ (modulesPath + "/installer/cd-dvd/iso-image.nix") ];`. `system.build.isoImage` is `iso/<isoName>`
# with `nix-support/hydra-build-products`, as in nixpkgs; the image is a small text file naming the toplevel.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.isoImage;
in
{
  options = {
    isoImage.isoName = mkOption {
      type = types.str;
      default = "nixos-${config.networking.hostName}.iso";
      defaultText = lib.literalExpression ''"nixos-''${config.networking.hostName}.iso"'';
      description = "Name of the generated ISO image file.";
    };
    isoImage.volumeID = mkOption {
      type = types.str;
      default = "NIXOS_ISO";
      description = "Specifies the label or volume ID of the generated ISO image.";
    };
    system.build.isoImage = mkOption {
      type = types.package;
      internal = true;
      readOnly = true;
      description = "The ISO image of the system.";
    };
  };

  config.system.build.isoImage = lib.mkDerivation {
    name = cfg.isoName;
    system = config.nixpkgs.hostPlatform;
    inherit (cfg) isoName volumeID;
    toplevel = config.system.build.toplevel;
    buildPhase = "echo making the ISO image $isoName";
    installPhase = ''
      mkdir -p $out/iso $out/nix-support
      printf 'ISO 9660 stand-in, volume %s: boots %s\n' "$volumeID" "$toplevel" > "$out/iso/$isoName"
      echo "file iso $out/iso/$isoName" >> $out/nix-support/hydra-build-products
      echo "$system" > $out/nix-support/system
    '';
  };
}
