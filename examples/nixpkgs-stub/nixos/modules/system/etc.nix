{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  etcFiles = lib.attrValues config.environment.etc;
in
{
  options = {
    environment.etc = mkOption {
      type = types.attrsOf (types.submodule ({ name, ... }: {
        options = {
          target = mkOption {
            type = types.str;
            default = name;
            description = "Name of the file, relative to /etc.";
          };
          text = mkOption {
            type = types.lines;
            description = "The contents of the file.";
          };
        };
      }));
      default = { };
      example = { "issue".text = "Welcome!\n"; };
      description = "Files in /etc.";
    };
    system.build.etc = mkOption {
      type = types.package;
      internal = true;
      readOnly = true;
      description = "The /etc of the system.";
    };
  };

  config.system.build.etc = lib.mkDerivation {
    name = "etc";
    system = config.nixpkgs.hostPlatform;
    targets = map (f: f.target) etcFiles;
    texts = map (f: f.text) etcFiles;
    buildPhase = "echo linking ${toString (builtins.length etcFiles)} files into /etc";
    installPhase = ''
      mkdir -p $out
    '' + lib.concatMapStrings (f: ''
      mkdir -p "$(dirname $out/${lib.escapeShellArg f.target})"
      printf '%s' ${lib.escapeShellArg f.text} > $out/${lib.escapeShellArg f.target}
    '') etcFiles;
  };
}
