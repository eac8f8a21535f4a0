{
  description = "An example flake: packages, a dev shell, an app, and two NixOS hosts";

  inputs.nixpkgs.url = "git+file://@REPO:nixpkgs-stub@";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      lib = nixpkgs.lib;
    in {
      packages.${system} = {
        hello = lib.mkDerivation {
          pname = "hello";
          version = "2.12";
          buildPhase = "echo compiling hello; sleep 1";
          installPhase = "mkdir -p $out/bin; printf '#!/bin/sh\\necho Hello, world!\\n' > $out/bin/hello; chmod +x $out/bin/hello";
          meta.description = "A program that greets the world";
          meta.mainProgram = "hello";
        };
        greeting = import ./pkgs/greeting.nix { inherit lib; };
        default = self.packages.${system}.hello;
      };

      apps.${system}.default = {
        type = "app";
        program = "${self.packages.${system}.hello}/bin/hello";
      };

      devShells.${system}.default = lib.mkDerivation {
        name = "hello-shell";
        meta.description = "Tools for working on hello";
      };

      checks.${system}.greeting = self.packages.${system}.greeting;

      formatter.${system} = lib.mkDerivation { name = "nixfmt-stub"; };

      overlays.default = final: prev: { hello = self.packages.${system}.hello; };

      nixosModules.motd = import ./modules/motd.nix;

      nixosConfigurations = {
        web = lib.nixosSystem { modules = [ ./hosts/web.nix self.nixosModules.motd ]; };
        db = lib.nixosSystem { modules = [ ./hosts/db.nix ]; };
      };

      templates.default = {
        path = ./.;
        description = "A flake like this one";
      };
    };
}
