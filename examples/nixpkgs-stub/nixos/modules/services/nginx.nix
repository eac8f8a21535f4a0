{ config, lib, pkgs, ... }:
let
  cfg = config.services.nginx;
in
{
  options.services.nginx.enable = lib.mkEnableOption "Nginx Web Server";

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ pkgs.nginx ];
    environment.etc."nginx/nginx.conf".text = ''
      events { }
      http { server { listen 80; server_name ${config.networking.hostName}; } }
    '';
  };
}
