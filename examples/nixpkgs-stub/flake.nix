{
  description = "A stand-in for nixpkgs that works offline: stdenv-like mkDerivation and a tiny nixosSystem";
  outputs = { self }: {
    lib = import ./lib { };
  };
}
