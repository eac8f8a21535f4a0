# The images of a system by variant (nixpkgs ≥ 25.05 nixos/modules/image/images.nix, much reduced):
# `system.build.images.<variant>`, each with `filePath` (the image file, relative to its output) as nixpkgs passes it
# through. nixpkgs makes each variant from `image.modules.<variant>` by extending the configuration; here two
# variants are stand-ins whose image is a small text file naming the toplevel.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  hostName = config.networking.hostName;
  system = config.nixpkgs.hostPlatform;

  image = variant: extension:
    let filePath = "nixos-image-${variant}-${hostName}-${system}.${extension}"; in
    lib.mkDerivation {
      name = "nixos-image-${variant}-${hostName}";
      inherit system filePath;
      toplevel = config.system.build.toplevel;
      buildPhase = "echo making the ${variant} image";
      installPhase = ''
        mkdir -p $out/nix-support
        printf '${variant} image stand-in: boots %s\n' "$toplevel" > "$out/$filePath"
        echo "file ${variant} $out/$filePath" >> $out/nix-support/hydra-build-products
      '';
      passthru = { inherit filePath; };
    };
in
{
  options.system.build.images = mkOption {
    type = types.lazyAttrsOf types.raw;
    readOnly = true;
    description = "Different target images generated for this NixOS configuration.";
  };

  config.system.build.images = {
    qemu = image "qemu" "qcow2";
    raw-efi = image "raw-efi" "img";
  };
}
