# The base modules of every configuration made by `lib.nixosSystem`.
[
  ./misc/nixpkgs.nix
  ./misc/assertions.nix
  ./config/networking.nix
  ./config/users.nix
  ./config/system-path.nix
  ./system/etc.nix
  ./system/top-level.nix
  ./services/openssh.nix
  ./services/nginx.nix
  ./services/postgresql.nix
  ./services/k3s.nix
  ./virtualisation/build-vm.nix
  ./image/images.nix
]
