{ config, lib, ... }:
{
  users.motd = "Welcome to ${config.networking.hostName}";
}
