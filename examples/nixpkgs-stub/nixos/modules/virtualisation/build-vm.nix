# `nixos-rebuild build-vm`'s outputs (nixpkgs nixos/modules/virtualisation/build-vm.nix with qemu-vm.nix, much
# reduced): `system.build.vm` and `system.build.vmWithBootLoader`, each `nixos-vm` with `bin/run-<hostName>-vm`.
# nixpkgs makes them from `virtualisation.vmVariant` (the configuration extended with qemu-vm.nix) and the script
# starts QEMU on the toplevel; here the script is a stand-in that says what it would boot and exits 0.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  hostName = config.networking.hostName;
  toplevel = config.system.build.toplevel;

  vm = withBootLoader: lib.mkDerivation {
    name = "nixos-vm";
    system = config.nixpkgs.hostPlatform;
    inherit toplevel;
    boot = if withBootLoader then "through its boot loader" else "directly (kernel and initrd)";
    script = "run-${hostName}-vm";
    buildPhase = "echo writing $script";
    installPhase = ''
      mkdir -p $out/bin
      ln -s $toplevel $out/system
      {
        echo '#!/bin/sh'
        echo '# A stand-in for the QEMU launcher of nixpkgs (qemu-vm.nix).'
        printf 'echo %s\n' "'Would boot the NixOS system $toplevel in QEMU, $boot.'"
        echo 'exit 0'
      } > $out/bin/$script
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
