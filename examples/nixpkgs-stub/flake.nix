{
  description = "A stand-in for nixpkgs that works offline: stdenv-like mkDerivation, and nixosSystem on a small copy of the NixOS module system";
  outputs = { self }: {
    lib = import ./lib { };
  };
}
