{ config, lib, pkgs, ... }:
let
  cfg = config.services.openssh;
in
{
  options.services.openssh = {
    enable = lib.mkEnableOption "the OpenSSH daemon";
    ports = lib.mkOption {
      type = lib.types.listOf lib.types.port;
      default = [ 22 ];
      description = "Specifies on which ports the SSH daemon listens.";
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ pkgs.openssh ];
    environment.etc."ssh/sshd_config".text = lib.concatMapStrings (p: "Port ${toString p}\n") cfg.ports;
  };
}
