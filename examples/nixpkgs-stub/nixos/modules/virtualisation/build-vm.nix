# `nixos-rebuild build-vm`'s outputs (nixpkgs nixos/modules/virtualisation/build-vm.nix with qemu-vm.nix, much
# reduced): `system.build.vm` and `system.build.vmWithBootLoader`, each `nixos-vm` with `bin/run-<hostName>-vm`.
# nixpkgs makes them from `virtualisation.vmVariant` (the configuration extended with qemu-vm.nix) and the script
# starts QEMU on the toplevel; here the script is a stand-in that makes the disk image as nixpkgs' does, says what it
# would boot and exits 0.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  hostName = config.networking.hostName;
  toplevel = config.system.build.toplevel;

  # The launcher, as qemu-vm.nix writes it up to starting QEMU: the disk image is `$NIX_DISK_IMAGE`, by default
  # `./<hostName>.qcow2` in the current directory, made when missing.
  runScript = withBootLoader: ''
    #!/bin/sh
    # A stand-in for the QEMU launcher of nixpkgs (qemu-vm.nix).
    NIX_DISK_IMAGE=''${NIX_DISK_IMAGE:-./${lib.escapeShellArg hostName}.qcow2}
    if ! test -e "$NIX_DISK_IMAGE"; then
      echo "Disk image do not exist, creating the virtualisation disk image..."
      echo 'qcow2 stand-in' > "$NIX_DISK_IMAGE" || exit 1
    fi
    echo ${lib.escapeShellArg "Would boot the NixOS system ${toplevel} in QEMU, ${
      if withBootLoader then "through its boot loader" else "directly (kernel and initrd)"}, from"} "$NIX_DISK_IMAGE."
    exit 0
  '';

  vm = withBootLoader: lib.mkDerivation {
    name = "nixos-vm";
    system = config.nixpkgs.hostPlatform;
    inherit toplevel;
    script = "run-${hostName}-vm";
    text = runScript withBootLoader;
    buildPhase = "echo writing $script";
    installPhase = ''
      mkdir -p $out/bin
      ln -s $toplevel $out/system
      printf '%s' "$text" > $out/bin/$script
      chmod +x $out/bin/$script
    '';
  };
in
{
  options = {
    system.build.vm = mkOption {
      type = types.package;
      internal = true;
      readOnly = true;
      description = "A script that runs the system in a virtual machine (`nixos-rebuild build-vm`).";
    };
    system.build.vmWithBootLoader = mkOption {
      type = types.package;
      internal = true;
      readOnly = true;
      description = "The virtual machine, booted through its boot loader (`nixos-rebuild build-vm-with-bootloader`).";
    };
  };

  config.system.build = {
    vm = vm false;
    vmWithBootLoader = vm true;
  };
}
