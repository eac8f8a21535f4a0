{ config, lib, pkgs, ... }:
let
  cfg = config.services.postgresql;
in
{
  options.services.postgresql = {
    enable = lib.mkEnableOption "PostgreSQL Server";
    port = lib.mkOption {
      type = lib.types.port;
      default = 5432;
      description = "The port on which PostgreSQL listens.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ pkgs.postgresql ];
    environment.etc."postgresql/postgresql.conf".text = "port = ${toString cfg.port}\n";
  };
}
