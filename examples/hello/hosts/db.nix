{ config, lib, ... }:
{
  networking.hostName = "db";
  services.postgresql = {
    enable = true;
    port = 5432;
  };
}
