{ lib, ... }:
{
  options.services.k3s.role = lib.mkOption {
    type = lib.types.enum [ "server" "agent" ];
    default = "server";
    description = "Whether k3s should run as a server or an agent.";
  };
}
